import { createReadStream, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { z } from 'zod';
import { ApiError, route, RouteModule } from './http';
import { Code, Gtin, Lot, Region } from './schemas';
import { handle } from './validation';
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

const PAGE_RESPONSE = { description: 'the page', media: ['text/html'], schema: z.string() };
const LotParams = { gtin: Gtin, lot: Lot };

const R = {
  root: route({ method: 'get', path: '/', scope: 'public', summary: 'Redirects to the operations dashboard', response: { status: 302, description: 'to /dashboard' } }),
  dashboard: route({ method: 'get', path: '/dashboard', scope: 'public', summary: 'Operations dashboard (HTML)', response: PAGE_RESPONSE }),
  code: route({
    method: 'get', path: '/c/{code}', scope: 'public', summary: 'Consumer trace page of a printed code (HTML); verifies the code and records the scan',
    params: z.object({ code: Code }), query: z.object({ region: Region.optional().describe('read by the page, which sends it with the scan') }), response: PAGE_RESPONSE,
  }),
  item: route({
    method: 'get', path: '/01/{gtin}/10/{lot}/21/{serial}', scope: 'public', summary: 'GS1 Digital Link of one item (HTML): the consumer trace page, which also checks that the label matches the code',
    params: z.object({ ...LotParams, serial: Code }), query: z.object({ region: Region.optional().describe('read by the page, which sends it with the scan') }), response: PAGE_RESPONSE,
  }),
  lot: route({ method: 'get', path: '/01/{gtin}/10/{lot}', scope: 'public', summary: 'GS1 Digital Link of a lot (HTML): the public trace of the lot', params: z.object(LotParams), response: PAGE_RESPONSE }),
  asset: route({
    method: 'get', path: '/assets/{file}', scope: 'public', summary: 'Page scripts, styles and browser libraries (ECharts, world map)', errors: [404],
    params: z.object({ file: z.string() }),
    response: { description: 'the file', media: [...new Set(Object.values(TYPES).map((t) => t.split(';')[0]))], schema: z.string() },
  }),
};

/** The consumer trace page a QR code points to (GS1 Digital Link or /c/{code}) and the operations dashboard. */
export const webRoutes: RouteModule = {
  routes: Object.values(R),
  register(router) {
    handle(router, R.root, (ctx) => ctx.redirect('/dashboard'));
    handle(router, R.dashboard, (ctx) => sendPage(ctx, 'dashboard'));
    handle(router, R.code, (ctx, { params: { code } }) => sendPage(ctx, 'trace', { code }));
    handle(router, R.item, (ctx, { params: { gtin, lot, serial } }) => sendPage(ctx, 'trace', { code: serial, gtin, lot }));
    handle(router, R.lot, (ctx, { params: { gtin, lot } }) => sendPage(ctx, 'trace', { gtin, lot }));
    handle(router, R.asset, (ctx, { params: { file } }) => {
      const path = ASSETS.get(file);
      if (!path) throw new ApiError(404, 'ERR_NOT_FOUND', `no asset ${file}`);
      ctx.type = TYPES[extname(path)];
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = createReadStream(path);
    });
  },
};
