/**
 * A token bucket: `rate` tokens a second, bursts up to `capacity`. The one implementation behind
 * every rate limit of the project: the TBaaS client paces its calls with take(), the indexer and
 * the TBaaS emulator refuse requests with tryTake().
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly rate: number,
    readonly capacity = rate,
    now = Date.now(),
  ) {
    if (!(rate > 0) || !(capacity >= 1)) throw new RangeError(`a token bucket needs a positive rate and a capacity of at least 1, not ${rate}/s and ${capacity}`);
    this.tokens = capacity;
    this.last = now;
  }

  /** Takes a token if one is there now; false (and nothing taken) if not. */
  tryTake(now = Date.now()): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token (0 when one is there). */
  msUntilToken(now = Date.now()): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  /** Refilled to capacity: an idle bucket, which a map of buckets may drop and recreate unchanged. */
  isFull(now = Date.now()): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }

  /** Waits for a token and takes it; callers are served in call order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken());
    this.queue = turn;
    return turn;
  }

  private async waitForToken(): Promise<void> {
    while (!this.tryTake()) await new Promise((r) => setTimeout(r, this.msUntilToken()));
  }

  private refill(now: number): void {
    // a clock that steps back refills nothing (and does not drain)
    if (now > this.last) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = Math.max(this.last, now);
  }
}
