#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Db } from './db';
import { ApiError, sha256 } from './http';
import { dbLocation } from './store';

/** Who reads: the public (no key), an org's staff and systems, auditors and regulators. */
export type Scope = 'public' | 'member' | 'auditor';
export const SCOPES: readonly Scope[] = ['public', 'member', 'auditor'];
/** scopes a key may carry (the public needs none) */
export const KEY_SCOPES: readonly Scope[] = ['member', 'auditor'];
const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/;

/** The caller of a request: anonymous (public) or the org and scope of a valid key. */
export interface Caller {
  scope: Scope;
  org?: string;
  keyId?: string;
}
export const PUBLIC: Caller = { scope: 'public' };

export interface ApiKeyInfo {
  id: string;
  org: string;
  scope: Scope;
  label: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/**
 * Creates a key bound to an org and a scope. Only its SHA-256 is stored (the key is 32 random
 * bytes, so an unsalted hash cannot be searched); the key itself is returned once.
 */
export async function createApiKey(db: Db, opts: { org: string; scope: Scope; label?: string }): Promise<{ id: string; key: string }> {
  if (!MSP_ID.test(opts.org)) throw new ApiError(400, 'ERR_VALIDATION', 'org must be an MSP id such as Org1MSP');
  if (!KEY_SCOPES.includes(opts.scope)) throw new ApiError(400, 'ERR_VALIDATION', `scope must be one of ${KEY_SCOPES.join(', ')}`);
  const id = randomBytes(6).toString('hex');
  const key = `tck_${id}_${randomBytes(32).toString('base64url')}`;
  await db.run('INSERT INTO api_keys (id, key_hash, org, scope, label, created_at) VALUES (?, ?, ?, ?, ?, ?)', id, sha256(key), opts.org, opts.scope, opts.label ?? null, new Date().toISOString());
  return { id, key };
}

export async function listApiKeys(db: Db): Promise<ApiKeyInfo[]> {
  return db.all<ApiKeyInfo>('SELECT id, org, scope, label, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at, id');
}

/** Revokes a key for good; false when there is no such key or it was revoked already. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  return (await db.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', new Date().toISOString(), id)) === 1;
}

/**
 * Revokes the active keys labelled `label` and creates one per request under that label, in order:
 * a program that hands out keys on each start (the demo) leaves only the latest ones active.
 */
export async function reissueLabelledKeys(db: Db, label: string, wanted: { org: string; scope: Scope }[]): Promise<string[]> {
  for (const k of await listApiKeys(db)) if (k.label === label && !k.revoked_at) await revokeApiKey(db, k.id);
  const keys: string[] = [];
  for (const w of wanted) keys.push((await createApiKey(db, { ...w, label })).key);
  return keys;
}

/** last use is written at most once a minute per key, so reads do not each cost a write */
const LAST_USE_RESOLUTION_MS = 60_000;

/**
 * The caller an Authorization header names: PUBLIC without one, a 401 for a malformed, unknown or
 * revoked key (a caller that sends a key expects its scope, not silently the public view).
 */
export async function authenticate(db: Db, authorization: string | undefined): Promise<Caller> {
  if (!authorization) return PUBLIC;
  const m = /^Bearer (\S+)$/.exec(authorization);
  if (!m) throw new ApiError(401, 'ERR_UNAUTHORIZED', 'Authorization must be "Bearer <key>"');
  const row = await db.get<{ id: string; org: string; scope: Scope; last_used_at: string | null; revoked_at: string | null }>('SELECT id, org, scope, last_used_at, revoked_at FROM api_keys WHERE key_hash = ?', sha256(m[1]));
  if (!row || row.revoked_at) throw new ApiError(401, 'ERR_UNAUTHORIZED', 'unknown or revoked API key');
  const now = Date.now();
  if (!row.last_used_at || now - Date.parse(row.last_used_at) > LAST_USE_RESOLUTION_MS) {
    await db.run('UPDATE api_keys SET last_used_at = ? WHERE id = ?', new Date(now).toISOString(), row.id);
  }
  return { scope: row.scope, org: row.org, keyId: row.id };
}

/** `keys create --org Org1MSP --scope member [--label till-1]`, `keys list`, `keys revoke <id>` (--db: the indexer's database, a SQLite file or a postgres:// URL). */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { db: { type: 'string' }, org: { type: 'string' }, scope: { type: 'string' }, label: { type: 'string' } } });
  const [command, id] = positionals;
  const { openDb } = await import('./db');
  const db = await openDb(dbLocation(values.db));
  try {
    if (command === 'create') {
      const created = await createApiKey(db, { org: values.org ?? '', scope: values.scope as Scope, label: values.label });
      console.log(`key ${created.id} for ${values.org} (${values.scope}); shown once, store it now:\n${created.key}`);
    } else if (command === 'list') {
      for (const k of await listApiKeys(db)) console.log([k.id, k.org, k.scope, k.label ?? '-', `created ${k.created_at}`, `last used ${k.last_used_at ?? 'never'}`, k.revoked_at ? `REVOKED ${k.revoked_at}` : 'active'].join('  '));
    } else if (command === 'revoke' && id) {
      if (!(await revokeApiKey(db, id))) throw new ApiError(404, 'ERR_NOT_FOUND', `no active key ${id}`);
      console.log(`key ${id} revoked`);
    } else {
      console.error('usage: keys.js create --org <MSP id> --scope member|auditor [--label <text>] | list | revoke <id>   [--db <indexer.sqlite | postgres://...>]');
      return 2;
    }
    return 0;
  } catch (e) {
    console.error(`keys: ${e instanceof ApiError ? `${e.code}: ` : ''}${(e as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
