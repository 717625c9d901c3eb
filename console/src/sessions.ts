import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Db } from './db';
import { User, userById } from './user-store';

export const SESSION_COOKIE = 'tc_session';
export const SESSION_HOURS = 12;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A new session: the cookie value is only ever stored hashed; the CSRF token is the synchronizer token writes must echo. */
export function openSession(db: Db, userId: number, now = Date.now()): { token: string; csrf: string } {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  db.prepare('DELETE FROM sessions WHERE expires_at < ?').run(now);
  db.prepare('INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES (?, ?, ?, ?)').run(sha256(token), userId, csrf, now + SESSION_HOURS * 3_600_000);
  return { token, csrf };
}

export interface Session {
  user: User;
  csrf: string;
  tokenHash: string;
}

/** The session of a cookie value, unless it expired or its user was disabled. */
export function findSession(db: Db, token: string | undefined, now = Date.now()): Session | undefined {
  if (!token) return undefined;
  const row = db.prepare('SELECT * FROM sessions WHERE token_hash = ?').get(sha256(token)) as { token_hash: string; user_id: number; csrf: string; expires_at: number } | undefined;
  if (!row || row.expires_at < now) return undefined;
  const user = userById(db, row.user_id);
  if (!user || user.disabled) return undefined;
  return { user, csrf: row.csrf, tokenHash: row.token_hash };
}

export function closeSession(db: Db, session: Session): void {
  db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(session.tokenHash);
}

export function csrfMatches(session: Session, header: string | undefined): boolean {
  if (!header) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}
