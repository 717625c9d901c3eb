import { PAGES } from '../access';
import { ConsoleError } from '../errors';
import { IndexedTask } from '../indexer-client';
import { Call, chainWrite, ConsoleRoute, id, user } from '../route-kit';
import { templateStage } from '../stage-entry';
import { revealCipherItems } from '../cipher/stage-cipher';

/** The member roles the chain lets audit (trace:auditStage, trace:auditTask). */
const AUDITOR_ROLES = ['inspector', 'auditor', 'regulator'];

/**
 * What waits for my org's audit, from the indexer: stage records of open tasks written by other orgs whose current
 * version my org has not audited, and complete tasks without a task audit. Empty unless the org holds an auditing role.
 */
async function queue(call: Call): Promise<unknown> {
  const { indexer, chain } = call.deps;
  const member = await chain.client.consortium.getMember(chain.org);
  if (!member.roles.some((r) => AUDITOR_ROLES.includes(r))) return { auditor: false, stages: [], tasks: [] };
  const [stages, tasks] = await Promise.all([indexer.get<unknown[]>(`/api/stages?awaitingAuditBy=${encodeURIComponent(chain.org)}&limit=200`), indexer.get<unknown[]>('/api/tasks?complete=true&audited=false&limit=100')]);
  return { auditor: true, stages, tasks };
}

/** The stage's current record as the auditor reviews it, with its items (names, units), earlier versions and audits. */
async function stageRecord(call: Call): Promise<unknown> {
  const taskId = id(call.params.taskId, 'taskId');
  const stage = id(call.params.stage, 'stage');
  const detail = await call.deps.indexer.get<IndexedTask>(`/api/tasks/${encodeURIComponent(taskId)}`);
  const { task } = detail;
  const node = templateStage(await call.deps.chain.template(task.template, task.version), stage);
  // encrypted items decrypted where this org is a recipient, else named by whom they are for
  const versions = detail.records
    .filter((r) => r.stage === stage)
    .sort((a, b) => a.version - b.version)
    .map((r) => {
      const { data, encryptedFor } = revealCipherItems(node.items, r.data, call.deps.orgKeys);
      return { ...r, data, encryptedFor };
    });
  const record = versions.pop() ?? notRecorded(taskId, stage);
  return {
    task: { taskId, product: task.product, lot: task.lot, template: task.template, version: task.version },
    stage: { stage, name: node.name, requiresAudit: node.requiresAudit, assignedTo: task.assignments[stage] },
    items: node.items.map((i) => ({ id: i.id, name: i.name, unit: i.unit, privacy: i.privacy })),
    record,
    earlier: versions,
    audits: detail.audits.filter((a) => a.stage === stage),
  };
}

function notRecorded(taskId: string, stage: string): never {
  throw new ConsoleError(404, 'ERR_NOT_FOUND', `stage '${stage}' of task ${taskId} is not recorded yet`);
}

/** approved, or rejected with the comment that tells the recording org what to fix. */
function verdictOf(call: Call): { verdict: 'approved' | 'rejected'; comment: string } {
  const { verdict, comment = '' } = call.body as { verdict?: unknown; comment?: unknown };
  if (verdict !== 'approved' && verdict !== 'rejected') throw new ConsoleError(400, 'ERR_VALIDATION', 'verdict must be approved or rejected', { verdict: 'approved or rejected' });
  if (typeof comment !== 'string' || comment.length > 1024) throw new ConsoleError(400, 'ERR_VALIDATION', 'comment must be text of at most 1024 characters', { comment: 'at most 1024 characters' });
  if (verdict === 'rejected' && comment.trim() === '') throw new ConsoleError(400, 'ERR_VALIDATION', 'a rejection needs a comment saying what to fix', { comment: 'required for a rejection' });
  return { verdict, comment };
}

export const auditRoutes: ConsoleRoute[] = [
  { method: 'get', path: '/api/audits/queue', access: PAGES.audit, summary: "Stage records and tasks waiting for my org's audit", handle: queue },
  { method: 'get', path: '/api/audits/:taskId/:stage', access: PAGES.audit, summary: 'A stage record to audit, with its items, earlier versions and audits', handle: stageRecord },
  {
    method: 'post', path: '/api/audits/:taskId/:stage', access: PAGES.audit, summary: "Audit the stage's current record {verdict: approved|rejected, comment, version: the record version reviewed} (trace:auditStage)",
    handle: (c) => {
      const [taskId, stage] = [id(c.params.taskId, 'taskId'), id(c.params.stage, 'stage')];
      const verdict = verdictOf(c);
      const reviewed = c.body.version;
      if (typeof reviewed !== 'number' || !Number.isInteger(reviewed) || reviewed < 1) throw new ConsoleError(400, 'ERR_VALIDATION', 'version (the record version reviewed) is required');
      return chainWrite(c, 'trace:auditStage', `${taskId}/${stage}`, async () => {
        // the chain audits whatever version is current: refuse when it is no longer the one the user reviewed
        // (a check, not a guarantee: an amendment can still land between it and the audit; the DTO names no version)
        const current = (await c.deps.chain.client.trace.getTask(taskId)).stages.find((s) => s.stage === stage)?.version;
        if (current !== reviewed) throw new ConsoleError(409, 'ERR_STALE_RECORD', `stage '${stage}' of task ${taskId} is at version ${current ?? '(none)'}, not the version ${reviewed} reviewed: review it again`);
        return c.deps.chain.client.trace.auditStage({ taskId, stage, ...verdict, actor: user(c).username });
      });
    },
  },
  {
    method: 'post', path: '/api/audits/:taskId', access: PAGES.audit, summary: 'Audit the whole task {verdict, comment} once every stage is recorded (trace:auditTask)',
    handle: (c) => {
      const taskId = id(c.params.taskId, 'taskId');
      return chainWrite(c, 'trace:auditTask', taskId, () => c.deps.chain.client.trace.auditTask({ taskId, ...verdictOf(c), actor: user(c).username }));
    },
  },
];
