import { expect } from 'chai';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { allPages, codeHash, generateCode, signReadings, TraceChainClient, Wallet } from '@trace/client';
import { gs1CheckDigitValid } from '@trace/chaincode/dist/src/rules/gs1';
import { testClock } from '@trace/test-network';
import { completeTeaLot, ORGS, rejectsWith, startConsortium, TEA_ASSIGNMENTS, TEA_GTIN, TEA_WAREHOUSING_HOURS, TestConsortium, WAREHOUSE_GLN } from './consortium';

const ACTOR = 'li.wei@farm-01_ops';
/** too long, a space, an empty name, a character outside the pattern, null, a number */
const MALFORMED: unknown[] = ['a'.repeat(65), 'li wei', '', 'li/wei', null, 7];

type Doc = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** A GS1 key of 13 digits (GTIN-13 or GLN) from a 12-digit prefix, with its check digit. */
const gs1 = (prefix12: string) => [...'0123456789'].map((d) => prefix12 + d).find(gs1CheckDigitValid)!;
const publicKeyPem = () => createPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey).export({ type: 'spki', format: 'pem' }).toString();

/** One org-signed write: who sends it, a fresh argument (after any setup), and where its actor lands. */
interface Write {
  tx: string;
  by: () => TraceChainClient;
  /** the argument without an actor, after whatever setup the write needs (fresh ids each call) */
  prepare: () => Promise<Doc>;
  /** the state the write changes, as the chain answers it (null where it does not exist yet) */
  read: (dto: Doc) => Promise<Any>;
  /** where that state names the actor; absent for a record without metadata (the event alone names it) */
  stored?: (state: Any) => unknown;
  /** where the event names the actor */
  inEvent: (payload: Any) => unknown;
}

/**
 * issue 14: every org-signed write keeps the org's user who made it, on the record version it
 * writes and in its event; without one, nothing is added; a malformed one is ERR_VALIDATION and
 * changes nothing.
 */
