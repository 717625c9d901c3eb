import { createHash } from 'node:crypto';
import { gs1CheckDigitValid } from '@trace/chaincode/dist/src/rules/gs1';

/**
 * The EPCIS Event Hash ID of CBV 2.0 (section 8.9): a canonical pre-hash string of the event's
 * fields, in the standard's property order, with values normalised (UTC millisecond times, full CBV
 * and GS1 URIs, constrained canonical Digital Links, lists sorted), hashed with SHA-256 and written
 * as an RFC 6920 `ni` URI. recordTime, eventID, errorDeclaration and certificationInfo stay out of
 * it, so a later error declaration does not change the id of the event it declares wrong.
 */

export type EpcisEvent = Record<string, unknown>;
/** JSON-LD prefix → namespace IRI, for extension fields (tc:txId → {https://…/}txId) */
export type Namespaces = Record<string, string>;

const CBV = 'https://ref.gs1.org/cbv/';
const GS1_VOC = 'https://gs1.org/voc/';
const GS1_RESOLVER = 'https://id.gs1.org';

const EPC_LISTS = ['epcList', 'parentID', 'inputEPCList', 'childEPCs'] as const;
const QUANTITY_LISTS = ['quantityList', 'childQuantityList', 'inputQuantityList'] as const;
const SENSOR_METADATA = ['time', 'startTime', 'endTime', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'bizRules'];
const SENSOR_REPORT = [
  'type', 'exception', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'time', 'microorganism', 'chemicalSubstance', 'value', 'component',
  'stringValue', 'booleanValue', 'hexBinaryValue', 'uriValue', 'minValue', 'maxValue', 'meanValue', 'sDev', 'percRank', 'percValue', 'uom', 'coordinateReferenceSystem',
];
/** sensor fields naming things by URI (devices, raw data): canonical Digital Links like EPCs */
const URI_FIELDS = new Set(['deviceID', 'deviceMetadata', 'rawData']);
/** the fields the standard names (anything else with a prefix is a user extension) */
const STANDARD = new Set([
  '@context', 'type', 'eventTime', 'eventTimeZoneOffset', 'recordTime', 'eventID', 'errorDeclaration', 'certificationInfo', 'epcList', 'parentID',
  'inputEPCList', 'childEPCs', 'quantityList', 'childQuantityList', 'inputQuantityList', 'outputEPCList', 'outputQuantityList', 'action',
  'transformationID', 'bizStep', 'disposition', 'persistentDisposition', 'readPoint', 'bizLocation', 'bizTransactionList', 'sourceList',
  'destinationList', 'sensorElementList', 'ilmd',
]);

