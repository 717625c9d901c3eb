/**
 * A stage's standing from its audits: each auditor org keeps its own audit of the stage (one key
 * per org, so no org overwrites another's), and only audits of the current record version count.
 * One rejection outweighs any number of approvals; a stage stands approved once an org approved
 * it and none rejected it.
 */
export interface AuditView {
  verdict: 'approved' | 'rejected';
  recordVersion: number;
  auditor: string;
}

/** The audit that decides the stage's standing for `version`, or undefined when none applies. */
export function standingAudit<A extends AuditView>(audits: readonly A[], version: number): A | undefined {
  const current = audits.filter((a) => a.recordVersion === version);
  return current.find((a) => a.verdict === 'rejected') ?? current.find((a) => a.verdict === 'approved');
}

/** Why an org may not audit a record: it wrote it, or it already audited this version. */
export function auditRefusal(record: { recordedBy: string; version: number }, auditor: string, previous: AuditView | undefined): { code: 'ERR_FORBIDDEN' | 'ERR_CONFLICT'; message: string } | undefined {
  if (record.recordedBy === auditor) return { code: 'ERR_FORBIDDEN', message: `${auditor} wrote this record; an org never audits its own records` };
  if (previous && previous.recordVersion === record.version) return { code: 'ERR_CONFLICT', message: `${auditor} already audited version ${record.version} (${previous.verdict}); an audit is final for its version` };
  return undefined;
}
