import type { EpcisQuantity, Template, TemplateStage } from '@trace/chaincode';
import { codeHash, isValidCode } from '@trace/client';
import { CODE_LEVELS } from '../code-jobs';
import type { Role } from '../roles';
import { canonicalEpc } from '@trace/indexer/dist/src/epcis/event-hash';
import { bizStepTerm, codeHashOf, glnOf, TC_NAMESPACE } from '@trace/indexer/dist/src/epcis/vocabulary';

/**
 * The inverse of the indexer's EPCIS export: each event of a captured document becomes one chain transaction, by the
 * task's template and its EPCIS mapping (chaincode/src/rules/epcis-mapping.ts). Stage records: the lot class
 * (quantityList / outputQuantityList) names the task, the bizStep the stage (`tc:stage` picks one when several stages
 * share a step), the mapped quantities and `tc:data` the items, readPoint/bizLocation the GLN. Audits: an inspecting
 * ObjectEvent with `tc:verdict` (of `tc:stage`, else of the task). Codes: a commissioning ObjectEvent of code EPCs issues
 * them (with `tc:level`), an observation with `tc:channel` scans them, an AggregationEvent packs or unpacks them. What a
 * device signed cannot be captured. Anything the mapping cannot place is refused here, before anything is submitted:
 * the chain must not get part of an event.
 */

export type CaptureTransaction = 'trace:recordStage' | 'trace:amendStage' | 'trace:auditStage' | 'trace:auditTask' | 'codes:issueCodes' | 'codes:aggregate' | 'codes:disaggregate' | 'codes:recordScans';

/** The console role a user needs to capture each kind of write: the role of the page where a person makes it. */
export const CAPTURE_ROLES: Record<CaptureTransaction, Role> = {
  'trace:recordStage': 'data_entry',
  'trace:amendStage': 'data_entry',
  'trace:auditStage': 'qa',
  'trace:auditTask': 'qa',
  'codes:issueCodes': 'code_manager',
  'codes:aggregate': 'code_manager',
  'codes:disaggregate': 'code_manager',
  'codes:recordScans': 'code_manager',
};

export interface PlannedWrite {
  transaction: CaptureTransaction;
  /** task/stage, or the parent code */
  subject: string;
  dto: Record<string, unknown>;
}

/** An event the mapping cannot turn into a transaction, with a stable code. */
export class Unmapped extends Error {
  constructor(
    readonly code: 'ERR_EPCIS_UNMAPPED' | 'ERR_EPCIS_BIZSTEP' | 'ERR_EPCIS_AMBIGUOUS' | 'ERR_EPCIS_TASK' | 'ERR_EPCIS_INPUT' | 'ERR_EPCIS_VERSION',
    message: string,
  ) {
    super(message);
  }
}

/** A task as the mapping needs it: its template version, the current data and version of each recorded stage. */
export interface CaptureTask {
  taskId: string;
  template: Template;
  current: Map<string, { data: Record<string, unknown>; version: number }>;
}

export interface CaptureLookup {
  /** the task of a lot (gtin-14, lot); Unmapped ERR_EPCIS_TASK when there is none */
  taskIdOfLot(gtin: string, lot: string): Promise<string>;
  task(taskId: string): Promise<CaptureTask>;
}

type Event = Record<string, unknown>;
interface Quantity {
  epcClass?: unknown;
  quantity?: unknown;
  uom?: unknown;
}

/**
 * Written by the chain or the exporting repository, so read-only on capture: ignored. An errorDeclaration is made by
 * a later event (the amendment, or the rejecting audit), which the document carries itself.
 */
const ASSIGNED = ['eventID', 'recordTime', 'tc:txId', 'tc:block', 'tc:recordedBy', 'tc:auditor', 'errorDeclaration'];
const COMMON = ['type', 'eventTime', 'eventTimeZoneOffset', 'action', 'bizStep', 'tc:taskId', ...ASSIGNED];
const STAGE_FIELDS = [...COMMON, 'disposition', 'readPoint', 'bizLocation', 'quantityList', 'inputQuantityList', 'outputQuantityList', 'epcList', 'tc:stage', 'tc:version', 'tc:data', 'tc:reason'];
const AUDIT_FIELDS = [...COMMON, 'disposition', 'quantityList', 'tc:stage', 'tc:version', 'tc:verdict', 'tc:comment'];
const SCAN_FIELDS = [...COMMON, 'epcList', 'tc:channel', 'tc:region'];
const COMMISSIONING_FIELDS = [...COMMON, 'disposition', 'epcList', 'tc:level'];
const AGGREGATION_FIELDS = [...COMMON, 'parentID', 'childEPCs'];

