import { randomBytes } from 'node:crypto';
import { codeKey } from './code-key';
import type { Db } from './db';
import { sha256 } from './http';
import type { Caller } from './keys';

export interface ScanAdmissionOptions {
  /** repeated anonymous scans of one code from one client within this window count once (default 1 hour) */
  windowMs?: number;
  /** anonymous clients whose scans of one code count within a window; the rest are answered, not counted (default 100) */
  perCodePerWindow?: number;
}

/**
 * Decides whether a verify request counts as a scan on the chain (where scans past the template's
 * threshold raise a clone alert). A caller with a key counts every scan; an anonymous client
 * counts once per code and window, and only so many anonymous clients per code and window: a
 * page reloaded fifty times, or one script, cannot brand a genuine code a clone — fifty phones can.
 * Clients are kept as salted hashes of their address, with the counts the alerts report.
 */
export class ScanAdmission {
  private readonly windowMs: number;
  private readonly perCode: number;
  private readonly salt: string;

  constructor(
    private readonly db: Db,
    opts: ScanAdmissionOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 3_600_000;
    this.perCode = opts.perCodePerWindow ?? 100;
    db.prepare("INSERT OR IGNORE INTO local_secrets (name, value) VALUES ('client_salt', ?)").run(randomBytes(16).toString('hex'));
    this.salt = db.prepare("SELECT value FROM local_secrets WHERE name = 'client_salt'").pluck().get() as string;
  }

  /** Records the request (inside the caller's transaction) and tells whether it counts. */
  admit(codeHash: string, caller: Caller, clientAddress: string, now: number): boolean {
    const anonymous = caller.scope === 'public';
    const client = anonymous ? sha256(`${this.salt}:${clientAddress}`) : `key:${caller.keyId}`;
    const since = new Date(now - this.windowMs).toISOString();
    const key = codeKey(codeHash);
    const row = this.db.prepare('SELECT counted_at FROM scan_clients WHERE code_hash = ? AND client = ?').get(key, client) as { counted_at: string | null } | undefined;
    const counts =
      !anonymous ||
      ((!row?.counted_at || row.counted_at < since) &&
        (this.db.prepare('SELECT count(*) FROM scan_clients WHERE code_hash = ? AND anonymous = 1 AND counted_at >= ?').pluck().get(key, since) as number) < this.perCode);
    const at = new Date(now).toISOString();
    this.db
      .prepare(
        `INSERT INTO scan_clients (code_hash, client, anonymous, received, counted, counted_at) VALUES (?, ?, ?, 1, ?, ?)
         ON CONFLICT (code_hash, client) DO UPDATE SET received = received + 1, counted = counted + excluded.counted, counted_at = coalesce(excluded.counted_at, counted_at)`,
      )
      .run(key, client, anonymous ? 1 : 0, counts ? 1 : 0, counts ? at : null);
    return counts;
  }
}

/** Where the counted scans of a code came from: what a clone alert reports, so a crowd of phones reads apart from a flood. */
export function scanOrigin(db: Db, codeHash: string): { anonymous: { clients: number; counted: number; received: number }; keyed: { counted: number } } {
  const r = db
    .prepare(
      `SELECT coalesce(sum(anonymous * (counted > 0)), 0) AS clients, coalesce(sum(anonymous * counted), 0) AS counted, coalesce(sum(anonymous * received), 0) AS received,
         coalesce(sum((1 - anonymous) * counted), 0) AS keyed FROM scan_clients WHERE code_hash = ?`,
    )
    .get(codeKey(codeHash)) as { clients: number; counted: number; received: number; keyed: number };
  return { anonymous: { clients: r.clients, counted: r.counted, received: r.received }, keyed: { counted: r.keyed } };
}
