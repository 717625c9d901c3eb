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
  /** the salt of client hashes, once known committed */
  private salt?: string;

  constructor(opts: ScanAdmissionOptions = {}) {
    this.windowMs = opts.windowMs ?? 3_600_000;
    this.perCode = opts.perCodePerWindow ?? 100;
  }

  /**
   * The salt of client hashes, made by the first request that needs it (in its transaction: a read
   * on the store would wait for that transaction on SQLite). It is kept only when read here, not
   * inserted: an insert of this transaction may yet roll back.
   */
  private async clientSalt(tx: Db): Promise<string> {
    if (this.salt !== undefined) return this.salt;
    const inserted = await tx.run("INSERT INTO local_secrets (name, value) VALUES ('client_salt', ?) ON CONFLICT DO NOTHING", randomBytes(16).toString('hex'));
    const salt = (await tx.value<string>("SELECT value FROM local_secrets WHERE name = 'client_salt'"))!;
    if (inserted === 0) this.salt = salt;
    return salt;
  }

  /** Records the request inside the caller's transaction (`tx`) and tells whether it counts. */
  async admit(tx: Db, codeHash: string, caller: Caller, clientAddress: string, now: number): Promise<boolean> {
    const anonymous = caller.scope === 'public';
    const client = anonymous ? sha256(`${await this.clientSalt(tx)}:${clientAddress}`) : `key:${caller.keyId}`;
    const since = new Date(now - this.windowMs).toISOString();
    const key = codeKey(codeHash);
    const row = await tx.get<{ counted_at: string | null }>('SELECT counted_at FROM scan_clients WHERE code_hash = ? AND client = ?', key, client);
    const counts =
      !anonymous ||
      ((!row?.counted_at || row.counted_at < since) && (await tx.value<number>('SELECT count(*) FROM scan_clients WHERE code_hash = ? AND anonymous = 1 AND counted_at >= ?', key, since))! < this.perCode);
    const at = new Date(now).toISOString();
    await tx.run(
      `INSERT INTO scan_clients (code_hash, client, anonymous, received, counted, counted_at) VALUES (?, ?, ?, 1, ?, ?)
       ON CONFLICT (code_hash, client) DO UPDATE SET received = scan_clients.received + 1, counted = scan_clients.counted + excluded.counted,
         counted_at = coalesce(excluded.counted_at, scan_clients.counted_at)`,
      key,
      client,
      anonymous ? 1 : 0,
      counts ? 1 : 0,
      counts ? at : null,
    );
    return counts;
  }
}

/** Where the counted scans of a code came from: what a clone alert reports, so a crowd of phones reads apart from a flood. */
export async function scanOrigin(db: Db, codeHash: string): Promise<{ anonymous: { clients: number; counted: number; received: number }; keyed: { counted: number } }> {
  const r = (await db.get<{ clients: number; counted: number; received: number; keyed: number }>(
    `SELECT coalesce(sum(CASE WHEN anonymous = 1 AND counted > 0 THEN 1 ELSE 0 END), 0) AS clients, coalesce(sum(anonymous * counted), 0) AS counted,
       coalesce(sum(anonymous * received), 0) AS received, coalesce(sum((1 - anonymous) * counted), 0) AS keyed FROM scan_clients WHERE code_hash = ?`,
    codeKey(codeHash),
  ))!;
  return { anonymous: { clients: r.clients, counted: r.counted, received: r.received }, keyed: { counted: r.keyed } };
}
