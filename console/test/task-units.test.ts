import { expect } from 'chai';
import type { Template } from '@trace/chaincode';
import { IndexedTask } from '../src/indexer-client';
import { fieldsOfTaskError } from '../src/routes/tasks';
import { taskTimeline } from '../src/task-timeline';

describe('console units: createTask refusals on their fields, the task timeline in the order it was written', () => {
  it('puts a createTask refusal on the field it concerns: DTO properties, a stage assignment, a taken lot or task id', () => {
    expect(fieldsOfTaskError('ERR_VALIDATION', 'lot must match /^[A-Za-z0-9]/ regular expression; unit must be longer than or equal to 1 characters')).to.deep.equal({
      lot: 'lot must match /^[A-Za-z0-9]/ regular expression',
      unit: 'unit must be longer than or equal to 1 characters',
    });
    expect(fieldsOfTaskError('ERR_FORBIDDEN', "stage 'tea_picking' needs the role producer, which Org1MSP does not hold")).to.deep.equal({ 'assignments.tea_picking': "stage 'tea_picking' needs the role producer, which Org1MSP does not hold" });
    expect(fieldsOfTaskError('ERR_CONFLICT', 'lot L1 of GTIN 06901234567892 is already task t-1')).to.deep.equal({ lot: 'lot L1 of GTIN 06901234567892 is already task t-1' });
    expect(fieldsOfTaskError('ERR_CONFLICT', 'task t-1 already exists')).to.deep.equal({ taskId: 'task t-1 already exists' });
    expect(fieldsOfTaskError('ERR_FORBIDDEN', 'product 06901234567892 belongs to Org1MSP, which has not delegated it to Org2MSP'), 'product: a property name').to.have.keys(['product']);
    expect(fieldsOfTaskError('ERR_NOT_MEMBER', 'caller is not a member'), 'no field: shown on the form').to.deep.equal({});
  });

  it('orders records and audits by their transaction time, a record before the audit of it when both carry one time, and names each stage', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, s)).toISOString();
    const record = (version: number, recordedAt: string) => ({ stage: 's1', version, event_time: at(0), location: null, data: {}, flags: [], recorded_by: 'Org2MSP', actor: 'clerk', reason: version > 1 ? 'fixed' : null, tx_id: `r${version}`, recorded_at: recordedAt });
    const detail = {
      task: { taskId: 't-1', createdAt: at(1), createdBy: 'Org1MSP', actor: 'admin' },
      records: [record(2, at(30)), record(1, at(10))],
      audits: [
        { stage: '*', verdict: 'approved', comment: '', auditor: 'Org1MSP', actor: 'qa', at: at(40), record_version: null, tx_id: 'a3' },
        { stage: 's1', verdict: 'approved', comment: 'ok', auditor: 'Org1MSP', actor: 'qa', at: at(30), record_version: 2, tx_id: 'a2' },
        { stage: 's1', verdict: 'rejected', comment: 'too warm', auditor: 'Org1MSP', actor: 'qa', at: at(20), record_version: 1, tx_id: 'a1' },
      ],
    } as unknown as IndexedTask;
    const template = { stages: [{ stage: 's1', name: 'Storage' }] } as unknown as Template;
    expect(taskTimeline(detail, template).map((e) => [e.kind, e.actor])).to.deep.include.members([['created', 'admin'], ['recorded', 'clerk'], ['taskAudited', 'qa']]);
    expect(taskTimeline(detail, template).map((e) => [e.kind, e.stageName ?? '', e.version ?? 0, e.verdict ?? e.reason ?? ''])).to.deep.equal([
      ['created', '', 0, ''],
      ['recorded', 'Storage', 1, ''],
      ['audited', 'Storage', 1, 'rejected'],
      ['amended', 'Storage', 2, 'fixed'],
      ['audited', 'Storage', 2, 'approved'],
      ['taskAudited', '', 0, 'approved'],
    ]);
  });
});
