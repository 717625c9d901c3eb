import { expect } from 'chai';
import { resolve } from 'node:path';
import { Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet, testClock } from '@trace/test-network';
import { createApiKey, openDb, startIndexer } from '../src';
import { newDbLocation } from './support/databases';

const CHAINCODE = resolve(__dirname, '../../../chaincode');
const FARM_STAGES = ['tea_plantation', 'tea_picking', 'tea_warehousing'];

/** The member console's queries: an org's tasks, the stages waiting for it, and the records waiting for its audit. */
describe("indexer task stages: an org's tasks, its waiting stages and its audit queue in one call each (devnet)", function () {
  this.timeout(240_000);
  let devnet: RunningDevnet;
  const ledgers: Ledger[] = [];
  let brand: TraceChainClient;
  let farm: TraceChainClient;
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let key = '';
  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`http://127.0.0.1:${indexer.port}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as T };
  };
  type Stage = { task_id: string; stage: string; ready: boolean; record_version: number | null; recorded_by: string | null; assigned_to: string; requires_audit: boolean };
  const stages = async (query: string) => (await get<Stage[]>(`/api/stages?${query}`)).body;
  const until = async (what: string, ok: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const clock = testClock();
  const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, FARM_STAGES.includes(s.stage) ? 'Org2MSP' : 'Org1MSP']));
  /** a task of the tea template whose plantation the farm has recorded; each test reads or changes tasks of its own */
  const taskWithPlantation = async (taskId: string) => {
    await brand.trace.createTask({ taskId, template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: taskId.toUpperCase(), plannedQuantity: 10, unit: 'cake', assignments });
    await farm.trace.recordStage({ taskId, stage: 'tea_plantation', eventTime: clock.at(0), data: { tea_garden: 'Jingmai', tea_organic_cert: 'a'.repeat(64) } });
  };
  const of = (taskId: string) => (s: Stage) => s.task_id === taskId;

  before(async () => {
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1', '--orgs', 'Org1MSP,Org2MSP']);
    const [b, f] = ['Org1MSP', 'Org2MSP'].map((msp) => ledgerFromConfig(devnet.connection, { msp }));
    ledgers.push(b, f);
    brand = new TraceChainClient(b);
    farm = new TraceChainClient(f);
    await brand.consortium.bootstrap({ consortium: 'stages', name: 'Brand', roles: ['brand', 'processor', 'logistics', 'retailer', 'inspector'] });
    await brand.consortium.addMember({ mspId: 'Org2MSP', name: 'Farm', roles: ['producer', 'warehouse', 'auditor'] });
    await brand.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand' });
    await loadTemplatePackage(brand, tea);
    await taskWithPlantation('ts-1');
    const dbPath = await newDbLocation('task-stages');
    const db = await openDb(dbPath);
    key = (await createApiKey(db, { org: 'Org1MSP', scope: 'member' })).key;
    await db.close();
    indexer = await startIndexer({ connection: devnet.connection, db: dbPath, port: 0 });
    await until('the plantation record', async () => (await stages('status=recorded')).some(of('ts-1')));
  });

  after(async () => {
    await indexer?.stop();
    ledgers.forEach((l) => l.close());
    await devnet?.stop();
  });

  it("lists an org's tasks (owned or assigned) with their progress, and filters complete ones", async () => {
    type Task = Record<string, unknown>;
    const ids = async (query: string) => (await get<Task[]>(`/api/tasks?${query}`)).body.map((t) => t.task_id);
    const tasks = (await get<Task[]>('/api/tasks?org=Org2MSP')).body.filter((t) => t.task_id === 'ts-1');
    expect(tasks.map((t) => [t.task_id, t.product_name, t.owner, t.stages_recorded, t.stages_total, t.audited])).to.deep.equal([['ts-1', '普洱', 'Org1MSP', 1, tea.template.stages.length, false]]);
    expect(await ids('org=Org1MSP'), 'the owner').to.include('ts-1');
    expect(await ids('org=Org3MSP'), 'neither owner nor assigned').to.deep.equal([]);
    expect(await ids('complete=true'), 'no task is complete').to.deep.equal([]);
    expect(await ids('complete=false&org=Org2MSP')).to.include('ts-1');
  });

  it("gives the stages waiting for an org, each ready once its predecessors are recorded", async () => {
    const waiting = (await stages('assignedTo=Org2MSP&status=waiting')).filter(of('ts-1'));
    expect(waiting.map((s) => [s.stage, s.ready, s.record_version, s.assigned_to])).to.deep.equal([
      ['tea_picking', true, null, 'Org2MSP'],
      ['tea_warehousing', false, null, 'Org2MSP'],
    ]);
    expect((await stages('assignedTo=Org2MSP&status=recorded')).filter(of('ts-1')).map((s) => [s.stage, s.record_version, s.recorded_by])).to.deep.equal([['tea_plantation', 1, 'Org2MSP']]);
    const brandWaiting = await stages('assignedTo=Org1MSP&status=waiting');
    expect(brandWaiting.filter(of('ts-1')).slice(0, 2).map((s) => s.stage)).to.deep.equal(['tea_withering', 'tea_rolling']);
    // limit pages the same list (newest task first, then stage order)
    expect(await stages('assignedTo=Org1MSP&status=waiting&limit=2')).to.deep.equal(brandWaiting.slice(0, 2));
  });

  it("queues a record for another org's audit until that org audits its current version; an amendment queues it again", async () => {
    await taskWithPlantation('ts-2');
    const queue = (org: string) => stages(`awaitingAuditBy=${org}`).then((q) => q.filter(of('ts-2')).map((s) => [s.stage, s.record_version]));
    await until('the plantation of ts-2 in the queue', async () => (await queue('Org1MSP')).length === 1);
    expect(await queue('Org1MSP')).to.deep.equal([['tea_plantation', 1]]);
    expect(await queue('Org2MSP'), 'an org never audits its own records').to.deep.equal([]);
    await brand.trace.auditStage({ taskId: 'ts-2', stage: 'tea_plantation', verdict: 'rejected', comment: 'certificate unreadable' });
    await until('the audit of the plantation', async () => ((await get<{ audits: { stage: string }[] }>('/api/tasks/ts-2')).body.audits ?? []).some((a) => a.stage === 'tea_plantation'));
    expect(await queue('Org1MSP')).to.deep.equal([]);
    await farm.trace.amendStage({ taskId: 'ts-2', stage: 'tea_plantation', eventTime: clock.at(0), data: { tea_garden: 'Jingmai', tea_organic_cert: 'b'.repeat(64) }, reason: 'rescanned' });
    await until('the amendment in the queue', async () => (await queue('Org1MSP')).length === 1);
    expect(await queue('Org1MSP')).to.deep.equal([['tea_plantation', 2]]);
    // the task's detail dates each record by its transaction, so a timeline orders records and audits as written
    const { records, audits } = (await get<{ records: { version: number; recorded_at: string }[]; audits: { at: string }[] }>('/api/tasks/ts-2')).body;
    const [v1, v2] = records.map((r) => Date.parse(r.recorded_at));
    expect([records.map((r) => r.version), v1 <= Date.parse(audits[0].at), Date.parse(audits[0].at) <= v2]).to.deep.equal([[1, 2], true, true]);
  });

  it('answers a malformed filter with 400 ERR_VALIDATION naming it', async () => {
    for (const [query, field] of [
      ['status=done', 'status'],
      ['assignedTo=%20Org1', 'assignedTo'],
      ['awaitingAuditBy=a%27b', 'awaitingAuditBy'],
    ]) {
      const res = await get<{ error: { code: string; message: string } }>(`/api/stages?${query}`);
      expect([res.status, res.body.error.code], query).to.deep.equal([400, 'ERR_VALIDATION']);
      expect(res.body.error.message).to.match(new RegExp(`^${field} `));
    }
    const tasks = await get<{ error: { code: string } }>('/api/tasks?complete=yes');
    expect([tasks.status, tasks.body.error.code]).to.deep.equal([400, 'ERR_VALIDATION']);
  });
});
