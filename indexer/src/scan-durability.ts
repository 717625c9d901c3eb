import { Db } from './db';

/**
 * What only the indexer holds — scans accepted by /api/verify and not yet on chain, and the scan
 * ids that make retries idempotent — cannot be replayed from the chain after a power loss, so it is
 * committed with a full fsync; the rest of the database stays at synchronous=NORMAL, because the
 * ingestor replays it from the chain.
 */
export function durably<T>(db: Db, write: () => T): T {
  db.pragma('synchronous = FULL');
  try {
    // IMMEDIATE: these transactions read before they write, and another process sharing the file
    // may commit in between; taking the write lock first makes it wait (busy timeout), not fail
    return db.transaction(write).immediate();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

/** Scan ids are kept for this long after the scan's time (a retry later than that counts again). */
export const SCAN_ID_TTL_MS = 7 * 24 * 3_600_000;

/** Forgets the scan ids of scans older than the window; returns how many. */
export function expireScanIds(db: Db, ttlMs: number, nowMs: number): number {
  return db.prepare('DELETE FROM scan_ids WHERE at < ?').run(new Date(nowMs - ttlMs).toISOString()).changes;
}
