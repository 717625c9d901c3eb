import Koa from 'koa';
import Router from '@koa/router';
import { codeHash, Ledger } from '@trace/client';
import { Db } from './db';
import { durably } from './scan-durability';
import type { LeaseInfo } from './lease';
import { ApiError, CODE, HASH, ID, oneOf, page, param, parseJson as parse, readJson, REGION, RouteDoc, RouteModule } from './http';
import { perClientLimit } from './rate-limit';
import { callerOf, checkDeclared, enforceScopes, stageDataFilter } from './access';
import { assetRoutes } from './routes/assets';
import { auditRoutes } from './routes/audit';
import { deviceRoutes } from './routes/devices';
import { statsRoutes } from './routes/stats';
import { webRoutes } from './web';
import { cors } from './cors';
import { deadLetterCount } from './dead-letters';
import { securityHeaders } from './security-headers';
import { ScanAdmission, ScanAdmissionOptions, scanOrigin } from './scan-admission';
import type { Caller } from './keys';

/** the shape codes:recordScans accepts, so that no queued scan is refused later */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const LOT = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;
const CHANNELS = ['consumer', 'retailer', 'logistics', 'regulator', 'rfid'];
/** a scan may be stamped by the phone a little ahead of the server's clock, not more */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** The routes, described once: the OpenAPI document is generated from this table. */
const CORE_ROUTES: RouteDoc[] = [
  { method: 'get', path: '/healthz', scope: 'public', summary: 'Ready once the indexer follows the chain (status ok, or degraded with a reason and what is missing, e.g. TBaaS without its access address, or events in dead letters: deadLetters), and the role of this process per lease (`leases`: leader or follower of the ingestor and the scan sender)' },
  { method: 'get', path: '/openapi.json', scope: 'public', summary: 'This document' },
  { method: 'get', path: '/api/blocks', scope: 'member', summary: 'Blocks, newest first (limit, offset)' },
  { method: 'get', path: '/api/blocks/{number}', scope: 'member', summary: 'One block with its transactions' },
  { method: 'get', path: '/api/transactions/{txId}', scope: 'member', summary: "A transaction with its validation code and event (a stage record's data: in full for the task's own orgs and auditors, else the template's public view)" },
  { method: 'get', path: '/api/members', scope: 'member', summary: 'Consortium members' },
  { method: 'get', path: '/api/tasks', scope: 'member', summary: 'Tasks (lots), newest first (template, gtin, lot, audited=true|false, limit, offset)', query: ['template', 'gtin', 'lot', 'audited', 'limit', 'offset'] },
  { method: 'get', path: '/api/tasks/{taskId}', scope: 'member', summary: "A task with its stage records, versions and audits (stage data in full for the task's owner, its assigned orgs and auditors; other members get the template's public view)" },
  { method: 'get', path: '/api/codes/{hash}', scope: 'member', summary: 'An indexed code: status, lot, scan count, parent' },
  {
    method: 'post',
    path: '/api/verify', scope: 'public',
    summary:
      'Verify a scanned code {code | codeHash (member or auditor key only: Authorization: Bearer <key>), region?, channel?, at?, scanId?}; the scan is queued durably and sent to the chain in batches (a scan without a region never counts as a diversion). A repeated scanId answers again without counting twice; the same scanId with other content is a 409. Anonymous requests count as a scan once per code and client within a window, and for a limited number of clients per code and window (`counted` says whether this one did); keyed ones always count. Rate-limited per client (429) unless sent with a key (401 for a codeHash without one). Only Content-Type application/json (415); a foreign web origin may not post (403).',
  },
  { method: 'get', path: '/api/trace/code/{hash}', scope: 'public', summary: 'The public trace of a code: product, lot, stages with the items the template makes public, who/when/where, audits, flags, alarms, packaging parents' },
  { method: 'get', path: '/api/trace/lot/{gtin}/{lot}', scope: 'public', summary: 'The public trace of a lot' },
  { method: 'get', path: '/api/alerts', scope: 'member', summary: 'Alerts, newest first (type: clone, diversion, unknown, sensor, cross-validation; limit, offset)', query: ['type', 'limit', 'offset'] },
];

