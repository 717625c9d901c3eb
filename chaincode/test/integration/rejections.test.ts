import { expect } from 'chai';
import { Rule } from '@trace/chaincode';
import { TraceChainClient } from '@trace/client';
import { testClock } from '@trace/test-network';
import { createTeaTask, FARM_GLN, hex64, ORGS, rejectsWith, startConsortium, TEA_ASSIGNMENTS, TEA_GTIN, TestConsortium } from './consortium';

const clock = testClock();

/** Two stages and one rule of each kind; the same rules with severity reject and with flag. */
const RULE_ITEMS = [
  { id: 'a_n1', type: 'number' }, { id: 'a_n2', type: 'number' }, { id: 'a_n3', type: 'number' }, { id: 'a_s', type: 'string' },
  { id: 'a_code', type: 'string', pattern: '[A-Z]{2}-\\d{3}' }, { id: 'a_slow', type: 'string', pattern: '(a+)+b', maxLength: 4096 }, { id: 'a_kind', type: 'enum', values: ['red', 'green'] }, { id: 'a_need', type: 'integer', required: true, min: 1, max: 10 },
  { id: 'b_n1', type: 'number' }, { id: 'b_n2', type: 'number' }, { id: 'b_n3', type: 'number' }, { id: 'b_n4', type: 'number' }, { id: 'b_s', type: 'string' },
  { id: 'b_cond', type: 'boolean' }, { id: 'b_opt', type: 'string' },
] as const;

function rules(severity: 'reject' | 'flag'): Rule[] {
  return [
    { id: 'lte', kind: 'lte', left: 'rt_b.b_n1', right: 'rt_a.a_n1', factor: 2, severity },
    { id: 'eq', kind: 'eq', left: 'rt_b.b_n2', right: 'rt_a.a_n2', tolerance: 0.5, severity },
    { id: 'ratio', kind: 'ratio', left: 'rt_b.b_n3', right: 'rt_a.a_n3', min: 0.5, max: 1, severity },
    { id: 'timeOrder', kind: 'timeOrder', left: 'rt_a.eventTime', right: 'rt_b.eventTime', minHours: 1, maxHours: 48, severity },
    { id: 'sameValue', kind: 'sameValue', left: 'rt_b.b_s', right: 'rt_a.a_s', severity },
    { id: 'withinRange', kind: 'withinRange', left: 'rt_b.b_n4', min: 0, max: 100, severity },
    { id: 'requiredIf', kind: 'requiredIf', left: 'rt_b.b_opt', when: { ref: 'rt_b.b_cond', equals: true }, severity },
  ];
}

const GOOD_A = { a_n1: 10, a_n2: 5, a_n3: 100, a_s: 'X', a_code: 'AB-123', a_kind: 'red', a_need: 3 };
const GOOD_B = { b_n1: 20, b_n2: 5.4, b_n3: 80, b_n4: 100, b_s: 'X', b_cond: true, b_opt: 'present' };
/** For each rule: the change to stage b that breaks it and nothing else. */
const BREAKS: Record<string, { data?: Record<string, unknown>; hours?: number }> = {
  lte: { data: { b_n1: 20.5 } },
  eq: { data: { b_n2: 6 } },
  ratio: { data: { b_n3: 101 } },
  timeOrder: { hours: 60 },
  sameValue: { data: { b_s: 'Y' } },
  withinRange: { data: { b_n4: 100.5 } },
  requiredIf: { data: { b_opt: undefined } },
};

