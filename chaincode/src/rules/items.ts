import { PatternError, safePattern } from './safe-pattern';
import { parseRfc3339 } from './time';
/**
 * Data items (数据项) and the checks a recorded value must pass: type, range, pattern, enum and
 * privacy form (明文 plain / 哈希 hash / 密文 cipher). Pure functions.
 */

export const ITEM_TYPES = ['string', 'number', 'integer', 'boolean', 'datetime', 'enum', 'geo', 'hash'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];
export const PRIVACY = ['plain', 'hash', 'cipher'] as const;
export type Privacy = (typeof PRIVACY)[number];

export interface DataItem {
  id: string;
  name: string;
  type: ItemType;
  unit?: string;
  required?: boolean;
  min?: number;
  max?: number;
  /** regular expression a string value must match in full */
  pattern?: string;
  /** allowed values of an enum item */
  values?: string[];
  /** longest string value; default 1,024 */
  maxLength?: number;
  /** the region a shipping stage sends the lot to: scans elsewhere are diversions */
  destinationRegion?: boolean;
  privacy: Privacy;
}

export interface GeoPoint {
  lat: number;
  lon: number;
}

export type ItemValue = string | number | boolean | GeoPoint;

export const MAX_STRING = 1024;
/** base64 of at most 16 KiB of ciphertext */
export const MAX_CIPHER_B64 = Math.ceil((16 * 1024) / 3) * 4;

const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 3339 date-time with seconds and an explicit offset */

export function isDateTime(v: unknown): v is string {
  return parseRfc3339(v) !== undefined;
}

export function isGeo(v: unknown): v is GeoPoint {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return (
    Object.keys(o).every((k) => k === 'lat' || k === 'lon') &&
    typeof o.lat === 'number' &&
    typeof o.lon === 'number' &&
    o.lat >= -90 &&
    o.lat <= 90 &&
    o.lon >= -180 &&
    o.lon <= 180
  );
}

function range(item: DataItem, n: number): string | undefined {
  if (item.min !== undefined && n < item.min) return `${item.id} = ${n} is below the minimum ${item.min}`;
  if (item.max !== undefined && n > item.max) return `${item.id} = ${n} is above the maximum ${item.max}`;
  return undefined;
}

/** A pattern that no longer compiles (defined before this engine) matches nothing rather than failing the call. */
function matchesPattern(pattern: string, value: string): boolean {
  try {
    return safePattern(pattern).matches(value);
  } catch (e) {
    if (e instanceof PatternError) return false;
    throw e;
  }
}

/** Problem with one value of an item, or undefined when it is acceptable. */
export function checkItemValue(item: DataItem, value: unknown): string | undefined {
  if (item.privacy === 'hash') {
    return typeof value === 'string' && HEX64.test(value) ? undefined : `${item.id} is a hashed item: expected 64 lowercase hex characters (SHA-256)`;
  }
  if (item.privacy === 'cipher') {
    if (typeof value !== 'string' || value.length === 0 || !BASE64.test(value)) return `${item.id} is an encrypted item: expected base64 ciphertext`;
    return value.length > MAX_CIPHER_B64 ? `${item.id} ciphertext is larger than ${MAX_CIPHER_B64} base64 characters` : undefined;
  }
  switch (item.type) {
    case 'string': {
      if (typeof value !== 'string') return `${item.id} must be a string`;
      const max = item.maxLength ?? MAX_STRING;
      if (value.length > max) return `${item.id} is longer than ${max} characters`;
      if (item.pattern !== undefined && !matchesPattern(item.pattern, value)) return `${item.id} does not match the pattern ${item.pattern}`;
      return undefined;
    }
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? range(item, value) : `${item.id} must be a finite number`;
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? range(item, value) : `${item.id} must be an integer`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${item.id} must be true or false`;
    case 'datetime':
      return isDateTime(value) ? undefined : `${item.id} must be an RFC 3339 date-time with an offset, e.g. 2026-05-01T08:00:00Z`;
    case 'enum':
      return typeof value === 'string' && (item.values ?? []).includes(value) ? undefined : `${item.id} must be one of ${(item.values ?? []).join(', ')}`;
    case 'geo':
      return isGeo(value) ? undefined : `${item.id} must be {lat, lon} within -90..90 and -180..180`;
    case 'hash':
      return typeof value === 'string' && HEX64.test(value) ? undefined : `${item.id} must be 64 lowercase hex characters (SHA-256)`;
  }
}

/** Problems with an item definition itself (checked when it is defined). */
export function checkItemDefinition(item: DataItem): string[] {
  const out: string[] = [];
  if (item.min !== undefined && item.max !== undefined && item.min > item.max) out.push(`${item.id}: min is greater than max`);
  if (item.type === 'enum' && (!item.values || item.values.length === 0)) out.push(`${item.id}: an enum item needs values`);
  if (item.type !== 'enum' && item.values) out.push(`${item.id}: only enum items take values`);
  if (item.pattern !== undefined) {
    if (item.type !== 'string') out.push(`${item.id}: only string items take a pattern`);
    try {
      safePattern(item.pattern);
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      out.push(`${item.id}: pattern is not supported: ${e.message}`);
    }
  }
  if ((item.min !== undefined || item.max !== undefined) && item.type !== 'number' && item.type !== 'integer') {
    out.push(`${item.id}: only number and integer items take min/max`);
  }
  if (item.privacy !== 'plain' && (item.min !== undefined || item.max !== undefined || item.pattern !== undefined)) {
    out.push(`${item.id}: a ${item.privacy} item cannot carry range or pattern checks (the chain never sees its value)`);
  }
  if (item.destinationRegion && ((item.type !== 'string' && item.type !== 'enum') || item.privacy !== 'plain')) out.push(`${item.id}: a destination region is a plain string or enum item`);
  return out;
}

/**
 * Checks a stage's data against the items of its forms: no unknown item, every required item
 * present, every value valid. Returns all problems, in item order.
 */
export function checkStageData(items: readonly DataItem[], data: Record<string, unknown>): string[] {
  const byId = new Map(items.map((i) => [i.id, i]));
  const out: string[] = [];
  for (const key of Object.keys(data).sort()) if (!byId.has(key)) out.push(`unknown item '${key}'`);
  for (const item of items) {
    const v = data[item.id];
    if (v === undefined || v === null) {
      if (item.required) out.push(`required item '${item.id}' is missing`);
      continue;
    }
    const problem = checkItemValue(item, v);
    if (problem) out.push(problem);
  }
  return out;
}
