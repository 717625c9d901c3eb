import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { decryptForOrg, encryptForOrgs, recipientKey, TraceChainClient } from '@trace/client';
import { testClock } from '@trace/test-network';
import { BAIJIU_GTIN, FACTORY_GLN, FARM_GLN, hex64, ORGS, startConsortium, STORE_GLN, TEA_ASSIGNMENTS, TEA_GTIN, TestConsortium, WAREHOUSE_GLN } from './consortium';

const clock = testClock();

describe('full lots recorded stage by stage by different orgs (devnet, 5 orgs, 2 endorsers)', function () {
  this.timeout(180_000);
  let net: TestConsortium;

  before(async () => {
    net = await startConsortium();
  });

  after(async () => {
    await net?.close();
  });

  it('a Pu’er tea lot: ten stages, an audited inspection, a flagged storage record, the task audit, and the trace', async () => {
    const { brand, farm, factory, retail } = net.clients;
    const orgKey = (msp: string) => recipientKey(readFileSync(net.devnet.user(msp, 'User1').certPath));
    const price = encryptForOrgs('1280 CNY/kg', { [ORGS.farm]: orgKey(ORGS.farm), [ORGS.brand]: orgKey(ORGS.brand) });
    const task = await brand.trace.createTask({
      taskId: 'tea-2026-001',
      template: 'puer_tea',
      version: 1,
      product: { gtin: TEA_GTIN, name: '景迈古树普洱 357g' },
      lot: 'JM-2026-SPRING-01',
      plannedQuantity: 600,
      unit: 'cake',
      assignments: TEA_ASSIGNMENTS,
    });
    expect(task.authorizedRegions).to.deep.equal(['CN-53', 'CN-44', 'CN-11']);
    const rec = (c: TraceChainClient, stage: string, hours: number, data: Record<string, unknown>, location?: string) =>
      c.trace.recordStage({ taskId: 'tea-2026-001', stage, eventTime: clock.at(hours), location, data });

    await rec(farm, 'tea_plantation', 0, { tea_garden: 'Jingmai ancient garden', tea_altitude_m: 1500, tea_tree_age_years: 300, tea_organic_cert: hex64('a') }, FARM_GLN);
    await rec(farm, 'tea_picking', 24, { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'one_bud_two_leaves', tea_weather: 'sunny', tea_purchase_price: price }, FARM_GLN);
    await rec(factory, 'tea_withering', 30, { tea_withered_kg: 700, tea_wither_hours: 12 }, FACTORY_GLN);
    await rec(factory, 'tea_rolling', 44, { tea_rolled_kg: 690, tea_rolling_minutes: 40 }, FACTORY_GLN);
    await rec(factory, 'tea_drying', 50, { tea_dried_kg: 240, tea_moisture_pct: 9 }, FACTORY_GLN);
    await rec(retail, 'tea_inspection', 72, { tea_moisture_pct: 8.5, tea_pesticide_pass: true, tea_inspection_report: hex64('b') });
    await brand.trace.auditStage({ taskId: 'tea-2026-001', stage: 'tea_inspection', verdict: 'approved', comment: '检测合格' });
    await rec(factory, 'tea_packing', 96, { tea_cakes: 600, tea_cake_weight_g: 357, tea_packed_kg: 214.2 }, FACTORY_GLN);
    const stored = await rec(farm, 'tea_warehousing', 120, { tea_stored_cakes: 600, storage_temp_c: 24, storage_humidity_pct: 80 }, WAREHOUSE_GLN);
    expect(stored.flags.map((f) => f.ruleId)).to.deep.equal(['storage_humidity']);
    await rec(factory, 'shipping', 200, { shipped_units: 200, carrier: 'SF Express', tracking_no: 'SF1234567890', dest_region: 'CN-53' });
    await rec(retail, 'receiving', 230, { received_units: 200, store_name: 'Kunming flagship' }, STORE_GLN);

    const status = await brand.trace.getTask('tea-2026-001');
    expect(status.complete).to.equal(true);
    expect(status.stages.filter((s) => s.flagged).map((s) => s.stage)).to.deep.equal(['tea_warehousing']);
    const audit = await retail.trace.auditTask({ taskId: 'tea-2026-001', verdict: 'approved', comment: '全流程审核通过' });
    expect(audit.auditor).to.equal(ORGS.retail);

    const trace = await retail.trace.getTrace('tea-2026-001');
    expect(trace.stages.map((s) => [s.stage, s.record?.recordedBy])).to.deep.equal(Object.entries(TEA_ASSIGNMENTS));
    expect(trace.stages.find((s) => s.stage === 'tea_inspection')?.audit?.verdict).to.equal('approved');
    expect(trace.stages.find((s) => s.stage === 'tea_packing')?.bizStep).to.equal('packing');
    expect(trace.audit?.verdict).to.equal('approved');
    expect(trace.template.publicView.tea_plantation).to.include('tea_garden');
    const onChainPrice = trace.stages.find((s) => s.stage === 'tea_picking')!.record!.data.tea_purchase_price as string;
    expect(onChainPrice).not.to.contain('1280');
    expect(decryptForOrg(onChainPrice, ORGS.farm, readFileSync(net.devnet.user(ORGS.farm, 'User1').keyPath))).to.equal('1280 CNY/kg');
  });

  it('a baijiu lot: eight stages from grain to shelf, audited', async () => {
    const { brand, farm, factory, retail } = net.clients;
    await brand.trace.createTask({
      taskId: 'baijiu-2026-001',
      template: 'baijiu',
      version: 1,
      product: { gtin: BAIJIU_GTIN, name: '酱香白酒 500ml' },
      lot: 'RH-2026-07',
      plannedQuantity: 7000,
      unit: 'bottle',
      assignments: {
        liq_grain_intake: ORGS.farm,
        liq_fermentation: ORGS.factory,
        liq_distillation: ORGS.factory,
        liq_aging: ORGS.farm,
        liq_inspection: ORGS.retail,
        liq_bottling: ORGS.factory,
        shipping: ORGS.factory,
        receiving: ORGS.retail,
      },
      authorizedRegions: ['CN-52'],
    });
    const rec = (c: TraceChainClient, stage: string, hours: number, data: Record<string, unknown>) =>
      c.trace.recordStage({ taskId: 'baijiu-2026-001', stage, eventTime: clock.at(hours), data });
    await rec(farm, 'liq_grain_intake', 0, { liq_sorghum_kg: 10000, liq_wheat_kg: 2000, liq_grain_origin: 'Renhuai red sorghum', liq_grain_cert: hex64('c') });
    await rec(factory, 'liq_fermentation', 24, { liq_pit_id: 'P-07', liq_ferment_days: 30, liq_ferment_temp_c: 32 });
    await rec(factory, 'liq_distillation', 744, { liq_base_liquor_l: 4000, liq_abv_pct: 57, liq_distill_round: 3 });
    await rec(farm, 'liq_aging', 800, { liq_vessel: 'clay_jar', liq_aged_l: 3900, storage_temp_c: 18, storage_humidity_pct: 70 });
    await rec(retail, 'liq_inspection', 900, { liq_abv_pct: 53, liq_methanol_g_l: 0.3, liq_report: hex64('d') });
    // Retail recorded the inspection; another org audits it (an org never audits its own records).
    await brand.trace.auditStage({ taskId: 'baijiu-2026-001', stage: 'liq_inspection', verdict: 'approved', comment: 'GB 2757 合格' });
    await rec(factory, 'liq_bottling', 950, { liq_bottles: 7000, liq_bottle_ml: 500, liq_bottled_l: 3500 });
    await rec(factory, 'shipping', 1000, { shipped_units: 1200, carrier: 'JD Logistics', tracking_no: 'JD0000123456', dest_region: 'CN-52' });
    await rec(retail, 'receiving', 1010, { received_units: 1200, store_name: 'Guiyang store' });
    await brand.trace.auditTask({ taskId: 'baijiu-2026-001', verdict: 'approved', comment: 'ok' });
    const trace = await farm.trace.getTrace('baijiu-2026-001');
    expect(trace.task.authorizedRegions).to.deep.equal(['CN-52']);
    expect(trace.stages.every((s) => s.record && s.record.flags.length === 0)).to.equal(true);
    expect(trace.audit?.verdict).to.equal('approved');
    const templates = (await farm.process.listTemplates()).items;
    expect(templates.map((t) => `${t.id}@${t.version}`)).to.deep.equal(['baijiu@1', 'puer_tea@1']);
  });
});
