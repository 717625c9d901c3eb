import type { Logger } from 'pino';
import { Ledger } from '@trace/client';
import { Db } from './db';

/** wait after a failed send (not a member yet, network down) */
const RETRY_MS = 5000;

interface QueuedScan {
  id: number;
  code_hash: string;
  channel: string;
  region: string;
  at: string;
}

/**
 * Sends the scans the API accepted (durably queued in SQLite) to the chain in batches through
 * codes:recordScans, as the indexer's service identity. A row leaves the queue only after its
 * batch committed, so a crash loses none (a crash between commit and delete may send a batch twice).
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
      const rows = this.db.prepare('SELECT id, code_hash, channel, region, at FROM scan_queue ORDER BY id LIMIT ?').all(this.batch) as QueuedScan[];
      if (rows.length > 0) {
        try {
          const scans = rows.map((r) => ({ codeHash: r.code_hash, channel: r.channel, region: r.region, at: r.at }));
          const result = await this.ledger.submit('codes:recordScans', JSON.stringify({ scans }));
          this.db.prepare('DELETE FROM scan_queue WHERE id <= ?').run(rows[rows.length - 1].id);
          this.log.info({ event: 'indexer.scans_sent', count: rows.length, txId: result.transactionId });
          continue;
        } catch (e) {
          this.log.warn({ event: 'indexer.scans_send_failed', count: rows.length, err: (e as Error).message, retryInMs: RETRY_MS });
          await this.sleep(Math.max(this.intervalMs, RETRY_MS));
          continue;
        }
      }
      await this.sleep(this.intervalMs);
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
