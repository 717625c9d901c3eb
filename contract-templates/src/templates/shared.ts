import type { DefineFormDto, DefineItemDto, DefineStageDto, EpcisMapping } from '@trace/chaincode';
import type { Input } from '@trace/client';

/** Handover stages every product line shares: the carrier ships, the retailer confirms receipt. */
export const sharedItems: Input<DefineItemDto>[] = [
  { id: 'shipped_units', name: '发货数量 shipped units', type: 'integer', required: true, min: 1, privacy: 'plain' },
  { id: 'carrier', name: '承运商 carrier', type: 'string', required: true, maxLength: 128, privacy: 'plain' },
  { id: 'tracking_no', name: '运单号 tracking number', type: 'string', required: true, pattern: '[A-Za-z0-9-]{6,40}', privacy: 'plain' },
  { id: 'dest_region', name: '目的地区 destination region', type: 'string', required: true, pattern: '[A-Z]{2}(-[A-Z0-9]{1,3})?', destinationRegion: true, privacy: 'plain' },
  { id: 'freight_cost', name: '运费 freight cost', type: 'string', privacy: 'cipher' },
  { id: 'received_units', name: '收货数量 received units', type: 'integer', required: true, min: 0, privacy: 'plain' },
  { id: 'store_name', name: '门店 store', type: 'string', required: true, maxLength: 128, privacy: 'plain' },
  { id: 'storage_temp_c', name: '仓储温度 storage temperature', type: 'number', unit: '°C', required: true, min: -40, max: 80, privacy: 'plain' },
  { id: 'storage_humidity_pct', name: '仓储湿度 storage humidity', type: 'number', unit: '%', required: true, min: 0, max: 100, privacy: 'plain' },
];

export const sharedForms: Input<DefineFormDto>[] = [
  { id: 'shipping_form', name: '发货单 shipping', items: ['shipped_units', 'carrier', 'tracking_no', 'dest_region', 'freight_cost'] },
  { id: 'receiving_form', name: '收货单 receiving', items: ['received_units', 'store_name'] },
  { id: 'storage_form', name: '仓储环境 storage conditions', items: ['storage_temp_c', 'storage_humidity_pct'] },
];

export const sharedStages: Input<DefineStageDto>[] = [
  { id: 'shipping', name: '物流发运 shipping', forms: ['shipping_form'], role: 'logistics', requiresAudit: false, bizStep: 'shipping' },
  { id: 'receiving', name: '门店收货 retail receiving', forms: ['receiving_form'], role: 'retailer', requiresAudit: false, bizStep: 'receiving' },
];

/** The handover stages as EPCIS events: units shipped (in transit), units received (on the shelf). */
export const sharedEpcis: EpcisMapping = {
  shipping: { disposition: 'in_transit', quantities: [{ item: 'shipped_units' }] },
  receiving: { disposition: 'sellable_accessible', quantities: [{ item: 'received_units' }] },
};
