import type { Context, Next } from 'koa';
import { ApiError } from './http';

/**
 * Cross-origin rules. The indexer's own pages and the configured app origins (a partner's web app)
 * may call every route, with the Authorization header. Any other page may read the public GET routes
 * (`*`, no credentials) but not write: its POSTs are refused unread, and its preflights get no
 * permission, so a foreign page cannot make its visitors' browsers scan codes.
 */
export function cors(appOrigins: readonly string[]): (ctx: Context, next: Next) => Promise<void> {
  const allowed = new Set(appOrigins);
  return async (ctx, next) => {
    const origin = ctx.get('origin');
    if (!origin) return next();
    ctx.vary('Origin');
    // the pages' own origin as the browser sees it (behind a trusted proxy: X-Forwarded-Proto and -Host)
    const trusted = origin === `${ctx.protocol}://${ctx.host}` || allowed.has(origin);
    if (ctx.method === 'OPTIONS') {
      if (trusted) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        ctx.set('Access-Control-Allow-Headers', 'Content-Type, Authorization');
        ctx.set('Access-Control-Max-Age', '86400');
      }
      ctx.status = 204;
      return;
    }
    if (trusted) ctx.set('Access-Control-Allow-Origin', origin);
    else if (ctx.method === 'GET' || ctx.method === 'HEAD') ctx.set('Access-Control-Allow-Origin', '*');
    else throw new ApiError(403, 'ERR_FORBIDDEN_ORIGIN', `requests from ${origin} may only read; configure it as an app origin to write`);
    await next();
  };
}
