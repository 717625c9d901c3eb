import type { EpcisMapping, EpcisQuantity } from '@trace/chaincode';
import { codeHex } from '../code-key';
import type { Db } from '../db';
import { parseJson } from '../http';
import { eventHashId, EpcisEvent } from './event-hash';
import { bizStepTerm, codeEpc, deviceUri, glnUri, lotClass, sensorType, TC_NAMESPACE, TC_PREFIX, zoneOffset } from './vocabulary';

/**
 * A lot's history as EPCIS 2.0 events, from the index: stage records (ObjectEvent, or
 * TransformationEvent where the template's mapping names inputs), codes issued (commissioning) and
 * packed (AggregationEvent), scans and RFID sightings (observations), device readings
 * (sensorElementList) and audits (inspecting); amendments and rejecting audits declare the record
 * they correct wrong (errorDeclaration, the amendment as corrective event). Each event's id is its
 * CBV 2.0 hash; the transaction and block are extensions in the project's namespace (tc:).
 */

/** How the caller sees stage data: the indexer's scope filter (access.ts), and whether it sees the task in full. */
export type StageView = ((stage: string, data: Record<string, unknown>) => Record<string, unknown>) & { full: boolean };

const NS = { [TC_PREFIX]: TC_NAMESPACE };
const tc = (name: string) => `${TC_PREFIX}:${name}`;

interface TemplateJson {
  stages: { stage: string; after: string[]; bizStep: string }[];
  epcis?: EpcisMapping;
}
interface TaskJson {
  product: { gtin: string };
  lot: string;
}
/** where a row sits in the chain (absent for a transaction the index has not seen valid) */
interface ChainPos {
  tx_id: string;
  block: number | null;
  idx: number | null;
  timestamp_ms: number | null;
}

/** An event with the chain order it sorts by (time, then block and index). */
interface Built {
  event: EpcisEvent;
  block: number;
  idx: number;
}

const chainRef = (p: ChainPos) => ({ 'tc:txId': p.tx_id, ...(p.block !== null ? { 'tc:block': p.block } : {}) });
const recordTime = (p: ChainPos) => (p.timestamp_ms !== null ? { recordTime: new Date(p.timestamp_ms).toISOString() } : {});
const when = (time: string) => ({ eventTime: time, eventTimeZoneOffset: zoneOffset(time) });
const built = (event: EpcisEvent, p: ChainPos): Built => ({ event, block: p.block ?? Number.MAX_SAFE_INTEGER, idx: p.idx ?? 0 });
const CHAIN = `LEFT JOIN transactions t ON t.tx_id = x.tx_id AND t.validation_code = 'VALID'`;
/**
 * An event payload's fields (events x), by engine: their JSON functions differ. On PostgreSQL, json
 * rather than jsonb: only the field read is unescaped (jsonb refuses a whole payload with a \u0000
 * anywhere); and a parent is matched as hex text, as decode() throws on a malformed one where SQLite's
 * unhex gives NULL.
 */
const PAYLOAD = {
  sqlite: {
    taskId: "json_extract(x.payload, '$.taskId')",
    parentInTask: "unhex(json_extract(x.payload, '$.parent')) IN (SELECT hash FROM codes WHERE task_id = ?)",
    batchTaskId: "json_extract(x.payload, '$.batch.taskId')",
  },
  postgres: {
    taskId: "(x.payload::json ->> 'taskId')",
    parentInTask: "(x.payload::json ->> 'parent') IN (SELECT encode(hash, 'hex') FROM codes WHERE task_id = ?)",
    batchTaskId: "(x.payload::json -> 'batch' ->> 'taskId')",
  },
};

/** The quantities a mapping names, from the stage data the caller may see (items it may not see are left out). */
function quantityList(lot: string, list: EpcisQuantity[] | undefined, valueOf: (item: string) => unknown) {
  return (list ?? []).flatMap((q) => {
    const v = valueOf(q.item);
    return typeof v === 'number' ? [{ epcClass: lot, quantity: v, ...(q.uom ? { uom: q.uom } : {}) }] : [];
  });
}