/** UTC with exactly three decimals (the fourth rounds the third). */
export function hashTime(time: string): string {
  const fraction = /\.(\d+)/.exec(time)?.[1] ?? '';
  const ms = Date.parse(time.replace(/\.\d+/, ''));
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${time}`);
  const millis = Math.round(Number(`0.${fraction || '0'}`) * 1000);
  return new Date(ms + millis).toISOString();
}

/** The GS1 mod-10 check digit completing `body` (GTIN, SSCC, GLN), by the chaincode's own check. */
const gtinCheckDigit = (body: string): string => String([...Array(10).keys()].find((d) => gs1CheckDigitValid(body + d)));

const num = (n: number): string => String(n);
const str = (v: unknown): string => (typeof v === 'number' ? num(v) : String(v).trim());
const sorted = (parts: string[]): string => [...parts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join('');

/** A bare CBV term as its Web URI (bizStep → BizStep-…); URN forms likewise; other URIs unchanged. */
function cbvUri(kind: 'BizStep' | 'Disp' | 'BTT' | 'SDT' | 'ER', v: string): string {
  const urn = /^urn:epcglobal:cbv:(bizstep|disp|btt|sdt|er):(.+)$/.exec(v);
  if (urn) return `${CBV}${kind}-${urn[2]}`;
  return /^[a-z_]+$/.test(v) ? `${CBV}${kind}-${v}` : v;
}

/** EPC URNs (sgtin, sscc, sgln, lgtin class) as canonical GS1 Digital Links; Digital Links constrained to id.gs1.org without a query. */
export function canonicalEpc(uri: string): string {
  const v = uri.trim();
  const urn = /^urn:epc:(id|class):(sgtin|sscc|sgln|lgtin|giai):([^.]+)\.([^.]+)(?:\.(.+))?$/.exec(v);
  if (urn) {
    const [, , scheme, company, ref, rest] = urn;
    if (scheme === 'giai') return `${GS1_RESOLVER}/8004/${company}${ref}`;
    if (scheme === 'sgtin' || scheme === 'lgtin') {
      const body = ref[0] + company + ref.slice(1);
      const gtin = body + gtinCheckDigit(body);
      return `${GS1_RESOLVER}/01/${gtin}/${scheme === 'sgtin' ? '21' : '10'}/${rest}`;
    }
    if (scheme === 'sscc') {
      const body = ref[0] + company + ref.slice(1);
      return `${GS1_RESOLVER}/00/${body}${gtinCheckDigit(body)}`;
    }
    const gln = company + ref + gtinCheckDigit(company + ref);
    return `${GS1_RESOLVER}/414/${gln}${rest && rest !== '0' ? `/254/${rest}` : ''}`;
  }
  const dl = /^https?:\/\/[^/]+(\/(?:00|01|253|255|401|402|414|417|8003|8004|8006|8010|8017|8018)\/[^?#]*)/.exec(v);
  return dl ? GS1_RESOLVER + dl[1] : v;
}

function epcs(name: string, list: unknown): string {
  const items = (Array.isArray(list) ? list : [list]).filter((e): e is string => typeof e === 'string');
  if (items.length === 0) return '';
  return name === 'parentID' ? `parentID=${canonicalEpc(items[0])}` : `${name}${sorted(items.map((e) => `epc=${canonicalEpc(e)}`))}`;
}

function quantities(name: string, list: unknown): string {
  if (!Array.isArray(list) || list.length === 0) return '';
  const elements = (list as { epcClass: string; quantity?: number; uom?: string }[]).map(
    (q) => `quantityElementepcClass=${canonicalEpc(q.epcClass)}${q.quantity !== undefined ? `quantity=${num(q.quantity)}` : ''}${q.uom !== undefined ? `uom=${q.uom}` : ''}`,
  );
  return `${name}${sorted(elements)}`;
}

/** The user extension fields of an object, as {namespace}local=value, sorted. */
function extensions(o: Record<string, unknown>, ns: Namespaces, skip: (k: string) => boolean): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (skip(k)) continue;
    const key = expandKey(k, ns);
    if (Array.isArray(v)) for (const e of v) out.push(isObject(e) ? key + sorted(extensions(e, ns, () => false)) : `${key}=${str(e)}`);
    else if (isObject(v)) out.push(key + sorted(extensions(v, ns, () => false)));
    else out.push(`${key}=${str(v)}`);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function expandKey(k: string, ns: Namespaces): string {
  const colon = k.indexOf(':');
  const iri = colon > 0 ? ns[k.slice(0, colon)] : undefined;
  return iri ? `{${iri}}${k.slice(colon + 1)}` : k;
}

function fields(o: Record<string, unknown>, order: string[], value: (k: string, v: unknown) => string): string {
  return order.filter((k) => o[k] !== undefined).map((k) => `${k}=${value(k, o[k])}`).join('');
}

function sensorElement(e: Record<string, unknown>, ns: Namespaces): string {
  const value = (k: string, v: unknown) => {
    if (k === 'time' || k === 'startTime' || k === 'endTime') return hashTime(String(v));
    if (k === 'type' && /^[A-Za-z]+$/.test(String(v))) return GS1_VOC + String(v);
    return URI_FIELDS.has(k) ? canonicalEpc(String(v)) : str(v);
  };
  const meta = isObject(e.sensorMetadata) ? `sensorMetadata${fields(e.sensorMetadata, SENSOR_METADATA, value)}${sorted(extensions(e.sensorMetadata, ns, (k) => SENSOR_METADATA.includes(k)))}` : '';
  const reports = (Array.isArray(e.sensorReport) ? (e.sensorReport as Record<string, unknown>[]) : []).map(
    (r) => `sensorReport${fields(r, SENSOR_REPORT, value)}${sorted(extensions(r, ns, (k) => SENSOR_REPORT.includes(k)))}`,
  );
  return `sensorElement${meta}${sorted(reports)}${sorted(extensions(e, ns, (k) => k === 'sensorMetadata' || k === 'sensorReport'))}`;
}

function typedList(name: string, key: string, list: unknown, kind: 'BTT' | 'SDT'): string {
  if (!Array.isArray(list) || list.length === 0) return '';
  // the type comes first, as GS1's reference implementation writes it
  const items = (list as Record<string, string>[]).map((e) => `${e.type ? `type=${cbvUri(kind, e.type)}` : ''}${key}=${canonicalEpc(e[key])}`);
  return `${name}${sorted(items)}`;
}

/** The canonical pre-hash string of an event. */
export function preHashString(event: EpcisEvent, ns: Namespaces): string {
  const e = event as Record<string, unknown>;
  const parts: string[] = [`eventType=${str(e.type)}`, `eventTime=${hashTime(String(e.eventTime))}`, `eventTimeZoneOffset=${str(e.eventTimeZoneOffset)}`];
  for (const name of EPC_LISTS) if (e[name] !== undefined) parts.push(epcs(name, e[name]));
  for (const name of QUANTITY_LISTS) parts.push(quantities(name, e[name]));
  if (e.outputEPCList !== undefined) parts.push(epcs('outputEPCList', e.outputEPCList));
  parts.push(quantities('outputQuantityList', e.outputQuantityList));
  if (e.action !== undefined) parts.push(`action=${str(e.action)}`);
  if (e.transformationID !== undefined) parts.push(`transformationID=${str(e.transformationID)}`);
  if (e.bizStep !== undefined) parts.push(`bizStep=${cbvUri('BizStep', str(e.bizStep))}`);
  if (e.disposition !== undefined) parts.push(`disposition=${cbvUri('Disp', str(e.disposition))}`);
  const pd = e.persistentDisposition as { set?: string[]; unset?: string[] } | undefined;
  if (pd) parts.push(`persistentDisposition${(['set', 'unset'] as const).map((k) => sorted((pd[k] ?? []).map((d) => `${k}=${cbvUri('Disp', d)}`))).join('')}`);
  for (const name of ['readPoint', 'bizLocation'] as const) {
    const loc = e[name] as Record<string, unknown> | undefined;
    if (loc) parts.push(`${name}id=${canonicalEpc(String(loc.id))}${sorted(extensions(loc, ns, (k) => k === 'id'))}`);
  }
  parts.push(typedList('bizTransactionList', 'bizTransaction', e.bizTransactionList, 'BTT'));
  // destinations before sources, as GS1's reference implementation hashes them
  parts.push(typedList('destinationList', 'destination', e.destinationList, 'SDT'));
  parts.push(typedList('sourceList', 'source', e.sourceList, 'SDT'));
  if (Array.isArray(e.sensorElementList) && e.sensorElementList.length > 0) parts.push(`sensorElementList${sorted((e.sensorElementList as Record<string, unknown>[]).map((s) => sensorElement(s, ns)))}`);
  if (isObject(e.ilmd)) parts.push(`ilmd${sorted(extensions(e.ilmd, ns, () => false))}`);
  parts.push(sorted(extensions(e, ns, (k) => STANDARD.has(k))));
  return parts.join('');
}

/** The event's hash id: ni:///sha-256;<hex>?ver=CBV2.0 */
export function eventHashId(event: EpcisEvent, ns: Namespaces): string {
  return `ni:///sha-256;${createHash('sha256').update(preHashString(event, ns), 'utf8').digest('hex')}?ver=CBV2.0`;
}
