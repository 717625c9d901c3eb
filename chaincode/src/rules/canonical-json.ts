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
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',') + ']';
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(obj[k])).join(',') + '}';
}
