import { createHash } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import { Db } from './db';

/** A client mistake: answered with its HTTP status and a stable code, never a stack trace. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const HASH = /^[0-9a-f]{64}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function page(q: Record<string, unknown>): { limit: number; offset: number } {
  const limit = q.limit === undefined ? 50 : Number(q.limit);
  const offset = q.offset === undefined ? 0 : Number(q.offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ApiError(400, 'ERR_VALIDATION', 'limit must be an integer from 1 to 500');
  if (!Number.isInteger(offset) || offset < 0) throw new ApiError(400, 'ERR_VALIDATION', 'offset must be a non-negative integer');
  return { limit, offset };
}

function param(value: string | undefined, pattern: RegExp, name: string): string {
  if (!value || !pattern.test(value)) throw new ApiError(400, 'ERR_VALIDATION', `${name} is malformed`);
  return value;
}

const REGION = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;
const CHANNELS = ['consumer', 'retailer', 'logistics', 'regulator', 'rfid'];
const MAX_BODY = 16 * 1024;

async function readJson(req: NodeJS.ReadableStream): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'ERR_VALIDATION', `body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error();
    return body as Record<string, unknown>;
  } catch {
    throw new ApiError(400, 'ERR_VALIDATION', 'body must be a JSON object');
  }
}

/** The code a consumer typed or scanned, in canonical form (as the client library hashes it). */
function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

const parse = <T>(text: string | null | undefined): T | undefined => (text ? (JSON.parse(text) as T) : undefined);

/** The routes, described once: the OpenAPI document is generated from this table. */
export const ROUTES: { method: 'get' | 'post'; path: string; summary: string }[] = [
  { method: 'get', path: '/healthz', summary: 'Ready once the indexer follows the chain' },
  { method: 'get', path: '/openapi.json', summary: 'This document' },
  { method: 'get', path: '/api/stats', summary: 'Counts of blocks, transactions, tasks, codes, scans, alerts' },
  { method: 'get', path: '/api/blocks', summary: 'Blocks, newest first (limit, offset)' },
  { method: 'get', path: '/api/blocks/{number}', summary: 'One block with its transactions' },
  { method: 'get', path: '/api/transactions/{txId}', summary: 'A transaction with its validation code and event' },
  { method: 'get', path: '/api/members', summary: 'Consortium members' },
  { method: 'get', path: '/api/tasks/{taskId}', summary: 'A task with its stage records, versions and audits' },
  { method: 'get', path: '/api/codes/{hash}', summary: 'An indexed code: status, lot, scan count, parent' },
  { method: 'post', path: '/api/verify', summary: 'Verify a scanned code {code | codeHash, region, channel?, at?}; the scan is queued durably and sent to the chain in batches' },
  { method: 'get', path: '/api/trace/code/{hash}', summary: 'The public trace of a code: product, lot, stages with the items the template makes public, who/when/where, audits, flags, alarms, packaging parents' },
  { method: 'get', path: '/api/trace/lot/{gtin}/{lot}', summary: 'The public trace of a lot' },
  { method: 'get', path: '/api/alerts', summary: 'Alerts (type: clone, diversion, unknown, sensor, cross-validation)' },
  { method: 'get', path: '/api/assets/classes', summary: 'Asset classes' },
  { method: 'get', path: '/api/assets/classes/{classId}/holders', summary: 'Holders of a class' },
];

export function openApi(): object {
  const paths: Record<string, object> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    paths[r.path] = { [r.method]: { summary: r.summary, parameters: params, responses: { 200: { description: 'OK' }, 400: { description: 'invalid input' }, 404: { description: 'not found' } } } };
  }
  return { openapi: '3.0.3', info: { title: 'trace-chain indexer', version: '0.1.0' }, paths };
}

