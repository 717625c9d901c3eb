import { TemplatePackage } from '../template-package';
import { sharedEpcis, sharedForms, sharedItems, sharedStages } from './shared';

/**
 * 白酒 baijiu: grain intake → fermentation → distillation → aging/cellaring → inspection →
 * bottling → shipping → retail receiving. Sorghum yields 0.2–0.6 L of base liquor per kg; GB 2757
 * caps methanol in grain spirits at 0.6 g/L.
 */
export const liquor: TemplatePackage = {
  items: [
    ...sharedItems,
    { id: 'liq_sorghum_kg', name: '高粱 sorghum', type: 'number', unit: 'kg', required: true, min: 0, max: 1000000, privacy: 'plain' },
    { id: 'liq_wheat_kg', name: '小麦(曲) wheat for qu', type: 'number', unit: 'kg', min: 0, max: 1000000, privacy: 'plain' },
    { id: 'liq_grain_origin', name: '原粮产地 grain origin', type: 'string', required: true, maxLength: 128, privacy: 'plain' },
    { id: 'liq_grain_cert', name: '原粮检验 grain certificate', type: 'hash', privacy: 'hash' },
    { id: 'liq_pit_id', name: '窖池 pit', type: 'string', required: true, pattern: '[A-Za-z0-9-]{1,32}', privacy: 'plain' },
    { id: 'liq_ferment_days', name: '发酵天数 fermentation days', type: 'integer', required: true, min: 1, max: 365, privacy: 'plain' },
    { id: 'liq_ferment_temp_c', name: '发酵温度 fermentation temperature', type: 'number', unit: '°C', min: 0, max: 60, privacy: 'plain' },
    { id: 'liq_base_liquor_l', name: '基酒 base liquor', type: 'number', unit: 'L', required: true, min: 0, privacy: 'plain' },
    { id: 'liq_abv_pct', name: '酒精度 alcohol by volume', type: 'number', unit: '%vol', required: true, min: 0, max: 100, privacy: 'plain' },
    { id: 'liq_distill_round', name: '轮次 distillation round', type: 'integer', min: 1, max: 9, privacy: 'plain' },
    { id: 'liq_vessel', name: '储酒容器 vessel', type: 'enum', values: ['clay_jar', 'steel_tank', 'oak'], required: true, privacy: 'plain' },
    { id: 'liq_aged_l', name: '陈酿后酒量 aged liquor', type: 'number', unit: 'L', required: true, min: 0, privacy: 'plain' },
    { id: 'liq_methanol_g_l', name: '甲醇 methanol', type: 'number', unit: 'g/L', required: true, min: 0, max: 10, privacy: 'plain' },
    { id: 'liq_report', name: '检测报告 inspection report', type: 'hash', required: true, privacy: 'hash' },
    { id: 'liq_bottles', name: '瓶数 bottles', type: 'integer', required: true, min: 1, privacy: 'plain' },
    { id: 'liq_bottle_ml', name: '规格 bottle size', type: 'integer', unit: 'mL', required: true, min: 50, max: 5000, privacy: 'plain' },
    { id: 'liq_bottled_l', name: '灌装酒量 liquor bottled', type: 'number', unit: 'L', required: true, min: 0, privacy: 'plain' },
  ],
  forms: [
    ...sharedForms,
    { id: 'liq_intake_form', name: '原粮入库 grain intake', items: ['liq_sorghum_kg', 'liq_wheat_kg', 'liq_grain_origin', 'liq_grain_cert'] },
    { id: 'liq_ferment_form', name: '发酵记录 fermentation', items: ['liq_pit_id', 'liq_ferment_days', 'liq_ferment_temp_c'] },
    { id: 'liq_distill_form', name: '蒸馏记录 distillation', items: ['liq_base_liquor_l', 'liq_abv_pct', 'liq_distill_round'] },
    { id: 'liq_aging_form', name: '陈酿记录 aging', items: ['liq_vessel', 'liq_aged_l'] },
    { id: 'liq_inspection_form', name: '质检报告 inspection', items: ['liq_abv_pct', 'liq_methanol_g_l', 'liq_report'] },
    { id: 'liq_bottling_form', name: '灌装记录 bottling', items: ['liq_bottles', 'liq_bottle_ml', 'liq_bottled_l'] },
  ],
  stages: [
    ...sharedStages,
    { id: 'liq_grain_intake', name: '原粮入库 grain intake', forms: ['liq_intake_form'], role: 'producer', requiresAudit: false, bizStep: 'receiving' },
    { id: 'liq_fermentation', name: '窖池发酵 fermentation', forms: ['liq_ferment_form'], role: 'processor', requiresAudit: false, bizStep: 'transforming' },
    { id: 'liq_distillation', name: '蒸馏 distillation', forms: ['liq_distill_form'], role: 'processor', requiresAudit: false, bizStep: 'transforming' },
    { id: 'liq_aging', name: '陈酿 aging', forms: ['liq_aging_form', 'storage_form'], role: 'warehouse', requiresAudit: false, bizStep: 'storing' },
    { id: 'liq_inspection', name: '质检 inspection', forms: ['liq_inspection_form'], role: 'inspector', requiresAudit: true, bizStep: 'inspecting' },
    { id: 'liq_bottling', name: '灌装 bottling', forms: ['liq_bottling_form'], role: 'processor', requiresAudit: false, bizStep: 'packing' },
  ],
  template: {
    id: 'baijiu',
    version: 1,
    name: '白酒 baijiu',
    category: 'liquor',
    stages: [
      { stage: 'liq_grain_intake', after: [] },
      { stage: 'liq_fermentation', after: ['liq_grain_intake'] },
      { stage: 'liq_distillation', after: ['liq_fermentation'] },
      { stage: 'liq_aging', after: ['liq_distillation'] },
      { stage: 'liq_inspection', after: ['liq_aging'] },
      { stage: 'liq_bottling', after: ['liq_inspection'] },
      { stage: 'shipping', after: ['liq_bottling'] },
      { stage: 'receiving', after: ['shipping'] },
    ],
    rules: [
      { id: 'distill_yield', kind: 'ratio', left: 'liq_distillation.liq_base_liquor_l', right: 'liq_grain_intake.liq_sorghum_kg', min: 0.2, max: 0.6, severity: 'reject', message: 'sorghum yields 0.2–0.6 L of base liquor per kg' },
      { id: 'ferment_time', kind: 'timeOrder', left: 'liq_fermentation.eventTime', right: 'liq_distillation.eventTime', minHours: 168, severity: 'flag', message: 'distillation less than 7 days after the pit was sealed' },
      { id: 'aging_loss', kind: 'lte', left: 'liq_aging.liq_aged_l', right: 'liq_distillation.liq_base_liquor_l', severity: 'reject', message: 'aging cannot add liquor' },
      { id: 'cellar_temp', kind: 'withinRange', left: 'liq_aging.storage_temp_c', min: 10, max: 25, severity: 'flag', message: 'cellar at 10–25 °C' },
      { id: 'cellar_humidity', kind: 'withinRange', left: 'liq_aging.storage_humidity_pct', min: 60, max: 85, severity: 'flag', message: 'cellar at 60–85 % humidity' },
      { id: 'abv_consistent', kind: 'eq', left: 'liq_inspection.liq_abv_pct', right: 'liq_distillation.liq_abv_pct', tolerance: 15, severity: 'flag', message: 'inspected strength far from the distilled strength' },
      { id: 'methanol_limit', kind: 'withinRange', left: 'liq_inspection.liq_methanol_g_l', max: 0.6, severity: 'reject', message: 'GB 2757 methanol limit' },
      { id: 'bottling_balance', kind: 'lte', left: 'liq_bottling.liq_bottled_l', right: 'liq_aging.liq_aged_l', severity: 'reject', message: 'cannot bottle more than was aged' },
      { id: 'ship_stock', kind: 'lte', left: 'shipping.shipped_units', right: 'liq_bottling.liq_bottles', severity: 'reject', message: 'cannot ship more bottles than were filled' },
      { id: 'handover', kind: 'eq', left: 'receiving.received_units', right: 'shipping.shipped_units', severity: 'reject', message: 'the retailer confirms the shipped quantity' },
    ],
    /** asset classes backed by a lot certify together at most this recorded quantity */
    assetQuantity: 'liq_bottling.liq_bottles',
    scanAlertThreshold: 5,
    publicView: {
      liq_grain_intake: ['liq_grain_origin'],
      liq_fermentation: ['liq_ferment_days'],
      liq_aging: ['liq_vessel'],
      liq_inspection: ['liq_abv_pct', 'liq_methanol_g_l'],
      liq_bottling: ['liq_bottle_ml'],
      receiving: ['store_name'],
    },
    authorizedRegions: ['CN-52', 'CN-51', 'CN-31'],
    /** GS1 EPCIS 2.0: distillation turns sorghum into base liquor, bottling aged liquor into bottles */
    epcis: {
      ...sharedEpcis,
      liq_grain_intake: { disposition: 'in_progress', quantities: [{ item: 'liq_sorghum_kg', uom: 'KGM' }, { item: 'liq_wheat_kg', uom: 'KGM' }] },
      liq_distillation: { bizStep: 'commissioning', disposition: 'in_progress', inputs: [{ item: 'liq_grain_intake.liq_sorghum_kg', uom: 'KGM' }], quantities: [{ item: 'liq_base_liquor_l', uom: 'LTR' }] },
      liq_aging: { disposition: 'in_progress', quantities: [{ item: 'liq_aged_l', uom: 'LTR' }] },
      liq_bottling: { disposition: 'in_progress', inputs: [{ item: 'liq_aging.liq_aged_l', uom: 'LTR' }], quantities: [{ item: 'liq_bottles' }, { item: 'liq_bottled_l', uom: 'LTR' }] },
    },
  },
};
