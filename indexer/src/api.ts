import Koa from 'koa';
import Router from '@koa/router';
import { codeHash, Ledger } from '@trace/client';
import { codeHex, codeHexOrNull, codeKey, withCodeHex } from './code-key';
import { codeParents, Db, Store } from './db';
import { durably } from './scan-durability';
import type { LeaseInfo } from './lease';
import { z } from 'zod';
import { ApiError, parseJson as parse, route, RouteDoc, routeMatcher, RouteModule } from './http';
import { AlertRow, BlockRow, BoolWord, Code, CodeRow, DateTime, Doc, Gtin, Hash, Id, Int, Lot, Page, PAGE, Region, rows, TransactionRow } from './schemas';
import { handle } from './validation';
import { openApi } from './openapi';
import { perClientLimit } from './rate-limit';
import { callerOf, checkDeclared, enforceScopes, stageDataFilter, withActorIf } from './access';
import { assetRoutes } from './routes/assets';
import { auditRoutes } from './routes/audit';
import { catalogRoutes } from './routes/catalog';
import { deviceRoutes } from './routes/devices';
import { epcisRoutes } from './routes/epcis';
import { statsRoutes } from './routes/stats';
import { taskStageRoutes } from './routes/task-stages';
import { webRoutes } from './web';
import { cors } from './cors';
import { deadLetterCount } from './dead-letters';
import { securityHeaders } from './security-headers';
import { ScanAdmission, ScanAdmissionOptions, scanOrigin } from './scan-admission';
import type { Caller } from './keys';
import { sendCached, TraceCache } from './trace-cache';

const CHANNELS = ['consumer', 'retailer', 'logistics', 'regulator', 'rfid'] as const;
/** the first key of the PostgreSQL advisory locks verify takes per code (the second is the code's hash of its hex) */
const SCAN_LOCK_CLASS = 0x7363;
/** a scan may be stamped by the phone a little ahead of the server's clock, not more */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const Trace = z.looseObject({
  taskId: z.string(),
  template: z.string().optional(),
  product: z.looseObject({ gtin: z.string(), name: z.string() }),
  lot: z.string(),
  audit: Doc.optional(),
  stages: z.array(
    z.looseObject({
      stage: z.string(),
      name: z.string(),
      bizStep: z.string().optional(),
      eventTime: z.string(),
      by: z.object({ mspId: z.string(), name: z.string().optional() }),
      location: z.looseObject({ id: z.string(), name: z.string(), region: z.string() }).optional(),
      data: Doc.describe("only the items the template's public view lists"),
      labels: z.record(z.string(), z.object({ name: z.string(), unit: z.string().nullable() })),
      version: Int,
      txId: Hash,
      block: Int.optional(),
      audit: Doc.optional(),
      flags: z.array(z.object({ ruleId: z.string(), message: z.string() })),
    }),
  ),
  alarms: rows({ alarm_id: z.string(), device_id: z.string(), metric: z.string(), value: z.number(), at: z.string() }),
  sensors: z.record(z.string(), z.object({ min: z.number(), max: z.number(), count: Int, batches: Int })),
});

