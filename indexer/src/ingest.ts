import type { Logger } from 'pino';
import { ChainBlock } from '@trace/client';
import { checkpoint, Db, setCheckpoint } from './db';
import { IndexedEvent, projectOrDeadLetter } from './dead-letters';
import { LeaseLostError } from './lease';
import { PROJECTIONS } from './projections';
import { ChainSource } from './source';

/**
 * Applies one block to the database: the block, its transactions (valid or not, with their
 * validation code), the events of valid ones through their projections, and the checkpoint, all in
 * one SQLite transaction, so a crash anywhere resumes with nothing lost and nothing doubled. With
 * `chaincode`, only that chaincode's events are projected. An event that cannot be projected goes to
 * the dead letters (`onDeadLetter` hears of it) and the block goes on.
 */
export function applyBlock(db: Db, block: ChainBlock, chaincode?: string, onDeadLetter?: DeadLetterListener): number {
  let events = 0;
  db.transaction(() => {
    const n = Number(block.number);
    db.prepare('INSERT INTO blocks (number, hash, previous_hash, data_hash, tx_count, first_tx_ms) VALUES (?, ?, ?, ?, ?, ?)').run(
      n,
      block.hash,
      block.previousHash,
      block.dataHash,
      block.transactions.length,
      block.transactions[0]?.timestampMs ?? null,
    );
    const insertTx = db.prepare('INSERT INTO transactions (block, idx, tx_id, validation_code, creator_msp, timestamp_ms, chaincode, event_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const insertEvent = db.prepare('INSERT INTO events (block, idx, tx_id, name, payload) VALUES (?, ?, ?, ?, ?)');
    block.transactions.forEach((tx, idx) => {
      insertTx.run(n, idx, tx.transactionId, tx.validationCode, tx.creatorMspId, tx.timestampMs, tx.chaincodeName ?? null, tx.event?.name ?? null);
      if (tx.validationCode !== 'VALID' || !tx.event) return;
      const text = Buffer.from(tx.event.payload).toString('utf8');
      insertEvent.run(n, idx, tx.transactionId, tx.event.name, text);
      // other chaincodes' events (any name, any payload) are kept in `events` only
      if (Object.hasOwn(PROJECTIONS, tx.event.name) && (chaincode === undefined || tx.chaincodeName === chaincode)) {
        const e = { block: n, idx, txId: tx.transactionId, name: tx.event.name, payload: text };
        const error = projectOrDeadLetter(db, e);
        if (error !== undefined) onDeadLetter?.(e, error);
      }
      events++;
    });
    setCheckpoint(db, block.number + 1n);
  })();
  return events;
}

/** at most this many blocks share one SQLite transaction while the indexer catches up */
export const INGEST_BATCH = 20;

/**
 * Applies consecutive blocks in one SQLite transaction (one commit instead of one per block: a
 * page dirtied by several blocks is written once). Atomic like applyBlock: all of them and their
 * checkpoint, or none.
 */
export function applyBlocks(db: Db, blocks: ChainBlock[], chaincode?: string, onDeadLetter?: DeadLetterListener): number {
  return db.transaction(() => blocks.reduce((n, b) => n + applyBlock(db, b, chaincode, onDeadLetter), 0))();
}

export type DeadLetterListener = (e: IndexedEvent, error: string) => void;

/** waits between reconnects to a failing source: doubling from the first to the last */
export const RECONNECT_BACKOFF_MS = { first: 1000, max: 30_000 };

const TICK = Symbol('tick');
/** resolves after the events already queued have run: what a stream has delivered by then is buffered */
const tick = () => new Promise<typeof TICK>((r) => setImmediate(() => r(TICK)));

/** Follows the chain from the database's checkpoint until stopped. */
export class Ingestor {
  private stream?: { close(): void };
  private stopped = false;
  /** height reached: the next block to read */
  next = 0n;
  /** connected to the chain source */
  connected = false;

  constructor(
    private readonly db: Db,
    private readonly source: ChainSource,
    private readonly log: Logger,
    /** the product chaincode: only its events are projected */
    private readonly chaincode?: string,
    /** runs first in each write transaction and throws if this process may no longer write (Lease.fence) */
    private readonly fence?: () => void,
  ) {}

  async run(): Promise<void> {
    let backoffMs = RECONNECT_BACKOFF_MS.first;
    const onDeadLetter: DeadLetterListener = (e, error) => this.log.error({ event: 'indexer.dead_letter', block: e.block, idx: e.idx, txId: e.txId, name: e.name, err: error });
    while (!this.stopped) {
      this.next = checkpoint(this.db);
      try {
        const stream = await this.source.blocks(this.next);
        this.stream = stream;
        this.connected = true;
        const it = stream[Symbol.asyncIterator]();
        let pending = it.next();
        for (let first = await pending; !first.done; first = await pending) {
          // Catching up, the stream has more blocks buffered: take those (not waiting for new ones)
          // into one transaction; following live, blocks come one at a time and commit one by one.
          const batch = [first.value];
          pending = it.next();
          while (batch.length < INGEST_BATCH) {
            const r = await Promise.race([pending, tick()]);
            if (r === TICK || r.done) break;
            batch.push(r.value);
            pending = it.next();
          }
          batch.forEach((b, i) => {
            if (b.number !== this.next + BigInt(i)) throw new Error(`expected block ${this.next + BigInt(i)}, got ${b.number}`);
          });
          // IMMEDIATE: the fence reads before the blocks are written, and another process's commit in
          // between must wait for this transaction rather than fail it (SQLITE_BUSY_SNAPSHOT)
          const events = this.db
            .transaction(() => {
              this.fence?.();
              return applyBlocks(this.db, batch, this.chaincode, onDeadLetter);
            })
            .immediate();
          this.next += BigInt(batch.length);
          backoffMs = RECONNECT_BACKOFF_MS.first;
          this.log.debug({ event: 'indexer.blocks', from: Number(batch[0].number), count: batch.length, events });
        }
        // a stream that ends without an error is over as well: reconnect like after a failure
        if (!this.stopped) throw new Error('the block stream ended');
      } catch (e) {
        this.connected = false;
        if (e instanceof LeaseLostError) {
          this.log.warn({ event: 'indexer.ingest_fenced', err: e.message });
          this.stop();
        }
        if (this.stopped) return;
        // the failed stream is closed before another is opened: a retry never leaves one behind
        this.stream?.close();
        this.stream = undefined;
        this.log.warn({ event: 'indexer.source_error', err: (e as Error).message, retryInMs: backoffMs });
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(RECONNECT_BACKOFF_MS.max, backoffMs * 2);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.stream?.close();
  }
}
