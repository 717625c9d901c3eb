import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { codeHash, deviceKey, generateCode, signReadings, simulateDevice, TraceChainClient, Wallet } from '@trace/client';
import { liquor, loadTemplatePackage, tea } from '@trace/contract-templates';
import { DEMO_USERS, Role } from '@trace/console';

/** The four members of the demo consortium, one devnet org each (another network maps the roles to its MSPs: see roles.ts). */
export const DEMO_ORGS = { brand: 'Org1MSP', farm: 'Org2MSP', factory: 'Org3MSP', retail: 'Org4MSP' } as const;
export type DemoOrg = keyof typeof DEMO_ORGS;

const TEA_GTIN = '06901234567892';
const BAIJIU_GTIN = '06901234567908';
const GLN = { farm: '6901234000016', factory: '6901234000023', warehouse: '6901234000030', store: '6901234000047', distillery: '6901234000054', guiyang: '6901234000061' };
export const DEMO_TEA_TASK = 'demo-tea-2026';
export const DEMO_LIQUOR_TASK = 'demo-baijiu-2026';
export const DEMO_CLASS = 'jmtea-2026';

/** What the demo left on chain that a person would want to open. */
export interface DemoSummary {
  teaTask: string;
  liquorTask: string;
  gtin: { tea: string; liquor: string };
  lots: { tea: string; liquor: string };
  /** printed codes: one scanned once, one cloned (scanned past the threshold), one diverted, one never scanned */
  codes: { genuine: string; cloned: string; diverted: string; fresh: string };
  assetClass: string;
}

type MemberRoles = Parameters<TraceChainClient['consortium']['addMember']>[0]['roles'];

export type Progress = (step: number, total: number, what: string) => void;

const hex64 = (c: string) => c.repeat(64).slice(0, 64);

/** The demo consoles' login holding a role: the demo's writes name the org user who would make them (actor). */
const demoUser = (role: Role) => DEMO_USERS.find((u) => u.roles.includes(role))!.username;
const USERS = { admin: demoUser('admin'), dataEntry: demoUser('data_entry'), qa: demoUser('qa'), codes: demoUser('code_manager'), assets: demoUser('asset_manager') };

/**
 * Seeds a tea lot and a liquor lot through the real transactions: consortium, catalog, both
 * templates, every stage recorded by its org with audits, codes with packaging, scans (one clone and
 * one diversion alert), signed device readings (one alarm, one RFID sighting), and a 茶花 asset
 * class confirmed by the warehouse and the inspector, issued and traded against a currency.
 */