describe('trace rejections: every rule answers with its error code and changes nothing', function () {
  this.timeout(180_000);
  let net: TestConsortium;
  let brand: TraceChainClient;
  let farm: TraceChainClient;
  let factory: TraceChainClient;
  let retail: TraceChainClient;
  let outsider: TraceChainClient;
  let taskSeq = 0;

  const ruleTask = async (template: string) => {
    const taskId = `rt-${template}-${++taskSeq}`;
    await brand.trace.createTask({ taskId, template, version: 1, product: { gtin: TEA_GTIN, name: 'tea' }, lot: `L${taskSeq}`, plannedQuantity: 1, unit: 'kg', assignments: { rt_a: ORGS.farm, rt_b: ORGS.factory } });
    return taskId;
  };
  const pending = async (taskId: string, stage: string) => {
    const status = await brand.trace.getTask(taskId);
    expect(status.stages.find((s) => s.stage === stage)?.status, `${stage} of ${taskId}`).to.equal('pending');
  };
  const teaTask = (taskId: string, assignments?: Record<string, string>) => createTeaTask(brand, taskId, assignments);

  before(async () => {
    net = await startConsortium();
    ({ brand, farm, factory, retail, outsider } = net.clients);
    for (const item of RULE_ITEMS) await brand.process.defineItem({ name: item.id, privacy: 'plain', ...item, values: 'values' in item ? [...item.values] : undefined });
    await brand.process.defineForm({ id: 'rt_a_form', name: 'a', items: RULE_ITEMS.filter((i) => i.id.startsWith('a_')).map((i) => i.id) });
    await brand.process.defineForm({ id: 'rt_b_form', name: 'b', items: RULE_ITEMS.filter((i) => i.id.startsWith('b_')).map((i) => i.id) });
    await brand.process.defineStage({ id: 'rt_a', name: 'a', forms: ['rt_a_form'], role: 'producer', requiresAudit: false, bizStep: 'commissioning' });
    await brand.process.defineStage({ id: 'rt_b', name: 'b', forms: ['rt_b_form'], role: 'processor', requiresAudit: false, bizStep: 'transforming' });
    for (const severity of ['reject', 'flag'] as const) {
      await brand.process.defineTemplate({
        id: `rules_${severity}`,
        version: 1,
        name: `every rule kind, ${severity}`,
        category: 'test',
        stages: [{ stage: 'rt_a', after: [] }, { stage: 'rt_b', after: ['rt_a'] }],
        rules: rules(severity),
        scanAlertThreshold: 3,
        publicView: { rt_a: ['a_s'] },
      });
    }
  });

  after(async () => {
    await net?.close();
  });

  describe('cross-validation', () => {
    it('accepts records that satisfy every rule, equal bounds included', async () => {
      const taskId = await ruleTask('rules_reject');
      await farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: GOOD_A });
      const b = await factory.trace.recordStage({ taskId, stage: 'rt_b', eventTime: clock.at(10), data: GOOD_B });
      expect(b.flags).to.deep.equal([]);
    });

    for (const [kind, change] of Object.entries(BREAKS)) {
      it(`${kind} with severity reject fails the record, naming the rule`, async () => {
        const taskId = await ruleTask('rules_reject');
        await farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: GOOD_A });
        const data = JSON.parse(JSON.stringify({ ...GOOD_B, ...change.data }));
        await rejectsWith(factory.trace.recordStage({ taskId, stage: 'rt_b', eventTime: clock.at(change.hours ?? 10), data }), 'ERR_CROSS_VALIDATION', new RegExp(`rule '${kind}'`));
        await pending(taskId, 'rt_b');
      });

      it(`${kind} with severity flag accepts the record, marks it and raises an alert`, async () => {
        const taskId = await ruleTask('rules_flag');
        await farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: GOOD_A });
        const data = JSON.parse(JSON.stringify({ ...GOOD_B, ...change.data }));
        const stream = await brand.ledger.chaincodeEvents();
        const record = await factory.trace.recordStage({ taskId, stage: 'rt_b', eventTime: clock.at(change.hours ?? 10), data });
        expect(record.flags.map((f) => f.ruleId)).to.deep.equal([kind]);
        for await (const ev of stream) {
          const payload = JSON.parse(Buffer.from(ev.payload).toString()) as { alerts: { type: string; ruleId: string }[] };
          if (ev.transactionId !== record.txId) continue;
          expect(ev.eventName).to.equal('trace.StageRecorded');
          expect(payload.alerts).to.deep.equal([{ type: 'cross-validation', ruleId: kind, message: record.flags[0].message }]);
          break;
        }
        stream.close();
        expect((await brand.trace.getTask(taskId)).stages.find((s) => s.stage === 'rt_b')).to.include({ status: 'recorded', flagged: true });
      });
    }
  });

  describe('stage data', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a wrong type', { ...GOOD_A, a_n1: '10' }, /a_n1 must be a finite number/],
      ['a value out of range', { ...GOOD_A, a_need: 11 }, /a_need = 11 is above the maximum 10/],
      ['a pattern mismatch', { ...GOOD_A, a_code: 'AB123' }, /a_code does not match/],
      // (a+)+b backtracks exponentially in a RegExp: 4,000 characters would stall every endorser.
      ['a catastrophic pattern on a long value, answered in linear time', { ...GOOD_A, a_slow: 'a'.repeat(4000) }, /a_slow does not match/],
      ['a value outside the enum', { ...GOOD_A, a_kind: 'blue' }, /a_kind must be one of red, green/],
      ['an unknown item', { ...GOOD_A, a_extra: 1 }, /unknown item 'a_extra'/],
      ['a missing required item', { ...GOOD_A, a_need: undefined }, /required item 'a_need' is missing/],
    ];
    for (const [what, data, text] of cases) {
      it(`rejects ${what} with ERR_VALIDATION`, async () => {
        const taskId = await ruleTask('rules_reject');
        await rejectsWith(farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: JSON.parse(JSON.stringify(data)) }), 'ERR_VALIDATION', text);
        await pending(taskId, 'rt_a');
      });
    }

    it('refuses an item pattern outside the linear-time subset, and defines nothing', async () => {
      await rejectsWith(brand.process.defineItem({ id: 'backref', name: 'backref', type: 'string', privacy: 'plain', pattern: '(a)\\1' }), 'ERR_VALIDATION', /pattern is not supported: .*backreferences/);
      await rejectsWith(brand.process.getItem('backref'), 'ERR_NOT_FOUND');
    });

    it('rejects a payload over the size limit with ERR_VALIDATION', async () => {
      const taskId = await ruleTask('rules_reject');
      await rejectsWith(farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: { ...GOOD_A, a_s: 'x'.repeat(300 * 1024) } }), 'ERR_VALIDATION', /larger than/);
      await pending(taskId, 'rt_a');
    });

    it('rejects unknown DTO fields and malformed JSON with ERR_VALIDATION', async () => {
      await rejectsWith(brand.ledger.submit('trace:createTask', '{"taskId": "x", "bogus": true}'), 'ERR_VALIDATION', /bogus: property bogus should not exist/);
      await rejectsWith(brand.ledger.submit('trace:createTask', '{not json'), 'ERR_VALIDATION', /not valid JSON/);
      await rejectsWith(brand.trace.getTask('x'), 'ERR_NOT_FOUND');
    });
  });

  describe('order and time', () => {
    it('rejects a stage before its predecessor, and an event time going backwards or into the future', async () => {
      const taskId = await ruleTask('rules_reject');
      await rejectsWith(factory.trace.recordStage({ taskId, stage: 'rt_b', eventTime: clock.at(10), data: GOOD_B }), 'ERR_STAGE_ORDER', /needs 'rt_a' first/);
      await farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(5), data: GOOD_A });
      await rejectsWith(factory.trace.recordStage({ taskId, stage: 'rt_b', eventTime: clock.at(4), data: GOOD_B }), 'ERR_STAGE_ORDER', /precedes 'rt_a'/);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      await rejectsWith(factory.trace.recordStage({ taskId, stage: 'rt_b', eventTime: future, data: GOOD_B }), 'ERR_VALIDATION', /in the future/);
      await pending(taskId, 'rt_b');
    });

    it('rejects a stage whose audited predecessor is not approved, and the task audit before that', async () => {
      await teaTask('tea-audit-gate');
      const rec = (c: TraceChainClient, stage: string, h: number, data: Record<string, unknown>) => c.trace.recordStage({ taskId: 'tea-audit-gate', stage, eventTime: clock.at(h), data });
      await rec(farm, 'tea_plantation', 0, { tea_garden: 'g' });
      await rec(farm, 'tea_picking', 1, { tea_fresh_leaf_kg: 100, tea_pick_grade: 'bud' });
      await rec(factory, 'tea_withering', 2, { tea_withered_kg: 70 });
      await rec(factory, 'tea_rolling', 3, { tea_rolled_kg: 69 });
      await rec(factory, 'tea_drying', 4, { tea_dried_kg: 24, tea_moisture_pct: 9 });
      await rec(retail, 'tea_inspection', 5, { tea_moisture_pct: 9, tea_pesticide_pass: true, tea_inspection_report: hex64('e') });
      const packing = { tea_cakes: 60, tea_cake_weight_g: 357, tea_packed_kg: 21.4 };
      await rejectsWith(rec(factory, 'tea_packing', 6, packing), 'ERR_STAGE_ORDER', /approved audit of 'tea_inspection'/);
      await brand.trace.auditStage({ taskId: 'tea-audit-gate', stage: 'tea_inspection', verdict: 'rejected', comment: 'report unreadable' });
      await rejectsWith(rec(factory, 'tea_packing', 6, packing), 'ERR_STAGE_ORDER', /approved audit/);
      await rejectsWith(brand.trace.auditTask({ taskId: 'tea-audit-gate', verdict: 'approved', comment: '' }), 'ERR_STATE');
      await pending('tea-audit-gate', 'tea_packing');
      expect((await brand.trace.getTask('tea-audit-gate')).audit).to.equal(undefined);
    });

    it('rejects a stage outside the template with ERR_NOT_FOUND', async () => {
      const taskId = await ruleTask('rules_reject');
      await rejectsWith(farm.trace.recordStage({ taskId, stage: 'tea_picking', eventTime: clock.at(0), data: {} }), 'ERR_NOT_FOUND', /not part of template/);
    });
  });

  describe('authority', () => {
    it('refuses an org that is not a member', async () => {
      await rejectsWith(outsider.trace.createTask({ taskId: 'outsider-1', template: 'puer_tea', version: 1, product: { gtin: TEA_GTIN, name: 't' }, lot: 'x', plannedQuantity: 1, unit: 'kg', assignments: TEA_ASSIGNMENTS }), 'ERR_NOT_MEMBER');
      await rejectsWith(outsider.catalog.defineLocation({ id: '6901234000054', name: 'x', type: 'farm', geo: { lat: 0, lon: 0 }, region: 'CN' }), 'ERR_NOT_MEMBER');
      await rejectsWith(brand.catalog.getLocation('6901234000054'), 'ERR_NOT_FOUND');
      await rejectsWith(outsider.consortium.addMember({ mspId: ORGS.outsider, name: 'me', roles: ['operator'] }), 'ERR_NOT_MEMBER');
    });

    it('refuses a suspended member, and accepts it again once reactivated', async () => {
      await brand.consortium.addMember({ mspId: ORGS.outsider, name: 'Second farm', roles: ['producer'] });
      await teaTask('tea-suspended', { ...TEA_ASSIGNMENTS, tea_plantation: ORGS.outsider });
      await brand.consortium.setMemberStatus({ mspId: ORGS.outsider, status: 'suspended' });
      const record = () => outsider.trace.recordStage({ taskId: 'tea-suspended', stage: 'tea_plantation', eventTime: clock.at(0), data: { tea_garden: 'g' }, location: FARM_GLN });
      await rejectsWith(record(), 'ERR_NOT_MEMBER', /suspended/);
      await pending('tea-suspended', 'tea_plantation');
      await brand.consortium.setMemberStatus({ mspId: ORGS.outsider, status: 'active' });
      expect((await record()).version).to.equal(1);
    });

    it('refuses an org without the needed role', async () => {
      await rejectsWith(farm.catalog.defineProduct({ gtin: '6901234567915', name: 'x', category: 'tea', brand: 'b' }), 'ERR_FORBIDDEN', /roles brand, operator/);
      await rejectsWith(brand.catalog.getProduct('6901234567915'), 'ERR_NOT_FOUND');
      await rejectsWith(factory.trace.auditStage({ taskId: 'tea-audit-gate', stage: 'tea_inspection', verdict: 'approved', comment: '' }), 'ERR_FORBIDDEN');
      await rejectsWith(farm.consortium.setMemberStatus({ mspId: ORGS.factory, status: 'suspended' }), 'ERR_FORBIDDEN');
      expect((await brand.consortium.getMember(ORGS.factory)).status).to.equal('active');
      await rejectsWith(
        brand.trace.createTask({ taskId: 'wrong-role', template: 'puer_tea', version: 1, product: { gtin: TEA_GTIN, name: 't' }, lot: 'x', plannedQuantity: 1, unit: 'kg', assignments: { ...TEA_ASSIGNMENTS, tea_inspection: ORGS.farm } }),
        'ERR_FORBIDDEN',
        /needs the role inspector/,
      );
    });

    it('refuses a stage recorded by another org than the one assigned', async () => {
      await teaTask('tea-wrong-org');
      await rejectsWith(factory.trace.recordStage({ taskId: 'tea-wrong-org', stage: 'tea_plantation', eventTime: clock.at(0), data: { tea_garden: 'g' } }), 'ERR_FORBIDDEN', /assigned to Org2MSP/);
      await pending('tea-wrong-org', 'tea_plantation');
    });
  });

  describe('uniqueness and immutability', () => {
    it('refuses a duplicate task id', async () => {
      await teaTask('tea-dup');
      await rejectsWith(teaTask('tea-dup'), 'ERR_CONFLICT', /already exists/);
      expect((await brand.trace.getTask('tea-dup')).task.lot).to.equal('tea-dup');
    });

    it('refuses to redefine a published template version, and keeps the published one', async () => {
      const published = await brand.process.getTemplate('rules_reject', 1);
      await rejectsWith(
        brand.process.defineTemplate({ id: 'rules_reject', version: 1, name: 'changed', category: 'test', stages: [{ stage: 'rt_a', after: [] }], rules: [], scanAlertThreshold: 1, publicView: {} }),
        'ERR_CONFLICT',
        /immutable/,
      );
      expect(await brand.process.getTemplate('rules_reject', 1)).to.deep.equal(published);
    });

    it('refuses templates with unknown references or a cycle', async () => {
      const base = { version: 1, name: 'bad', category: 'test', scanAlertThreshold: 1, publicView: {} };
      await rejectsWith(brand.process.defineTemplate({ ...base, id: 'bad_ref', stages: [{ stage: 'rt_a', after: [] }], rules: [{ id: 'x', kind: 'lte', left: 'rt_a.nope', right: 'rt_a.a_n1', severity: 'reject' }] }), 'ERR_VALIDATION', /has no item 'nope'/);
      await rejectsWith(brand.process.defineTemplate({ ...base, id: 'bad_cycle', stages: [{ stage: 'rt_a', after: ['rt_b'] }, { stage: 'rt_b', after: ['rt_a'] }], rules: [] }), 'ERR_VALIDATION', /cycle/);
      await rejectsWith(brand.process.getTemplate('bad_ref', 1), 'ERR_NOT_FOUND');
    });

    it('refuses an EPCIS mapping naming a non-CBV disposition or an input that is not of an earlier stage, publishes nothing, then accepts a sound one', async () => {
      const base = { version: 1, name: 'epcis', category: 'test', scanAlertThreshold: 1, publicView: {}, rules: [], stages: [{ stage: 'rt_a', after: [] }, { stage: 'rt_b', after: ['rt_a'] }] };
      await rejectsWith(brand.process.defineTemplate({ ...base, id: 'epcis_bad', epcis: { rt_a: { disposition: 'fresh' } } }), 'ERR_VALIDATION', /epcis.rt_a.disposition must be a CBV 2.0 disposition/);
      await rejectsWith(brand.process.defineTemplate({ ...base, id: 'epcis_bad', epcis: { rt_a: { inputs: [{ item: 'rt_b.b_n1', uom: 'KGM' }] } } }), 'ERR_VALIDATION', /not an item of an earlier stage/);
      await rejectsWith(brand.process.getTemplate('epcis_bad', 1), 'ERR_NOT_FOUND');
      const epcis = { rt_b: { bizStep: 'commissioning', inputs: [{ item: 'rt_a.a_n1', uom: 'KGM' }], quantities: [{ item: 'b_n1', uom: 'KGM' }] } };
      await brand.process.defineTemplate({ ...base, id: 'epcis_bad', epcis });
      expect((await brand.process.getTemplate('epcis_bad', 1)).epcis).to.deep.equal(epcis);
    });
  });

  describe('definitions and catalog', () => {
    it('refuses item, form and stage definitions by non-definers, with unknown parts or twice, and keeps the first', async () => {
      await rejectsWith(farm.process.defineItem({ id: 'rj_item', name: 'x', type: 'number', privacy: 'plain' }), 'ERR_FORBIDDEN');
      await rejectsWith(brand.process.getItem('rj_item'), 'ERR_NOT_FOUND');
      await rejectsWith(brand.process.defineItem({ id: 'rj_item', name: 'x', type: 'number', min: 5, max: 1, privacy: 'plain' }), 'ERR_VALIDATION', /min/);
      await brand.process.defineItem({ id: 'rj_item', name: 'first', type: 'number', privacy: 'plain' });
      await rejectsWith(brand.process.defineItem({ id: 'rj_item', name: 'second', type: 'string', privacy: 'plain' }), 'ERR_CONFLICT', /immutable/);
      expect(await brand.process.getItem('rj_item')).to.include({ name: 'first', type: 'number' });

      await rejectsWith(brand.process.defineForm({ id: 'rj_form', name: 'f', items: ['rj_item', 'rj_missing'] }), 'ERR_NOT_FOUND', /rj_missing/);
      await rejectsWith(factory.process.defineForm({ id: 'rj_form', name: 'f', items: ['rj_item'] }), 'ERR_FORBIDDEN');
      await rejectsWith(brand.process.getForm('rj_form'), 'ERR_NOT_FOUND');
      await brand.process.defineForm({ id: 'rj_form', name: 'first', items: ['rj_item'] });
      await rejectsWith(brand.process.defineForm({ id: 'rj_form', name: 'second', items: [] }), 'ERR_VALIDATION');
      await rejectsWith(brand.process.defineForm({ id: 'rj_form', name: 'second', items: ['rj_item'] }), 'ERR_CONFLICT');
      expect(await brand.process.getForm('rj_form')).to.include({ name: 'first' });

      await rejectsWith(brand.process.defineStage({ id: 'rj_stage', name: 's', forms: ['rj_nope'], role: 'producer', requiresAudit: false, bizStep: 'commissioning' }), 'ERR_NOT_FOUND', /rj_nope/);
      await rejectsWith(retail.process.defineStage({ id: 'rj_stage', name: 's', forms: ['rj_form'], role: 'producer', requiresAudit: false, bizStep: 'commissioning' }), 'ERR_FORBIDDEN');
      await rejectsWith(brand.process.getStage('rj_stage'), 'ERR_NOT_FOUND');
      await brand.process.defineStage({ id: 'rj_stage', name: 'first', forms: ['rj_form'], role: 'producer', requiresAudit: false, bizStep: 'commissioning' });
      await rejectsWith(brand.process.defineStage({ id: 'rj_stage', name: 'second', forms: ['rj_form'], role: 'processor', requiresAudit: true, bizStep: 'commissioning' }), 'ERR_CONFLICT');
      expect(await brand.process.getStage('rj_stage')).to.include({ name: 'first', role: 'producer' });
    });

    it('lets only the owner (or the operator) retire a product or a location, and not twice', async () => {
      const gtin = '06901234567977';
      await brand.catalog.defineProduct({ gtin, name: 'rj tea', category: 'tea', brand: 'Brand Co.', spec: {} });
      await rejectsWith(farm.catalog.setProductStatus({ gtin, status: 'retired' }), 'ERR_FORBIDDEN');
      await rejectsWith(brand.catalog.setProductStatus({ gtin, status: 'active' }), 'ERR_STATE', /already active/);
      await rejectsWith(brand.catalog.setProductStatus({ gtin: '06901234567984', status: 'retired' }), 'ERR_NOT_FOUND');
      expect((await brand.catalog.getProduct(gtin)).status).to.equal('active');
      expect((await brand.catalog.setProductStatus({ gtin, status: 'retired' })).status).to.equal('retired');

      const gln = '6901234000078';
      await farm.catalog.defineLocation({ id: gln, name: 'rj shed', type: 'warehouse', geo: { lat: 22.2, lon: 100.1 }, region: 'CN-53' });
      await rejectsWith(factory.catalog.setLocationStatus({ id: gln, status: 'retired' }), 'ERR_FORBIDDEN', /belongs to/);
      await rejectsWith(farm.catalog.setLocationStatus({ id: gln, status: 'active' }), 'ERR_STATE', /already active/);
      expect((await brand.catalog.getLocation(gln)).status).to.equal('active');
      // The operator may retire any location (a member that left, a closed site).
      expect((await brand.catalog.setLocationStatus({ id: gln, status: 'retired' })).status).to.equal('retired');
    });
  });

  describe('amendments', () => {
    it('names the org’s user who recorded, amended and audited, as the org gave it', async () => {
      const taskId = await ruleTask('rules_reject');
      await rejectsWith(farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: GOOD_A, actor: 'li lei; drop' }), 'ERR_VALIDATION', /actor/);
      await pending(taskId, 'rt_a');
      await farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: GOOD_A, actor: 'clerk.li' });
      await farm.trace.amendStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: { ...GOOD_A, a_n1: 11 }, reason: 'scale recalibrated', actor: 'qa.wang@farm' });
      await brand.trace.auditStage({ taskId, stage: 'rt_a', verdict: 'approved', comment: 'ok', actor: 'auditor-7' });
      const a = (await brand.trace.getTrace(taskId)).stages.find((s) => s.stage === 'rt_a')!;
      expect([a.history[0].actor, a.record?.actor, a.record?.recordedBy, a.audit?.actor]).to.deep.equal(['clerk.li', 'qa.wang@farm', ORGS.farm, 'auditor-7']);
      // Without an actor the record names the org only, as before.
      await factory.trace.recordStage({ taskId, stage: 'rt_b', eventTime: clock.at(10), data: GOOD_B });
      expect((await brand.trace.getTrace(taskId)).stages.find((s) => s.stage === 'rt_b')!.record).to.not.have.property('actor');
    });

    it('keeps every version with its reason, re-validates, voids the audit, and locks after the task audit', async () => {
      const taskId = await ruleTask('rules_reject');
      await farm.trace.recordStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: GOOD_A });
      await brand.trace.auditStage({ taskId, stage: 'rt_a', verdict: 'approved', comment: 'ok' });
      await factory.trace.recordStage({ taskId, stage: 'rt_b', eventTime: clock.at(10), data: GOOD_B });
      // The amendment must still satisfy the rules against the later stage.
      await rejectsWith(farm.trace.amendStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: { ...GOOD_A, a_n1: 5 }, reason: 'scale error' }), 'ERR_CROSS_VALIDATION', /rule 'lte'/);
      await rejectsWith(factory.trace.amendStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: GOOD_A, reason: 'not mine' }), 'ERR_FORBIDDEN');
      await rejectsWith(farm.trace.amendStage({ taskId, stage: 'rt_a', eventTime: clock.at(11), data: GOOD_A, reason: 'later' }), 'ERR_STAGE_ORDER', /would follow 'rt_b'/);
      const v2 = await farm.trace.amendStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: { ...GOOD_A, a_n1: 11 }, reason: 'scale recalibrated' });
      expect(v2).to.include({ version: 2, reason: 'scale recalibrated' });
      const trace = await brand.trace.getTrace(taskId);
      const a = trace.stages.find((s) => s.stage === 'rt_a')!;
      expect(a.record?.data.a_n1).to.equal(11);
      expect(a.history.map((h) => [h.version, h.data.a_n1])).to.deep.equal([[1, 10]]);
      expect(a.audit, 'the audit of version 1 no longer applies').to.equal(undefined);
      await brand.trace.auditTask({ taskId, verdict: 'approved', comment: 'closed' });
      await rejectsWith(farm.trace.amendStage({ taskId, stage: 'rt_a', eventTime: clock.at(0), data: GOOD_A, reason: 'too late' }), 'ERR_LOCKED');
      await rejectsWith(farm.trace.amendStage({ taskId: 'tea-dup', stage: 'tea_plantation', eventTime: clock.at(0), data: { tea_garden: 'g' }, reason: 'nothing to amend' }), 'ERR_STATE', /not recorded/);
      expect((await brand.trace.getTrace(taskId)).stages.find((s) => s.stage === 'rt_a')!.record!.version).to.equal(2);
    });
  });
});
