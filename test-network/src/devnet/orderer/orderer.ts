import type { Logger } from 'pino';
import { Ledger, Submission } from '../ledger/ledger';

export interface BatchOptions {
  /** MaxMessageCount */
  maxMessages: number;
  /** BatchTimeout from the first pending message */
  timeoutMs: number;
  /** PreferredMaxBytes */
  preferredMaxBytes: number;
}

/**
 * Solo ordering service with Fabric's block cutter: cut at maxMessages, at preferredMaxBytes,
 * or timeoutMs after the first pending message. Blocks are committed one at a time, in order.
 */
export class Orderer {
  private pending: Submission[] = [];
  private pendingBytes = 0;
  private timer?: NodeJS.Timeout;
  private committing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly opts: BatchOptions,
    private readonly log: Logger,
  ) {}

  broadcast(sub: Submission): void {
    if (this.stopped) throw new Error('orderer is stopped');
    const size = sub.bytes.length;
    if (size > this.opts.preferredMaxBytes) {
      this.cut();
      this.pending.push(sub);
      this.pendingBytes = size;
      this.cut();
      return;
    }
    if (this.pendingBytes + size > this.opts.preferredMaxBytes) this.cut();
    this.pending.push(sub);
    this.pendingBytes += size;
    if (this.pending.length >= this.opts.maxMessages) this.cut();
    else if (!this.timer) this.timer = setTimeout(() => this.cut(), this.opts.timeoutMs);
  }

  private cut(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.committing = this.committing.then(async () => {
      try {
        const { number, codes } = await this.ledger.commit(batch);
        this.log.debug({ event: 'block.committed', number, txs: codes.length });
      } catch (e) {
        // A commit failure (disk full, I/O error) must not be acknowledged: stop serving.
        this.log.fatal({ event: 'block.commit_failed', err: (e as Error).message });
        process.exitCode = 1;
        process.kill(process.pid, 'SIGTERM');
      }
    });
  }

  /** Cuts and commits what is pending. */
  async flush(): Promise<void> {
    this.cut();
    await this.committing;
  }

  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
  }
}