export async function seedDemo(
  c: Record<DemoOrg, TraceChainClient>,
  keyDir: string,
  progress: Progress = () => undefined,
  now = Date.now(),
  orgs: Record<DemoOrg, string> = DEMO_ORGS,
): Promise<DemoSummary> {
  const steps: [string, () => Promise<unknown>][] = [];
  const step = (what: string, run: () => Promise<unknown>) => steps.push([what, run]);
  // Event times sit in the past, in order: hour h of a lot that started 60 days ago.
  const start = now - 60 * 86_400_000;
  const at = (h: number) => new Date(start + h * 3_600_000).toISOString();
  const { brand, farm, factory, retail } = c;
  /** records a stage of one task at hour h of the lot, by the org it is assigned to (its console's data-entry user) */
  const recorder = (taskId: string) => (who: TraceChainClient, stage: string, h: number, data: Record<string, unknown>, location?: string) =>
    who.trace.recordStage({ taskId, stage, eventTime: at(h), location, data, actor: USERS.dataEntry });
  const O = orgs;
  mkdirSync(keyDir, { recursive: true });

  step('consortium and members', async () => {
    const members: [DemoOrg, string, MemberRoles][] = [
      ['brand', '云岭茶酒品牌', ['brand', 'auditor', 'issuer']],
      ['farm', '景迈山茶园', ['producer', 'warehouse']],
      ['factory', '勐海茶厂', ['processor', 'logistics', 'exchange']],
      ['retail', '昆明门店', ['retailer', 'inspector', 'regulator', 'appraiser']],
    ];
    // on a network with fewer orgs than roles, one org is one member holding the roles of each part it plays
    const byMsp = new Map<string, { name: string; roles: MemberRoles }>();
    for (const [role, name, roles] of members) {
      const m = byMsp.get(O[role]);
      if (m) m.roles.push(...roles);
      else byMsp.set(O[role], { name, roles: [...roles] });
    }
    const [[, founder], ...others] = byMsp;
    await brand.consortium.bootstrap({ consortium: '普洱与白酒溯源联盟', ...founder });
    for (const [mspId, m] of others) await brand.consortium.addMember({ mspId, ...m });
  });
  step('products and locations', async () => {
    await brand.catalog.defineProduct({ gtin: TEA_GTIN, name: '景迈古树普洱 357g', category: 'tea', brand: '云岭茶酒品牌', spec: { net: '357 g' } });
    await brand.catalog.defineProduct({ gtin: BAIJIU_GTIN, name: '酱香白酒 500ml', category: 'liquor', brand: '云岭茶酒品牌', spec: { abv: '53%' } });
    await farm.catalog.defineLocation({ id: GLN.farm, name: '景迈山古茶园', type: 'farm', geo: { lat: 22.19, lon: 100.03 }, region: 'CN-53' });
    await factory.catalog.defineLocation({ id: GLN.factory, name: '勐海茶厂', type: 'factory', geo: { lat: 21.96, lon: 100.45 }, region: 'CN-53' });
    await farm.catalog.defineLocation({ id: GLN.warehouse, name: '勐海仓库', type: 'warehouse', geo: { lat: 21.97, lon: 100.46 }, region: 'CN-53' });
    await retail.catalog.defineLocation({ id: GLN.store, name: '昆明门店', type: 'store', geo: { lat: 25.04, lon: 102.71 }, region: 'CN-53' });
    await factory.catalog.defineLocation({ id: GLN.distillery, name: '仁怀酒厂', type: 'factory', geo: { lat: 27.79, lon: 106.41 }, region: 'CN-52' });
    await retail.catalog.defineLocation({ id: GLN.guiyang, name: '贵阳门店', type: 'store', geo: { lat: 26.65, lon: 106.63 }, region: 'CN-52' });
  });
  step('templates (Pu’er tea, baijiu)', async () => {
    await loadTemplatePackage(brand, tea);
    await loadTemplatePackage(brand, liquor);
  });
  step('tea lot: ten stages by three orgs, audited', async () => {
    const taskId = DEMO_TEA_TASK;
    await brand.trace.createTask({
      taskId,
      template: 'puer_tea',
      version: 1,
      product: { gtin: TEA_GTIN, name: '景迈古树普洱 357g' },
      lot: 'JM-2026-03',
      plannedQuantity: 600,
      unit: 'cake',
      assignments: { tea_plantation: O.farm, tea_picking: O.farm, tea_withering: O.factory, tea_rolling: O.factory, tea_drying: O.factory, tea_inspection: O.retail, tea_packing: O.factory, tea_warehousing: O.farm, shipping: O.factory, receiving: O.retail },
      actor: USERS.admin,
    });
    const rec = recorder(taskId);
    await rec(farm, 'tea_plantation', 0, { tea_garden: '景迈山古茶园', tea_organic_cert: hex64('a') }, GLN.farm);
    await rec(farm, 'tea_picking', 24, { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' }, GLN.farm);
    await rec(factory, 'tea_withering', 30, { tea_withered_kg: 700 }, GLN.factory);
    await rec(factory, 'tea_rolling', 44, { tea_rolled_kg: 690 }, GLN.factory);
    await rec(factory, 'tea_drying', 50, { tea_dried_kg: 240, tea_moisture_pct: 9 }, GLN.factory);
    await rec(retail, 'tea_inspection', 72, { tea_moisture_pct: 8.5, tea_pesticide_pass: true, tea_inspection_report: hex64('b') });
    await brand.trace.auditStage({ taskId, stage: 'tea_inspection', verdict: 'approved', comment: '检验合格', actor: USERS.qa });
    await rec(factory, 'tea_packing', 96, { tea_cakes: 600, tea_cake_weight_g: 357, tea_packed_kg: 214.2 }, GLN.factory);
    await rec(farm, 'tea_warehousing', 120, { tea_stored_cakes: 600, storage_temp_c: 22, storage_humidity_pct: 65 }, GLN.warehouse);
    await rec(factory, 'shipping', 200, { shipped_units: 120, carrier: '顺丰', tracking_no: 'SF1234567890', dest_region: 'CN-53' }, GLN.warehouse);
    await rec(retail, 'receiving', 230, { received_units: 120, store_name: '昆明门店' }, GLN.store);
    await retail.trace.auditTask({ taskId, verdict: 'approved', comment: '全链路完整', actor: USERS.qa });
  });
  step('liquor lot: eight stages, audited', async () => {
    const taskId = DEMO_LIQUOR_TASK;
    await brand.trace.createTask({
      taskId,
      template: 'baijiu',
      version: 1,
      product: { gtin: BAIJIU_GTIN, name: '酱香白酒 500ml' },
      lot: 'RH-2026-07',
      plannedQuantity: 7000,
      unit: 'bottle',
      assignments: { liq_grain_intake: O.farm, liq_fermentation: O.factory, liq_distillation: O.factory, liq_aging: O.farm, liq_inspection: O.retail, liq_bottling: O.factory, shipping: O.factory, receiving: O.retail },
      authorizedRegions: ['CN-52'],
      actor: USERS.admin,
    });
    const rec = recorder(taskId);
    await rec(farm, 'liq_grain_intake', 0, { liq_sorghum_kg: 10000, liq_wheat_kg: 2000, liq_grain_origin: '仁怀红缨子高粱', liq_grain_cert: hex64('c') }, GLN.distillery);
    await rec(factory, 'liq_fermentation', 24, { liq_pit_id: 'P-07', liq_ferment_days: 30, liq_ferment_temp_c: 32 }, GLN.distillery);
    await rec(factory, 'liq_distillation', 744, { liq_base_liquor_l: 4000, liq_abv_pct: 57, liq_distill_round: 3 }, GLN.distillery);
    await rec(farm, 'liq_aging', 800, { liq_vessel: 'clay_jar', liq_aged_l: 3900, storage_temp_c: 18, storage_humidity_pct: 70 }, GLN.distillery);
    await rec(retail, 'liq_inspection', 900, { liq_abv_pct: 53, liq_methanol_g_l: 0.3, liq_report: hex64('d') });
    await brand.trace.auditStage({ taskId, stage: 'liq_inspection', verdict: 'approved', comment: 'GB 2757 合格', actor: USERS.qa });
    await rec(factory, 'liq_bottling', 950, { liq_bottles: 7000, liq_bottle_ml: 500, liq_bottled_l: 3500 }, GLN.distillery);
    await rec(factory, 'shipping', 1000, { shipped_units: 1200, carrier: '京东物流', tracking_no: 'JD0000123456', dest_region: 'CN-52' }, GLN.distillery);
    await rec(retail, 'receiving', 1010, { received_units: 1200, store_name: '贵阳门店' }, GLN.guiyang);
    await brand.trace.auditTask({ taskId, verdict: 'approved', comment: 'ok', actor: USERS.qa });
  });

  const teaCodes = Array.from({ length: 12 }, () => generateCode());
  const caseCode = generateCode();
  const liquorCodes = Array.from({ length: 6 }, () => generateCode());
  step('codes: 12 tea cakes packed in a case, 6 bottles', async () => {
    await brand.codes.issueCodes({ taskId: DEMO_TEA_TASK, level: 'item', codeHashes: teaCodes.map(codeHash), actor: USERS.codes });
    await factory.codes.issueCodes({ taskId: DEMO_TEA_TASK, level: 'case', codeHashes: [codeHash(caseCode)], actor: USERS.codes });
    await factory.codes.aggregate({ parent: codeHash(caseCode), children: teaCodes.map(codeHash), actor: USERS.codes });
    await brand.codes.issueCodes({ taskId: DEMO_LIQUOR_TASK, level: 'item', codeHashes: liquorCodes.map(codeHash), actor: USERS.codes });
  });
  step('scans: a genuine one, a clone past the threshold, a diverted bottle', async () => {
    const scan = (code: string, region: string, h: number) => ({ codeHash: codeHash(code), channel: 'consumer' as const, region, at: new Date(now - h * 3_600_000).toISOString() });
    await retail.codes.recordScans({ scans: [scan(teaCodes[0], 'CN-53', 30), scan(liquorCodes[0], 'CN-52', 29)] });
    // the tea template alerts past 10 scans of one code: a copied label
    await retail.codes.recordScans({ scans: Array.from({ length: 11 }, (_, i) => scan(teaCodes[1], 'CN-53', 28 - i)) });
    // the baijiu lot was shipped to Guizhou (CN-52): a bottle scanned in Guangdong was diverted
    await retail.codes.recordScans({ scans: [scan(liquorCodes[1], 'CN-44', 10)] });
  });
  step('devices: cellar climate (one alarm), truck GPS, an RFID gate', async () => {
    const warehousing = start + 120 * 3_600_000;
    await simulateDevice(farm, { deviceId: 'cellar-01', keyPath: join(keyDir, 'cellar-01.pem'), scenario: 'cellar', taskId: DEMO_TEA_TASK, batches: 6, readingsPerBatch: 12, startMs: warehousing });
    await simulateDevice(factory, { deviceId: 'truck-07', keyPath: join(keyDir, 'truck-07.pem'), scenario: 'gps', taskId: DEMO_TEA_TASK, batches: 3, readingsPerBatch: 8, startMs: start + 200 * 3_600_000 });
    const gate = deviceKey(join(keyDir, 'rfid-kunming.pem'));
    await retail.devices.registerDevice({ deviceId: 'rfid-kunming', type: 'rfid', publicKeyPem: gate.publicKeyPem, thresholds: {}, actor: USERS.admin });
    await retail.devices.submitReadings(
      signReadings(gate.privateKey, { deviceId: 'rfid-kunming', seq: 1, readings: [{ at: at(230), metric: 'rfid_read', value: 1, unit: 'read', lat: 25.04, lon: 102.71, code: codeHash(caseCode) }] }),
    );
  });
  const alice = Wallet.file(join(keyDir, 'alice.pem'));
  const bob = Wallet.file(join(keyDir, 'bob.pem'));
  step('茶花: class proposed, confirmed, issued, traded', async () => {
    await brand.assets.proposeClass({
      classId: DEMO_CLASS,
      symbol: 'JMTEA',
      kind: 'tea',
      taskId: DEMO_TEA_TASK,
      unit: 'cake',
      certifiedQuantity: 500,
      storage: { warehouse: O.farm, location: GLN.warehouse, since: at(120) },
      confirmations: ['warehouse', 'inspector'],
      evidence: [hex64('9')],
      actor: USERS.assets,
    });
    await farm.assets.confirmClass({ classId: DEMO_CLASS, role: 'warehouse', actor: USERS.assets });
    await retail.assets.confirmClass({ classId: DEMO_CLASS, role: 'inspector', actor: USERS.assets });
    await factory.assets.createCurrency({ classId: 'cny', symbol: 'CNY', unit: 'fen', actor: USERS.assets });
    await factory.assets.issue({ classId: 'cny', to: bob.account, quantity: 1_000_000, actor: USERS.assets });
    await brand.assets.issue({ classId: DEMO_CLASS, to: alice.account, quantity: 300, actor: USERS.assets });
    await retail.assets.setValuation({ classId: DEMO_CLASS, pricePerUnit: 120_000, currency: 'CNY', date: at(1400).slice(0, 10), actor: USERS.assets });
    await farm.assets.createOffer(alice.sign(farm.holderScope('assets:createOffer'), { offerId: 'offer-1', classId: DEMO_CLASS, seller: alice.account, quantity: 50, price: 9_000, currencyClass: 'cny' }));
    await retail.assets.acceptOffer(bob.sign(retail.holderScope('assets:acceptOffer'), { classId: DEMO_CLASS, offerId: 'offer-1', buyer: bob.account, quantity: 20 }));
    await farm.assets.transfer(alice.sign(farm.holderScope('assets:transfer'), { classId: DEMO_CLASS, from: alice.account, to: bob.account, quantity: 10 }));
  });

  for (const [i, [what, run]] of steps.entries()) {
    progress(i + 1, steps.length, what);
    await run();
  }
  return {
    teaTask: DEMO_TEA_TASK,
    liquorTask: DEMO_LIQUOR_TASK,
    gtin: { tea: TEA_GTIN, liquor: BAIJIU_GTIN },
    lots: { tea: 'JM-2026-03', liquor: 'RH-2026-07' },
    codes: { genuine: teaCodes[0], cloned: teaCodes[1], diverted: liquorCodes[1], fresh: teaCodes[2] },
    assetClass: DEMO_CLASS,
  };
}