/** Every event of a lot as the caller may see it, in event-time order, with hash ids and error declarations. */
export async function lotEvents(db: Db, taskId: string, view: StageView): Promise<EpcisEvent[]> {
  const task = await db.get<{ json: string; template: string; version: number }>('SELECT json, template, version FROM tasks WHERE task_id = ?', taskId);
  if (!task) return [];
  const t = parseJson<TaskJson>(task.json)!;
  const tpl = parseJson<TemplateJson>(await db.value<string>('SELECT json FROM templates WHERE id = ? AND version = ?', task.template, task.version));
  const payload = PAYLOAD[db.engine];
  const lot = lotClass(t.product.gtin, t.lot);
  const lotQuantity = [{ epcClass: lot }];
  const out: Built[] = [];

  // stage records, every version, in chain order: inputs read the version of their stage current at the time
  // (rows the index has not seen valid first, as SQLite sorts NULLs; PostgreSQL would put them last)
  const records = await db.all<ChainPos & { stage: string; version: number; event_time: string; location: string | null; data: string; recorded_by: string; reason: string | null }>(
    `SELECT x.*, t.block, t.idx, t.timestamp_ms FROM stage_records x ${CHAIN} WHERE x.task_id = ? ORDER BY t.block NULLS FIRST, t.idx, x.version`,
    taskId,
  );
  const current = new Map<string, Record<string, unknown>>();
  const corrections: { stage: string; version: number; time: string; corrective?: string }[] = [];
  for (const r of records) {
    const data = view(r.stage, JSON.parse(r.data) as Record<string, unknown>);
    current.set(r.stage, data);
    const def = tpl?.stages.find((s) => s.stage === r.stage);
    const m = tpl?.epcis?.[r.stage] ?? {};
    const fromRef = (ref: string) => current.get(ref.slice(0, ref.indexOf('.')))?.[ref.slice(ref.indexOf('.') + 1)];
    const outputs = quantityList(lot, m.quantities, (item) => data[item]);
    const inputs = quantityList(lot, m.inputs, fromRef);
    const mapped = new Set((m.quantities ?? []).map((q) => q.item));
    const items = Object.fromEntries(Object.entries(data).filter(([k]) => !mapped.has(k)).map(([k, v]) => [tc(k), v]));
    const where = r.location ? { readPoint: { id: glnUri(r.location) }, bizLocation: { id: glnUri(r.location) } } : {};
    const common = {
      ...when(r.event_time),
      ...recordTime(r),
      bizStep: m.bizStep ?? bizStepTerm(def?.bizStep ?? 'other'),
      ...(m.disposition ? { disposition: m.disposition } : {}),
      ...where,
      ...chainRef(r),
      'tc:taskId': taskId,
      'tc:stage': r.stage,
      'tc:version': r.version,
      'tc:recordedBy': r.recorded_by,
      ...(Object.keys(items).length ? { 'tc:data': items } : {}),
      ...(view.full && r.reason ? { 'tc:reason': r.reason } : {}),
    };
    // a transformation needs what went in and what came out; with either hidden from the caller it reads as an observation
    const event: EpcisEvent =
      inputs.length && outputs.length
        ? { type: 'TransformationEvent', inputQuantityList: inputs, outputQuantityList: outputs, ...common }
        : { type: 'ObjectEvent', quantityList: outputs.length ? outputs : lotQuantity, action: def && def.after.length === 0 ? 'ADD' : 'OBSERVE', ...common };
    if (r.version > 1 && r.timestamp_ms !== null) corrections.push({ stage: r.stage, version: r.version - 1, time: new Date(r.timestamp_ms).toISOString(), corrective: `${r.stage}@${r.version}` });
    out.push(built(event, r));
  }

  // audits: an inspection of the lot; a rejected stage record is declared incorrect
  const audits = await db.all<ChainPos & { stage: string; verdict: string; comment: string; auditor: string; at: string; record_version: number | null }>(
    `SELECT x.*, t.block, t.idx, t.timestamp_ms FROM audits x ${CHAIN} WHERE x.task_id = ? ORDER BY t.block NULLS FIRST, t.idx`,
    taskId,
  );
  for (const a of audits) {
    const whole = a.stage === '*';
    out.push(
      built(
        {
          type: 'ObjectEvent',
          ...when(a.at),
          ...recordTime(a),
          quantityList: lotQuantity,
          action: 'OBSERVE',
          bizStep: 'inspecting',
          disposition: a.verdict === 'approved' ? 'conformant' : 'non_conformant',
          ...chainRef(a),
          'tc:taskId': taskId,
          'tc:auditor': a.auditor,
          'tc:verdict': a.verdict,
          ...(whole ? {} : { 'tc:stage': a.stage, 'tc:version': a.record_version }),
          ...(view.full ? { 'tc:comment': a.comment } : {}),
        },
        a,
      ),
    );
    if (!whole && a.verdict === 'rejected' && a.record_version !== null) corrections.unshift({ stage: a.stage, version: a.record_version, time: a.at });
  }

  // codes: commissioned when issued, packed and unpacked
  const codeEvents = await db.all<ChainPos & { name: string; payload: string }>(
    `SELECT x.name, x.payload, x.tx_id, x.block, x.idx, t.timestamp_ms FROM events x ${CHAIN}
     WHERE (x.name = 'codes.Issued' AND ${payload.taskId} = ?)
        OR (x.name IN ('codes.Aggregated', 'codes.Disaggregated') AND ${payload.parentInTask})
     ORDER BY x.block, x.idx`,
    taskId,
    taskId,
  );
  for (const e of codeEvents) {
    const p = JSON.parse(e.payload) as { txTime: string; codeHashes?: string[]; level?: string; parent?: string; children?: string[] };
    const base = { ...when(p.txTime), ...recordTime(e) };
    if (e.name === 'codes.Issued') {
      out.push(built({ type: 'ObjectEvent', ...base, epcList: p.codeHashes!.map(codeEpc), action: 'ADD', bizStep: 'commissioning', disposition: 'active', ...chainRef(e), 'tc:taskId': taskId, 'tc:level': p.level }, e));
    } else {
      const packing = e.name === 'codes.Aggregated';
      out.push(
        built(
          { type: 'AggregationEvent', ...base, parentID: codeEpc(p.parent!), childEPCs: p.children!.map(codeEpc), action: packing ? 'ADD' : 'DELETE', bizStep: packing ? 'packing' : 'unpacking', ...chainRef(e), 'tc:taskId': taskId },
          e,
        ),
      );
    }
  }

  // scans (by the scanning org's channel and region) and RFID sightings of the lot's codes
  const scans = await db.all<ChainPos & { code_hash: Buffer; channel: string; region: string | null; at: string }>(
    `SELECT x.*, t.block, t.idx, t.timestamp_ms FROM scans x JOIN codes c ON c.hash = x.code_hash ${CHAIN} WHERE c.task_id = ? ORDER BY t.block NULLS FIRST, t.idx, x.idx`,
    taskId,
  );
  for (const s of scans) {
    out.push(built({ type: 'ObjectEvent', ...when(s.at), ...recordTime(s), epcList: [codeEpc(codeHex(s.code_hash))], action: 'OBSERVE', ...chainRef(s), 'tc:channel': s.channel, ...(s.region ? { 'tc:region': s.region } : {}) }, s));
  }
  const sightings = await db.all<ChainPos & { code_hash: Buffer; device_id: string; at: string; lat: number | null; lon: number | null }>(
    `SELECT x.*, t.block, t.idx, t.timestamp_ms FROM code_sightings x ${CHAIN} WHERE x.code_hash IN (SELECT hash FROM codes WHERE task_id = ?) ORDER BY t.block NULLS FIRST, t.idx, x.idx`,
    taskId,
  );
  for (const s of sightings) {
    const geo = s.lat !== null && s.lon !== null ? { 'tc:geo': { 'tc:lat': s.lat, 'tc:lon': s.lon } } : {};
    out.push(built({ type: 'ObjectEvent', ...when(s.at), ...recordTime(s), epcList: [codeEpc(codeHex(s.code_hash))], action: 'OBSERVE', ...chainRef(s), 'tc:device': deviceUri(s.device_id), ...geo }, s));
  }

  // device readings of the lot: one sensor element per signed batch, a report per metric
  const batches = await db.all<ChainPos & { payload: string }>(
    `SELECT x.payload, x.tx_id, x.block, x.idx, t.timestamp_ms FROM events x ${CHAIN} WHERE x.name = 'devices.ReadingsSubmitted' AND ${payload.batchTaskId} = ? ORDER BY x.block, x.idx`,
    taskId,
  );
  for (const b of batches) {
    const batch = (JSON.parse(b.payload) as { batch: { deviceId: string; seq: number; digest: string; submittedAt: string; stats: Record<string, { count: number; min: number; max: number }> } }).batch;
    const reports = Object.entries(batch.stats).map(([metric, s]) => {
      const { type, uom } = sensorType(metric);
      return { type, minValue: s.min, maxValue: s.max, ...(uom ? { uom } : {}), 'tc:count': s.count };
    });
    out.push(
      built(
        {
          type: 'ObjectEvent',
          ...when(batch.submittedAt),
          ...recordTime(b),
          quantityList: lotQuantity,
          action: 'OBSERVE',
          bizStep: 'sensor_reporting',
          sensorElementList: [{ sensorMetadata: { deviceID: deviceUri(batch.deviceId) }, sensorReport: reports }],
          ...chainRef(b),
          'tc:taskId': taskId,
          'tc:seq': batch.seq,
          'tc:digest': batch.digest,
        },
        b,
      ),
    );
  }

  for (const b of out) b.event = { eventID: eventHashId(b.event, NS), ...b.event };
  // error declarations are not part of the hash: a record declared wrong keeps its id
  const byRecord = new Map(out.filter((b) => b.event['tc:stage'] !== undefined && b.event['tc:verdict'] === undefined).map((b) => [`${String(b.event['tc:stage'])}@${String(b.event['tc:version'])}`, b]));
  for (const c of corrections) {
    const target = byRecord.get(`${c.stage}@${c.version}`);
    const corrective = c.corrective && byRecord.get(c.corrective);
    if (!target) continue;
    target.event.errorDeclaration = { declarationTime: c.time, reason: 'incorrect_data', ...(corrective ? { correctiveEventIDs: [corrective.event.eventID] } : {}) };
  }
  return out.sort((a, b) => Date.parse(String(a.event.eventTime)) - Date.parse(String(b.event.eventTime)) || a.block - b.block || a.idx - b.idx).map((b) => b.event);
}