const MODULES: RouteModule[] = [deviceRoutes, assetRoutes, statsRoutes, auditRoutes, webRoutes];

/** Every route, described once: the OpenAPI document is generated from this table. */
export const ROUTES: RouteDoc[] = [...CORE_ROUTES, ...MODULES.flatMap((m) => m.routes)];

const ERROR_CONTENT = {
  'application/json': { schema: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } },
};

const AUTH_RESPONSES = {
  401: { description: 'no API key, or an unknown or revoked one', content: ERROR_CONTENT },
  403: { description: "the key's scope is below the route's", content: ERROR_CONTENT },
};

export function openApi(): object {
  const paths: Record<string, object> = {};
  for (const r of ROUTES) {
    const params = [
      ...[...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...(r.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
    ];
    const responses = {
      200: { description: 'OK' },
      400: { description: 'invalid input', content: ERROR_CONTENT },
      404: { description: 'not found', content: ERROR_CONTENT },
      ...(r.scope === 'public' ? {} : AUTH_RESPONSES),
      ...(r.path === '/api/verify'
        ? {
            401: AUTH_RESPONSES[401],
            403: { description: 'posted from a web origin that is not an app origin', content: ERROR_CONTENT },
            409: { description: 'scanId reused with other content', content: ERROR_CONTENT },
            413: { description: 'body too large', content: ERROR_CONTENT },
            415: { description: 'not application/json', content: ERROR_CONTENT },
            429: { description: 'too many requests from this client', content: ERROR_CONTENT },
          }
        : {}),
    };
    // public routes need no key (an optional one is still checked); the others name their scope
    const security = r.scope === 'public' ? [] : [{ apiKey: [r.scope] }];
    paths[r.path] = { ...paths[r.path], [r.method]: { summary: r.summary, 'x-scope': r.scope, security, parameters: params, responses } };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'trace-chain indexer', version: '0.1.0' },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key bound to an org and a scope (member or auditor), from `node indexer/dist/src/keys.js create`' } } },
    paths,
  };
}

/** A stage record event's data as the caller may see it; other events carry no stage data. */
function visiblePayloadFor(db: Db) {
  return (caller: Caller, payload: Record<string, unknown>): Record<string, unknown> => {
    const record = payload.record as { taskId?: string; stage?: string; data?: Record<string, unknown> } | undefined;
    if (!record?.taskId || !record.stage || !record.data) return payload;
    return { ...payload, record: { ...record, data: stageDataFilter(db, caller, record.taskId)(record.stage, record.data) } };
  };
}

/** The chaincode answered a metadata query within the last few seconds (cached, so probes stay cheap). */
function chaincodeProbe(ledger?: Ledger): () => Promise<boolean> {
  let last = { at: 0, ok: false };
  return async () => {
    if (!ledger) return true;
    if (Date.now() - last.at < 5000) return last.ok;
    const ok = await ledger.evaluate('org.hyperledger.fabric:GetMetadata').then(
      () => true,
      () => false,
    );
    last = { at: Date.now(), ok };
    return ok;
  };
}

/**
 * The HTTP API and pages over the index. `status` tells whether the ingestor follows the chain;
 * `ledger` (optional) serves the audit routes and the health probe of the chaincode.
 */
export interface AppOptions {
  /** serves the audit routes and the chaincode health probe */
  ledger?: Ledger;
  /** requests a minute one client may make to POST /api/verify and to /api/audit (unlimited when absent) */
  perClientPerMinute?: { verify: number; audit: number };
  /** the product chaincode whose blocks and transactions the statistics count (default: the ledger's) */
  chaincode?: string;
  /** origins of web apps (besides the indexer's own pages) that may call every route with a key, e.g. https://shop.example */
  appOrigins?: string[];
  /**
   * reverse proxies in front of the indexer whose X-Forwarded-For / -Proto / -Host are trusted
   * (0, the default: none; the client is the socket's address). Rate limits and scan counting key on that client.
   */
  proxyHops?: number;
  /** how anonymous verify requests count as scans */
  scanAdmission?: ScanAdmissionOptions;
}

/** What /healthz reports: following the chain, the next block, and what is missing when the indexer runs degraded. */
export interface IndexerStatus {
  ready: boolean;
  next: bigint;
  degraded?: { reason: string; missing: string[] };
  /** this process's role per lease (several indexers may share one database; see lease.ts) */
  leases?: Record<string, LeaseInfo>;
}

export function createApp(db: Db, status: () => IndexerStatus, opts: AppOptions = {}): Koa {
  const { ledger } = opts;
  // a caller with a key (a retailer's till, a partner's scanner, an org's systems) may verify by
  // codeHash (hashes are public in event payloads; a consumer has the printed code) and is not rate-limited
  const keyed = (ctx: Koa.Context) => callerOf(ctx).scope !== 'public';
  const hops = opts.proxyHops ?? 0;
  if (!Number.isInteger(hops) || hops < 0) throw new Error(`proxy hops must be a non-negative integer, not ${hops}`);
  for (const o of opts.appOrigins ?? []) if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new Error(`app origin ${o} must be scheme://host[:port], e.g. https://shop.example`);
  const app = new Koa();
  app.proxy = hops > 0;
  app.maxIpsCount = hops;
  const router = new Router();
  const admission = new ScanAdmission(db, opts.scanAdmission);
  const chaincodeReady = chaincodeProbe(ledger);
  const visiblePayload = visiblePayloadFor(db);

  app.use(securityHeaders);
  app.use(async (ctx, next) => {
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

  app.use(cors(opts.appOrigins ?? []));
  app.use(enforceScopes(db, ROUTES));

  if (opts.perClientPerMinute) {
    const verifyLimit = perClientLimit(opts.perClientPerMinute.verify);
    const auditLimit = perClientLimit(opts.perClientPerMinute.audit);
    app.use((ctx, next) => (ctx.method === 'POST' && ctx.path === '/api/verify' && !keyed(ctx) ? verifyLimit(ctx, next) : ctx.path.startsWith('/api/audit/') ? auditLimit(ctx, next) : next()));
  }

  router.get('/healthz', async (ctx) => {
    const s = status();
    const chaincode = await chaincodeReady();
    const ready = s.ready && chaincode;
    const deadLetters = deadLetterCount(db);
    // degraded: serving what its source gives, and saying what it cannot index; events that could not be projected are an operations alert
    const degraded = s.degraded ?? (deadLetters > 0 ? { reason: `${deadLetters} chain events could not be projected (dead letters; replay them after a fix)`, missing: [] } : undefined);
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: !ready ? 'starting' : degraded ? 'degraded' : 'ok', chain: s.ready, chaincode, indexer: true, nextBlock: Number(s.next), deadLetters, leases: s.leases, ...degraded };
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApi();
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
    ctx.body = { ...tx, event: ev && { name: ev.name, payload: visiblePayload(callerOf(ctx), JSON.parse(ev.payload) as Record<string, unknown>) } };
  });
  router.get('/api/members', (ctx) => {
    ctx.body = (db.prepare('SELECT * FROM members ORDER BY msp_id').all() as { roles: string }[]).map((m) => ({ ...m, roles: JSON.parse(m.roles) }));
  });
  router.get('/api/tasks', (ctx) => {
    const { limit, offset } = page(ctx.query);
    const template = ctx.query.template === undefined ? null : param(String(ctx.query.template), ID, 'template');
    const gtin = ctx.query.gtin === undefined ? null : param(String(ctx.query.gtin), /^\d{8,14}$/, 'gtin').padStart(14, '0');
    const lot = ctx.query.lot === undefined ? null : param(String(ctx.query.lot), LOT, 'lot');
    const audited = oneOf(ctx.query.audited, ['true', 'false'], 'audited');
    const auditFilter = audited === undefined ? '' : audited === 'true' ? 'AND audit IS NOT NULL' : 'AND audit IS NULL';
    ctx.body = (
      db
        .prepare(
          `SELECT t.task_id, t.template, t.version, t.gtin, t.lot, t.created_at, t.audit IS NOT NULL AS audited, (SELECT count(DISTINCT stage) FROM stage_records r WHERE r.task_id = t.task_id) AS stages_recorded
           FROM tasks t WHERE (? IS NULL OR template = ?) AND (? IS NULL OR gtin = ?) AND (? IS NULL OR lot = ?) ${auditFilter} ORDER BY created_at DESC, task_id LIMIT ? OFFSET ?`,
        )
        .all(template, template, gtin, gtin, lot, lot, limit, offset) as { audited: number }[]
    ).map((t) => ({ ...t, audited: t.audited === 1 }));
  });
  router.get('/api/tasks/:taskId', (ctx) => {
    const taskId = param(ctx.params.taskId, ID, 'taskId');
    const task = db.prepare('SELECT * FROM tasks WHERE task_id = ?').get(taskId) as { json: string; audit: string | null } | undefined;
    if (!task) throw new ApiError(404, 'ERR_NOT_FOUND', `task ${taskId} is not indexed`);
    const visible = stageDataFilter(db, callerOf(ctx), taskId);
    const records = (db.prepare('SELECT * FROM stage_records WHERE task_id = ? ORDER BY event_time, stage, version').all(taskId) as { stage: string; data: string; flags: string }[]).map((r) => ({
      ...r,
      data: visible(r.stage, JSON.parse(r.data) as Record<string, unknown>),
      flags: JSON.parse(r.flags) as unknown,
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
    if (typeof body.codeHash === 'string') {
      if (!keyed(ctx)) throw new ApiError(401, 'ERR_UNAUTHORIZED', 'verifying by codeHash needs a member or auditor key (Authorization: Bearer <key>); a consumer sends the printed code');
      hash = param(body.codeHash, HASH, 'codeHash');
    }
    else if (typeof body.code === 'string' && CODE.test(body.code)) hash = codeHash(body.code);
    else throw new ApiError(400, 'ERR_VALIDATION', 'code (as printed) or codeHash is required');
    if (body.region !== undefined && (typeof body.region !== 'string' || !REGION.test(body.region))) throw new ApiError(400, 'ERR_VALIDATION', 'region must be an ISO 3166 code such as CN or CN-53');
    const region = (body.region as string | undefined) ?? null;
    const channel = body.channel === undefined ? 'consumer' : String(body.channel);
    if (!CHANNELS.includes(channel)) throw new ApiError(400, 'ERR_VALIDATION', `channel must be one of ${CHANNELS.join(', ')}`);
    const now = Date.now();
    const at = body.at === undefined ? new Date(now).toISOString() : String(body.at);
    if (!DATETIME.test(at) || !Number.isFinite(Date.parse(at))) throw new ApiError(400, 'ERR_VALIDATION', 'at must be an RFC 3339 date-time with an offset');
    if (Date.parse(at) > now + MAX_CLOCK_SKEW_MS) throw new ApiError(400, 'ERR_VALIDATION', 'at is in the future');
    const scanId = body.scanId === undefined ? undefined : param(typeof body.scanId === 'string' ? body.scanId : undefined, ID, 'scanId');
    const { replayed, counted } = durably(db, () => {
      if (scanId) {
        const seen = db.prepare('SELECT code_hash, channel, region, at FROM scan_ids WHERE scan_id = ?').get(scanId) as { code_hash: string; channel: string; region: string | null; at: string } | undefined;
        if (seen) {
          // a retry (same scan) is answered again without a second count; a reused id is a client bug
          if (seen.code_hash !== hash || seen.channel !== channel || seen.region !== region || (body.at !== undefined && seen.at !== at))
            throw new ApiError(409, 'ERR_CONFLICT', `scanId ${scanId} was already used for another scan`);
          return { replayed: true, counted: false };
        }
      }
      if (!admission.admit(hash, callerOf(ctx), ctx.ip, now)) return { replayed: false, counted: false };
      if (scanId) {
        db.prepare('INSERT INTO scan_ids (scan_id, code_hash, channel, region, at) VALUES (?, ?, ?, ?, ?)').run(scanId, hash, channel, region, at);
      }
      db.prepare('INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, ?, ?, ?, ?)').run(hash, channel, region, at, new Date(now).toISOString());
      return { replayed: false, counted: true };
    });
    const code = db.prepare('SELECT * FROM codes WHERE hash = ?').get(hash) as { status: string; suspect_since: string | null; task_id: string; gtin: string; lot: string } | undefined;
    const onChain = (db.prepare('SELECT count(*) AS n FROM scans WHERE code_hash = ?').get(hash) as { n: number }).n;
    const pending = (db.prepare('SELECT count(*) AS n FROM scan_queue WHERE code_hash = ?').get(hash) as { n: number }).n;
    const verdict = !code ? 'unknown' : code.status === 'void' ? 'void' : code.suspect_since ? 'suspect' : 'genuine';
    ctx.body = { codeHash: hash, genuine: !!code, verdict, taskId: code?.task_id, gtin: code?.gtin, lot: code?.lot, status: code?.status, scans: { onChain, pending, total: onChain + pending }, replayed, counted };
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
    // one query for the stages with who, where, which block and the latest audit: a trace is the
    // hottest read of the product (every consumer scan), so no per-stage lookups
    const current = db
      .prepare(
        `SELECT r.stage, r.version, r.event_time, r.data, r.recorded_by, r.tx_id, r.flags, m.name AS member_name,
           l.id AS loc_id, l.name AS loc_name, l.type AS loc_type, l.region AS loc_region, l.lat AS loc_lat, l.lon AS loc_lon,
           (SELECT block FROM transactions t WHERE t.tx_id = r.tx_id AND t.validation_code = 'VALID' LIMIT 1) AS block,
           (SELECT json_object('verdict', a.verdict, 'auditor', a.auditor, 'at', a.at) FROM audits a WHERE a.task_id = r.task_id AND a.stage = r.stage ORDER BY a.at DESC LIMIT 1) AS audit
         FROM stage_records r LEFT JOIN members m ON m.msp_id = r.recorded_by LEFT JOIN locations l ON l.id = r.location
         WHERE r.task_id = ? AND r.version = (SELECT max(version) FROM stage_records WHERE task_id = r.task_id AND stage = r.stage) ORDER BY r.event_time`,
      )
      .all(taskId) as {
      stage: string;
      version: number;
      event_time: string;
      data: string;
      recorded_by: string;
      tx_id: string;
      flags: string;
      member_name: string | null;
      loc_id: string | null;
      loc_name: string;
      loc_type: string;
      loc_region: string;
      loc_lat: number;
      loc_lon: number;
      block: number | null;
      audit: string | null;
    }[];
    const visibleData = current.map((r) => {
      const data = JSON.parse(r.data) as Record<string, unknown>;
      return Object.fromEntries((tpl?.publicView[r.stage] ?? []).filter((k) => k in data).map((k) => [k, data[k]]));
    });
    const keys = [...new Set(visibleData.flatMap((d) => Object.keys(d)))];
    const items = new Map(
      (keys.length ? (db.prepare(`SELECT id, name, unit FROM items WHERE id IN (${keys.map(() => '?').join(', ')})`).all(...keys) as { id: string; name: string; unit: string | null }[]) : []).map((i) => [i.id, { name: i.name, unit: i.unit }]),
    );
    const stages = current.map((r, i) => {
      const def = tpl?.stages.find((s) => s.stage === r.stage);
      const visible = visibleData[i];
      return {
        stage: r.stage,
        name: def?.name ?? r.stage,
        bizStep: def?.bizStep,
        eventTime: r.event_time,
        by: { mspId: r.recorded_by, name: r.member_name ?? undefined },
        location: r.loc_id ? { id: r.loc_id, name: r.loc_name, type: r.loc_type, region: r.loc_region, lat: r.loc_lat, lon: r.loc_lon } : undefined,
        data: visible,
        labels: Object.fromEntries(Object.keys(visible).map((k) => [k, items.get(k) ?? { name: k, unit: null }])),
        version: r.version,
        txId: r.tx_id,
        block: r.block ?? undefined,
        audit: parse(r.audit),
        flags: (JSON.parse(r.flags) as { ruleId: string; message: string }[]).map((f) => ({ ruleId: f.ruleId, message: f.message })),
      };
    });
    const alarms = db.prepare('SELECT alarm_id, device_id, metric, value, source, at, acked_by FROM alarms WHERE task_id = ? ORDER BY at').all(taskId);
    const sensors: Record<string, { min: number; max: number; count: number; batches: number }> = {};
    for (const stats of db.prepare('SELECT stats FROM readings WHERE task_id = ?').pluck().all(taskId) as string[]) {
      for (const [metric, m] of Object.entries(JSON.parse(stats) as Record<string, { min: number; max: number; count: number }>)) {
        const acc = (sensors[metric] ??= { min: m.min, max: m.max, count: 0, batches: 0 });
        Object.assign(acc, { min: Math.min(acc.min, m.min), max: Math.max(acc.max, m.max), count: acc.count + m.count, batches: acc.batches + 1 });
      }
    }
    return { taskId, template: tpl?.name, product: t.product, lot: t.lot, audit: parse(task.audit), stages, alarms, sensors };
  }

  router.get('/api/trace/code/:hash', (ctx) => {
    const hash = param(ctx.params.hash, HASH, 'code hash');
    const code = db.prepare('SELECT * FROM codes WHERE hash = ?').get(hash) as { task_id: string; parent: string | null; status: string; suspect_since: string | null; diverted_since: string | null; level: string } | undefined;
    if (!code) throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown code');
    const parents: string[] = [];
    for (let p = code.parent; p && parents.length < 4; p = (db.prepare('SELECT parent FROM codes WHERE hash = ?').get(p) as { parent: string | null } | undefined)?.parent ?? null) parents.push(p);
    const scans = db.prepare('SELECT count(*) AS n, count(DISTINCT region) AS regions FROM scans WHERE code_hash = ?').get(hash) as { n: number; regions: number };
    const byRegion = db.prepare('SELECT region, count(*) AS scans, min(at) AS first, max(at) AS last FROM scans WHERE code_hash = ? GROUP BY region ORDER BY first').all(hash);
    const sightings = db.prepare(`SELECT device_id, at, lat, lon FROM code_sightings WHERE code_hash IN (${['?', ...parents.map(() => '?')].join(', ')}) ORDER BY at`).all(hash, ...parents);
    const verdict = code.status === 'void' ? 'void' : code.suspect_since ? 'suspect' : 'genuine';
    ctx.body = {
      code: { hash, level: code.level, status: code.status, verdict, suspectSince: code.suspect_since, divertedSince: code.diverted_since, parents, scans: scans.n, scanRegions: scans.regions, byRegion, sightings },
      ...publicTrace(code.task_id),
    };
  });
  router.get('/api/trace/lot/:gtin/:lot', (ctx) => {
    const gtin = param(ctx.params.gtin, /^\d{8,14}$/, 'gtin');
    const lot = param(ctx.params.lot, LOT, 'lot');
    // The chain keeps GTIN-14 (one product whatever length it was given in).
    const task = db.prepare('SELECT task_id FROM tasks WHERE gtin = ? AND lot = ?').get(gtin.padStart(14, '0'), lot) as { task_id: string } | undefined;
    if (!task) throw new ApiError(404, 'ERR_NOT_FOUND', `lot ${lot} of ${gtin} is not indexed`);
    ctx.body = publicTrace(task.task_id);
  });
  router.get('/api/alerts', (ctx) => {
    const { limit, offset } = page(ctx.query);
    const type = oneOf(ctx.query.type, ['clone', 'diversion', 'unknown', 'sensor', 'cross-validation'], 'type') ?? null;
    // a clone alert says where the scans that raised it came from: anonymous clients (how many) or keyed apps
    ctx.body = (db.prepare('SELECT * FROM alerts WHERE (? IS NULL OR type = ?) ORDER BY id DESC LIMIT ? OFFSET ?').all(type, type, limit, offset) as { type: string; code_hash: string | null }[]).map((a) => {
      if (a.type !== 'clone' || !a.code_hash) return a;
      const origin = scanOrigin(db, a.code_hash);
      return { ...a, fromAnonymousScans: origin.anonymous.counted > 0, scanOrigin: origin };
    });
  });
  for (const m of MODULES) m.register(router, { db, ledger, chaincode: opts.chaincode ?? ledger?.chaincodeName });

  checkDeclared(ROUTES, router.stack.flatMap((l) => l.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(l.path) }))));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
