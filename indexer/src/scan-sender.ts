import type { Logger } from 'pino';
import { Ledger, LedgerError } from '@trace/client';
import { Db } from './db';

/** wait after a failed send (not a member yet, network down) */
const RETRY_MS = 5000;

interface QueuedScan {
  id: number;
  code_hash: string;
  channel: string;
  region: string;
  at: string;
  received_at: string;
}

/** The chaincode refused the request itself (not the network or the ordering): resending cannot help. */
const refused = (e: unknown) => e instanceof LedgerError && ['ERR_VALIDATION', 'ERR_NOT_FOUND', 'ERR_CONFLICT', 'ERR_STATE'].includes(e.code);

/**
 * Sends the scans the API accepted (durably queued in SQLite) to the chain in batches through
 * codes:recordScans, as the indexer's service identity. A row leaves the queue only after its
 * batch committed, so a crash loses none (a crash between commit and delete may send a batch twice).
 * A batch the chaincode refuses is resent scan by scan, and a scan refused alone moves to
 * scan_rejects with the error, so one bad scan cannot hold back the queue.
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
  ) {}

  async run(): Promise<void> {
    while (!this.stopped) {
      const rows = this.db.prepare('SELECT id, code_hash, channel, region, at, received_at FROM scan_queue ORDER BY id LIMIT ?').all(this.batch) as QueuedScan[];
      if (rows.length > 0) {
        try {
          await this.send(rows);
          this.db.prepare('DELETE FROM scan_queue WHERE id <= ?').run(rows[rows.length - 1].id);
          continue;
        } catch (e) {
          try {
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

  private async send(rows: QueuedScan[]): Promise<void> {
    const scans = rows.map((r) => ({ codeHash: r.code_hash, channel: r.channel, region: r.region, at: r.at }));
    const result = await this.ledger.submit('codes:recordScans', JSON.stringify({ scans }));
    this.log.info({ event: 'indexer.scans_sent', count: rows.length, txId: result.transactionId });
  }

  /** Isolates the scans the chaincode refuses; stops at the first transport failure (retried later). */
  private async sendOneByOne(rows: QueuedScan[]): Promise<void> {
    for (const row of rows) {
      if (this.stopped) return;
      try {
        await this.send([row]);
      } catch (e) {
        if (!refused(e)) throw e;
        this.db
          .prepare('INSERT INTO scan_rejects (id, code_hash, channel, region, at, received_at, error, rejected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(row.id, row.code_hash, row.channel, row.region, row.at, row.received_at, (e as LedgerError).message, new Date().toISOString());
        this.log.warn({ event: 'indexer.scan_rejected', id: row.id, err: (e as LedgerError).message });
      }
      this.db.prepare('DELETE FROM scan_queue WHERE id = ?').run(row.id);
    }
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
