/**
 * Code hashes in the database: the SHA-256 of a code is stored as its 32 bytes (a BLOB key), not as
 * 64 hex characters. Everything outside the database (the HTTP API, event payloads, JSON, logs) speaks
 * lowercase hex, so a hash is converted where it is bound to a statement (codeKey) and where a row is
 * read (codeHex). better-sqlite3 binds a Buffer as a BLOB and returns a BLOB as a Buffer.
 */

const HEX64 = /^[0-9a-f]{64}$/;

/** The 32-byte key of a code hash given as 64 lowercase hex characters; anything else throws. */
export function codeKey(hex: string): Buffer {
  if (typeof hex !== 'string' || !HEX64.test(hex)) throw new Error(`not a code hash (64 lowercase hex characters): ${String(JSON.stringify(hex)).slice(0, 80)}`);
  return Buffer.from(hex, 'hex');
}

/** codeKey, or null for a missing hash (a nullable column: an alert without a code, a code without a parent). */
export function codeKeyOrNull(hex: string | null | undefined): Buffer | null {
  return hex === null || hex === undefined ? null : codeKey(hex);
}

/** The lowercase hex of a code hash read from the database (a 32-byte BLOB); anything else throws. */
export function codeHex(key: Uint8Array): string {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new Error(`not a 32-byte code key: ${key === null || key === undefined ? String(key) : typeof key}`);
  return Buffer.from(key.buffer, key.byteOffset, key.length).toString('hex');
}

/** codeHex, or null for a NULL column. */
export function codeHexOrNull(key: Uint8Array | null | undefined): string | null {
  return key === null || key === undefined ? null : codeHex(key);
}

/**
 * A row with the named code-key columns turned into hex (the others as read): what a `SELECT *` of a
 * table with code keys answers over the API.
 */
export function withCodeHex<R extends object>(row: R, ...columns: (keyof R & string)[]): R {
  const out = { ...row } as Record<string, unknown>;
  for (const c of columns) out[c] = codeHexOrNull(out[c] as Uint8Array | null);
  return out as R;
}
