import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Db } from './db';

/**
 * Leases: several indexer processes may share one database (a SQLite file in WAL mode on one host,
 * or PostgreSQL), but only one of them may follow the chain into it and only one may send the queued
 * scans to the chain. Each such duty is a row in `leases` (name, holder, expires_at); the holder
 * renews it every ttl/3, and any other process takes it over once it has expired (or at once, when
 * released or when its holder is a process of this host that no longer runs). Every statement is
 * portable SQL (an upsert with a WHERE clause, as in SQLite 3.24+ and PostgreSQL 9.5+). Times are the
 * writers' wall clocks: on SQLite the processes share one host; on PostgreSQL their hosts' clocks must
 * agree (NTP) to well within ttl/3, the margin a leader keeps before its lease can lapse.
 */

/** how long a lease lasts without renewal (INDEXER_LEASE_TTL_MS overrides) */
export const LEASE_TTL_MS = 15_000;

/** what each process does in turn: follow the chain, send queued scans */
export type LeaseName = 'ingestor' | 'scan-sender';

export type LeaseRole = 'leader' | 'follower';

/** Thrown inside a write transaction by a process that no longer holds the lease it writes under. */
export class LeaseLostError extends Error {
  readonly code = 'ERR_LEASE_LOST';
  constructor(name: LeaseName, holder: string) {
    super(`[ERR_LEASE_LOST] lease ${name} is no longer held by ${holder}`);
  }
}

/**
 * Where a pid names one process: the host and, on Linux, the PID namespace (two containers may share
 * a host name and a volume, not pids). Empty where the namespace cannot be read.
 */
function pidScope(): string {
  try {
    return `${hostname()}/${/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? ''}`;
  } catch {
    return `${hostname()}/`;
  }
}
const PID_SCOPE = pidScope();

/** A holder id, `host/pidns:pid:random`: names the process and is unique across restarts. */
export function leaseHolderId(): string {
  return `${PID_SCOPE}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Whether the holder is a process of this host and PID namespace that no longer runs (killed, or
 * crashed): it can write nothing more, so its lease need not be waited out (a restart after a crash
 * resumes at once). A pid in use again, or a holder elsewhere, is treated as alive.
 */
export function holderIsGone(holder: string): boolean {
  const [scope, pid] = holder.split(':');
  if (scope !== PID_SCOPE || PID_SCOPE.endsWith('/') || !/^\d+$/.test(pid ?? '')) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Takes the lease from `from` (a holder that is gone) in one atomic statement: fails if anyone else changed it. */
export async function takeOver(db: Db, name: LeaseName, holder: string, from: string, ttlMs: number, now: number): Promise<boolean> {
  return (await db.run('UPDATE leases SET holder = ?, expires_at = ?, acquired_at = ? WHERE name = ? AND holder = ?', holder, now + ttlMs, now, name, from)) === 1;
}

/**
 * Takes or renews the lease in one atomic statement: it succeeds when nobody holds it, when it has
 * expired, or when `holder` already holds it (even expired: nobody else took it, so nobody else wrote).
 */
export async function tryAcquire(db: Db, name: LeaseName, holder: string, ttlMs: number, now: number): Promise<boolean> {
  const changed = await db.run(
    `INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
       acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END
     WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
    name,
    holder,
    now + ttlMs,
    now,
    now,
  );
  return changed === 1;
}

/** Gives the lease up at once (a clean shutdown), so a follower need not wait for it to expire. */
export async function release(db: Db, name: LeaseName, holder: string): Promise<boolean> {
  return (await db.run('UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?', name, holder)) === 1;
}

/** The lease's row, if anyone ever took it. */
function leaseRow(db: Db, name: LeaseName): Promise<{ holder: string; expires_at: number; acquired_at: number } | undefined> {
  return db.get('SELECT holder, expires_at, acquired_at FROM leases WHERE name = ?', name);
}

/**
 * The lease's holder, read by a write transaction: on PostgreSQL the row is locked (FOR SHARE) until
 * the transaction ends, so a takeover (an UPDATE of it) waits for the commit or is seen here; on
 * SQLite the transaction holds the database's write lock from its start (IMMEDIATE), which FOR SHARE
 * does not parse.
 */
const FENCE_SQL = {
  sqlite: 'SELECT holder FROM leases WHERE name = ?',
  postgres: 'SELECT holder FROM leases WHERE name = ? FOR SHARE',
};

/** What /healthz says about one lease. */
export interface LeaseInfo {
  role: LeaseRole;
  holder: string | null;
  expiresAt: string | null;
}

/** What /healthz says about one lease, for a process in `role`: who holds it while it is live. */
export async function leaseInfo(db: Db, name: LeaseName, role: LeaseRole, now: number): Promise<LeaseInfo> {
  const row = await leaseRow(db, name);
  const live = row && row.expires_at > now;
  return { role, holder: live ? row.holder : null, expiresAt: live ? new Date(row.expires_at).toISOString() : null };
}

/** The duty a lease guards: started when the lease is taken, stopped when it is lost or released. */
export interface LeasedWork {
  running: Promise<void>;
  stop(): void;
}

/**
 * One process's side of one lease: polls as a follower, and as the leader runs the work and renews
 * the lease every ttl/3. A renewal that finds another holder, or no renewal for 2/3 of the ttl (the
 * database locked, the event loop stalled), stops the work before the lease can expire and be taken
 * over; the database writes of the work are fenced besides (`fence`).
 */
