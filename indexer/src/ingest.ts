import type { Logger } from 'pino';
import { ChainBlock } from '@trace/client';
import { checkpoint, Db, setCheckpoint } from './db';
import { project, PROJECTIONS } from './projections';
import { ChainSource } from './source';

/**
 * Applies one block to the database: the block, its transactions (valid or not, with their
 * validation code), the events of valid ones through their projections, and the checkpoint, all in
 * one SQLite transaction, so a crash anywhere resumes with nothing lost and nothing doubled.
 */
export function applyBlock(db: Db, block: ChainBlock): number {
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
      // other chaincodes' events (any payload, not always JSON) are kept in `events` only
      if (tx.event.name in PROJECTIONS) project(db, { block: n, idx, txId: tx.transactionId, name: tx.event.name, payload: JSON.parse(text) });
      events++;
    });
    setCheckpoint(db, block.number + 1n);
  })();
  return events;
}

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
  ) {}

  async run(): Promise<void> {
    while (!this.stopped) {
      this.next = checkpoint(this.db);
      try {
        const stream = await this.source.blocks(this.next);
        this.stream = stream;
        this.connected = true;
        for await (const block of stream) {
          if (block.number !== this.next) throw new Error(`expected block ${this.next}, got ${block.number}`);
          const events = applyBlock(this.db, block);
          this.next = block.number + 1n;
          this.log.debug({ event: 'indexer.block', number: Number(block.number), txs: block.transactions.length, events });
        }
      } catch (e) {
        this.connected = false;
        if (this.stopped) return;
        this.log.warn({ event: 'indexer.source_error', err: (e as Error).message, retryInMs: 1000 });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.stream?.close();
  }
}
