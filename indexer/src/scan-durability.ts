import { Db } from './db';

/** per SQLite store, the last durable write begun: the next waits for it (they share the connection's synchronous setting) */
const durableWrites = new WeakMap<Db, Promise<unknown>>();

/**
 * What only the indexer holds — scans accepted by /api/verify and not yet on chain, and the scan
 * ids that make retries idempotent — cannot be replayed from the chain after a power loss, so it is
 * committed with a full fsync; the rest of a SQLite database stays at synchronous=NORMAL, because
 * the ingestor replays it from the chain. A PostgreSQL commit is durable already (synchronous_commit).
 * `write` runs in a transaction and must use only its `tx`.
 */
export function durably<T>(db: Db, write: (tx: Db) => Promise<T>): Promise<T> {
  if (db.engine !== 'sqlite') return db.transaction(write);
  // the setting cannot change inside a transaction, and is the connection's: durable writes take turns,
  // or one finishing would set NORMAL back while another's transaction is still to commit
  const previous = durableWrites.get(db) ?? Promise.resolve();
  const mine = previous
    .catch(() => undefined)
    .then(async () => {
      await db.exec('PRAGMA synchronous = FULL');
      try {
        return await db.transaction(write);
      } finally {
        await db.exec('PRAGMA synchronous = NORMAL');
      }
    });
  durableWrites.set(db, mine);
  return mine;
}

/** Scan ids are kept for this long after the scan's time (a retry later than that counts again). */
export const SCAN_ID_TTL_MS = 7 * 24 * 3_600_000;

/** Forgets the scan ids of scans older than the window; returns how many. */
export function expireScanIds(db: Db, ttlMs: number, nowMs: number): Promise<number> {
  return db.run('DELETE FROM scan_ids WHERE at < ?', new Date(nowMs - ttlMs).toISOString());
}