export function createApp(db: Db, status: () => { ready: boolean; next: bigint }): Koa {
  const app = new Koa();
  const router = new Router();

  app.use(async (ctx, next) => {
    ctx.set('Access-Control-Allow-Origin', '*');
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new ApiError(404, 'ERR_NOT_FOUND', `no route ${ctx.method} ${ctx.path}`);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, 'ERR_INTERNAL', 'internal error');
      if (!(e instanceof ApiError)) app.emit('error', e, ctx);
      ctx.status = err.status;
      ctx.body = { error: { code: err.code, message: err.message } };
    }
  });

  router.get('/healthz', (ctx) => {
    const s = status();
    ctx.status = s.ready ? 200 : 503;
    ctx.body = { status: s.ready ? 'ok' : 'catching up', nextBlock: Number(s.next) };
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApi();
  });
  router.get('/api/stats', (ctx) => {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    ctx.body = Object.fromEntries(['blocks', 'transactions', 'tasks', 'stage_records', 'codes', 'scans', 'alerts', 'devices', 'alarms', 'asset_classes'].map((t) => [t, count(t)]));
  });
  router.get('/api/blocks', (ctx) => {
    const { limit, offset } = page(ctx.query);
    ctx.body = db.prepare('SELECT * FROM blocks ORDER BY number DESC LIMIT ? OFFSET ?').all(limit, offset);
  });
  router.get('/api/blocks/:number', (ctx) => {
    const n = Number(ctx.params.number);
    if (!Number.isInteger(n) || n < 0) throw new ApiError(400, 'ERR_VALIDATION', 'block number must be a non-negative integer');
    const block = db.prepare('SELECT * FROM blocks WHERE number = ?').get(n);
    if (!block) throw new ApiError(404, 'ERR_NOT_FOUND', `block ${n} is not indexed`);
    ctx.body = { ...block, transactions: db.prepare('SELECT * FROM transactions WHERE block = ? ORDER BY idx').all(n) };
  });
  router.get('/api/transactions/:txId', (ctx) => {
    const txId = param(ctx.params.txId, HASH, 'txId');
    const tx = db.prepare('SELECT * FROM transactions WHERE tx_id = ? ORDER BY block, idx LIMIT 1').get(txId) as { block: number; idx: number } | undefined;
    if (!tx) throw new ApiError(404, 'ERR_NOT_FOUND', `transaction ${txId} is not indexed`);
    const ev = db.prepare('SELECT name, payload FROM events WHERE block = ? AND idx = ?').get(tx.block, tx.idx) as { name: string; payload: string } | undefined;
    ctx.body = { ...tx, event: ev && { name: ev.name, payload: JSON.parse(ev.payload) } };
  });
  router.get('/api/members', (ctx) => {
    ctx.body = (db.prepare('SELECT * FROM members ORDER BY msp_id').all() as { roles: string }[]).map((m) => ({ ...m, roles: JSON.parse(m.roles) }));
  });
  router.get('/api/tasks/:taskId', (ctx) => {
    const taskId = param(ctx.params.taskId, ID, 'taskId');
    const task = db.prepare('SELECT * FROM tasks WHERE task_id = ?').get(taskId) as { json: string; audit: string | null } | undefined;
    if (!task) throw new ApiError(404, 'ERR_NOT_FOUND', `task ${taskId} is not indexed`);
    const records = (db.prepare('SELECT * FROM stage_records WHERE task_id = ? ORDER BY event_time, stage, version').all(taskId) as { data: string; flags: string }[]).map((r) => ({
      ...r,
      data: JSON.parse(r.data),
      flags: JSON.parse(r.flags),
    }));
    ctx.body = { task: parse(task.json), audit: parse(task.audit), records, audits: db.prepare('SELECT * FROM audits WHERE task_id = ? ORDER BY at').all(taskId) };
  });
  router.get('/api/codes/:hash', (ctx) => {
    const hash = param(ctx.params.hash, HASH, 'code hash');
    const code = db.prepare('SELECT * FROM codes WHERE hash = ?').get(hash);
    if (!code) throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown code');
    const scans = (db.prepare('SELECT count(*) AS n FROM scans WHERE code_hash = ?').get(hash) as { n: number }).n;
    ctx.body = { ...code, scans };
  });
  router.post('/api/verify', async (ctx) => {
    const body = await readJson(ctx.req);
    let hash: string;
    if (typeof body.codeHash === 'string') hash = param(body.codeHash, HASH, 'codeHash');
    else if (typeof body.code === 'string' && /^[A-Za-z0-9-]{5,64}$/.test(body.code)) hash = createHash('sha256').update(normalizeCode(body.code)).digest('hex');
    else throw new ApiError(400, 'ERR_VALIDATION', 'code (as printed) or codeHash is required');
    const region = typeof body.region === 'string' && REGION.test(body.region) ? body.region : undefined;
    if (!region) throw new ApiError(400, 'ERR_VALIDATION', 'region must be an ISO 3166 code such as CN or CN-53');
    const channel = body.channel === undefined ? 'consumer' : String(body.channel);
    if (!CHANNELS.includes(channel)) throw new ApiError(400, 'ERR_VALIDATION', `channel must be one of ${CHANNELS.join(', ')}`);
    const at = body.at === undefined ? new Date().toISOString() : String(body.at);
    if (!Number.isFinite(Date.parse(at)) || !/Z$|[+-]\d{2}:\d{2}$/.test(at)) throw new ApiError(400, 'ERR_VALIDATION', 'at must be an RFC 3339 date-time');
    db.prepare('INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, ?, ?, ?, ?)').run(hash, channel, region, at, new Date().toISOString());
    const code = db.prepare('SELECT * FROM codes WHERE hash = ?').get(hash) as { status: string; suspect_since: string | null; task_id: string; gtin: string; lot: string } | undefined;
    const onChain = (db.prepare('SELECT count(*) AS n FROM scans WHERE code_hash = ?').get(hash) as { n: number }).n;
    const pending = (db.prepare('SELECT count(*) AS n FROM scan_queue WHERE code_hash = ?').get(hash) as { n: number }).n;
    const verdict = !code ? 'unknown' : code.status === 'void' ? 'void' : code.suspect_since ? 'suspect' : 'genuine';
    ctx.body = { codeHash: hash, genuine: !!code, verdict, taskId: code?.task_id, gtin: code?.gtin, lot: code?.lot, status: code?.status, scans: { onChain, pending, total: onChain + pending } };
  });
  type PublicTemplate = { name: string; publicView: Record<string, string[]>; stages: { stage: string; name: string; bizStep: string }[] };
  /** Published template versions are immutable, so each is parsed once (they are ~8 KB of JSON). */
  const templates = new Map<string, PublicTemplate>();
  function publishedTemplate(id: string, version: number): PublicTemplate | undefined {
    let tpl = templates.get(`${id}@${version}`);
    if (!tpl) {
      const row = db.prepare('SELECT json FROM templates WHERE id = ? AND version = ?').get(id, version) as { json: string } | undefined;
      tpl = parse<PublicTemplate>(row?.json);
      if (tpl) templates.set(`${id}@${version}`, tpl);
    }
    return tpl;
  }
  /** What a consumer may see of a task: only the items the template's public view lists. */
  function publicTrace(taskId: string) {
    const task = db.prepare('SELECT * FROM tasks WHERE task_id = ?').get(taskId) as { json: string; template: string; version: number; audit: string | null } | undefined;
    if (!task) throw new ApiError(404, 'ERR_NOT_FOUND', `task ${taskId} is not indexed`);
    const t = JSON.parse(task.json) as { product: { gtin: string; name: string }; lot: string };
    const tpl = publishedTemplate(task.template, task.version);
    const current = db
      .prepare('SELECT r.* FROM stage_records r WHERE r.task_id = ? AND r.version = (SELECT max(version) FROM stage_records WHERE task_id = r.task_id AND stage = r.stage) ORDER BY r.event_time')
      .all(taskId) as { stage: string; version: number; event_time: string; location: string | null; data: string; recorded_by: string; tx_id: string; flags: string }[];
    const location = db.prepare('SELECT id, name, type, region, lat, lon FROM locations WHERE id = ?');
    const audit = db.prepare("SELECT verdict, auditor, at FROM audits WHERE task_id = ? AND stage = ? ORDER BY at DESC LIMIT 1");
    const member = db.prepare('SELECT name FROM members WHERE msp_id = ?');
    const stages = current.map((r) => {
      const def = tpl?.stages.find((s) => s.stage === r.stage);
      const data = JSON.parse(r.data) as Record<string, unknown>;
      const visible = Object.fromEntries((tpl?.publicView[r.stage] ?? []).filter((k) => k in data).map((k) => [k, data[k]]));
      return {
        stage: r.stage,
        name: def?.name ?? r.stage,
        bizStep: def?.bizStep,
        eventTime: r.event_time,
        by: { mspId: r.recorded_by, name: (member.get(r.recorded_by) as { name: string } | undefined)?.name },
        location: r.location ? location.get(r.location) : undefined,
        data: visible,
        version: r.version,
        txId: r.tx_id,
        audit: audit.get(taskId, r.stage),
        flags: (JSON.parse(r.flags) as { ruleId: string; message: string }[]).map((f) => ({ ruleId: f.ruleId, message: f.message })),
      };
    });
    const alarms = db.prepare('SELECT alarm_id, device_id, metric, value, source, at, acked_by FROM alarms WHERE task_id = ? ORDER BY at').all(taskId);
    return { taskId, template: tpl?.name, product: t.product, lot: t.lot, audit: parse(task.audit), stages, alarms };
  }

  router.get('/api/trace/code/:hash', (ctx) => {
    const hash = param(ctx.params.hash, HASH, 'code hash');
    const code = db.prepare('SELECT * FROM codes WHERE hash = ?').get(hash) as { task_id: string; parent: string | null; status: string; suspect_since: string | null; diverted_since: string | null; level: string } | undefined;
    if (!code) throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown code');
    const parents: string[] = [];
    for (let p = code.parent; p && parents.length < 4; p = (db.prepare('SELECT parent FROM codes WHERE hash = ?').get(p) as { parent: string | null } | undefined)?.parent ?? null) parents.push(p);
    const scans = db.prepare('SELECT count(*) AS n, count(DISTINCT region) AS regions FROM scans WHERE code_hash = ?').get(hash) as { n: number; regions: number };
    const verdict = code.status === 'void' ? 'void' : code.suspect_since ? 'suspect' : 'genuine';
    ctx.body = { code: { hash, level: code.level, status: code.status, verdict, suspectSince: code.suspect_since, divertedSince: code.diverted_since, parents, scans: scans.n, scanRegions: scans.regions }, ...publicTrace(code.task_id) };
  });
  router.get('/api/trace/lot/:gtin/:lot', (ctx) => {
    const gtin = param(ctx.params.gtin, /^\d{8,14}$/, 'gtin');
    const lot = param(ctx.params.lot, /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/, 'lot');
    const task = db.prepare('SELECT task_id FROM tasks WHERE (gtin = ? OR gtin = ?) AND lot = ?').get(gtin, gtin.replace(/^0+(?=\d{8})/, ''), lot) as { task_id: string } | undefined;
    if (!task) throw new ApiError(404, 'ERR_NOT_FOUND', `lot ${lot} of ${gtin} is not indexed`);
    ctx.body = publicTrace(task.task_id);
  });
  router.get('/api/alerts', (ctx) => {
    const { limit, offset } = page(ctx.query);
    const type = ctx.query.type;
    if (type !== undefined && !['clone', 'diversion', 'unknown', 'sensor', 'cross-validation'].includes(String(type))) throw new ApiError(400, 'ERR_VALIDATION', 'unknown alert type');
    ctx.body = type
      ? db.prepare('SELECT * FROM alerts WHERE type = ? ORDER BY id DESC LIMIT ? OFFSET ?').all(String(type), limit, offset)
      : db.prepare('SELECT * FROM alerts ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset);
  });
  router.get('/api/assets/classes', (ctx) => {
    ctx.body = (db.prepare('SELECT json FROM asset_classes ORDER BY class_id').all() as { json: string }[]).map((r) => JSON.parse(r.json));
  });
  router.get('/api/assets/classes/:classId/holders', (ctx) => {
    const classId = param(ctx.params.classId, ID, 'classId');
    const { limit, offset } = page(ctx.query);
    ctx.body = db.prepare('SELECT account, amount FROM balances WHERE class_id = ? ORDER BY amount DESC, account LIMIT ? OFFSET ?').all(classId, limit, offset);
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
