import type { Template } from '@trace/chaincode';
import { IndexedTask } from './indexer-client';

/** One entry of a task's history: its creation, each record version, each audit of a stage or of the task. */
export interface TimelineEntry {
  kind: 'created' | 'recorded' | 'amended' | 'audited' | 'taskAudited';
  /** when its transaction was written (not the business event time) */
  at: string;
  org: string;
  actor?: string;
  stage?: string;
  stageName?: string;
  version?: number;
  eventTime?: string;
  reason?: string;
  verdict?: 'approved' | 'rejected';
  comment?: string;
  data?: Record<string, unknown>;
  txId?: string;
}

/** Entries with one transaction time keep this order (a record before the audit of it). */
const ORDER: Record<TimelineEntry['kind'], number> = { created: 0, recorded: 1, amended: 1, audited: 2, taskAudited: 3 };

/**
 * The task's timeline from the indexer, which keeps every record version and every audit (the chain's state keeps
 * only each org's latest audit of a stage), in the order they were written.
 */
export function taskTimeline(detail: IndexedTask, template: Template): TimelineEntry[] {
  const { task } = detail;
  const name = (stage: string) => template.stages.find((s) => s.stage === stage)?.name ?? stage;
  const entries: TimelineEntry[] = [{ kind: 'created', at: task.createdAt, org: task.createdBy, actor: task.actor }];
  for (const r of detail.records) {
    entries.push({
      kind: r.version === 1 ? 'recorded' : 'amended', at: r.recorded_at ?? r.event_time, org: r.recorded_by, actor: r.actor ?? undefined, stage: r.stage, stageName: name(r.stage),
      version: r.version, eventTime: r.event_time, reason: r.reason ?? undefined, data: r.data, txId: r.tx_id,
    });
  }
  for (const a of detail.audits) {
    const onTask = a.stage === '*';
    entries.push({
      kind: onTask ? 'taskAudited' : 'audited', at: a.at, org: a.auditor, actor: a.actor ?? undefined, stage: onTask ? undefined : a.stage, stageName: onTask ? undefined : name(a.stage),
      version: a.record_version ?? undefined, verdict: a.verdict, comment: a.comment, txId: a.tx_id,
    });
  }
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || ORDER[a.kind] - ORDER[b.kind] || (a.version ?? 0) - (b.version ?? 0));
}
