import { TraceChainClient } from '@trace/client';
import { testClock } from '@trace/test-network';
import { TASK, teaLotAwaitingWarehousing } from './tea-lot';

/** The farm's warehouse (a valid GLN), where the lot's cakes are stored. */
export const WAREHOUSE_GLN = '6901234000030';
const { at } = testClock(200);

/**
 * The console tea lot made eligible to back a 茶花 class: warehoused by the farm (600 cakes, the template's
 * assetQuantity), shipped and received by the brand, and the whole task approved by the farm's auditor. The brand
 * (operator) also becomes an issuer, and the farm defines its warehouse location.
 */
export async function auditedTeaLot(brand: TraceChainClient, farm: TraceChainClient): Promise<void> {
  await teaLotAwaitingWarehousing(brand, farm);
  await brand.consortium.updateMember({ mspId: 'Org1MSP', roles: ['operator', 'brand', 'processor', 'logistics', 'retailer', 'inspector', 'issuer'] });
  await farm.catalog.defineLocation({ id: WAREHOUSE_GLN, name: '勐海仓库', type: 'warehouse', geo: { lat: 21.97, lon: 100.46 }, region: 'CN-53' });
  await farm.trace.recordStage({ taskId: TASK, stage: 'tea_warehousing', eventTime: at(120), data: { tea_stored_cakes: 600, storage_temp_c: 22, storage_humidity_pct: 65 } });
  await brand.trace.recordStage({ taskId: TASK, stage: 'shipping', eventTime: at(150), data: { shipped_units: 120, carrier: '顺丰', tracking_no: 'SF1234567890', dest_region: 'CN-53' } });
  await brand.trace.recordStage({ taskId: TASK, stage: 'receiving', eventTime: at(170), data: { received_units: 120, store_name: '昆明门店' } });
  await farm.trace.auditTask({ taskId: TASK, verdict: 'approved', comment: '全链路完整' });
}
