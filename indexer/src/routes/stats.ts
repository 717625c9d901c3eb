import { z } from 'zod';
import { route, RouteModule } from '../http';
import { Id } from '../schemas';
import { handle } from '../validation';

const COUNTED = ['tasks', 'stage_records', 'codes', 'scans', 'alerts', 'devices', 'alarms', 'asset_classes', 'scan_queue'];

/** Fabric's system chaincodes: their transactions (chaincode lifecycle, channel config queries) are the network's, not the product's. */
export const SYSTEM_CHAINCODES = ['_lifecycle', 'lscc', 'cscc', 'qscc', 'vscc', 'escc'];
const SYSTEM_SQL = SYSTEM_CHAINCODES.map((c) => `'${c}'`).join(', ');

/**
 * Which transactions are the product's: those of the product chaincode, or without its name every
 * chaincode but the system ones. A channel may carry other chaincodes; the product's figures leave
 * them out and report them apart.
 */
function productFilter(chaincode: string | undefined): { sql: string; params: string[] } {
  return chaincode ? { sql: 'chaincode = ?', params: [chaincode] } : { sql: `chaincode IS NOT NULL AND chaincode NOT IN (${SYSTEM_SQL})`, params: [] };
}

const Count = z.number().int();
const ByChaincode = z.object({ transactions: Count, byChaincode: z.record(z.string(), Count) });

const R = {
  stats: route({
    method: 'get', path: '/api/stats', scope: 'member',
    summary:
      "The product chaincode's blocks and transactions (`chaincode`), the chain's totals (`chain`, with config blocks), system chaincodes' and other chaincodes' transactions apart (`system`, `other`, per chaincode), and counts of tasks, records, codes, scans, alerts, devices, alarms, asset classes, queued scans",
    response: {
      description: 'figures',
      schema: z.object({
        chaincode: z.string().nullable(),
        blocks: Count,
        transactions: Count,
        ...Object.fromEntries(COUNTED.map((t) => [t, Count])),
        chain: z.object({ blocks: Count, transactions: Count, configBlocks: Count }),
        system: ByChaincode,
        other: ByChaincode,
      }),
    },
  }),
  throughput: route({
    method: 'get', path: '/api/stats/throughput', scope: 'member', summary: "The product chaincode's blocks and valid/invalid transactions per minute over the last `minutes` (default 60) before the newest block",
    query: z.object({ minutes: z.coerce.number().int().min(1).max(1440).default(60) }),
    response: { description: 'one entry a minute, oldest first', schema: z.object({ minutes: Count, series: z.array(z.object({ minute: z.string(), blocks: Count, valid: Count, invalid: Count })) }) },
  }),
  lots: route({
    method: 'get', path: '/api/stats/lots', scope: 'member', summary: 'Lots by template and current stage (the latest recorded one; audited lots count as audited)',
    response: { description: 'lots per template and stage', schema: z.array(z.object({ template: z.string(), stage: z.string(), lots: Count })) },
  }),
  regions: route({
    method: 'get', path: '/api/stats/regions', scope: 'member', summary: 'Scans, distinct codes and diversion alerts per scan region',
    response: { description: 'per region (null: scans without one)', schema: z.array(z.object({ region: z.string().nullable(), scans: Count, codes: Count, diversions: Count })) },
  }),
  alerts: route({
    method: 'get', path: '/api/stats/alerts', scope: 'member', summary: 'Alerts per type and per day',
    response: { description: 'alert counts', schema: z.object({ byType: z.array(z.object({ type: z.string(), n: Count })), byDay: z.array(z.object({ day: z.string(), type: z.string(), n: Count })) }) },
  }),
  sensors: route({
    method: 'get', path: '/api/stats/sensors', scope: 'member', summary: 'Per-batch min/max of each metric for a device or a task (deviceId | taskId)',
    query: z.object({ deviceId: Id.optional(), taskId: Id.optional() }).refine((q) => q.deviceId !== undefined || q.taskId !== undefined, 'deviceId or taskId is required'),
    response: { description: 'per metric, oldest batch first', schema: z.object({ metrics: z.record(z.string(), z.array(z.object({ deviceId: z.string(), at: z.string(), min: z.number(), max: z.number(), count: Count }))) }) },
  }),
};

