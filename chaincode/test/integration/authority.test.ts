import { expect } from 'chai';
import { codeHash, generateCode, TraceChainClient } from '@trace/client';
import { testClock } from '@trace/test-network';
import { createTeaTask, hex64, ORGS, rejectsWith, startConsortium, TEA_ASSIGNMENTS, TEA_GTIN, teaLotToInspection, TestConsortium } from './consortium';

const clock = testClock();

/** Another brand of the same consortium, holding every role an attacker on goods would want. */
const RIVAL_ROLES = ['brand', 'producer', 'processor', 'inspector', 'logistics', 'warehouse', 'retailer', 'auditor'] as const;
const RIVAL_GTIN = '6901234567939';

/**
 * Ownership, written as the attacks of another member: each attack is refused with its code and
 * changes nothing, and the owner's (or its assignees') legitimate path still works.
 */
describe('authority: no member acts on another brand’s goods (devnet)', function () {
  this.timeout(300_000);
  let net: TestConsortium;
  let brand: TraceChainClient;
  let farm: TraceChainClient;
  let factory: TraceChainClient;
  let retail: TraceChainClient;
  let rival: TraceChainClient;
  let seq = 0;

  /** A fresh tea task of the brand with one issued item code and one case code. */
  const brandTask = async () => {
    const taskId = `auth-${++seq}`;
    await createTeaTask(brand, taskId);
    const [item, box] = [codeHash(generateCode()), codeHash(generateCode())];
    await brand.codes.issueCodes({ taskId, level: 'item', codeHashes: [item] });
    await brand.codes.issueCodes({ taskId, level: 'case', codeHashes: [box] });
    return { taskId, item, box };
  };
  const status = async (hash: string) => {
    const v = await brand.codes.verifyCode(hash);
    if (!v.genuine) throw new Error(`code ${hash} is not issued`);
    return v.code;
  };

  before(async () => {
    net = await startConsortium();
    ({ brand, farm, factory, retail, outsider: rival } = net.clients);
    await brand.consortium.addMember({ mspId: ORGS.outsider, name: 'Rival Tea Co.', roles: [...RIVAL_ROLES] });
    await rival.catalog.defineProduct({ gtin: RIVAL_GTIN, name: 'rival tea', category: 'tea', brand: 'Rival' });
  });

  after(async () => {
    await net?.close();
  });

  it('opens tasks only for the product’s owner or an org it delegated to', async () => {
    await rejectsWith(createTeaTask(rival, 'stolen-lot'), 'ERR_FORBIDDEN', /belongs to Org1MSP/);
    await rejectsWith(brand.trace.getTask('stolen-lot'), 'ERR_NOT_FOUND');

    await rejectsWith(rival.catalog.setProductDelegates({ gtin: TEA_GTIN, delegates: [ORGS.outsider] }), 'ERR_FORBIDDEN', /only its owner/);
    expect((await brand.catalog.getProduct(TEA_GTIN)).delegates).to.equal(undefined);

    await rejectsWith(createTeaTask(farm, 'farm-lot'), 'ERR_FORBIDDEN');
    await brand.catalog.setProductDelegates({ gtin: TEA_GTIN, delegates: [ORGS.farm] });
    const task = await createTeaTask(farm, 'farm-lot');
    expect([task.owner, task.createdBy]).to.deep.equal([ORGS.brand, ORGS.farm]);
    await brand.catalog.setProductDelegates({ gtin: TEA_GTIN, delegates: [] });
    await rejectsWith(createTeaTask(farm, 'farm-lot-2'), 'ERR_FORBIDDEN');
    await rejectsWith(brand.trace.getTask('farm-lot-2'), 'ERR_NOT_FOUND');
  });

  it('issues codes only for the caller’s own tasks or the task it packs', async () => {
    const taskId = `auth-issue-${++seq}`;
    await createTeaTask(brand, taskId);
    const forged = codeHash(generateCode());
    await rejectsWith(rival.codes.issueCodes({ taskId, level: 'item', codeHashes: [forged] }), 'ERR_FORBIDDEN', /product's owner/);
    await rejectsWith(retail.codes.issueCodes({ taskId, level: 'item', codeHashes: [forged] }), 'ERR_FORBIDDEN');
    expect((await brand.codes.verifyCode(forged)).verdict).to.equal('unknown');

    const byPacker = codeHash(generateCode());
    expect(TEA_ASSIGNMENTS.tea_packing).to.equal(ORGS.factory);
    await factory.codes.issueCodes({ taskId, level: 'item', codeHashes: [byPacker] });
    expect((await brand.codes.verifyCode(byPacker)).verdict).to.equal('genuine');
  });

  it('lets only the owner void a code, the packing org activate it, and the task’s retailer sell it', async () => {
    const { item } = await brandTask();
    await rejectsWith(rival.codes.setCodeStatus({ codeHashes: [item], status: 'void' }), 'ERR_FORBIDDEN');
    await rejectsWith(farm.codes.setCodeStatus({ codeHashes: [item], status: 'void' }), 'ERR_FORBIDDEN');
    await rejectsWith(retail.codes.setCodeStatus({ codeHashes: [item], status: 'active' }), 'ERR_FORBIDDEN');
    expect((await status(item)).status).to.equal('issued');

    await factory.codes.setCodeStatus({ codeHashes: [item], status: 'active' });
    await rejectsWith(rival.codes.setCodeStatus({ codeHashes: [item], status: 'sold' }), 'ERR_FORBIDDEN', /may not set code/);
    expect((await status(item)).status).to.equal('active');
    await retail.codes.setCodeStatus({ codeHashes: [item], status: 'sold' });
    expect((await status(item)).status).to.equal('sold');
    await brand.codes.setCodeStatus({ codeHashes: [item], status: 'void' });
    expect((await status(item)).status).to.equal('void');
  });

  it('packs and unpacks a task’s codes only by its owner or the orgs handling its goods', async () => {
    const { item, box } = await brandTask();
    await rejectsWith(rival.codes.aggregate({ parent: box, children: [item] }), 'ERR_FORBIDDEN', /handles no stage/);
    expect((await status(item)).parent).to.equal(undefined);
    expect((await brand.codes.listChildren(box)).items).to.deep.equal([]);

    await factory.codes.aggregate({ parent: box, children: [item] });
    await rejectsWith(rival.codes.disaggregate({ parent: box }), 'ERR_FORBIDDEN');
    expect((await status(item)).parent).to.equal(box);

    // Nor can the rival's own case, on its own task, swallow the brand's item.
    const rivalTask = `rival-${++seq}`;
    const everyStage = Object.fromEntries(Object.keys(TEA_ASSIGNMENTS).map((s) => [s, ORGS.outsider]));
    await rival.trace.createTask({ taskId: rivalTask, template: 'puer_tea', version: 1, product: { gtin: RIVAL_GTIN, name: 'rival tea' }, lot: rivalTask, plannedQuantity: 1, unit: 'cake', assignments: everyStage });
    const rivalBox = codeHash(generateCode());
    await rival.codes.issueCodes({ taskId: rivalTask, level: 'case', codeHashes: [rivalBox] });
    await factory.codes.disaggregate({ parent: box });
    await rejectsWith(rival.codes.aggregate({ parent: rivalBox, children: [item] }), 'ERR_FORBIDDEN', /task auth-/);
    expect((await status(item)).parent).to.equal(undefined);
    expect((await brand.codes.listChildren(rivalBox)).items).to.deep.equal([]);
  });

  it('refuses member maps keyed by prototype names, and they change nothing', async () => {
    const taskId = `auth-maps-${++seq}`;
    await createTeaTask(brand, taskId);
    const raw = `{"taskId":"${taskId}","stage":"tea_plantation","eventTime":"${clock.at(0)}","data":{"tea_garden":"x","__proto__":{"tea_garden":"polluted"}}}`;
    await rejectsWith(farm.ledger.submit('trace:recordStage', raw), 'ERR_VALIDATION', /'data.__proto__' uses a reserved name/);
    expect((await brand.trace.getTask(taskId)).stages.find((st) => st.stage === 'tea_plantation')?.status).to.equal('pending');

    const pem = '-----BEGIN PUBLIC KEY-----\n' + 'A'.repeat(120) + '\n-----END PUBLIC KEY-----';
    const device = JSON.stringify({ deviceId: 'proto-1', type: 'multi', publicKeyPem: pem, thresholds: { constructor: { max: 1 } } });
    await rejectsWith(farm.ledger.submit('devices:registerDevice', device), 'ERR_VALIDATION', /'thresholds.constructor'/);
    await rejectsWith(farm.devices.getDevice('proto-1'), 'ERR_NOT_FOUND');
  });

  it('keeps one audit per auditor org: none audits its own record, none overwrites another’s, a rejection outweighs approvals', async () => {
    const taskId = `auth-audit-${++seq}`;
    await teaLotToInspection(net.clients, taskId, clock);
    const rec = (c: TraceChainClient, stage: string, hours: number, data: Record<string, unknown>) => c.trace.recordStage({ taskId, stage, eventTime: clock.at(hours), data });
    const standing = async () => {
      const stage = (await brand.trace.getTrace(taskId)).stages.find((st) => st.stage === 'tea_inspection')!;
      return { verdict: stage.audit?.verdict, audits: stage.audits.map((a) => [a.auditor, a.verdict]) };
    };

    await rejectsWith(retail.trace.auditStage({ taskId, stage: 'tea_inspection', verdict: 'approved', comment: 'mine' }), 'ERR_FORBIDDEN', /never audits its own records/);
    expect(await standing()).to.deep.equal({ verdict: undefined, audits: [] });

    await brand.trace.auditStage({ taskId, stage: 'tea_inspection', verdict: 'approved', comment: 'ok' });
    await rejectsWith(brand.trace.auditStage({ taskId, stage: 'tea_inspection', verdict: 'rejected', comment: 'changed my mind' }), 'ERR_CONFLICT', /already audited version 1/);
    expect(await standing()).to.deep.equal({ verdict: 'approved', audits: [[ORGS.brand, 'approved']] });

    // Another auditor's rejection stands beside the approval instead of replacing it, and decides the standing.
    await rival.trace.auditStage({ taskId, stage: 'tea_inspection', verdict: 'rejected', comment: 'report does not match' });
    expect(await standing()).to.deep.equal({ verdict: 'rejected', audits: [[ORGS.brand, 'approved'], [ORGS.outsider, 'rejected']] });
    await rejectsWith(rec(factory, 'tea_packing', 96, { tea_cakes: 10, tea_cake_weight_g: 357, tea_packed_kg: 3.57 }), 'ERR_STAGE_ORDER', /approved audit/);

    // An amendment is a new version: its audits start afresh, and the brand may audit it.
    await retail.trace.amendStage({ taskId, stage: 'tea_inspection', eventTime: clock.at(73), data: { tea_moisture_pct: 8.4, tea_pesticide_pass: true, tea_inspection_report: hex64('c') }, reason: 'corrected report' });
    expect(await standing()).to.deep.equal({ verdict: undefined, audits: [] });
    await brand.trace.auditStage({ taskId, stage: 'tea_inspection', verdict: 'approved', comment: 'ok v2' });
    expect(await standing()).to.deep.equal({ verdict: 'approved', audits: [[ORGS.brand, 'approved']] });
  });

  it('knows a GTIN in any length as one product, and a (GTIN, lot) as one task', async () => {
    const short = TEA_GTIN.replace(/^0/, '');
    expect(short).to.have.length(13);
    await rejectsWith(rival.catalog.defineProduct({ gtin: short, name: 'look-alike', category: 'tea', brand: 'Rival' }), 'ERR_CONFLICT', new RegExp(`product ${TEA_GTIN} is already defined`));
    expect(await brand.catalog.getProduct(short)).to.include({ gtin: TEA_GTIN, ownerMsp: ORGS.brand });

    const taskId = `auth-lot-${++seq}`;
    const task = await brand.trace.createTask({ taskId, template: 'puer_tea', version: 1, product: { gtin: short, name: 't' }, lot: `LOT-${seq}`, plannedQuantity: 1, unit: 'cake', assignments: TEA_ASSIGNMENTS });
    expect(task.product.gtin).to.equal(TEA_GTIN);
    await rejectsWith(brand.trace.createTask({ taskId: `${taskId}-again`, template: 'puer_tea', version: 1, product: { gtin: TEA_GTIN, name: 't' }, lot: `LOT-${seq}`, plannedQuantity: 1, unit: 'cake', assignments: TEA_ASSIGNMENTS }), 'ERR_CONFLICT', new RegExp(`already task ${taskId}`));
    await rejectsWith(brand.trace.getTask(`${taskId}-again`), 'ERR_NOT_FOUND');
  });

  it('lets only a template’s owner publish its next version or retire it; a retired template opens no task', async () => {
    const v1 = await brand.process.getTemplate('puer_tea', 1);
    const next = (id: string, version: number) => ({ id, version, name: v1.name, category: v1.category, stages: v1.stages.map((st) => ({ stage: st.stage, after: st.after })), rules: v1.rules, scanAlertThreshold: v1.scanAlertThreshold, publicView: v1.publicView, authorizedRegions: v1.authorizedRegions });
    await rejectsWith(rival.process.defineTemplate(next('puer_tea', 2)), 'ERR_FORBIDDEN', /belongs to Org1MSP; only it publishes new versions/);
    await rejectsWith(brand.process.getTemplate('puer_tea', 2), 'ERR_NOT_FOUND');
    await rejectsWith(rival.process.retireTemplate({ id: 'puer_tea', reason: 'mine now' }), 'ERR_FORBIDDEN');

    const id = `retiring_${++seq}`;
    await brand.process.defineTemplate(next(id, 1));
    expect(await brand.process.getRetirement(id)).to.deep.equal({});
    const retired = await brand.process.retireTemplate({ id, reason: 'replaced by a new process' });
    expect(retired).to.include({ id, by: ORGS.brand, reason: 'replaced by a new process' });
    expect(await rival.process.getRetirement(id)).to.deep.equal(retired);
    await rejectsWith(brand.trace.createTask({ taskId: `${id}-task`, template: id, version: 1, product: { gtin: TEA_GTIN, name: 't' }, lot: `${id}-lot`, plannedQuantity: 1, unit: 'cake', assignments: TEA_ASSIGNMENTS }), 'ERR_STATE', /is retired/);
    await rejectsWith(brand.trace.getTask(`${id}-task`), 'ERR_NOT_FOUND');
    await rejectsWith(brand.process.defineTemplate(next(id, 2)), 'ERR_STATE', /is retired/);
    expect((await brand.process.getTemplate(id, 1)).version).to.equal(1);
  });
});