export class Lease {
  role: LeaseRole = 'follower';
  /** the holder's own bound: the lease expires at this time unless renewed */
  private expiresAt = 0;
  private stopped = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    readonly name: LeaseName,
    private readonly opts: { holder: string; ttlMs: number; log: Logger; now?: () => number },
  ) {
    if (!Number.isInteger(opts.ttlMs) || opts.ttlMs < 300) throw new Error(`lease ttl must be an integer of at least 300 ms, not ${opts.ttlMs}`);
    this.now = opts.now ?? Date.now;
  }

  /** Runs `start`'s work whenever this process holds the lease, until stop(). */
  run(start: () => LeasedWork): Promise<void> {
    this.loop ??= this.hold(start);
    return this.loop;
  }

  private async hold(start: () => LeasedWork): Promise<void> {
    const { ttlMs, log, holder } = this.opts;
    let work: { stop(): void; settled: Promise<void>; ended: boolean } | undefined;
    /** gives the lease up; one that cannot be (the database unreachable) lapses after its ttl instead */
    const letGo = () =>
      release(this.db, this.name, holder).then(
        () => true,
        (e: Error) => {
          log.warn({ event: 'indexer.lease_release_failed', lease: this.name, holder, err: e.message });
          return false;
        },
      );
    const begin = async () => {
      let w: LeasedWork;
      try {
        w = start();
      } catch (e) {
        // a duty that cannot start here is left to another process (or to the next poll)
        log.error({ event: 'indexer.lease_work_failed', lease: this.name, holder, err: (e as Error).message });
        this.role = 'follower';
        await letGo();
        return;
      }
      const current = { stop: () => w.stop(), ended: false, settled: Promise.resolve() };
      current.settled = w.running.then(
        () => void (current.ended = true),
        (e: Error) => {
          current.ended = true;
          log.error({ event: 'indexer.lease_work_failed', lease: this.name, holder, err: e.message });
        },
      );
      work = current;
    };
    const end = async () => {
      work?.stop();
      await work?.settled;
      work = undefined;
    };
    while (!this.stopped) {
      const at = this.now();
      let before: Awaited<ReturnType<typeof leaseRow>>;
      let taken: boolean | undefined;
      try {
        // a follower reads first (no lock: WAL mode, or PostgreSQL's MVCC) and writes only to take a lease
        // that looks free, so it does not queue for the write lock behind the leader's transactions at every poll
        before = this.role === 'follower' ? await leaseRow(this.db, this.name) : undefined;
        // another holder whose lease is live
        const other = before !== undefined && before.holder !== holder && before.expires_at > at ? before.holder : undefined;
        if (other !== undefined && holderIsGone(other)) taken = await takeOver(this.db, this.name, holder, other, ttlMs, at);
        else taken = other === undefined && (await tryAcquire(this.db, this.name, holder, ttlMs, at));
      } catch (e) {
        log.warn({ event: 'indexer.lease_renew_failed', lease: this.name, holder, err: (e as Error).message });
      }
      if (taken) {
        this.expiresAt = at + ttlMs;
        if (this.role === 'follower') {
          this.role = 'leader';
          const previous = before && before.holder !== holder ? before : undefined;
          log.info({ event: previous ? 'indexer.lease_takeover' : 'indexer.lease_acquired', lease: this.name, holder, previousHolder: previous?.holder ?? null, from: previous ? (previous.expires_at === 0 ? 'released' : previous.expires_at <= at ? 'expired' : 'holder gone') : undefined, ttlMs });
          await begin();
        } else if (work?.ended) {
          // the work ended by itself (it failed, or its fence saw another holder that has since let the lease lapse)
          log.info({ event: 'indexer.lease_work_restarted', lease: this.name, holder });
          await begin();
        }
      } else if (this.role === 'leader' && (taken === false || !this.fresh())) {
        this.role = 'follower';
        const reason = taken === false ? 'another process holds the lease' : 'not renewed within 2/3 of the ttl';
        log.warn({ event: 'indexer.lease_lost', lease: this.name, holder, reason });
        await end();
      }
      await this.sleep(ttlMs / 3);
    }
    if (this.role === 'leader') {
      this.role = 'follower';
      await end();
      if (await letGo()) log.info({ event: 'indexer.lease_released', lease: this.name, holder });
    }
  }

  /** Leader and renewed within the last ttl/3 of margin: an outside effect started now ends before anyone can take over. */
  fresh(): boolean {
    return this.role === 'leader' && this.now() < this.expiresAt - this.opts.ttlMs / 3;
  }

  /**
   * Called first inside a write transaction, with its `tx`: throws unless this process still holds
   * the lease. A takeover is itself a write, so it cannot slip between this check and the
   * transaction's commit (FENCE_SQL).
   */
  async fence(tx: Db): Promise<void> {
    if ((await tx.value<string>(FENCE_SQL[tx.engine], this.name)) !== this.opts.holder) throw new LeaseLostError(this.name, this.opts.holder);
  }

  info(): Promise<LeaseInfo> {
    return leaseInfo(this.db, this.name, this.role, this.now());
  }

  /** Stops the work (if leading), releases the lease and ends run(). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopped) return resolve();
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
