import type { Context, Next } from 'koa';
import { ApiError } from './http';

/**
 * Per-client token buckets for the routes that cost something (a queued scan, a chain read):
 * `perMinute` requests a minute with bursts of a tenth of that, keyed by the client address.
 * Idle buckets are dropped, so the map stays as small as the set of recent clients.
 */
export function perClientLimit(perMinute: number): (ctx: Context, next: Next) => Promise<void> {
  const burst = Math.max(1, Math.ceil(perMinute / 10));
  const refillPerMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let sweptAt = Date.now();
  return async (ctx, next) => {
    const now = Date.now();
    if (now - sweptAt > 60_000) {
      for (const [k, b] of buckets) if (b.tokens + (now - b.at) * refillPerMs >= burst) buckets.delete(k);
      sweptAt = now;
    }
    const key = ctx.ip;
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * refillPerMs);
    b.at = now;
    buckets.set(key, b);
    if (b.tokens < 1) {
      ctx.set('Retry-After', String(Math.ceil((1 - b.tokens) / refillPerMs / 1000)));
      throw new ApiError(429, 'ERR_RATE_LIMITED', `more than ${perMinute} requests a minute from one client`);
    }
    b.tokens -= 1;
    await next();
  };
}
