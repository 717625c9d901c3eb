import { CloseableAsyncIterable, Network, Status } from '@hyperledger/fabric-gateway';
import { peer } from '@hyperledger/fabric-protos';

/**
 * Learns submitted transactions' commit outcomes from one filtered-block stream per connection
 * (each block's transaction ids and validation codes) instead of one signed CommitStatus call per
 * transaction: per submit, one ECDSA signature, one protobuf request and one gRPC call less.
 *
 * A transaction is watched only when the stream was already delivering blocks before it was
 * submitted, so its block cannot have gone by unseen; before that (the first submits), and for the
 * transactions waiting when the stream fails or ends, the caller asks with CommitStatus as before.
 */
export class CommitWatcher {
  private running = false;
  /** the stream has delivered a block: every later commit will be delivered too, in order */
  private live = false;
  private closed = false;
  private stream?: CloseableAsyncIterable<peer.FilteredBlock>;
  /** resolved with the outcome, or with undefined when the stream can no longer tell */
  private readonly waiting = new Map<string, (status: Status | undefined) => void>();

  constructor(private readonly network: Network) {}

  /**
   * Called before submitting transactionId: the outcome to come (undefined if the stream is lost),
   * or undefined when the stream is not live yet (it is started for later submits).
   */
  expect(transactionId: string): Promise<Status | undefined> | undefined {
    if (!this.live) {
      this.start();
      return undefined;
    }
    return new Promise((resolve) => this.waiting.set(transactionId, resolve));
  }

  /** The caller no longer waits (its submit failed, or it asked with CommitStatus instead). */
  forget(transactionId: string): void {
    this.waiting.delete(transactionId);
  }

  close(): void {
    this.closed = true;
    this.stream?.close();
    this.release();
  }

  private start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.follow();
  }

  private async follow(): Promise<void> {
    try {
      this.stream = await this.network.getFilteredBlockEvents();
      if (this.closed) this.stream.close();
      for await (const block of this.stream) {
        this.live = true;
        const blockNumber = BigInt(block.getNumber());
        for (const tx of block.getFilteredTransactionsList()) {
          const done = this.waiting.get(tx.getTxid());
          if (!done) continue;
          this.waiting.delete(tx.getTxid());
          const code = tx.getTxValidationCode();
          done({ blockNumber, code, successful: code === peer.TxValidationCode.VALID, transactionId: tx.getTxid() });
        }
      }
    } catch {
      // A failed or closed stream: the waiting submits ask with CommitStatus, the next submit starts a new stream.
    } finally {
      this.live = false;
      this.running = false;
      this.stream = undefined;
      this.release();
    }
  }

  private release(): void {
    for (const done of this.waiting.values()) done(undefined);
    this.waiting.clear();
  }
}
