import { CBV_BIZ_STEPS } from '@trace/chaincode/dist/src/rules/epcis-mapping';

/**
 * The identifiers an EPCIS export names things by: GS1 Digital Link URIs for lots (LGTIN) and
 * locations (GLN), CBV 2.0 terms, and this project's namespace for what GS1 has no key for.
 */

/** the JSON-LD context GS1 publishes for EPCIS 2.0 */
export const GS1_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
/** this project's namespace: extensions (transaction id, block, stage items) and code identifiers */
export const TC_NAMESPACE = 'https://ns.trace-chain.example/epcis/';
export const TC_PREFIX = 'tc';
/** the @context of every document the indexer answers: GS1's, plus the project's prefix */
export const CONTEXT = [GS1_CONTEXT, { [TC_PREFIX]: TC_NAMESPACE }];

const GS1_RESOLVER = 'https://id.gs1.org';

/** A lot as an EPC class: the LGTIN as a GS1 Digital Link (GTIN-14 and batch/lot). */
export const lotClass = (gtin: string, lot: string): string => `${GS1_RESOLVER}/01/${gtin.padStart(14, '0')}/10/${encodeURIComponent(lot)}`;

/** A location (a GLN in the catalog) as a GS1 Digital Link. */
export const glnUri = (gln: string): string => `${GS1_RESOLVER}/414/${gln}`;

/**
 * A code as an EPC. The printed code is the secret that proves a label genuine, so it never leaves the
 * chain's holders: a code is named by its SHA-256, as the chain itself stores it.
 */
export const codeEpc = (hash: string): string => `${TC_NAMESPACE}code/${hash}`;
/** The hash of a code EPC (undefined for any other URI). */
export const codeHashOf = (epc: string): string | undefined => (epc.startsWith(`${TC_NAMESPACE}code/`) ? /^[0-9a-f]{64}$/.exec(epc.slice(TC_NAMESPACE.length + 5))?.[0] : undefined);

/** The GLN of a location Digital Link (undefined for any other URI). */
export const glnOf = (uri: string): string | undefined => /^https:\/\/id\.gs1\.org\/414\/(\d{13})$/.exec(uri)?.[1];

/** A signing device (sensor, RFID gate) as a URI. */
export const deviceUri = (deviceId: string): string => `${TC_NAMESPACE}device/${encodeURIComponent(deviceId)}`;


/** A stage's business step: its CBV term, or a URI of the project's vocabulary for a step CBV lacks (e.g. transforming). */
export const bizStepTerm = (step: string): string => (CBV_BIZ_STEPS.includes(step) ? step : `${TC_NAMESPACE}BizStep-${step}`);

/** A device metric as a sensor report type and UN/ECE unit; metrics GS1 has no type for get the project's. */
export function sensorType(metric: string): { type: string; uom?: string } {
  if (/(^|_)temp(erature)?_c$/.test(metric)) return { type: 'Temperature', uom: 'CEL' };
  if (/humidity_pct$/.test(metric)) return { type: 'RelativeHumidity', uom: 'P1' };
  if (/_kmh$/.test(metric)) return { type: 'Speed', uom: 'KMH' };
  return { type: `${TC_NAMESPACE}metric/${metric}` };
}

/** The offset of an RFC 3339 time as EPCIS writes it (+hh:mm, Z as +00:00). */
export const zoneOffset = (time: string): string => {
  const m = /([+-]\d{2}:\d{2}|Z)$/i.exec(time);
  return !m || m[1].toUpperCase() === 'Z' ? '+00:00' : m[1];
};