const R = {
  healthz: route({
    method: 'get', path: '/healthz', scope: 'public', errors: [503],
    summary: 'Ready once the indexer follows the chain (status ok, or degraded with a reason and what is missing, e.g. TBaaS without its access address, or events in dead letters: deadLetters), and the role of this process per lease (`leases`: leader or follower of the ingestor and the scan sender); 503 while starting',
    response: {
      description: 'following the chain',
      schema: z.looseObject({
        status: z.enum(['ok', 'degraded', 'starting']), chain: z.boolean(), chaincode: z.boolean(), indexer: z.boolean(), nextBlock: Int, deadLetters: Int, reason: z.string().optional(), missing: z.array(z.string()).optional(),
        leases: z.record(z.string(), z.object({ role: z.enum(['leader', 'follower']), holder: z.string().nullable(), expiresAt: z.string().nullable() })).optional(),
      }),
    },
  }),
  openapi: route({ method: 'get', path: '/openapi.json', scope: 'public', summary: 'This document', response: { description: 'an OpenAPI 3.0 document', schema: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }) } }),
  blocks: route({ method: 'get', path: '/api/blocks', scope: 'member', summary: 'Blocks, newest first (limit, offset)', query: Page, response: { description: 'blocks', schema: z.array(BlockRow) } }),
  block: route({
    method: 'get', path: '/api/blocks/{number}', scope: 'member', summary: 'One block with its transactions', errors: [404],
    params: z.object({ number: z.coerce.number().int().min(0) }),
    response: { description: 'the block', schema: BlockRow.extend({ transactions: z.array(TransactionRow) }) },
  }),
  transaction: route({
    method: 'get', path: '/api/transactions/{txId}', scope: 'member', errors: [404],
    summary: "A transaction with its validation code and event (a stage record's data: in full for the task's own orgs and auditors, else the template's public view)",
    params: z.object({ txId: Hash }),
    response: { description: 'the transaction', schema: TransactionRow.extend({ event: z.object({ name: z.string(), payload: Doc }).optional() }) },
  }),
  members: route({ method: 'get', path: '/api/members', scope: 'member', summary: 'Consortium members by MSP id (limit, offset)', query: Page, response: { description: 'members', schema: rows({ msp_id: z.string(), name: z.string(), roles: z.array(z.string()), status: z.string() }) } }),
  tasks: route({
    method: 'get', path: '/api/tasks', scope: 'member',
    summary: "Tasks (lots), newest first (template, gtin, lot, audited=true|false, complete=true|false: every stage of its template version recorded, org=<MSP>: the tasks it owns or records a stage of; limit, offset)",
    query: z.object({ template: Id.optional(), gtin: Gtin.optional(), lot: Lot.optional(), audited: BoolWord.optional(), complete: BoolWord.optional(), org: Id.optional(), ...PAGE }),
    response: {
      description: 'tasks',
      schema: rows({ task_id: z.string(), template: z.string(), version: Int, gtin: z.string(), lot: z.string(), product_name: z.string(), owner: z.string(), created_at: z.string(), audited: z.boolean(), stages_recorded: Int, stages_total: Int }),
    },
  }),
  task: route({
    method: 'get', path: '/api/tasks/{taskId}', scope: 'member', errors: [404],
    summary: "A task with its stage records, versions and audits (stage data in full for the task's owner, its assigned orgs and auditors; other members get the template's public view)",
    params: z.object({ taskId: Id }),
    response: {
      description: 'the task',
      schema: z.object({
        task: Doc,
        audit: Doc.optional(),
        records: rows({ task_id: z.string(), stage: z.string(), version: Int, event_time: z.string(), data: Doc, recorded_by: z.string(), actor: z.string().nullable().describe("the recording org's user, as the org named it"), tx_id: Hash, recorded_at: z.string().nullable().describe('when its transaction was written (UTC)'), flags: z.array(Doc) }),
        audits: rows({ stage: z.string(), verdict: z.string(), auditor: z.string(), actor: z.string().nullable(), at: z.string() }),
      }),
    },
  }),
  code: route({
    method: 'get', path: '/api/codes/{hash}', scope: 'member', summary: 'An indexed code: status, lot, scan count, parent', errors: [404],
    params: z.object({ hash: Hash }),
    response: { description: 'the code', schema: CodeRow.extend({ scans: Int }) },
  }),
  verify: route({
    method: 'post', path: '/api/verify', scope: 'public', errors: [409],
    rateLimit: { budget: 'verify', keyedExempt: true },
    summary:
      'Verify a scanned code {code | codeHash (member or auditor key only: Authorization: Bearer <key>), region?, channel?, at?, scanId?}; the scan is queued durably and sent to the chain in batches (a scan without a region never counts as a diversion). A repeated scanId answers again without counting twice; the same scanId with other content is a 409. Anonymous requests count as a scan once per code and client within a window, and for a limited number of clients per code and window (`counted` says whether this one did); keyed ones always count. Rate-limited per client (429) unless sent with a key (401 for a codeHash without one). Only Content-Type application/json (415); a foreign web origin may not post (403).',
    body: z
      .object({
        code: Code.optional(),
        codeHash: Hash.optional().describe('with a member or auditor key only'),
        region: Region.optional(),
        channel: z.enum(CHANNELS).default('consumer'),
        at: DateTime.optional().describe('when scanned (default: now); at most 5 minutes ahead of the server'),
        scanId: Id.optional().describe("the client's id of this scan: a retry with the same id counts once"),
      })
      .refine((b) => b.code !== undefined || b.codeHash !== undefined, 'code (as printed) or codeHash is required'),
    response: {
      description: 'the verdict, and whether this request counted as a scan',
      schema: z.object({
        codeHash: Hash,
        genuine: z.boolean(),
        verdict: z.enum(['genuine', 'suspect', 'void', 'unknown']),
        taskId: z.string().optional(),
        gtin: z.string().optional(),
        lot: z.string().optional(),
        status: z.string().optional(),
        scans: z.object({ onChain: Int, pending: Int, total: Int }),
        replayed: z.boolean(),
        counted: z.boolean(),
      }),
    },
  }),
  traceCode: route({
    method: 'get', path: '/api/trace/code/{hash}', scope: 'public', errors: [404],
    summary: 'The public trace of a code: product, lot, stages with the items the template makes public, who/when/where, audits, flags, alarms, packaging parents. With an ETag: If-None-Match naming it answers 304 until a block changes the trace',
    params: z.object({ hash: Hash }),
    response: {
      description: 'the code and the public trace of its lot',
      schema: Trace.extend({
        code: z.looseObject({ hash: Hash, level: z.string(), status: z.string(), verdict: z.enum(['genuine', 'suspect', 'void']), suspectSince: z.string().nullable(), divertedSince: z.string().nullable(), parents: z.array(Hash), scans: Int, scanRegions: Int }),
      }),
    },
  }),
  traceLot: route({
    method: 'get', path: '/api/trace/lot/{gtin}/{lot}', scope: 'public', summary: 'The public trace of a lot (with an ETag, as the trace of a code)', errors: [404],
    params: z.object({ gtin: Gtin, lot: Lot }),
    response: { description: 'the public trace', schema: Trace },
  }),
  alerts: route({
    method: 'get', path: '/api/alerts', scope: 'member', summary: 'Alerts, newest first (type: clone, diversion, unknown, sensor, cross-validation; limit, offset)',
    query: z.object({ type: z.enum(['clone', 'diversion', 'unknown', 'sensor', 'cross-validation']).optional(), ...PAGE }),
    response: { description: 'alerts; a clone alert says whether anonymous scans raised it', schema: z.array(AlertRow.extend({ fromAnonymousScans: z.boolean().optional(), scanOrigin: Doc.optional() })) },
  }),
};

