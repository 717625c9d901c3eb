import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Ledger, LedgerError, TraceChainClient } from '@trace/client';
import { codeHex } from './code-key';
import { Db } from './db';
import { durably } from './scan-durability';

/** wait after a failed send (not a member yet, network down) */
const RETRY_MS = 5000;

const COLUMNS = 'id, code_hash, channel, region, at, received_at, batch_id';
const REMOVE = 'DELETE FROM scan_queue WHERE id = ?';

interface QueuedScan {
  id: number;
  /** the code's 32-byte key, as stored */
  code_hash: Buffer;
  channel: string;
  region: string | null;
  at: string;
  received_at: string;
  /** the batch id it was last sent under, kept until its batch committed */
  batch_id: string | null;
}

/**
 * Resending cannot help: the chaincode refused the request itself (not the network or the ordering).
 * A batch whose outcome is unknown is resent under its batch id, which the chaincode counts once.
 */
const refused = (e: unknown) => e instanceof LedgerError && ['ERR_VALIDATION', 'ERR_NOT_FOUND', 'ERR_CONFLICT', 'ERR_STATE'].includes(e.code);

/**
 * The batch's transaction was ordered but invalidated by MVCC: none of its writes took effect, and
 * the transaction it lost to has committed, so resending it at once is safe and will most likely pass.
 */
const lostToConflict = (e: unknown) => e instanceof LedgerError && e.code === 'ERR_COMMIT' && ['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT'].includes(e.details.validationCode ?? '');

/** recordScans' result: outcomes[i] is scans[i]'s */
type RecordScansResult = Awaited<ReturnType<TraceChainClient['codes']['recordScans']>>;

/**
 * Sends the scans the API accepted (durably queued in the database) to the chain in batches through
 * codes:recordScans, as the indexer's service identity (an org holding the scanner or retailer role,
 * or the brand for its own codes). A row leaves the queue only after its batch committed, so a crash
 * loses none; each batch carries an id, stored with its rows before it is sent, so a batch sent again
 * (after a crash between commit and delete, an unknown outcome, or by the process that took over the
 * sender's lease) is answered as already recorded and nothing counts twice. The chaincode reports each
 * scan's outcome: a scan it refused (e.g. another brand's code) moves to scan_rejects with its error
 * while the rest of the batch counts. A batch invalidated by an MVCC conflict is resent at once; a
 * batch the chaincode refuses as a whole is resent scan by scan, so one bad scan cannot hold back the queue.
 */