/** Figures for the operations dashboard, computed from the index. */
export const statsRoutes: RouteModule = {
  routes: Object.values(R),
  register(router, { db, chaincode }) {
    const product = productFilter(chaincode);
    const byChaincode = async (where: string, params: string[]) =>
      Object.fromEntries((await db.all<{ cc: string; n: number }>(`SELECT coalesce(chaincode, '') AS cc, count(*) AS n FROM transactions WHERE ${where} GROUP BY cc ORDER BY cc`, ...params)).map((r) => [r.cc, r.n]));
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    handle(router, R.stats, async (ctx) => {
      const mine = (await db.get<{ blocks: number; transactions: number }>(`SELECT count(DISTINCT block) AS blocks, count(*) AS transactions FROM transactions WHERE ${product.sql}`, ...product.params))!;
      const chain = await db.get<Record<string, number>>('SELECT count(*) AS blocks, coalesce(sum(tx_count), 0) AS transactions, coalesce(sum(CASE WHEN tx_count = 0 THEN 1 ELSE 0 END), 0) AS "configBlocks" FROM blocks');
      const system = await byChaincode(`chaincode IN (${SYSTEM_SQL})`, []);
      // unparsable envelopes have no chaincode name: they are neither the product's nor a system chaincode's
      const other = await byChaincode(`chaincode IS NULL OR (chaincode NOT IN (${SYSTEM_SQL}) AND NOT (${product.sql}))`, product.params);
      const counts: Record<string, number> = {};
      for (const t of COUNTED) counts[t] = (await db.value<number>(`SELECT count(*) FROM ${t}`))!;
      ctx.body = {
        chaincode: chaincode ?? null,
        ...mine,
        ...counts,
        chain,
        system: { transactions: sum(system), byChaincode: system },
        other: { transactions: sum(other), byChaincode: other },
      };
    });
    handle(router, R.throughput, async (ctx, { query: { minutes } }) => {
      const newest = await db.value<number | null>(`SELECT max(timestamp_ms) FROM transactions WHERE ${product.sql}`, ...product.params);
      if (newest == null) return void (ctx.body = { minutes, series: [] });
      const end = Math.floor(newest / 60_000) + 1;
      const rows = await db.all<{ minute: number; blocks: number; valid: number; invalid: number }>(
        `SELECT timestamp_ms / 60000 AS minute, count(DISTINCT block) AS blocks, sum(CASE WHEN validation_code = 'VALID' THEN 1 ELSE 0 END) AS valid,
           sum(CASE WHEN validation_code != 'VALID' THEN 1 ELSE 0 END) AS invalid
         FROM transactions WHERE timestamp_ms >= ? AND ${product.sql} GROUP BY minute`,
        (end - minutes) * 60_000,
        ...product.params,
      );
      const byMinute = new Map(rows.map((r) => [r.minute, r]));
      const series = Array.from({ length: minutes }, (_, i) => {
        const m = end - minutes + i;
        const r = byMinute.get(m);
        return { minute: new Date(m * 60_000).toISOString(), blocks: r?.blocks ?? 0, valid: r?.valid ?? 0, invalid: r?.invalid ?? 0 };
      });
      ctx.body = { minutes, series };
    });
    handle(router, R.lots, async (ctx) => {
      ctx.body = await db.all(
        `WITH latest AS (
           SELECT task_id, stage, row_number() OVER (PARTITION BY task_id ORDER BY event_time DESC, version DESC, stage) AS n FROM stage_records)
         SELECT t.template, CASE WHEN t.audit IS NOT NULL THEN 'audited' ELSE coalesce(l.stage, 'created') END AS stage, count(*) AS lots
         FROM tasks t LEFT JOIN latest l ON l.task_id = t.task_id AND l.n = 1
         GROUP BY t.template, 2 ORDER BY t.template, 2`,
      );
    });
    handle(router, R.regions, async (ctx) => {
      // ties broken by region (scans without one first), the same on both engines
      ctx.body = await db.all(
        `SELECT s.region, count(*) AS scans, count(DISTINCT s.code_hash) AS codes,
           (SELECT count(*) FROM alerts a WHERE a.type = 'diversion' AND a.region = s.region) AS diversions
         FROM scans s GROUP BY s.region ORDER BY scans DESC, s.region NULLS FIRST`,
      );
    });
    handle(router, R.alerts, async (ctx) => {
      ctx.body = {
        byType: await db.all('SELECT type, count(*) AS n FROM alerts GROUP BY type ORDER BY type'),
        byDay: await db.all('SELECT substr(at, 1, 10) AS day, type, count(*) AS n FROM alerts GROUP BY day, type ORDER BY day, type'),
      };
    });
    handle(router, R.sensors, async (ctx, { query }) => {
      const deviceId = query.deviceId ?? null;
      const taskId = query.taskId ?? null;
      // the newest 1,000 batches, oldest first
      const rows = (
        await db.all<{ device_id: string; seq: number; submitted_at: string; stats: string }>(
          'SELECT device_id, seq, submitted_at, stats FROM readings WHERE (CAST(? AS TEXT) IS NULL OR device_id = ?) AND (CAST(? AS TEXT) IS NULL OR task_id = ?) ORDER BY submitted_at DESC, device_id DESC, seq DESC LIMIT 1000',
          deviceId, deviceId, taskId, taskId,
        )
      ).reverse();
      const metrics: Record<string, { deviceId: string; at: string; min: number; max: number; count: number }[]> = {};
      for (const r of rows) {
        for (const [metric, s] of Object.entries(JSON.parse(r.stats) as Record<string, { min: number; max: number; count: number }>)) {
          (metrics[metric] ??= []).push({ deviceId: r.device_id, at: r.submitted_at, ...s });
        }
      }
      ctx.body = { metrics };
    });
  },
};