const fail = (code: Unmapped['code'], message: string): never => {
  throw new Unmapped(code, message);
};

/** A CBV term from its bare, URI or URN form (`shipping`, `https://ref.gs1.org/cbv/BizStep-shipping`, `urn:epcglobal:cbv:bizstep:shipping`). */
function cbvTerm(value: unknown, kind: 'BizStep' | 'Disp'): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = new RegExp(`^https://ref\\.gs1\\.org/cbv/${kind}-(\\w+)$`).exec(value) ?? new RegExp(`^urn:epcglobal:cbv:${kind === 'BizStep' ? 'bizstep' : 'disp'}:(\\w+)$`).exec(value);
  return m ? m[1] : value;
}

/** gtin-14 and lot of an LGTIN (Digital Link with /10/ or urn:epc:class:lgtin) */
function lotOf(epcClass: unknown): { gtin: string; lot: string } | undefined {
  if (typeof epcClass !== 'string') return undefined;
  const m = /^https:\/\/id\.gs1\.org\/01\/(\d{14})\/10\/([^/?#]+)$/.exec(canonicalEpc(epcClass));
  return m ? { gtin: m[1], lot: decodeURIComponent(m[2]) } : undefined;
}

/** A code EPC as the chain names it (its SHA-256), with its lot when a Digital Link gives one. */
function codeOf(epc: unknown): { hash: string; lot?: { gtin: string; lot: string } } {
  const uri = typeof epc === 'string' ? canonicalEpc(epc) : '';
  const hash = codeHashOf(uri);
  if (hash) return { hash };
  // the Digital Link a label carries: the serial is the printed code, which the chain knows only by its hash
  const dl = /^https:\/\/id\.gs1\.org\/01\/(\d{14})(?:\/10\/([^/?#]+))?\/21\/([^/?#]+)$/.exec(uri);
  if (dl) {
    const serial = decodeURIComponent(dl[3]);
    // a mistyped code would issue the hash of a code no label carries
    if (!isValidCode(serial)) fail('ERR_EPCIS_UNMAPPED', `the serial of '${String(epc)}' is not a code of this platform (its check character does not match)`);
    return { hash: codeHash(serial), lot: dl[2] ? { gtin: dl[1], lot: decodeURIComponent(dl[2]) } : undefined };
  }
  return fail('ERR_EPCIS_UNMAPPED', `'${String(epc)}' is not a code: a code is ${TC_NAMESPACE}code/<sha-256> or a GS1 Digital Link with a serial (/21/)`);
}

const list = (v: unknown): Quantity[] => (Array.isArray(v) ? (v as Quantity[]) : []);

/**
 * Maps one document's events in order. Stateful: a stage recorded earlier in the document is the one later events'
 * inputs are checked against, as on chain once the earlier event is recorded.
 */
export class CaptureMapper {
  private readonly tasks = new Map<string, Promise<CaptureTask>>();
  private readonly lots = new Map<string, Promise<string>>();
  /** the document's prefixes bound to this project's namespace (`tc` in the indexer's export) */
  private readonly ours: Set<string>;

  constructor(
    private readonly lookup: CaptureLookup,
    context: unknown,
    private readonly actor: string,
  ) {
    const bound = (Array.isArray(context) ? context : [context]).flatMap((c) => (typeof c === 'object' && c !== null ? Object.entries(c as Record<string, unknown>) : []));
    this.ours = new Set(bound.filter(([, ns]) => ns === TC_NAMESPACE).map(([p]) => p));
  }

  async map(raw: Event): Promise<PlannedWrite> {
    const e = this.normalized(raw);
    const epcs = list(e.epcList);
    if (e.type === 'AggregationEvent') return this.aggregation(e);
    // what a device signed (its readings, its RFID sightings) only the device's key can put on chain
    if (e.sensorElementList !== undefined || e['tc:device'] !== undefined) fail('ERR_EPCIS_UNMAPPED', "a device's readings and sightings are signed by the device: it submits them through the device API, a capture cannot sign for it");
    if (e.type === 'ObjectEvent' && e['tc:verdict'] !== undefined) return this.audit(e);
    if (e.type === 'ObjectEvent' && epcs.length > 0) {
      if (list(e.quantityList).length > 0) fail('ERR_EPCIS_AMBIGUOUS', 'an ObjectEvent naming both codes (epcList) and a lot (quantityList) is neither a stage record nor a commissioning of codes alone');
      return e.action === 'OBSERVE' ? this.scan(e) : this.commissioning(e);
    }
    if (e.type === 'ObjectEvent' || e.type === 'TransformationEvent') return this.stageRecord(e);
    return fail('ERR_EPCIS_UNMAPPED', `${String(e.type)}s have no transaction on this chain (ObjectEvent, TransformationEvent and AggregationEvent do)`);
  }

  /** extension keys under this project's prefix read as `tc:…`; any other extension is unmapped */
  private normalized(e: Event): Event {
    const out: Event = {};
    for (const [k, v] of Object.entries(e)) out[this.ourKey(k) ?? k] = v;
    return out;
  }

  private ourKey(key: string): string | undefined {
    if (key.startsWith(TC_NAMESPACE)) return `tc:${key.slice(TC_NAMESPACE.length)}`;
    const colon = key.indexOf(':');
    return colon > 0 && this.ours.has(key.slice(0, colon)) ? `tc:${key.slice(colon + 1)}` : undefined;
  }

  private only(e: Event, allowed: string[], what: string): void {
    const extra = Object.keys(e).filter((k) => !allowed.includes(k));
    if (extra.length) fail('ERR_EPCIS_UNMAPPED', `${what} has fields no transaction takes: ${extra.join(', ')}`);
  }

  private task(taskId: string): Promise<CaptureTask> {
    let t = this.tasks.get(taskId);
    if (!t) {
      t = this.lookup.task(taskId);
      this.tasks.set(taskId, t);
    }
    return t;
  }

  /** The task an event is about: by its lot, or by `tc:taskId`; both must agree when both are given. */
  private async taskOf(e: Event, lots: ({ gtin: string; lot: string } | undefined)[]): Promise<CaptureTask> {
    const named = e['tc:taskId'];
    if (named !== undefined && typeof named !== 'string') fail('ERR_EPCIS_UNMAPPED', 'tc:taskId must be a string');
    const distinct = [...new Set(lots.filter((l) => l).map((l) => JSON.stringify(l)))].map((s) => JSON.parse(s) as { gtin: string; lot: string });
    if (distinct.length > 1) fail('ERR_EPCIS_UNMAPPED', `the event names ${distinct.length} lots; a transaction is about one`);
    let taskId = named as string | undefined;
    if (distinct.length === 1) {
      const { gtin, lot } = distinct[0];
      let byLot = this.lots.get(`${gtin}/${lot}`);
      if (!byLot) {
        byLot = this.lookup.taskIdOfLot(gtin, lot);
        this.lots.set(`${gtin}/${lot}`, byLot);
      }
      const found = await byLot;
      if (taskId !== undefined && taskId !== found) fail('ERR_EPCIS_TASK', `tc:taskId ${taskId} is not the task of lot ${lot} (${found})`);
      taskId = found;
    }
    if (taskId === undefined) return fail('ERR_EPCIS_TASK', 'the event names no lot (an LGTIN epcClass or a code Digital Link with /10/) and no tc:taskId');
    return this.task(taskId);
  }

  private async stageRecord(e: Event): Promise<PlannedWrite> {
    this.only(e, STAGE_FIELDS, `a ${String(e.type)} of a lot`);
    if (e.action === 'DELETE') fail('ERR_EPCIS_UNMAPPED', 'action DELETE: a stage record cannot be withdrawn (amend it with tc:reason)');
    const transformation = e.type === 'TransformationEvent';
    const outputs = list(transformation ? e.outputQuantityList : e.quantityList);
    const inputs = list(e.inputQuantityList);
    const classes = [...outputs, ...inputs].map((q) => q.epcClass);
    const lots = classes.map(lotOf);
    const notLot = classes.find((c, i) => !lots[i]);
    if (notLot !== undefined) fail('ERR_EPCIS_UNMAPPED', `epcClass '${String(notLot)}' is not a lot (a GS1 Digital Link /01/{gtin}/10/{lot} or urn:epc:class:lgtin)`);
    const task = await this.taskOf(e, lots);
    const stage = this.stageOf(task.template, e);
    const m = task.template.epcis?.[stage.stage] ?? {};
    const disposition = cbvTerm(e.disposition, 'Disp');
    if (disposition !== undefined && disposition !== m.disposition) fail('ERR_EPCIS_UNMAPPED', `disposition '${disposition}' is not stage ${stage.stage}'s (${m.disposition ?? 'none'})`);
    if (transformation && !m.inputs) fail('ERR_EPCIS_UNMAPPED', `stage ${stage.stage} consumes no earlier quantity in its template's EPCIS mapping: send an ObjectEvent`);

    const data: Record<string, unknown> = {};
    const counted = (qs: Quantity[]) => qs.filter((q) => q.quantity !== undefined);
    const place = (qs: Quantity[], defs: EpcisQuantity[] | undefined, what: string, put: (def: EpcisQuantity, value: unknown, i: number) => void) => {
      const given = counted(qs);
      if (given.length !== (defs?.length ?? 0)) {
        fail('ERR_EPCIS_UNMAPPED', `${what}: stage ${stage.stage} takes ${defs?.length ?? 0} quantities (${(defs ?? []).map((d) => `${d.item} ${d.uom ?? 'units'}`).join(', ') || 'the lot alone'}), in this order; the event has ${given.length}`);
      }
      given.forEach((q, i) => {
        const def = (defs as EpcisQuantity[])[i];
        if ((q.uom ?? undefined) !== def.uom) fail('ERR_EPCIS_UNMAPPED', `${what}[${i}] is ${def.item}, counted in ${def.uom ?? 'units (no uom)'}, not ${String(q.uom ?? 'units')}`);
        put(def, q.quantity, i);
      });
    };
    place(outputs, m.quantities, transformation ? 'outputQuantityList' : 'quantityList', (def, v) => (data[def.item] = v));
    if (transformation) {
      place(inputs, m.inputs, 'inputQuantityList', (def, v, i) => {
        const [from, item] = def.item.split('.');
        const recorded = task.current.get(from)?.data[item];
        // what went in is the earlier record's, not this stage's: it must say the same, or the event contradicts the chain
        if (recorded !== undefined && recorded !== v) fail('ERR_EPCIS_INPUT', `inputQuantityList[${i}] is ${String(v)} but ${def.item} is recorded as ${String(recorded)}`);
      });
    }
    const extra = e['tc:data'];
    if (extra !== undefined) {
      if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) fail('ERR_EPCIS_UNMAPPED', 'tc:data must be an object of stage items');
      for (const [k, v] of Object.entries(extra as Record<string, unknown>)) {
        const item = this.ourKey(k)?.slice(3);
        if (!item || !stage.items.some((i) => i.id === item)) fail('ERR_EPCIS_UNMAPPED', `tc:data '${k}' is not an item of stage ${stage.stage} (${stage.items.map((i) => i.id).join(', ')})`);
        if ((item as string) in data) fail('ERR_EPCIS_UNMAPPED', `${String(item)} is given both as a quantity and in tc:data`);
        data[item as string] = v;
      }
    }
    const reason = e['tc:reason'];
    if (reason !== undefined && typeof reason !== 'string') fail('ERR_EPCIS_UNMAPPED', 'tc:reason must be a string');
    const location = this.location(e);
    const version = (task.current.get(stage.stage)?.version ?? 0) + 1;
    this.expectVersion(e, task, stage.stage, version);
    task.current.set(stage.stage, { data, version });
    return {
      transaction: reason === undefined ? 'trace:recordStage' : 'trace:amendStage',
      subject: `${task.taskId}/${stage.stage}`,
      dto: { taskId: task.taskId, stage: stage.stage, eventTime: e.eventTime, ...(location ? { location } : {}), data, ...(reason !== undefined ? { reason } : {}), actor: this.actor },
    };
  }

  /** `tc:version`, where the event gives it, must be the version the event reads (an audit) or makes (a record). */
  private expectVersion(e: Event, task: CaptureTask, stage: string, version: number): void {
    const given = e['tc:version'];
    if (given !== undefined && given !== version) fail('ERR_EPCIS_VERSION', `tc:version ${String(given)} of stage ${stage} of task ${task.taskId}: here this event ${e['tc:verdict'] === undefined ? 'makes' : 'reads'} version ${version}`);
  }

  /** An inspection (bizStep inspecting) with `tc:verdict`: the capturing org's audit of a stage (`tc:stage`) or of the whole task. */
  private async audit(e: Event): Promise<PlannedWrite> {
    this.only(e, AUDIT_FIELDS, 'an inspection');
    if (cbvTerm(e.bizStep, 'BizStep') !== 'inspecting') fail('ERR_EPCIS_UNMAPPED', 'an event with tc:verdict is an audit: its bizStep is inspecting');
    const verdict = e['tc:verdict'];
    if (verdict !== 'approved' && verdict !== 'rejected') fail('ERR_EPCIS_UNMAPPED', `tc:verdict is approved or rejected, not '${String(verdict)}'`);
    const disposition = cbvTerm(e.disposition, 'Disp');
    const expected = verdict === 'approved' ? 'conformant' : 'non_conformant';
    if (disposition !== undefined && disposition !== expected) fail('ERR_EPCIS_UNMAPPED', `a ${String(verdict)} audit's disposition is ${expected}, not '${disposition}'`);
    const comment = e['tc:comment'] ?? '';
    if (typeof comment !== 'string') fail('ERR_EPCIS_UNMAPPED', 'tc:comment must be a string');
    const lots = list(e.quantityList).map((q) => lotOf(q.epcClass));
    const task = await this.taskOf(e, lots);
    const common = { taskId: task.taskId, verdict, comment, actor: this.actor };
    const stage = e['tc:stage'];
    if (stage === undefined) return { transaction: 'trace:auditTask', subject: task.taskId, dto: common };
    if (typeof stage !== 'string' || !task.template.stages.some((s) => s.stage === stage)) return fail('ERR_EPCIS_UNMAPPED', `tc:stage '${String(stage)}' is not a stage of template ${task.template.id} v${task.template.version}`);
    this.expectVersion(e, task, stage, task.current.get(stage)?.version ?? 0);
    return { transaction: 'trace:auditStage', subject: `${task.taskId}/${stage}`, dto: { ...common, stage } };
  }

  /** An observation (OBSERVE) of codes with the scanning channel: the capturing org's scans, one per code. */
  private scan(e: Event): PlannedWrite {
    this.only(e, SCAN_FIELDS, 'an observation of codes');
    const channel = e['tc:channel'];
    if (typeof channel !== 'string') fail('ERR_EPCIS_UNMAPPED', "an observation of codes is a scan: tc:channel names who scanned (consumer, retailer, logistics, regulator)");
    const region = e['tc:region'];
    if (region !== undefined && typeof region !== 'string') fail('ERR_EPCIS_UNMAPPED', 'tc:region must be a string (e.g. CN-53)');
    const scans = list(e.epcList).map((epc) => ({ codeHash: codeOf(epc).hash, channel, ...(region !== undefined ? { region } : {}), at: e.eventTime }));
    return { transaction: 'codes:recordScans', subject: scans.length === 1 ? scans[0].codeHash : `${scans.length} codes`, dto: { scans } };
  }

  /** bizStep → the template's stage (its EPCIS mapping's step, else its own); tc:stage picks one of several. */
  private stageOf(template: Template, e: Event): TemplateStage {
    const step = cbvTerm(e.bizStep, 'BizStep');
    if (step === undefined) return fail('ERR_EPCIS_BIZSTEP', 'a stage record needs a bizStep');
    const stepOf = (s: TemplateStage) => template.epcis?.[s.stage]?.bizStep ?? bizStepTerm(s.bizStep);
    const candidates = template.stages.filter((s) => stepOf(s) === step);
    const where = `template ${template.id} v${template.version}`;
    if (candidates.length === 0) return fail('ERR_EPCIS_BIZSTEP', `bizStep '${step}' is no stage's step in ${where} (${[...new Set(template.stages.map(stepOf))].join(', ')})`);
    const named = e['tc:stage'];
    if (named !== undefined) return candidates.find((s) => s.stage === named) ?? fail('ERR_EPCIS_BIZSTEP', `tc:stage '${String(named)}' is not a stage of ${where} with bizStep '${step}' (${candidates.map((s) => s.stage).join(', ')})`);
    if (candidates.length > 1) return fail('ERR_EPCIS_AMBIGUOUS', `bizStep '${step}' is the step of ${candidates.map((s) => s.stage).join(', ')} in ${where}: name the stage in tc:stage`);
    return candidates[0];
  }

  private location(e: Event): string | undefined {
    const ids = [e.readPoint, e.bizLocation].filter((l) => l !== undefined).map((l) => (l as { id?: unknown }).id);
    const glns = ids.map((id) => (typeof id === 'string' ? glnOf(canonicalEpc(id)) : undefined));
    if (glns.some((g) => g === undefined)) fail('ERR_EPCIS_UNMAPPED', `readPoint/bizLocation must be a location's GLN (https://id.gs1.org/414/{gln} or urn:epc:id:sgln with extension 0): ${ids.map(String).join(', ')}`);
    if (new Set(glns).size > 1) fail('ERR_EPCIS_UNMAPPED', `readPoint and bizLocation differ (${glns.join(', ')}); a stage record has one location`);
    return glns[0];
  }

  private async commissioning(e: Event): Promise<PlannedWrite> {
    this.only(e, COMMISSIONING_FIELDS, 'an ObjectEvent of codes');
    if (e.action !== 'ADD' || cbvTerm(e.bizStep, 'BizStep') !== 'commissioning') fail('ERR_EPCIS_UNMAPPED', 'an ObjectEvent of codes maps only as their commissioning (action ADD, bizStep commissioning); scans go to the indexer\'s verify API');
    const disposition = cbvTerm(e.disposition, 'Disp');
    if (disposition !== undefined && disposition !== 'active') fail('ERR_EPCIS_UNMAPPED', `issued codes are active, not '${disposition}'`);
    const codes = list(e.epcList).map(codeOf);
    const level = e['tc:level'];
    if (typeof level !== 'string' || !(CODE_LEVELS as readonly string[]).includes(level)) return fail('ERR_EPCIS_AMBIGUOUS', `commissioning codes needs their level in tc:level (${CODE_LEVELS.join(', ')}): the event does not say it`);
    const task = await this.taskOf(e, codes.map((c) => c.lot));
    return { transaction: 'codes:issueCodes', subject: `${task.taskId}/codes`, dto: { taskId: task.taskId, level, codeHashes: codes.map((c) => c.hash) } };
  }

  private aggregation(e: Event): PlannedWrite {
    this.only(e, AGGREGATION_FIELDS, 'an AggregationEvent');
    const packing = e.action === 'ADD';
    if (!packing && e.action !== 'DELETE') fail('ERR_EPCIS_UNMAPPED', `an AggregationEvent ${String(e.action)} has no transaction (ADD packs, DELETE unpacks)`);
    const step = cbvTerm(e.bizStep, 'BizStep');
    if (step !== undefined && step !== (packing ? 'packing' : 'unpacking')) fail('ERR_EPCIS_UNMAPPED', `an AggregationEvent ${String(e.action)} is ${packing ? 'packing' : 'unpacking'}, not '${step}'`);
    if (e.parentID === undefined) fail('ERR_EPCIS_UNMAPPED', 'an AggregationEvent needs its parentID (the case code)');
    const parent = codeOf(e.parentID).hash;
    const children = list(e.childEPCs).map((c) => codeOf(c).hash);
    if (packing && children.length === 0) fail('ERR_EPCIS_UNMAPPED', 'packing needs childEPCs');
    return packing
      ? { transaction: 'codes:aggregate', subject: parent, dto: { parent, children } }
      : { transaction: 'codes:disaggregate', subject: parent, dto: { parent, ...(children.length ? { children } : {}) } };
  }
}
