import type { Logger } from 'pino';
import { ChainBlock } from '@trace/client';
import { checkpoint, Db, setCheckpoint } from './db';
import { IndexedEvent, projectIndexed, projectOrDeadLetter } from './dead-letters';
import { LeaseLostError } from './lease';
import { insertRows, PROJECTIONS } from './projections';
import { ChainSource } from './source';
import { isTransient, Param } from './store';
import { announceIndexed } from './trace-cache';

/** An event projection that failed on the straight path: the batch is applied again, carefully. */
class ProjectionFailed extends Error {}

/**
 * Writes blocks: the blocks, their transactions (valid or not, with their validation code), the
 * events of valid ones through their projections, and the checkpoint. With `chaincode`, only that
 * chaincode's events are projected. `onDeadLetter` given (the careful path), each event is projected
 * in a savepoint of its own and one that fails goes to the dead letters; else (the straight path) a
 * failing event throws ProjectionFailed.
 */
async function writeBlocks(tx: Db, blocks: ChainBlock[], chaincode: string | undefined, onDeadLetter?: DeadLetterListener): Promise<number> {
  let events = 0;
  for (const block of blocks) {
    const n = Number(block.number);
    await tx.run(
      'INSERT INTO blocks (number, hash, previous_hash, data_hash, tx_count, first_tx_ms) VALUES (?, ?, ?, ?, ?, ?)',
      n,
      block.hash,
      block.previousHash,
      block.dataHash,
      block.transactions.length,
      block.transactions[0]?.timestampMs ?? null,
    );
    const projected: IndexedEvent[] = [];
    const eventRows: Param[][] = [];
    for (const [idx, t] of block.transactions.entries()) {
      if (t.validationCode !== 'VALID' || !t.event) continue;
      // PostgreSQL text cannot hold NUL: it becomes U+FFFD (as undecodable bytes do) on both engines,
      // so both store and project the same text
      const text = Buffer.from(t.event.payload).toString('utf8').replaceAll('\u0000', '\uFFFD');
      eventRows.push([n, idx, t.transactionId, t.event.name, text]);
      // other chaincodes' events (any name, any payload) are kept in `events` only
      if (Object.hasOwn(PROJECTIONS, t.event.name) && (chaincode === undefined || t.chaincodeName === chaincode)) projected.push({ block: n, idx, txId: t.transactionId, name: t.event.name, payload: text });
      events++;
    }
    await insertRows(
      tx,
      'INSERT INTO transactions (block, idx, tx_id, validation_code, creator_msp, timestamp_ms, chaincode, event_name)',
      '(?, ?, ?, ?, ?, ?, ?, ?)',
      block.transactions.map((t, idx) => [n, idx, t.transactionId, t.validationCode, t.creatorMspId, t.timestampMs, t.chaincodeName ?? null, t.event?.name ?? null]),
    );
    await insertRows(tx, 'INSERT INTO events (block, idx, tx_id, name, payload)', '(?, ?, ?, ?, ?)', eventRows);
    for (const e of projected) {
      if (onDeadLetter) {
        const error = await projectOrDeadLetter(tx, e);
        if (error !== undefined) onDeadLetter(e, error);
      } else {
        try {
          await projectIndexed(tx, e);
        } catch (err) {
          // a database error of the moment (a lost connection, a deadlock) fails the batch, to be retried whole
          if (isTransient(err)) throw err;
          throw new ProjectionFailed((err as Error).message);
        }
      }
    }
    await setCheckpoint(tx, block.number + 1n);
    // serve processes on other machines hear of the new height when it commits
    await announceIndexed(tx, block.number + 1n);
  }
  return events;
}

/** at most this many blocks share one transaction while the indexer catches up */
export const INGEST_BATCH = 20;

/**
 * Applies consecutive blocks in one transaction (one commit instead of one per block: a page dirtied
 * by several blocks is written once), atomically: all of them and their checkpoint, or none, so a
 * crash anywhere resumes with nothing lost and nothing doubled. Their events are projected straight;
 * should one fail, the transaction (a savepoint inside the caller's) is rolled back and the blocks
 * are applied again with a savepoint per event, so that only the failing event goes to the dead
 * letters (`onDeadLetter` hears of it) and the blocks go on. A savepoint per event costs a statement
 * each (on PostgreSQL a round trip): the straight path spares it for the batches that need none.
 */
export async function applyBlocks(db: Db, blocks: ChainBlock[], chaincode?: string, onDeadLetter?: DeadLetterListener): Promise<number> {
  try {
    return await db.transaction((tx) => writeBlocks(tx, blocks, chaincode));
  } catch (e) {
    if (!(e instanceof ProjectionFailed)) throw e;
    return db.transaction((tx) => writeBlocks(tx, blocks, chaincode, onDeadLetter ?? (() => undefined)));
  }
}

/** Applies one block (see applyBlocks). */
export function applyBlock(db: Db, block: ChainBlock, chaincode?: string, onDeadLetter?: DeadLetterListener): Promise<number> {
  return applyBlocks(db, [block], chaincode, onDeadLetter);
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
    private readonly fence?: (tx: Db) => Promise<void>,
  ) {}

  async run(): Promise<void> {
    let backoffMs = RECONNECT_BACKOFF_MS.first;
    const onDeadLetter: DeadLetterListener = (e, error) => this.log.error({ event: 'indexer.dead_letter', block: e.block, idx: e.idx, txId: e.txId, name: e.name, err: error });
    while (!this.stopped) {
      this.next = await checkpoint(this.db);
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
          // the fence reads before the blocks are written (on SQLite the transaction is IMMEDIATE: another
          // process's commit in between waits for it rather than failing it, SQLITE_BUSY_SNAPSHOT)
          const events = await this.db.transaction(async (tx) => {
            await this.fence?.(tx);
            return applyBlocks(tx, batch, this.chaincode, onDeadLetter);
          });
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
