/**
 * Wrong passwords per key (a username, a client address): a token bucket of `capacity` failures that
 * refills one every `refillSeconds`. With the bucket empty, logins under that key wait (HTTP 429,
 * Retry-After). Kept to take()/wait() so it can sit on the shared @trace/token-bucket once merged.
 */
export class LoginThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly capacity = 5,
    private readonly refillSeconds = 60,
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds until a login under any of keys may be tried again; 0 if it may be now. */
  wait(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const k of keys) {
      const b = this.refill(k, now);
      if (b && b.tokens < 1) wait = Math.max(wait, Math.ceil((1 - b.tokens) * this.refillSeconds));
    }
    return wait;
  }

  /** Counts one wrong password against every key. */
  fail(keys: string[], now = Date.now()): void {
    for (const k of keys) {
      const b = this.refill(k, now) ?? { tokens: this.capacity, at: now };
      b.tokens = Math.max(0, b.tokens - 1);
      this.buckets.set(k, b);
    }
    if (this.buckets.size > this.maxKeys) this.prune(now);
  }

  /** A right password clears the user's count (not the address's). */
  succeed(key: string): void {
    this.buckets.delete(key);
  }

  private refill(key: string, now: number): { tokens: number; at: number } | undefined {
    const b = this.buckets.get(key);
    if (!b) return undefined;
    b.tokens = Math.min(this.capacity, b.tokens + (now - b.at) / (this.refillSeconds * 1000));
    b.at = now;
    if (b.tokens >= this.capacity) {
      this.buckets.delete(key);
      return undefined;
    }
    return b;
  }

  /** Drops refilled buckets, then the oldest ones: memory stays bounded however many names are tried. */
  private prune(now: number): void {
    for (const k of [...this.buckets.keys()]) this.refill(k, now);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(k);
    }
  }
}
