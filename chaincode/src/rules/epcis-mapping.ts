import { DataItem } from './items';

/**
 * How a template's stage records read as GS1 EPCIS 2.0 events, declared as data in the template so a
 * new template needs no code: the indexer's EPCIS export maps every stage record by it. Pure checks.
 */
export interface EpcisQuantity {
  /** an item of this stage (quantities) or `stage.item` of an earlier stage (inputs) */
  item: string;
  /** UN/ECE Recommendation 20 unit code (KGM, LTR, GRM, MLT); none for a count of units of the lot */
  uom?: string;
}

export interface EpcisStageMapping {
  /** CBV 2.0 business step, when the stage's own bizStep is not a CBV term (e.g. transforming) */
  bizStep?: string;
  /** CBV 2.0 disposition of the lot once the stage is recorded */
  disposition?: string;
  /** numeric items of this stage that are quantities of the lot (the outputs when the stage has inputs) */
  quantities?: EpcisQuantity[];
  /** numeric items of earlier stages this stage consumed: it exports as a TransformationEvent */
  inputs?: EpcisQuantity[];
}

/** stage id → its mapping; stages not listed export as plain observations of the lot */
export type EpcisMapping = Record<string, EpcisStageMapping>;

/** CBV 2.0 business steps (bare JSON-LD terms). */
export const CBV_BIZ_STEPS = [
  'accepting', 'arriving', 'assembling', 'collecting', 'commissioning', 'consigning', 'creating_class_instance', 'cycle_counting', 'decommissioning',
  'departing', 'destroying', 'disassembling', 'dispensing', 'encoding', 'entering_exiting', 'holding', 'inspecting', 'installing', 'killing', 'loading',
  'other', 'packing', 'picking', 'receiving', 'removing', 'repackaging', 'repairing', 'replacing', 'reserving', 'retail_selling', 'shipping',
  'staging_outbound', 'stock_taking', 'stocking', 'storing', 'transporting', 'unloading', 'unpacking', 'void_shipping', 'sensor_reporting', 'sampling',
];

/** CBV 2.0 dispositions (bare JSON-LD terms). */
export const CBV_DISPOSITIONS = [
  'active', 'container_closed', 'damaged', 'destroyed', 'dispensed', 'disposed', 'encoded', 'expired', 'in_progress', 'in_transit', 'inactive',
  'no_pedigree_match', 'non_sellable_other', 'partially_dispensed', 'recalled', 'reserved', 'retail_sold', 'returned', 'sellable_accessible',
  'sellable_not_accessible', 'stolen', 'unknown', 'available', 'completeness_verified', 'completeness_inferred', 'conformant', 'container_open',
  'mismatch_instance', 'mismatch_class', 'mismatch_quantity', 'needs_replacement', 'non_conformant', 'unavailable',
];

const UOM = /^[A-Z0-9]{2,3}$/;
const MAPPING_KEYS = ['bizStep', 'disposition', 'quantities', 'inputs'];
const MAX_QUANTITIES = 16;

export interface MappedStage {
  stage: string;
  /** its direct predecessors */
  after: string[];
  items: DataItem[];
}

/** The stages recorded before this one: its predecessors, theirs, and so on (the graph is acyclic). */
function earlierStages(stages: MappedStage[], stage: string): Set<string> {
  const seen = new Set<string>();
  const walk = (s: string) => {
    for (const p of stages.find((x) => x.stage === s)?.after ?? []) {
      if (seen.has(p)) continue;
      seen.add(p);
      walk(p);
    }
  };
  walk(stage);
  return seen;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Problems with a template's EPCIS mapping against its stages (empty when it is sound). */
export function checkEpcisMapping(mapping: unknown, stages: MappedStage[]): string[] {
  if (!isObject(mapping)) return ['epcis must be an object of stage mappings'];
  const problems: string[] = [];
  for (const [stageId, m] of Object.entries(mapping)) {
    const at = `epcis.${stageId}`;
    const stage = stages.find((s) => s.stage === stageId);
    if (!stage) {
      problems.push(`${at}: unknown stage '${stageId}'`);
      continue;
    }
    if (!isObject(m)) {
      problems.push(`${at} must be an object`);
      continue;
    }
    for (const k of Object.keys(m)) if (!MAPPING_KEYS.includes(k)) problems.push(`${at}: unknown field '${k}'`);
    if (m.bizStep !== undefined && !CBV_BIZ_STEPS.includes(m.bizStep as string)) problems.push(`${at}.bizStep must be a CBV 2.0 business step`);
    if (m.disposition !== undefined && !CBV_DISPOSITIONS.includes(m.disposition as string)) problems.push(`${at}.disposition must be a CBV 2.0 disposition`);
    problems.push(...checkQuantities(`${at}.quantities`, m.quantities, (item) => (item.includes('.') ? undefined : stage.items.find((i) => i.id === item))));
    const earlier = earlierStages(stages, stageId);
    problems.push(
      ...checkQuantities(`${at}.inputs`, m.inputs, (ref) => {
        const dot = ref.indexOf('.');
        const from = stages.find((s) => s.stage === ref.slice(0, dot));
        return dot > 0 && from && earlier.has(from.stage) ? from.items.find((i) => i.id === ref.slice(dot + 1)) : undefined;
      }),
    );
  }
  return problems;
}

function checkQuantities(at: string, list: unknown, resolve: (item: string) => DataItem | undefined): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_QUANTITIES) return [`${at} must be a list of 1 to ${MAX_QUANTITIES} quantities`];
  const problems: string[] = [];
  list.forEach((q: unknown, i) => {
    if (!isObject(q) || typeof q.item !== 'string' || Object.keys(q).some((k) => k !== 'item' && k !== 'uom')) {
      problems.push(`${at}[${i}] must be {item, uom?}`);
      return;
    }
    if (q.uom !== undefined && (typeof q.uom !== 'string' || !UOM.test(q.uom))) problems.push(`${at}[${i}].uom must be a UN/ECE Rec 20 code such as KGM`);
    const def = resolve(q.item);
    if (!def) problems.push(`${at}[${i}]: '${q.item}' is not an item of ${at.endsWith('inputs') ? 'an earlier stage (stage.item)' : 'this stage'}`);
    else if ((def.type !== 'number' && def.type !== 'integer') || def.privacy !== 'plain') problems.push(`${at}[${i}]: ${q.item} is not a plain numeric item`);
  });
  return problems;
}
