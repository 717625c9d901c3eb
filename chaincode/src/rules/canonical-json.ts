/**
 * A value already in canonical JSON: canonicalJson writes its text as is, so an object written
 * several times (a stage record under two keys, in the event and as the answer) is serialised once.
 */
export class CanonicalJson {
  constructor(readonly text: string) {}
}

/** `value` serialised once, for use inside other canonical JSON. */
export const canonical = (value: unknown): CanonicalJson => new CanonicalJson(canonicalJson(value));

/**
 * Canonical JSON: object keys sorted by code point at every depth, no insignificant space,
 * undefined members dropped. Every value the chaincode writes or hashes goes through it, so all
 * endorsers produce the same bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite numbers have no JSON form');
    if (typeof value === 'bigint') throw new TypeError('bigint has no JSON form');
    return JSON.stringify(value);
  }
  if (value instanceof CanonicalJson) return value.text;
  // Plain loops and one string: this runs for every object every transaction writes.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return out + '}';
}
