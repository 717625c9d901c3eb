import { msOf, parseRfc3339 } from './time';
/**
 * Stage order and event-time rules of a production task. Pure: callers pass the template's
 * stage graph and what is recorded so far.
 */

export interface StageNode {
  stage: string;
  /** stages that must be recorded first */
  after: string[];
}

export interface RecordedStage {
  eventTime: string;
  /** latest audit verdict of the stage, if audited */
  audit?: 'approved' | 'rejected';
}

/** How far into the future (past the transaction timestamp) an event time may be. */
export const EVENT_TIME_TOLERANCE_MS = 5 * 60 * 1000;

/** Problems with the graph itself: unknown predecessors, duplicates, cycles. */
export function checkStageGraph(nodes: StageNode[]): string[] {
  const out: string[] = [];
  const ids = new Set<string>();
  for (const n of nodes) {
    if (ids.has(n.stage)) out.push(`stage '${n.stage}' appears twice`);
    ids.add(n.stage);
  }
  for (const n of nodes) for (const a of n.after) if (!ids.has(a)) out.push(`stage '${n.stage}' comes after unknown stage '${a}'`);
  if (out.length > 0) return out;
  // Kahn's algorithm: whatever cannot be ordered sits on a cycle.
  const indegree = new Map(nodes.map((n) => [n.stage, n.after.length]));
  const next = nodes.filter((n) => n.after.length === 0).map((n) => n.stage);
  let ordered = 0;
  while (next.length > 0) {
    const s = next.pop()!;
    ordered++;
    for (const n of nodes) {
      if (!n.after.includes(s)) continue;
      const d = indegree.get(n.stage)! - 1;
      indegree.set(n.stage, d);
      if (d === 0) next.push(n.stage);
    }
  }
  if (ordered < nodes.length) out.push('the stage order has a cycle');
  return out;
}

/**
 * Why `stage` cannot be recorded now, or undefined: every predecessor recorded, approved where
 * it requires an audit, and eventTime neither before a predecessor's nor past txTime + tolerance.
 */
export function checkStageOrder(
  nodes: StageNode[],
  stage: string,
  eventTime: string,
  txTimeMs: number,
  recorded: Record<string, RecordedStage | undefined>,
  requiresAudit: (stage: string) => boolean,
): { code: 'ERR_STAGE_ORDER' | 'ERR_VALIDATION' | 'ERR_NOT_FOUND'; message: string } | undefined {
  const node = nodes.find((n) => n.stage === stage);
  if (!node) return { code: 'ERR_NOT_FOUND', message: `stage '${stage}' is not part of this task's process` };
  const at = parseRfc3339(eventTime);
  if (at === undefined) return { code: 'ERR_VALIDATION', message: `eventTime '${eventTime}' is not a date-time` };
  if (at > txTimeMs + EVENT_TIME_TOLERANCE_MS) return { code: 'ERR_VALIDATION', message: `eventTime ${eventTime} is in the future` };
  for (const before of node.after) {
    const rec = recorded[before];
    if (!rec) return { code: 'ERR_STAGE_ORDER', message: `stage '${stage}' needs '${before}' first` };
    if (requiresAudit(before) && rec.audit !== 'approved') {
      return { code: 'ERR_STAGE_ORDER', message: `stage '${stage}' needs an approved audit of '${before}' first` };
    }
    if (msOf(rec.eventTime) > at) {
      return { code: 'ERR_STAGE_ORDER', message: `eventTime ${eventTime} of '${stage}' precedes '${before}' (${rec.eventTime})` };
    }
  }
  return undefined;
}
