import { TokenBucket } from '@trace/token-bucket';

/**
 * Wrong passwords per key (a username, a client address): each key a token bucket of `capacity`
 * failures that refills one every `refillSeconds`. With the bucket empty, logins under that key wait
 * (HTTP 429, Retry-After).
 */
export class LoginThrottle {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly capacity = 5,
    private readonly refillSeconds = 60,
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds until a login under any of keys may be tried again; 0 if it may be now. */
  wait(keys: string[], now = Date.now()): number {
    let ms = 0;
    for (const k of keys) {
      const b = this.buckets.get(k);
      if (!b) continue;
      if (b.isFull(now)) this.buckets.delete(k);
      else ms = Math.max(ms, b.msUntilToken(now));
    }
    return Math.ceil(ms / 1000);
  }

  /** Counts one wrong password against every key. */
  fail(keys: string[], now = Date.now()): void {
    for (const k of keys) {
      let b = this.buckets.get(k);
      if (!b) this.buckets.set(k, (b = new TokenBucket(1 / this.refillSeconds, this.capacity, now)));
      b.tryTake(now);
    }
    if (this.buckets.size > this.maxKeys) this.prune(now);
  }

  /** A right password clears the user's count (not the address's). */
  succeed(key: string): void {
    this.buckets.delete(key);
  }

  /** Drops refilled buckets, then the oldest ones: memory stays bounded however many names are tried. */
  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.isFull(now)) this.buckets.delete(k);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(k);
    }
  }
}
