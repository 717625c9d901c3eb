import type { Context, Next } from 'koa';

/**
 * The pages' Content-Security-Policy: scripts, styles, data and the world map from the indexer's
 * own origin only, no framing. ECharts writes style attributes into its tooltip markup, so style
 * attributes are allowed (they cannot run script or load anything); style elements and sheets are not.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** everything but the pages (JSON, scripts, styles) renders nothing and is framed nowhere */
const RESOURCE_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Headers on every response: no MIME sniffing, no Referer (a page's address holds a printed code),
 * no framing; pages replace the CSP with PAGE_CSP.
 */
export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Content-Security-Policy', RESOURCE_CSP);
  await next();
}