export class ScanSender {
  private stopped = false;
  private wake?: () => void;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly log: Logger,
    private readonly intervalMs = 200,
    private readonly batch = 500,
    /** whether a batch may be sent now (Lease.fresh: the lease cannot lapse while it is in flight) */
    private readonly maySend: () => boolean = () => true,
  ) {}

  async run(): Promise<void> {
    while (!this.stopped) {
      const rows = await this.nextBatch();
      if (rows.length > 0 && this.maySend()) {
        try {
          await this.send(rows);
          continue;
        } catch (e) {
          if (lostToConflict(e)) {
            this.log.info({ event: 'indexer.scans_conflict', count: rows.length, txId: (e as LedgerError).details.transactionId, validationCode: (e as LedgerError).details.validationCode });
            continue;
          }
          try {
            // anything else (the network, an unknown outcome) is retried later, under the same batch id
            if (!refused(e)) throw e;
            await this.sendOneByOne(rows);
            continue;
          } catch (failure) {
            this.log.warn({ event: 'indexer.scans_send_failed', count: rows.length, err: (failure as Error).message, retryInMs: RETRY_MS });
            await this.sleep(Math.max(this.intervalMs, RETRY_MS));
            continue;
          }
        }
      }
      await this.sleep(this.intervalMs);
    }
  }

  /** A batch sent before and not yet settled (resent whole, under its id), else the oldest queued rows. */
  private async nextBatch(): Promise<QueuedScan[]> {
    const inFlight = await this.db.value<string>('SELECT batch_id FROM scan_queue WHERE batch_id IS NOT NULL ORDER BY id LIMIT 1');
    if (inFlight) return this.db.all<QueuedScan>(`SELECT ${COLUMNS} FROM scan_queue WHERE batch_id = ? ORDER BY id`, inFlight);
    return this.db.all<QueuedScan>(`SELECT ${COLUMNS} FROM scan_queue WHERE batch_id IS NULL ORDER BY id LIMIT ?`, this.batch);
  }

  /** Names rows' batch (durably, before it goes out), unless they were sent together under one already. */
  private async batchIdOf(rows: QueuedScan[]): Promise<string> {
    const id = rows[0].batch_id;
    if (id !== null && rows.every((r) => r.batch_id === id)) return id;
    const fresh = randomBytes(16).toString('hex');
    await durably(this.db, async (tx) => {
      for (const r of rows) await tx.run('UPDATE scan_queue SET batch_id = ? WHERE id = ?', fresh, r.id);
    });
    for (const r of rows) r.batch_id = fresh;
    return fresh;
  }

  /** Sends rows as one batch; once it commits, the refused scans go to scan_rejects and the rest leave the queue. */
  private async send(rows: QueuedScan[]): Promise<void> {
    const scans = rows.map((r) => ({ codeHash: codeHex(r.code_hash), channel: r.channel, region: r.region ?? undefined, at: r.at }));
    const batchId = await this.batchIdOf(rows);
    const result = await this.ledger.submit('codes:recordScans', JSON.stringify({ batchId, scans }));
    const { outcomes, alreadyRecorded } = JSON.parse(Buffer.from(result.result).toString('utf8')) as RecordScansResult;
    if (alreadyRecorded) this.log.info({ event: 'indexer.scans_already_recorded', batchId, count: rows.length, txId: alreadyRecorded.txId });
    const refusedRows: { row: QueuedScan; outcome: { code: string; message: string } }[] = [];
    // Durably: a scan on chain that came back into the queue after a power loss would be counted twice.
    await durably(this.db, async (tx) => {
      for (const [i, row] of rows.entries()) {
        const outcome = outcomes[i];
        if (outcome.status === 'refused') refusedRows.push({ row, outcome });
        else await tx.run(REMOVE, row.id);
      }
    });
    for (const { row, outcome } of refusedRows) await this.reject([row], outcome.code, `[${outcome.code}] ${outcome.message}`);
    this.log.info({ event: 'indexer.scans_sent', batchId, count: rows.length, refused: refusedRows.length, txId: result.transactionId });
  }

  /** Isolates the scans the chaincode refuses; stops at the first transport failure (retried later). */
  private async sendOneByOne(rows: QueuedScan[]): Promise<void> {
    for (const row of rows) {
      if (this.stopped || !this.maySend()) return;
      try {
        // its own batch now: a crash here resends it alone, not with the rest it was refused with
        if (rows.length > 1) row.batch_id = null;
        await this.send([row]);
      } catch (e) {
        if (!refused(e)) throw e;
        await this.reject([row], (e as LedgerError).code, (e as LedgerError).message);
      }
    }
  }

  /** Moves rows from the queue to scan_rejects with the error, in one transaction. */
  private async reject(rows: QueuedScan[], code: string, error: string): Promise<void> {
    const now = new Date().toISOString();
    await durably(this.db, async (tx) => {
      for (const r of rows) {
        await tx.run(
          `INSERT INTO scan_rejects (id, code_hash, channel, region, at, received_at, error, rejected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET code_hash = excluded.code_hash, channel = excluded.channel, region = excluded.region, at = excluded.at,
             received_at = excluded.received_at, error = excluded.error, rejected_at = excluded.rejected_at`,
          r.id,
          r.code_hash,
          r.channel,
          r.region,
          r.at,
          r.received_at,
          error,
          now,
        );
        await tx.run(REMOVE, r.id);
      }
    });
    this.log.warn({ event: 'indexer.scans_rejected', ids: rows.map((r) => r.id), code, err: error });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
}
