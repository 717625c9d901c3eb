import { TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { testClock } from '@trace/test-network';

export const TASK = 'console-tea-1';
export const GTIN = '06901234567892';
const hex64 = (c: string) => c.repeat(64);

/**
 * A tea lot recorded up to packing (600 cakes): its warehousing stage waits for the farm (Org2MSP),
 * whose rule `stored_all` rejects any count but 600 and whose storage rules flag 10–30 °C, 50–75 %.
 */
export async function teaLotAwaitingWarehousing(brand: TraceChainClient, farm: TraceChainClient): Promise<void> {
  await brand.consortium.bootstrap({ consortium: 'console', name: 'Brand', roles: ['brand', 'processor', 'logistics', 'retailer', 'inspector'] });
  await brand.consortium.addMember({ mspId: 'Org2MSP', name: '景迈山茶园', roles: ['producer', 'warehouse', 'auditor'] });
  await brand.catalog.defineProduct({ gtin: GTIN, name: '景迈古树普洱 357g', category: 'tea', brand: 'Brand' });
  await loadTemplatePackage(brand, tea);
  const farmStages = ['tea_plantation', 'tea_picking', 'tea_warehousing'];
  const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, farmStages.includes(s.stage) ? 'Org2MSP' : 'Org1MSP']));
  await brand.trace.createTask({ taskId: TASK, template: 'puer_tea', version: 1, product: { gtin: GTIN, name: '景迈古树普洱 357g' }, lot: 'CON-1', plannedQuantity: 600, unit: 'cake', assignments });
  const { at } = testClock(200);
  const rec = (who: TraceChainClient, stage: string, h: number, data: Record<string, unknown>) => who.trace.recordStage({ taskId: TASK, stage, eventTime: at(h), data });
  await rec(farm, 'tea_plantation', 0, { tea_garden: '景迈山古茶园', tea_organic_cert: hex64('a') });
  await rec(farm, 'tea_picking', 24, { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' });
  await rec(brand, 'tea_withering', 30, { tea_withered_kg: 700 });
  await rec(brand, 'tea_rolling', 44, { tea_rolled_kg: 690 });
  await rec(brand, 'tea_drying', 50, { tea_dried_kg: 240, tea_moisture_pct: 9 });
  await rec(brand, 'tea_inspection', 72, { tea_moisture_pct: 8.5, tea_pesticide_pass: true, tea_inspection_report: hex64('b') });
  await farm.trace.auditStage({ taskId: TASK, stage: 'tea_inspection', verdict: 'approved', comment: 'ok' });
  await rec(brand, 'tea_packing', 96, { tea_cakes: 600, tea_cake_weight_g: 357, tea_packed_kg: 214.2 });
}
