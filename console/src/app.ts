import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import Koa, { Context } from 'koa';
import Router from '@koa/router';
import { allows } from './access';
import { ConsoleError } from './errors';
import { csrfMatches, findSession, SESSION_COOKIE } from './sessions';
import { Call, Deps, ROUTES } from './routes';
import { userOfToken } from './api-tokens';
import type { ConsoleRoute } from './route-kit';

/** The built front end (vite writes it next to the compiled server). */
export const WEB_DIR = resolve(__dirname, '../web');

const MAX_BODY = 64 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

// Element Plus positions popovers with style attributes; scripts only from this origin.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async function readJson(ctx: Context, limits: ConsoleRoute['body'] = { maxBytes: MAX_BODY }): Promise<Record<string, unknown>> {
  if (ctx.method === 'GET') return {};
  const types = ['application/json', ...(limits.types ?? [])];
  if (!ctx.is(types)) throw new ConsoleError(415, 'ERR_CONTENT_TYPE', `send Content-Type: ${types.join(' or ')}`);
  const max = limits.maxBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new ConsoleError(413, 'ERR_TOO_LARGE', `bodies are limited to ${max} bytes`);
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    return body as Record<string, unknown>;
  } catch {
    throw new ConsoleError(400, 'ERR_VALIDATION', 'the body must be a JSON object');
  }
}

/** The API from the route table (session, roles and CSRF enforced per route), and the single-page front end. */
export function createConsoleApp(deps: Deps, opts: { proxy?: boolean } = {}): Koa {
  const app = new Koa({ proxy: opts.proxy ?? false });
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Content-Security-Policy', CSP);
    try {
      await next();
    } catch (e) {
      const err = e instanceof ConsoleError ? e : new ConsoleError(500, 'ERR_INTERNAL', 'internal error');
      if (!(e instanceof ConsoleError)) deps.log.error({ evt: 'console.error', path: ctx.path, err: (e as Error).message });
      ctx.status = err.status;
      if (err.retryAfter !== undefined) ctx.set('Retry-After', String(err.retryAfter));
      ctx.body = { error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } };
    }
  });
  const router = new Router();
  for (const route of ROUTES) {
    router[route.method](route.path, async (ctx) => {
      // machine routes take only an API token: a browser's cookie never authenticates them, so they need no CSRF token
      const tokenUser = route.auth === 'token' ? userOfToken(deps.db, ctx.get('authorization') || undefined) : undefined;
      const session = route.auth === 'token' ? undefined : findSession(deps.db, ctx.cookies.get(SESSION_COOKIE));
      const roles = tokenUser?.roles ?? session?.user.roles;
      if (route.access !== 'public') {
        if (!roles) throw new ConsoleError(401, 'ERR_UNAUTHENTICATED', route.auth === 'token' ? 'send Authorization: Bearer <API token>' : 'log in first');
        if (!allows(route.access, roles)) throw new ConsoleError(403, 'ERR_FORBIDDEN_ROLE', `${ctx.method} ${route.path} needs one of the roles ${[route.access].flat().join(', ')}`);
        if (session && route.method === 'post' && !csrfMatches(session, ctx.get('x-csrf-token') || undefined)) throw new ConsoleError(403, 'ERR_CSRF', 'missing or wrong X-CSRF-Token');
      }
      const call: Call = { ctx, deps, session, tokenUser, body: await readJson(ctx, route.body), params: ctx.params as Record<string, string> };
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await route.handle(call);
    });
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(async (ctx) => {
    if (ctx.path.startsWith('/api/') || ctx.path.startsWith('/epcis/')) throw new ConsoleError(404, 'ERR_NOT_FOUND', `no route ${ctx.method} ${ctx.path}`);
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new ConsoleError(405, 'ERR_METHOD', 'only GET');
    serveWeb(ctx);
  });
  return app;
}

/** A built asset by path, else index.html: the front end's router owns every other path. */
function serveWeb(ctx: Context): void {
  const file = resolve(WEB_DIR, `.${decodeURIComponent(ctx.path)}`);
  const asset = file.startsWith(WEB_DIR + sep) && existsSync(file) && statSync(file).isFile();
  const path = asset ? file : join(WEB_DIR, 'index.html');
  if (!existsSync(path)) throw new ConsoleError(503, 'ERR_NO_FRONT_END', 'the front end is not built: npm run build -w @trace/console');
  ctx.type = TYPES[extname(path)] ?? 'application/octet-stream';
  // hashed asset names never change content; the page itself must be re-read
  ctx.set('Cache-Control', asset && ctx.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
  ctx.body = readFileSync(path);
}
