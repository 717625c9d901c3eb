import { createReadStream, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { ApiError, CODE, param, RouteModule } from './http';
import { PAGE_CSP } from './security-headers';

/** The pages and their scripts (shipped as is, next to dist/), and the browser libraries they use. */
const WEB_DIR = resolve(__dirname, '../../web');
const ASSETS = new Map<string, string>(Object.entries({
  'trace.js': resolve(WEB_DIR, 'trace.js'),
  'dashboard.js': resolve(WEB_DIR, 'dashboard.js'),
  'common.js': resolve(WEB_DIR, 'common.js'),
  'style.css': resolve(WEB_DIR, 'style.css'),
  'echarts.min.js': require.resolve('echarts/dist/echarts.min.js'),
  'world.json': require.resolve('@surbowl/world-geo-json-zh/world.zh.json'),
}));
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8' };

const GTIN = /^\d{8,14}$/;
const LOT = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The page templates, read once: the consumer page is what every QR scan opens. */
const TEMPLATES = new Map((['trace', 'dashboard'] as const).map((name) => [name, readFileSync(resolve(WEB_DIR, `${name}.html`), 'utf8')]));

/** Sends a page with its data attributes filled; every value has been validated and is escaped again. */
function sendPage(ctx: { type: string; body: unknown; set(k: string, v: string): void }, name: 'trace' | 'dashboard', data: Record<string, string | undefined> = {}): void {
  const attrs = Object.entries(data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` data-${k}="${escapeAttr(v!)}"`)
    .join('');
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.body = TEMPLATES.get(name)!.replace('<main id="app">', `<main id="app"${attrs}>`);
}

/** The consumer trace page a QR code points to (GS1 Digital Link or /c/{code}) and the operations dashboard. */
export const webRoutes: RouteModule = {
  routes: [
    { method: 'get', path: '/', scope: 'public', summary: 'Redirects to the operations dashboard' },
    { method: 'get', path: '/dashboard', scope: 'public', summary: 'Operations dashboard (HTML)' },
    { method: 'get', path: '/c/{code}', scope: 'public', summary: 'Consumer trace page of a printed code (HTML); verifies the code and records the scan', query: ['region'] },
    { method: 'get', path: '/01/{gtin}/10/{lot}/21/{serial}', scope: 'public', summary: 'GS1 Digital Link of one item (HTML): the consumer trace page, which also checks that the label matches the code', query: ['region'] },
    { method: 'get', path: '/01/{gtin}/10/{lot}', scope: 'public', summary: 'GS1 Digital Link of a lot (HTML): the public trace of the lot' },
    { method: 'get', path: '/assets/{file}', scope: 'public', summary: 'Page scripts, styles and browser libraries (ECharts, world map)' },
  ],
  register(router) {
    router.get('/', (ctx) => ctx.redirect('/dashboard'));
    router.get('/dashboard', (ctx) => sendPage(ctx, 'dashboard'));
    router.get('/c/:code', (ctx) => sendPage(ctx, 'trace', { code: param(ctx.params.code, CODE, 'code') }));
    router.get('/01/:gtin/10/:lot/21/:serial', (ctx) =>
      sendPage(ctx, 'trace', { code: param(ctx.params.serial, CODE, 'serial'), gtin: param(ctx.params.gtin, GTIN, 'gtin'), lot: param(ctx.params.lot, LOT, 'lot') }),
    );
    router.get('/01/:gtin/10/:lot', (ctx) => sendPage(ctx, 'trace', { gtin: param(ctx.params.gtin, GTIN, 'gtin'), lot: param(ctx.params.lot, LOT, 'lot') }));
    router.get('/assets/:file', (ctx) => {
      const path = ASSETS.get(ctx.params.file);
      if (!path) throw new ApiError(404, 'ERR_NOT_FOUND', `no asset ${ctx.params.file}`);
      ctx.type = TYPES[extname(path)];
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = createReadStream(path);
    });
  },
};
