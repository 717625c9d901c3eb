import { createHash, randomBytes } from 'node:crypto';
import { Db } from './db';
import { ConsoleError } from './errors';
import { User, userById } from './user-store';

/**
 * Machine API tokens: an ERP or WMS calls the console's machine routes (EPCIS capture) as a console user with
 * `Authorization: Bearer <token>`. A token is 32 random bytes, shown once and stored as its SHA-256 (it is not a
 * password: nothing to slow down), revocable; the user's roles still apply and a disabled user's tokens stop working.
 */
export const TOKEN_PREFIX = 'tcc_';

export interface ApiToken {
  id: number;
  username: string;
  label: string;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const LABEL = /^[\p{L}\p{N} ._-]{1,64}$/u;

const SELECT = `SELECT t.id, u.username, t.label, t.created_at AS createdAt, t.created_by AS createdBy, t.last_used_at AS lastUsedAt, t.revoked_at AS revokedAt
  FROM api_tokens t JOIN users u ON u.id = t.user_id`;

/** A new token for a user: the only time its value is seen. */
export function createApiToken(db: Db, username: string, label: unknown, createdBy: string): ApiToken & { token: string } {
  if (typeof label !== 'string' || !LABEL.test(label)) throw new ConsoleError(400, 'ERR_VALIDATION', 'label must be 1–64 letters, digits, spaces, dots, dashes or underscores', { label: 'invalid label' });
  const user = db.prepare('SELECT id FROM users WHERE username = ?').get(username) as { id: number } | undefined;
  if (!user) throw new ConsoleError(404, 'ERR_NOT_FOUND', `no user ${username}`);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const { id } = db
    .prepare('INSERT INTO api_tokens (token_hash, user_id, label, created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id')
    .get(sha256(token), user.id, label, new Date().toISOString(), createdBy) as { id: number };
  return { ...(db.prepare(`${SELECT} WHERE t.id = ?`).get(id) as ApiToken), token };
}

export function listApiTokens(db: Db): ApiToken[] {
  return db.prepare(`${SELECT} ORDER BY t.id`).all() as ApiToken[];
}

export function revokeApiToken(db: Db, id: number): ApiToken {
  const changed = db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(new Date().toISOString(), id).changes;
  const token = db.prepare(`${SELECT} WHERE t.id = ?`).get(id) as ApiToken | undefined;
  if (!token) throw new ConsoleError(404, 'ERR_NOT_FOUND', `no API token ${id}`);
  if (changed === 0) throw new ConsoleError(409, 'ERR_STATE', `API token ${id} is already revoked`);
  return token;
}

/** The user of an `Authorization: Bearer` value, unless the token is unknown or revoked or its user disabled. */
export function userOfToken(db: Db, authorization: string | undefined): User | undefined {
  const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return undefined;
  const row = db.prepare('SELECT id, user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL').get(sha256(token)) as { id: number; user_id: number } | undefined;
  if (!row) return undefined;
  const user = userById(db, row.user_id);
  if (!user || user.disabled) return undefined;
  db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(new Date().toISOString(), row.id);
  return user;
}