describe('actor: every org-signed write names the org user who made it (devnet)', function () {
  this.timeout(600_000);
  let net: TestConsortium;
  let c: TestConsortium['clients'];
  let n = 0;
  const clock = testClock();
  const alice = Wallet.generate();
  const ACTIVE_CLASS = 'act-active';

  const orNull = async <T>(p: Promise<T>): Promise<T | null> => {
    try {
      return await p;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_NOT_FOUND') return null;
      throw e;
    }
  };
  const code = async (hash: string) => {
    const v = await c.brand.codes.verifyCode(hash);
    return v.genuine ? v.code : null;
  };
  const issued = async (level: 'item' | 'case') => {
    const hash = codeHash(generateCode());
    await c.brand.codes.issueCodes({ taskId: 'act-task', level, codeHashes: [hash] });
    return hash;
  };
  const proposeClass = (classId: string, certifiedQuantity = 1) =>
    c.brand.assets.proposeClass({ classId, symbol: 'ACT', kind: 'tea', taskId: 'act-lot', unit: 'cake', certifiedQuantity, storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: clock.at(TEA_WAREHOUSING_HOURS) }, confirmations: ['warehouse'], evidence: [] });
  /** the active class's record as the last write left it (its valuation and confirmations are other writes') */
  const classRecordActor = async () => {
    const k = await c.brand.assets.getClass(ACTIVE_CLASS);
    return { actor: k.actor, issued: k.issued, reserve: k.reserve };
  };
  const lockOf = async (lockId: unknown) => (await allPages((p) => c.brand.assets.listLocks(ACTIVE_CLASS, p))).find((l) => l.lockId === lockId) ?? null;
  /** a fresh freeze request of one unit issued to alice for it */
  const freeze = async () => {
    await c.brand.assets.issue({ classId: ACTIVE_CLASS, to: alice.account, quantity: 1 });
    return { lockId: `act-f${++n}`, classId: ACTIVE_CLASS, account: alice.account, quantity: 1, kind: 'freeze' as const };
  };
  const register = async (thresholds = {}) => {
    const deviceId = `act-dev-${++n}`;
    await c.farm.devices.registerDevice({ deviceId, type: 'multi', publicKeyPem: publicKeyPem(), thresholds });
    return deviceId;
  };

  /** Submits and reads the transaction's event back from its block. */
  const submit = async (w: Write, dto: Doc): Promise<{ eventName: string; eventText: string }> => {
    const client = w.by();
    const r = await client.ledger.submit(w.tx, JSON.stringify(dto));
    const blocks = await client.ledger.blocks(r.blockNumber);
    try {
      for await (const block of blocks) {
        const event = block.transactions.find((t) => t.transactionId === r.transactionId)?.event;
        if (!event) throw new Error(`no event for ${r.transactionId} in block ${block.number}`);
        return { eventName: event.name, eventText: Buffer.from(event.payload).toString('utf8') };
      }
    } finally {
      blocks.close();
    }
    throw new Error('the block stream ended');
  };

  const WRITES: Write[] = [
    { tx: 'consortium:addMember', by: () => c.brand, prepare: async () => ({ mspId: `ActMSP${++n}`, name: 'Actor Test Org', roles: ['retailer'] }), read: (d) => orNull(c.brand.consortium.getMember(d.mspId as string)), stored: (m) => m.actor, inEvent: (p) => p.member.actor },
    { tx: 'consortium:updateMember', by: () => c.brand, prepare: async () => ({ mspId: ORGS.farm, name: `Jingmai Farm ${++n}` }), read: () => c.brand.consortium.getMember(ORGS.farm), stored: (m) => m.actor, inEvent: (p) => p.member.actor },
    {
      tx: 'consortium:setMemberStatus', by: () => c.brand,
      prepare: async () => ({ mspId: 'ActStatusMSP', status: (await c.brand.consortium.getMember('ActStatusMSP')).status === 'active' ? 'suspended' : 'active' }),
      read: () => c.brand.consortium.getMember('ActStatusMSP'), stored: (m) => m.actor, inEvent: (p) => p.member.actor,
    },
    { tx: 'catalog:defineProduct', by: () => c.brand, prepare: async () => ({ gtin: gs1(`6901234${String(500 + ++n).padStart(5, '0')}`), name: 'actor tea', category: 'tea', brand: 'Brand Co.' }), read: (d) => orNull(c.brand.catalog.getProduct(d.gtin as string)), stored: (p) => p?.actor, inEvent: (p) => p.product.actor },
    {
      tx: 'catalog:setProductStatus', by: () => c.brand,
      prepare: async () => {
        const gtin = gs1(`6901234${String(700 + ++n).padStart(5, '0')}`);
        await c.brand.catalog.defineProduct({ gtin, name: 'to retire', category: 'tea', brand: 'Brand Co.' });
        return { gtin, status: 'retired' };
      },
      read: (d) => c.brand.catalog.getProduct(d.gtin as string), stored: (p) => p.actor, inEvent: (p) => p.product.actor,
    },
    { tx: 'catalog:setProductDelegates', by: () => c.brand, prepare: async () => ({ gtin: TEA_GTIN, delegates: [] }), read: () => c.brand.catalog.getProduct(TEA_GTIN), stored: (p) => p.actor, inEvent: (p) => p.product.actor },
    { tx: 'catalog:defineLocation', by: () => c.farm, prepare: async () => ({ id: gs1(`6901235${String(++n).padStart(5, '0')}`), name: 'actor shed', type: 'warehouse', geo: { lat: 22, lon: 100 }, region: 'CN-53' }), read: (d) => orNull(c.farm.catalog.getLocation(d.id as string)), stored: (l) => l?.actor, inEvent: (p) => p.location.actor },
    {
      tx: 'catalog:setLocationStatus', by: () => c.farm,
      prepare: async () => {
        const id = gs1(`6901236${String(++n).padStart(5, '0')}`);
        await c.farm.catalog.defineLocation({ id, name: 'to retire', type: 'warehouse', geo: { lat: 22, lon: 100 }, region: 'CN-53' });
        return { id, status: 'retired' };
      },
      read: (d) => c.farm.catalog.getLocation(d.id as string), stored: (l) => l.actor, inEvent: (p) => p.location.actor,
    },
    // an item is a bare definition (templates embed it): its event alone names who defined it
    { tx: 'process:defineItem', by: () => c.brand, prepare: async () => ({ id: `act_item_${++n}`, name: 'actor item', type: 'string', privacy: 'plain' }), read: (d) => orNull(c.brand.process.getItem(d.id as string)), inEvent: (p) => p.actor },
    { tx: 'process:defineForm', by: () => c.brand, prepare: async () => ({ id: `act_form_${++n}`, name: 'actor form', items: ['tea_garden'] }), read: (d) => orNull(c.brand.process.getForm(d.id as string)), stored: (f) => f?.actor, inEvent: (p) => p.form.actor },
    { tx: 'process:defineStage', by: () => c.brand, prepare: async () => ({ id: `act_stage_${++n}`, name: 'actor stage', forms: ['act_form'], role: 'producer', requiresAudit: false, bizStep: 'commissioning' }), read: (d) => orNull(c.brand.process.getStage(d.id as string)), stored: (s) => s?.actor, inEvent: (p) => p.stage.actor },
    { tx: 'process:defineTemplate', by: () => c.brand, prepare: async () => ({ id: `act_tpl_${++n}`, version: 1, name: 'actor template', category: 'tea', stages: [{ stage: 'shipping', after: [] }], rules: [], scanAlertThreshold: 5, publicView: {} }), read: (d) => orNull(c.brand.process.getTemplate(d.id as string, 1)), stored: (t) => t?.actor, inEvent: (p) => p.template.actor },
    {
      // the retirement has no query of its own: the event is its record
      tx: 'process:retireTemplate', by: () => c.brand,
      prepare: async () => {
        const id = `act_old_${++n}`;
        await c.brand.process.defineTemplate({ id, version: 1, name: 'to retire', category: 'tea', stages: [{ stage: 'shipping', after: [] }], rules: [], scanAlertThreshold: 5, publicView: {} });
        return { id, reason: 'replaced' };
      },
      read: (d) => c.brand.process.getTemplate(d.id as string, 1), inEvent: (p) => p.retirement.actor,
    },
    {
      tx: 'trace:createTask', by: () => c.brand,
      prepare: async () => ({ taskId: `act-t${++n}`, template: 'puer_tea', version: 1, product: { gtin: TEA_GTIN, name: 'tea' }, lot: `ACT-${n}`, plannedQuantity: 1, unit: 'cake', assignments: TEA_ASSIGNMENTS }),
      read: async (d) => (await orNull(c.brand.trace.getTask(d.taskId as string)))?.task ?? null, stored: (t) => t?.actor, inEvent: (p) => p.task.actor,
    },
    { tx: 'codes:issueCodes', by: () => c.brand, prepare: async () => ({ taskId: 'act-task', level: 'item', codeHashes: [codeHash(generateCode())] }), read: (d) => code((d.codeHashes as string[])[0]), stored: (k) => k?.actor, inEvent: (p) => p.actor },
    { tx: 'codes:setCodeStatus', by: () => c.brand, prepare: async () => ({ codeHashes: [await issued('item')], status: 'void' }), read: (d) => code((d.codeHashes as string[])[0]), stored: (k) => k.actor, inEvent: (p) => p.actor },
    { tx: 'codes:aggregate', by: () => c.factory, prepare: async () => ({ parent: await issued('case'), children: [await issued('item')] }), read: (d) => code((d.children as string[])[0]), stored: (k) => k.actor, inEvent: (p) => p.actor },
    {
      tx: 'codes:disaggregate', by: () => c.factory,
      prepare: async () => {
        const [parent, child] = [await issued('case'), await issued('item')];
        await c.factory.codes.aggregate({ parent, children: [child] });
        return { parent, children: [child] };
      },
      read: (d) => code((d.children as string[])[0]), stored: (k) => k.actor, inEvent: (p) => p.actor,
    },
    {
      tx: 'codes:clearAlert', by: () => c.brand,
      prepare: async () => {
        const codeHash = await issued('item');
        await c.retail.codes.recordScans({ scans: [{ codeHash, channel: 'retailer', region: 'US', at: clock.at(300) }] });
        return { codeHash, type: 'diversion', reason: 'export sample' };
      },
      read: (d) => code(d.codeHash as string),
      stored: (k) => (k.clearedAlerts?.[0]?.actor === k.actor ? k.actor : `cleared ${k.clearedAlerts?.[0]?.actor} but the code ${k.actor}`),
      inEvent: (p) => p.actor,
    },
    { tx: 'devices:registerDevice', by: () => c.farm, prepare: async () => ({ deviceId: `act-dev-${++n}`, type: 'gps', publicKeyPem: publicKeyPem(), thresholds: {} }), read: (d) => orNull(c.farm.devices.getDevice(d.deviceId as string)), stored: (d) => d?.actor, inEvent: (p) => p.device.actor },
    { tx: 'devices:setDeviceStatus', by: () => c.farm, prepare: async () => ({ deviceId: await register(), status: 'disabled' }), read: (d) => c.farm.devices.getDevice(d.deviceId as string), stored: (d) => d.actor, inEvent: (p) => p.actor },
    { tx: 'devices:rotateDeviceKey', by: () => c.farm, prepare: async () => ({ deviceId: await register(), publicKeyPem: publicKeyPem() }), read: (d) => c.farm.devices.getDevice(d.deviceId as string), stored: (d) => d.actor, inEvent: (p) => p.actor },
    {
      tx: 'devices:ackAlarm', by: () => c.farm,
      prepare: async () => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const deviceId = `act-dev-${++n}`;
        await c.farm.devices.registerDevice({ deviceId, type: 'temperature', publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(), thresholds: { storage_temp_c: { max: 30 } } });
        await c.farm.devices.submitReadings(signReadings(privateKey, { deviceId, seq: 1, readings: [{ at: clock.at(100), metric: 'storage_temp_c', value: 40, unit: '°C' }] }));
        return { alarmId: `${deviceId}/1/0`, comment: 'door closed' };
      },
      read: async (d) => (await c.farm.devices.listAlarms((d.alarmId as string).split('/')[0])).items[0], stored: (a) => a.acked?.actor, inEvent: (p) => p.alarm.acked.actor,
    },
    { tx: 'assets:proposeClass', by: () => c.brand, prepare: async () => ({ classId: `act-c${++n}`, symbol: 'ACT', kind: 'tea', taskId: 'act-lot', unit: 'cake', certifiedQuantity: 1, storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: clock.at(TEA_WAREHOUSING_HOURS) }, confirmations: ['warehouse'], evidence: [] }), read: (d) => orNull(c.brand.assets.getClass(d.classId as string)), stored: (k) => k?.actor, inEvent: (p) => p.assetClass.actor },
    {
      tx: 'assets:confirmClass', by: () => c.farm,
      prepare: async () => {
        const classId = `act-c${++n}`;
        await proposeClass(classId);
        return { classId, role: 'warehouse' };
      },
      read: (d) => c.brand.assets.getClass(d.classId as string),
      stored: (k) => (k.confirmations.warehouse?.actor === k.actor ? k.actor : `confirmed by ${k.confirmations.warehouse?.actor} but the class ${k.actor}`),
      inEvent: (p) => p.actor,
    },
    { tx: 'assets:createCurrency', by: () => c.factory, prepare: async () => ({ classId: `act-cny${++n}`, symbol: 'CNY', unit: 'fen' }), read: (d) => orNull(c.brand.assets.getClass(d.classId as string)), stored: (k) => k?.actor, inEvent: (p) => p.assetClass.actor },
    { tx: 'assets:issue', by: () => c.brand, prepare: async () => ({ classId: ACTIVE_CLASS, to: alice.account, quantity: 1 }), read: classRecordActor, stored: (k) => k.actor, inEvent: (p) => p.actor },
    { tx: 'assets:setValuation', by: () => c.retail, prepare: async () => ({ classId: ACTIVE_CLASS, pricePerUnit: 100 + ++n, currency: 'CNY', date: clock.day(720) }), read: async () => (await c.brand.assets.getClass(ACTIVE_CLASS)).valuation, stored: (v) => v.actor, inEvent: (p) => p.valuation.actor },
    {
      tx: 'assets:confirmRedemption', by: () => c.farm,
      prepare: async () => {
        const redemptionId = `act-r${++n}`;
        await c.brand.assets.issue({ classId: ACTIVE_CLASS, to: alice.account, quantity: 1 });
        await c.farm.assets.redeem(alice.sign(c.farm.holderScope('assets:redeem'), { redemptionId, classId: ACTIVE_CLASS, account: alice.account, quantity: 1 }));
        return { redemptionId };
      },
      read: classRecordActor, stored: (k) => k.actor, inEvent: (p) => p.redemption.actor,
    },
    { tx: 'assets:lock', by: () => c.retail, prepare: freeze, read: (d) => lockOf(d.lockId), stored: (l) => l?.actor, inEvent: (p) => p.lock.actor },
    {
      // the released lock is deleted: the event is its record
      tx: 'assets:unlock', by: () => c.retail,
      prepare: async () => {
        const f = await freeze();
        await c.retail.assets.lock(f);
        return { classId: ACTIVE_CLASS, lockId: f.lockId };
      },
      read: (d) => lockOf(d.lockId), inEvent: (p) => p.actor,
    },
  ];

  before(async () => {
    net = await startConsortium();
    c = net.clients;
    await c.brand.consortium.updateMember({ mspId: ORGS.brand, roles: ['operator', 'brand', 'auditor', 'issuer'] });
    await c.brand.consortium.updateMember({ mspId: ORGS.factory, roles: ['processor', 'logistics', 'exchange'] });
    await c.brand.consortium.updateMember({ mspId: ORGS.retail, roles: ['retailer', 'inspector', 'regulator', 'appraiser'] });
    await c.brand.consortium.addMember({ mspId: 'ActStatusMSP', name: 'Status Test Org', roles: ['retailer'] });
    await c.brand.process.defineForm({ id: 'act_form', name: 'actor form', items: ['tea_garden'] });
    await c.brand.trace.createTask({ taskId: 'act-task', template: 'puer_tea', version: 1, product: { gtin: TEA_GTIN, name: 'tea' }, lot: 'ACT', plannedQuantity: 100, unit: 'cake', assignments: TEA_ASSIGNMENTS });
    await completeTeaLot(c, 'act-lot', clock, 600);
    await proposeClass(ACTIVE_CLASS, 100);
    await c.farm.assets.confirmClass({ classId: ACTIVE_CLASS, role: 'warehouse' });
  });

  after(async () => {
    await net?.close();
  });

  for (const w of WRITES) {
    describe(w.tx, () => {
      it('with an actor, keeps it on the record version it writes and in its event', async () => {
        const dto = await w.prepare();
        const { eventText } = await submit(w, { ...dto, actor: ACTOR });
        expect(w.inEvent(JSON.parse(eventText)), 'in the event').to.equal(ACTOR);
        const state = await w.read(dto);
        if (w.stored) expect(w.stored(state), 'on the record').to.equal(ACTOR);
        else expect(JSON.stringify(state), 'a record without metadata').not.to.include('"actor"');
      });

      it('without one, adds nothing: no actor key in the record or the event', async () => {
        const dto = await w.prepare();
        const { eventText } = await submit(w, dto);
        expect(eventText).not.to.include('"actor"');
        expect(JSON.stringify(await w.read(dto))).not.to.include('"actor"');
      });

      it('refuses a malformed actor with ERR_VALIDATION and changes nothing', async () => {
        const dto = await w.prepare();
        const before = await w.read(dto);
        for (const actor of MALFORMED) await rejectsWith(w.by().ledger.submit(w.tx, JSON.stringify({ ...dto, actor })), 'ERR_VALIDATION', /actor must be a user name/);
        expect(await w.read(dto)).to.deep.equal(before);
        // the same write with a good name still goes through
        await submit(w, { ...dto, actor: ACTOR });
        if (w.stored) expect(w.stored(await w.read(dto))).to.equal(ACTOR);
      });
    });
  }

  it("a pledge is the holder's signed request: an actor on it is ERR_VALIDATION and nothing is locked", async () => {
    const lender = Wallet.generate();
    await c.brand.assets.issue({ classId: ACTIVE_CLASS, to: alice.account, quantity: 1 });
    const before = (await c.brand.assets.getBalance(ACTIVE_CLASS, alice.account)).amount;
    const pledge = { lockId: `act-p${++n}`, classId: ACTIVE_CLASS, account: alice.account, quantity: 1, kind: 'pledge' as const, lender: lender.account };
    await rejectsWith(c.farm.assets.lock(alice.sign(c.farm.holderScope('assets:lock'), { ...pledge, actor: ACTOR })), 'ERR_VALIDATION', /names no org user/);
    expect([(await c.brand.assets.getBalance(ACTIVE_CLASS, alice.account)).amount, await lockOf(pledge.lockId)]).to.deep.equal([before, null]);
    expect((await c.farm.assets.lock(alice.sign(c.farm.holderScope('assets:lock'), pledge))).kind).to.equal('pledge');
  });

  it('a write no org user makes over a record one wrote names no user: a scan marking a code diverted', async () => {
    const hash = await issued('item');
    await c.brand.codes.setCodeStatus({ codeHashes: [hash], status: 'active', actor: ACTOR });
    expect((await code(hash))!.actor).to.equal(ACTOR);
    await c.retail.codes.recordScans({ scans: [{ codeHash: hash, channel: 'retailer', region: 'US', at: clock.at(300) }] });
    const scanned = (await code(hash))!;
    expect([scanned.divertedSince !== undefined, scanned.actor]).to.deep.equal([true, undefined]);
  });
});
