import type { Context, Next } from 'koa';
import { TokenBucket } from '@trace/token-bucket';
import { ApiError } from './http';

/**
 * Per-client token buckets for the routes that cost something (a queued scan, a chain read):
 * `perMinute` requests a minute with bursts of a tenth of that, keyed by the client address.
 * Idle (refilled) buckets are dropped, so the map stays as small as the set of recent clients.
 */
export function perClientLimit(perMinute: number): (ctx: Context, next: Next) => Promise<void> {
  const burst = Math.max(1, Math.ceil(perMinute / 10));
  const buckets = new Map<string, TokenBucket>();
  let sweptAt = Date.now();
  return async (ctx, next) => {
    const now = Date.now();
    if (now - sweptAt > 60_000) {
      for (const [k, b] of buckets) if (b.isFull(now)) buckets.delete(k);
      sweptAt = now;
    }
    let bucket = buckets.get(ctx.ip);
    if (!bucket) buckets.set(ctx.ip, (bucket = new TokenBucket(perMinute / 60, burst, now)));
    if (!bucket.tryTake(now)) {
      ctx.set('Retry-After', String(Math.ceil(bucket.msUntilToken(now) / 1000)));
      throw new ApiError(429, 'ERR_RATE_LIMITED', `more than ${perMinute} requests a minute from one client`);
    }
    await next();
  };
}