const MODULES: RouteModule[] = [deviceRoutes, catalogRoutes, assetRoutes, statsRoutes, taskStageRoutes, auditRoutes, epcisRoutes, webRoutes];

/** Every route, described once: the OpenAPI document, scopes, rate limits and input validation come from this table. */
export const ROUTES: RouteDoc[] = [...Object.values(R), ...MODULES.flatMap((m) => m.routes)];

/** A stage record or audit event as the caller may see it (stage data, the acting user); other events carry neither. */
function visiblePayloadFor(db: Db) {
  return async (caller: Caller, payload: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const record = payload.record as { taskId?: string; stage?: string; data?: Record<string, unknown> } | undefined;
    const audit = payload.audit as { taskId?: string } | undefined;
    if (record?.taskId && record.stage && record.data) {
      const visible = await stageDataFilter(db, caller, record.taskId);
      return { ...payload, record: withActorIf(visible.full, { ...record, data: visible(record.stage, record.data) }) };
    }
    if (audit?.taskId) return { ...payload, audit: withActorIf((await stageDataFilter(db, caller, audit.taskId)).full, audit) };
    const task = payload.task as { taskId?: string } | undefined;
    if (task?.taskId) return { ...payload, task: withActorIf((await stageDataFilter(db, caller, task.taskId)).full, task) };
    // codes.Issued, codes.AlertCleared: the user who issued or cleared a task's codes
    if (typeof payload.taskId === 'string') return withActorIf((await stageDataFilter(db, caller, payload.taskId)).full, payload);
    return payload;
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
 * The expressions of the task and trace queries that differ by engine: reading the JSON kept in TEXT
 * columns (SQLite's '$.x' paths and json_each, PostgreSQL's jsonb operators), building JSON, and
 * writing a time in ms as ISO 8601 (UTC, milliseconds).
 */
const DIALECT = {
  sqlite: {
    productName: `t.json ->> '$.product.name'`,
    owner: `t.json ->> '$.owner'`,
    stageCount: `json_array_length(tp.json, '$.stages')`,
    /** the task assigns one of its stages to the org given as the parameter */
    assignedTo: `EXISTS (SELECT 1 FROM json_each(t.json, '$.assignments') a WHERE a.value = ?)`,
    auditJson: `json_object('verdict', a.verdict, 'auditor', a.auditor, 'at', a.at)`,
    recordedAt: `strftime('%Y-%m-%dT%H:%M:%fZ', x.timestamp_ms / 1000.0, 'unixepoch')`,
  },
  postgres: {
    productName: `(t.json::jsonb -> 'product' ->> 'name')`,
    owner: `(t.json::jsonb ->> 'owner')`,
    stageCount: `jsonb_array_length(tp.json::jsonb -> 'stages')`,
    assignedTo: `EXISTS (SELECT 1 FROM jsonb_each_text(t.json::jsonb -> 'assignments') a(key, value) WHERE a.value = ?)`,
    // json (not jsonb) keeps the keys in this order; as text, as SQLite gives it
    auditJson: `json_build_object('verdict', a.verdict, 'auditor', a.auditor, 'at', a.at)::text`,
    recordedAt: `to_char(to_timestamp(x.timestamp_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  },
};

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

export function createApp(db: Db & Pick<Store, 'listen'>, status: () => IndexerStatus | Promise<IndexerStatus>, opts: AppOptions = {}): Koa {
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
  const admission = new ScanAdmission(opts.scanAdmission);
  const chaincodeReady = chaincodeProbe(ledger);
  const visiblePayload = visiblePayloadFor(db);
  const sql = DIALECT[db.engine];

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

  const budgets = opts.perClientPerMinute;
  if (budgets) {
    // the routes that cost something (a queued scan, a chain read) declare a budget in the route table
    const limits = { verify: perClientLimit(budgets.verify), audit: perClientLimit(budgets.audit) };
    const routeOf = routeMatcher(ROUTES);
    app.use((ctx, next) => {
      const limit = routeOf(ctx.method, ctx.path)?.rateLimit;
      return limit && !(limit.keyedExempt && keyed(ctx)) ? limits[limit.budget](ctx, next) : next();
    });
  }

  handle(router, R.healthz, async (ctx) => {
    const s = await status();
    const chaincode = await chaincodeReady();
    const ready = s.ready && chaincode;
    const deadLetters = await deadLetterCount(db);
    // degraded: serving what its source gives, and saying what it cannot index; events that could not be projected are an operations alert
    const degraded = s.degraded ?? (deadLetters > 0 ? { reason: `${deadLetters} chain events could not be projected (dead letters; replay them after a fix)`, missing: [] } : undefined);
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: !ready ? 'starting' : degraded ? 'degraded' : 'ok', chain: s.ready, chaincode, indexer: true, nextBlock: Number(s.next), deadLetters, leases: s.leases, ...degraded };
  });
  const document = openApi(ROUTES);
  handle(router, R.openapi, (ctx) => {
    ctx.body = document;
  });
  handle(router, R.blocks, async (ctx, { query: { limit, offset } }) => {
    ctx.body = await db.all('SELECT * FROM blocks ORDER BY number DESC LIMIT ? OFFSET ?', limit, offset);
  });
  handle(router, R.block, async (ctx, { params: { number: n } }) => {
    const block = await db.get('SELECT * FROM blocks WHERE number = ?', n);
    if (!block) throw new ApiError(404, 'ERR_NOT_FOUND', `block ${n} is not indexed`);
    ctx.body = { ...block, transactions: await db.all('SELECT * FROM transactions WHERE block = ? ORDER BY idx', n) };
  });
  handle(router, R.transaction, async (ctx, { params: { txId } }) => {
    const tx = await db.get<{ block: number; idx: number }>('SELECT * FROM transactions WHERE tx_id = ? ORDER BY block, idx LIMIT 1', txId);
    if (!tx) throw new ApiError(404, 'ERR_NOT_FOUND', `transaction ${txId} is not indexed`);
    const ev = await db.get<{ name: string; payload: string }>('SELECT name, payload FROM events WHERE block = ? AND idx = ?', tx.block, tx.idx);
    ctx.body = { ...tx, event: ev && { name: ev.name, payload: await visiblePayload(callerOf(ctx), JSON.parse(ev.payload) as Record<string, unknown>) } };
  });
  handle(router, R.members, async (ctx, { query: { limit, offset } }) => {
    ctx.body = (await db.all<{ roles: string }>('SELECT * FROM members ORDER BY msp_id LIMIT ? OFFSET ?', limit, offset)).map((m) => ({ ...m, roles: JSON.parse(m.roles) }));
  });
  handle(router, R.tasks, async (ctx, { query: { limit, offset, audited, complete, ...q } }) => {
    const template = q.template ?? null;
    const gtin = q.gtin?.padStart(14, '0') ?? null;
    const lot = q.lot ?? null;
    const org = q.org ?? null;
    const auditFilter = audited === undefined ? '' : audited === 'true' ? 'AND audited = 1' : 'AND audited = 0';
    const completeFilter = complete === undefined ? '' : complete === 'true' ? 'AND stages_recorded = stages_total' : 'AND stages_recorded < stages_total';
    ctx.body = (
      await db.all<{ audited: number }>(
        `SELECT * FROM (
           SELECT t.task_id, t.template, t.version, t.gtin, t.lot, ${sql.productName} AS product_name, ${sql.owner} AS owner, t.created_at,
             CASE WHEN t.audit IS NOT NULL THEN 1 ELSE 0 END AS audited, (SELECT count(DISTINCT stage) FROM stage_records r WHERE r.task_id = t.task_id) AS stages_recorded,
             (SELECT ${sql.stageCount} FROM templates tp WHERE tp.id = t.template AND tp.version = t.version) AS stages_total
           FROM tasks t WHERE (CAST(? AS TEXT) IS NULL OR template = ?) AND (CAST(? AS TEXT) IS NULL OR gtin = ?) AND (CAST(? AS TEXT) IS NULL OR lot = ?)
             AND (CAST(? AS TEXT) IS NULL OR ${sql.owner} = ? OR ${sql.assignedTo})
         ) AS x WHERE TRUE ${auditFilter} ${completeFilter} ORDER BY created_at DESC, task_id LIMIT ? OFFSET ?`,
        template, template, gtin, gtin, lot, lot, org, org, org, limit, offset,
      )
    ).map((t) => ({ ...t, audited: t.audited === 1 }));
  });
  handle(router, R.task, async (ctx, { params: { taskId } }) => {
    const task = await db.get<{ json: string; audit: string | null }>('SELECT * FROM tasks WHERE task_id = ?', taskId);
    if (!task) throw new ApiError(404, 'ERR_NOT_FOUND', `task ${taskId} is not indexed`);
    const visible = await stageDataFilter(db, callerOf(ctx), taskId);
    // who at an org did it is for the task's own orgs and auditors, as the full stage data is
    const full = visible.full;
    const records = (
      await db.all<{ stage: string; data: string; flags: string; actor: string | null }>(
        `SELECT r.*, (SELECT ${sql.recordedAt} FROM transactions x WHERE x.tx_id = r.tx_id AND x.validation_code = 'VALID' LIMIT 1) AS recorded_at
         FROM stage_records r WHERE task_id = ? ORDER BY event_time, stage, version`,
        taskId,
      )
    ).map((r) => ({
      ...r,
      data: visible(r.stage, JSON.parse(r.data) as Record<string, unknown>),
      flags: JSON.parse(r.flags) as unknown,
      actor: full ? r.actor : null,
    }));
    const audits = (await db.all<{ actor: string | null }>('SELECT * FROM audits WHERE task_id = ? ORDER BY at', taskId)).map((a) => ({ ...a, actor: full ? a.actor : null }));
    const taskAudit = parse(task.audit) as Record<string, unknown> | undefined;
    ctx.body = { task: withActorIf(full, parse(task.json) as object), audit: taskAudit && withActorIf(full, taskAudit), records, audits };
  });
  handle(router, R.code, async (ctx, { params: { hash } }) => {
    const key = codeKey(hash);
    const row = await db.get<{ hash: Buffer; parent: Buffer | null; task_id: string; issued_actor: string | null }>('SELECT * FROM codes WHERE hash = ?', key);
    if (!row) throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown code');
    const code = withCodeHex(row, 'hash', 'parent');
    const scans = (await db.value<number>('SELECT count(*) FROM scans WHERE code_hash = ?', key))!;
    // who issued it is for the task's own orgs and auditors, as who recorded its stages
    ctx.body = { ...code, issued_actor: (await stageDataFilter(db, callerOf(ctx), code.task_id)).full ? code.issued_actor : null, scans };
  });
  handle(router, R.verify, async (ctx, { body }) => {
    if (body.codeHash !== undefined && !keyed(ctx)) throw new ApiError(401, 'ERR_UNAUTHORIZED', 'verifying by codeHash needs a member or auditor key (Authorization: Bearer <key>); a consumer sends the printed code');
    const hash = body.codeHash ?? codeHash(body.code!);
    const key = codeKey(hash);
    const region = body.region ?? null;
    const { channel, scanId } = body;
    const now = Date.now();
    const at = body.at ?? new Date(now).toISOString();
    if (Date.parse(at) > now + MAX_CLOCK_SKEW_MS) throw new ApiError(400, 'ERR_VALIDATION', 'at is in the future');
    const { replayed, counted } = await durably(db, async (tx) => {
      // admission reads, then writes: on PostgreSQL (read committed) requests for one code take turns
      // under a lock of its own, as SQLite's IMMEDIATE transactions make every write take its turn
      if (tx.engine === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(?, hashtext(?))', SCAN_LOCK_CLASS, hash);
      if (scanId) {
        const seen = await tx.get<{ code_hash: Buffer; channel: string; region: string | null; at: string }>('SELECT code_hash, channel, region, at FROM scan_ids WHERE scan_id = ?', scanId);
        if (seen) {
          // a retry (same scan) is answered again without a second count; a reused id is a client bug
          if (!seen.code_hash.equals(key) || seen.channel !== channel || seen.region !== region || (body.at !== undefined && seen.at !== at))
            throw new ApiError(409, 'ERR_CONFLICT', `scanId ${scanId} was already used for another scan`);
          return { replayed: true, counted: false };
        }
      }
      if (!(await admission.admit(tx, hash, callerOf(ctx), ctx.ip, now))) return { replayed: false, counted: false };
      if (scanId) {
        await tx.run('INSERT INTO scan_ids (scan_id, code_hash, channel, region, at) VALUES (?, ?, ?, ?, ?)', scanId, key, channel, region, at);
      }
      await tx.run('INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, ?, ?, ?, ?)', key, channel, region, at, new Date(now).toISOString());
      return { replayed: false, counted: true };
    });
    const code = await db.get<{ status: string; suspect_since: string | null; task_id: string; gtin: string; lot: string }>('SELECT status, suspect_since, task_id, gtin, lot FROM codes WHERE hash = ?', key);
    const onChain = (await db.value<number>('SELECT count(*) FROM scans WHERE code_hash = ?', key))!;
    const pending = (await db.value<number>('SELECT count(*) FROM scan_queue WHERE code_hash = ?', key))!;
    const verdict = !code ? 'unknown' : code.status === 'void' ? 'void' : code.suspect_since ? 'suspect' : 'genuine';
    ctx.body = { codeHash: hash, genuine: !!code, verdict, taskId: code?.task_id, gtin: code?.gtin, lot: code?.lot, status: code?.status, scans: { onChain, pending, total: onChain + pending }, replayed, counted };
  });
  type PublicTemplate = { name: string; publicView: Record<string, string[]>; stages: { stage: string; name: string; bizStep: string }[] };
  /** Published template versions are immutable, so each is parsed once (they are ~8 KB of JSON). */
  const templates = new Map<string, PublicTemplate>();
  async function publishedTemplate(id: string, version: number): Promise<PublicTemplate | undefined> {
    let tpl = templates.get(`${id}@${version}`);
    if (!tpl) {
      tpl = parse<PublicTemplate>(await db.value<string>('SELECT json FROM templates WHERE id = ? AND version = ?', id, version));
      if (tpl) templates.set(`${id}@${version}`, tpl);
    }
    return tpl;
  }
  /**
   * A task's current stage records with who, where, which block and the latest audit, in one query: a
   * trace is the hottest read of the product (every consumer scan), so no per-stage lookups.
   */
  function currentStages(taskId: string) {
    return db.all<{
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
    }>(
      `SELECT r.stage, r.version, r.event_time, r.data, r.recorded_by, r.tx_id, r.flags, m.name AS member_name,
         l.id AS loc_id, l.name AS loc_name, l.type AS loc_type, l.region AS loc_region, l.lat AS loc_lat, l.lon AS loc_lon,
         (SELECT block FROM transactions t WHERE t.tx_id = r.tx_id AND t.validation_code = 'VALID' LIMIT 1) AS block,
         (SELECT ${sql.auditJson} FROM audits a WHERE a.task_id = r.task_id AND a.stage = r.stage ORDER BY a.at DESC LIMIT 1) AS audit
       FROM stage_records r LEFT JOIN members m ON m.msp_id = r.recorded_by LEFT JOIN locations l ON l.id = r.location
       WHERE r.task_id = ? AND r.version = (SELECT max(version) FROM stage_records WHERE task_id = r.task_id AND stage = r.stage) ORDER BY r.event_time`,
      taskId,
    );
  }
  /** What a consumer may see of a task: only the items the template's public view lists. */
  async function publicTrace(taskId: string) {
    const task = await db.get<{ json: string; template: string; version: number; audit: string | null }>('SELECT * FROM tasks WHERE task_id = ?', taskId);
    if (!task) throw new ApiError(404, 'ERR_NOT_FOUND', `task ${taskId} is not indexed`);
    const t = JSON.parse(task.json) as { product: { gtin: string; name: string }; lot: string };
    // the reads that do not depend on each other go at once: on PostgreSQL each is a round trip, on
    // connections of the pool side by side (on SQLite they run one after the other, as before)
    const [tpl, current, alarms, readings] = await Promise.all([publishedTemplate(task.template, task.version), currentStages(taskId), db.all('SELECT alarm_id, device_id, metric, value, source, at, acked_by FROM alarms WHERE task_id = ? ORDER BY at', taskId), db.column<string>('SELECT stats FROM readings WHERE task_id = ?', taskId)]);
    const visibleData = current.map((r) => {
      const data = JSON.parse(r.data) as Record<string, unknown>;
      return Object.fromEntries((tpl?.publicView[r.stage] ?? []).filter((k) => k in data).map((k) => [k, data[k]]));
    });
    const keys = [...new Set(visibleData.flatMap((d) => Object.keys(d)))];
    const items = new Map(
      (keys.length ? await db.all<{ id: string; name: string; unit: string | null }>(`SELECT id, name, unit FROM items WHERE id IN (${keys.map(() => '?').join(', ')})`, ...keys) : []).map((i) => [i.id, { name: i.name, unit: i.unit }]),
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
    const sensors: Record<string, { min: number; max: number; count: number; batches: number }> = {};
    for (const stats of readings) {
      for (const [metric, m] of Object.entries(JSON.parse(stats) as Record<string, { min: number; max: number; count: number }>)) {
        const acc = (sensors[metric] ??= { min: m.min, max: m.max, count: 0, batches: 0 });
        Object.assign(acc, { min: Math.min(acc.min, m.min), max: Math.max(acc.max, m.max), count: acc.count + m.count, batches: acc.batches + 1 });
      }
    }
    return { taskId, template: tpl?.name, product: t.product, lot: t.lot, audit: parse(task.audit), stages, alarms, sensors };
  }

  // the hottest reads (every consumer scan): cached until the next indexed block, revalidated by ETag
  const traces = new TraceCache(db);
  handle(router, R.traceCode, async (ctx, { params: { hash } }) => sendCached(ctx, await traces.get(`code/${hash}`, () => codeTrace(hash))));
  handle(router, R.traceLot, async (ctx, { params: { gtin, lot } }) => sendCached(ctx, await traces.get(`lot/${gtin}/${lot}`, () => lotTrace(gtin, lot))));
  async function codeTrace(hash: string) {
    const key = codeKey(hash);
    const code = await db.get<{ task_id: string; parent: Buffer | null; status: string; suspect_since: string | null; diverted_since: string | null; level: string }>(
      'SELECT task_id, parent, status, suspect_since, diverted_since, level FROM codes WHERE hash = ?',
      key,
    );
    if (!code) throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown code');
    // independent reads at once (see publicTrace); the sightings need the cases the code is packed in
    const [[parents, sightings], byRegion, trace] = await Promise.all([
      codeParents(db, code.parent).then(async (parents) => [parents, await db.all(`SELECT device_id, at, lat, lon FROM code_sightings WHERE code_hash IN (${['?', ...parents.map(() => '?')].join(', ')}) ORDER BY at`, key, ...parents)] as const),
      db.all<{ region: string | null; scans: number }>('SELECT region, count(*) AS scans, min(at) AS first, max(at) AS last FROM scans WHERE code_hash = ? GROUP BY region ORDER BY first, region NULLS FIRST', key),
      publicTrace(code.task_id),
    ]);
    const verdict = code.status === 'void' ? 'void' : code.suspect_since ? 'suspect' : 'genuine';
    // the regions counted are the known ones (a scan may come without one), as count(DISTINCT region) counts them
    const scans = byRegion.reduce((n, r) => n + r.scans, 0);
    const scanRegions = byRegion.filter((r) => r.region !== null).length;
    return {
      code: { hash, level: code.level, status: code.status, verdict, suspectSince: code.suspect_since, divertedSince: code.diverted_since, parents: parents.map(codeHex), scans, scanRegions, byRegion, sightings },
      ...trace,
    };
  }
  async function lotTrace(gtin: string, lot: string) {
    // The chain keeps GTIN-14 (one product whatever length it was given in).
    const taskId = await db.value<string>('SELECT task_id FROM tasks WHERE gtin = ? AND lot = ?', gtin.padStart(14, '0'), lot);
    if (taskId === undefined) throw new ApiError(404, 'ERR_NOT_FOUND', `lot ${lot} of ${gtin} is not indexed`);
    return publicTrace(taskId);
  }
  handle(router, R.alerts, async (ctx, { query: { limit, offset, ...q } }) => {
    const type = q.type ?? null;
    const alerts = await db.all<{ type: string; code_hash: Buffer | null }>('SELECT * FROM alerts WHERE (CAST(? AS TEXT) IS NULL OR type = ?) ORDER BY id DESC LIMIT ? OFFSET ?', type, type, limit, offset);
    // a clone alert says where the scans that raised it came from: anonymous clients (how many) or keyed apps
    ctx.body = await Promise.all(
      alerts.map(async (row) => {
        const a = { ...row, code_hash: codeHexOrNull(row.code_hash) };
        if (a.type !== 'clone' || !a.code_hash) return a;
        const origin = await scanOrigin(db, a.code_hash);
        return { ...a, fromAnonymousScans: origin.anonymous.counted > 0, scanOrigin: origin };
      }),
    );
  });
  for (const m of MODULES) m.register(router, { db, ledger, chaincode: opts.chaincode ?? ledger?.chaincodeName });

  checkDeclared(ROUTES, router.stack.flatMap((l) => l.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(l.path) }))));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
