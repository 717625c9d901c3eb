import { z } from 'zod';
import { route, RouteModule } from '../http';
import { Id, Int, PAGE, row } from '../schemas';
import { handle } from '../validation';

const StageRow = row({
  task_id: z.string(),
  template: z.string(),
  version: Int,
  gtin: z.string(),
  lot: z.string(),
  product_name: z.string(),
  stage: z.string(),
  name: z.string(),
  requires_audit: z.boolean(),
  assigned_to: z.string().nullable(),
  ready: z.boolean().describe('every stage it comes after is recorded'),
  record_version: Int.nullable().describe('the current record version; null while waiting'),
  recorded_by: z.string().nullable(),
  event_time: z.string().nullable(),
});

const R = {
  stages: route({
    method: 'get', path: '/api/stages', scope: 'member',
    summary:
      'Stages of open tasks (no approved task audit), one row per task and stage of its template version, newest task first: assignedTo=<MSP> (the stages that org records), status=waiting|recorded, awaitingAuditBy=<MSP> (recorded by another org, its current version not audited by that org yet); limit, offset',
    query: z.object({ assignedTo: Id.optional(), status: z.enum(['waiting', 'recorded']).optional(), awaitingAuditBy: Id.optional(), ...PAGE }),
    response: { description: 'task stages', schema: z.array(StageRow) },
  }),
};

interface Stored {
  requires_audit: number;
  ready: number;
}

/**
 * The stages of open tasks, from the template version's stage list (JSON) and the task's assignments
 * (JSON): SQLite walks them with json_each and '$.x' paths, PostgreSQL with jsonb functions. `after`
 * is each stage's list of stages it comes after, walked by `afterEach` (one row per stage id, `b.value`).
 */
const OPEN_STAGES = {
  sqlite: {
    stages: `SELECT t.task_id, t.template, t.version, t.gtin, t.lot, t.created_at, t.json ->> '$.product.name' AS product_name,
        CAST(st.key AS INTEGER) AS position, st.value ->> '$.stage' AS stage, st.value ->> '$.name' AS name,
        CASE WHEN st.value -> '$.requiresAudit' = 'true' THEN 1 ELSE 0 END AS requires_audit, st.value -> '$.after' AS after,
        (SELECT a.value FROM json_each(t.json, '$.assignments') a WHERE a.key = st.value ->> '$.stage') AS assigned_to
      FROM tasks t JOIN templates tp ON tp.id = t.template AND tp.version = t.version, json_each(tp.json, '$.stages') st
      WHERE t.audit IS NULL OR t.audit ->> '$.verdict' <> 'approved'`,
    afterEach: `json_each(s.after) b`,
  },
  postgres: {
    stages: `SELECT t.task_id, t.template, t.version, t.gtin, t.lot, t.created_at, t.json::jsonb -> 'product' ->> 'name' AS product_name,
        st.position, st.value ->> 'stage' AS stage, st.value ->> 'name' AS name,
        CASE WHEN st.value -> 'requiresAudit' = 'true'::jsonb THEN 1 ELSE 0 END AS requires_audit, st.value -> 'after' AS after,
        (SELECT a.value FROM jsonb_each_text(t.json::jsonb -> 'assignments') a(key, value) WHERE a.key = st.value ->> 'stage') AS assigned_to
      FROM tasks t JOIN templates tp ON tp.id = t.template AND tp.version = t.version
        CROSS JOIN jsonb_array_elements(tp.json::jsonb -> 'stages') WITH ORDINALITY st(value, position)
      WHERE t.audit IS NULL OR t.audit::jsonb ->> 'verdict' <> 'approved'`,
    afterEach: `jsonb_array_elements_text(s.after) b(value)`,
  },
};

/**
 * The work a member org's staff do stage by stage, in one query: what it must record (its workbench)
 * and what it may audit (its audit queue), from the task, its template version and the records.
 */
export const taskStageRoutes: RouteModule = {
  routes: Object.values(R),
  register(router, { db }) {
    const { stages, afterEach } = OPEN_STAGES[db.engine];
    const sql = `WITH s AS (${stages})
      SELECT s.task_id, s.template, s.version, s.gtin, s.lot, s.product_name, s.stage, s.name, s.requires_audit, s.assigned_to,
        CASE WHEN NOT EXISTS (SELECT 1 FROM ${afterEach} WHERE NOT EXISTS (SELECT 1 FROM stage_records p WHERE p.task_id = s.task_id AND p.stage = b.value)) THEN 1 ELSE 0 END AS ready,
        r.version AS record_version, r.recorded_by, r.event_time
      FROM s LEFT JOIN stage_records r ON r.task_id = s.task_id AND r.stage = s.stage
        AND r.version = (SELECT max(version) FROM stage_records m WHERE m.task_id = s.task_id AND m.stage = s.stage)
      WHERE (CAST(? AS TEXT) IS NULL OR s.assigned_to = ?)
        AND (CAST(? AS TEXT) IS NULL OR (CAST(? AS TEXT) = 'waiting') = (r.version IS NULL))
        AND (CAST(? AS TEXT) IS NULL OR (r.version IS NOT NULL AND r.recorded_by <> ?
          AND NOT EXISTS (SELECT 1 FROM audits a WHERE a.task_id = s.task_id AND a.stage = s.stage AND a.auditor = ? AND a.record_version = r.version)))
      ORDER BY s.created_at DESC, s.task_id, s.position LIMIT ? OFFSET ?`;
    handle(router, R.stages, async (ctx, { query: { limit, offset, ...q } }) => {
      const assignedTo = q.assignedTo ?? null;
      const status = q.status ?? null;
      const auditor = q.awaitingAuditBy ?? null;
      const found = await db.all<Stored>(sql, assignedTo, assignedTo, status, status, auditor, auditor, auditor, limit, offset);
      ctx.body = found.map((r) => ({ ...r, requires_audit: r.requires_audit === 1, ready: r.ready === 1 }));
    });
  },
};
