import type { Logger } from 'pino';
import { ChainBlock, EventStream, InvocationBlock, LedgerError, TbaasLedger } from '@trace/client';
import { checkpoint, Db, setCheckpoint } from './db';
import { ChainSource } from './source';
import { announceIndexed } from './trace-cache';

/**
 * Blocks from a TBaaS network's access address: Deliver over mutual TLS with the user certificates
 * of the console's 证书管理 (a Fabric 2.3 peer has Deliver but no Gateway service). The blocks are
 * the chain's own, so the index is the one the gateway source builds.
 */
export class TbaasSource implements ChainSource {
  constructor(private readonly ledger: TbaasLedger) {}

  blocks(from: bigint): Promise<EventStream<ChainBlock>> {
    return this.ledger.blocks(from);
  }
}

/** What /healthz says when only the cloud API is configured. */
export const CLOUD_ONLY = {
  reason:
    'TBaaS cloud API only: the API describes calls (function, arguments, status, sender, block), not chaincode events, so blocks, events and the tables built from them need the network\'s access address ("access" in the client file); indexing invocation records only',
  missing: ['blocks', 'events'],
};

/** The next block whose invocations are to be recorded (0 on a new database). */
export const invocationCheckpoint = (db: Db): Promise<bigint> => checkpoint(db, 'next_invocation_block');

const INSERT_INVOCATION = 'INSERT INTO invocations (block, idx, tx_id, chaincode, function, args, status, sender, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * Records one block's invocations and moves the checkpoint past it, in one transaction that also
 * tells readers on other machines of the new height.
 */
export async function applyInvocations(db: Db, block: InvocationBlock): Promise<void> {
  await db.transaction(async (tx) => {
    for (const r of block.invocations) await tx.run(INSERT_INVOCATION, Number(r.blockNumber), r.txIndex, r.transactionId, r.chaincodeName, r.function, JSON.stringify(r.args), r.status, r.sender, r.createTime);
    await setCheckpoint(tx, block.number + 1n, 'next_invocation_block');
    await announceIndexed(tx, block.number + 1n);
  });
}

export interface FollowerOptions {
  /** first wait after a failure (default 1 s), doubled per failure in a row */
  backoffMs?: number;
  /** longest wait between attempts (default 60 s) */
  maxBackoffMs?: number;
}

/**
 * Follows the invocations of a TBaaS chain through the cloud API alone, from the database's
 * checkpoint. A failure (after the API client's own retries) is logged once per run of failures and
 * retried with a doubling wait up to maxBackoffMs, so a lasting fault (a wrong key, a cloud answer
 * that is not the documented form) neither floods the log nor the API.
 */
export class InvocationFollower {
  next = 0n;
  /** reading the chain without a failure outstanding */
  connected = false;
  private stream?: { close(): void };
  private stopped = false;
  private wake?: () => void;

  constructor(
    private readonly db: Db,
    private readonly ledger: TbaasLedger,
    private readonly log: Logger,
    private readonly opts: FollowerOptions = {},
  ) {}

  async run(): Promise<void> {
    const first = this.opts.backoffMs ?? 1000;
    let delay = first;
    let failing = false;
    while (!this.stopped) {
      this.next = await invocationCheckpoint(this.db);
      try {
        // one call to know the API answers: with nothing new to read, the stream alone would not say
        await this.ledger.hasBlock(this.next === 0n ? 0n : this.next - 1n);
        this.connected = true;
        const stream = await this.ledger.invocations(this.next);
        this.stream = stream;
        if (this.stopped) stream.close();
        for await (const block of stream) {
          await applyInvocations(this.db, block);
          this.next = block.number + 1n;
          this.connected = true;
          if (failing) this.log.info({ event: 'indexer.invocations_resumed', next: Number(this.next) });
          failing = false;
          delay = first;
        }
      } catch (e) {
        this.connected = false;
        if (this.stopped) return;
        if (!failing) {
          const code = e instanceof LedgerError ? e.code : 'ERR_INTERNAL';
          this.log.error({ event: 'indexer.invocations_failed', code, err: (e as Error).message, block: Number(this.next), retry: `backoff from ${delay} ms to ${this.opts.maxBackoffMs ?? 60_000} ms; logged once until it recovers` });
          failing = true;
        }
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.wake = () => (clearTimeout(t), r());
        });
        delay = Math.min(delay * 2, this.opts.maxBackoffMs ?? 60_000);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.stream?.close();
    this.wake?.();
  }
}
