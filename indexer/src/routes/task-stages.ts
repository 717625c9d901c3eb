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
 * The work a member org's staff do stage by stage, in one query: what it must record (its workbench)
 * and what it may audit (its audit queue), from the task, its template version and the records.
 */
export const taskStageRoutes: RouteModule = {
  routes: Object.values(R),
  register(router, { db }) {
    handle(router, R.stages, (ctx, { query: { limit, offset, ...q } }) => {
      const assignedTo = q.assignedTo ?? null;
      const status = q.status ?? null;
      const auditor = q.awaitingAuditBy ?? null;
      const found = db
        .prepare(
          `WITH s AS (
             SELECT t.task_id, t.template, t.version, t.gtin, t.lot, t.created_at, t.json ->> '$.product.name' AS product_name,
               CAST(st.key AS INTEGER) AS position, st.value ->> '$.stage' AS stage, st.value ->> '$.name' AS name,
               st.value ->> '$.requiresAudit' AS requires_audit, st.value -> '$.after' AS after,
               (SELECT a.value FROM json_each(t.json, '$.assignments') a WHERE a.key = st.value ->> '$.stage') AS assigned_to
             FROM tasks t JOIN templates tp ON tp.id = t.template AND tp.version = t.version, json_each(tp.json, '$.stages') st
             WHERE t.audit IS NULL OR t.audit ->> '$.verdict' <> 'approved'
           )
           SELECT s.task_id, s.template, s.version, s.gtin, s.lot, s.product_name, s.stage, s.name, s.requires_audit, s.assigned_to,
             NOT EXISTS (SELECT 1 FROM json_each(s.after) b WHERE NOT EXISTS (SELECT 1 FROM stage_records p WHERE p.task_id = s.task_id AND p.stage = b.value)) AS ready,
             r.version AS record_version, r.recorded_by, r.event_time
           FROM s LEFT JOIN stage_records r ON r.task_id = s.task_id AND r.stage = s.stage
             AND r.version = (SELECT max(version) FROM stage_records m WHERE m.task_id = s.task_id AND m.stage = s.stage)
           WHERE (? IS NULL OR s.assigned_to = ?)
             AND (? IS NULL OR (? = 'waiting') = (r.version IS NULL))
             AND (? IS NULL OR (r.version IS NOT NULL AND r.recorded_by <> ?
               AND NOT EXISTS (SELECT 1 FROM audits a WHERE a.task_id = s.task_id AND a.stage = s.stage AND a.auditor = ? AND a.record_version = r.version)))
           ORDER BY s.created_at DESC, s.task_id, s.position LIMIT ? OFFSET ?`,
        )
        .all(assignedTo, assignedTo, status, status, auditor, auditor, auditor, limit, offset) as Stored[];
      ctx.body = found.map((r) => ({ ...r, requires_audit: r.requires_audit === 1, ready: r.ready === 1 }));
    });
  },
};
