import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { codeHash, generateCode, TraceChainClient } from '@trace/client';
import { tea } from '@trace/contract-templates';
import { testClock } from '@trace/test-network';
import { ConsoleOptions, openConsoleDb, RunningConsole, startConsole } from '../src';
import { createApiToken, revokeApiToken } from '../src/api-tokens';
import { PASSWORD, until } from './support/pages';
import { ConsoleStack, startStack } from './support/stack';
import { GTIN, TASK, teaLotAwaitingWarehousing } from './support/tea-lot';

const CLI = resolve(__dirname, '../../../client/dist/src/cli.js');
const GS1_EXAMPLES = resolve(__dirname, '../../../indexer/epcis');
const { at } = testClock(200);
type Event = Record<string, unknown>;
interface Job {
  captureID: string;
  running: boolean;
  success: boolean;
  state: string;
  errors: { title: string; instance: string }[];
  events: { index: number; status: string; txId?: string; transaction?: string; error?: { code: string; message: string } }[];
}

describe('EPCIS capture through the console: a member system posts documents with an API token (devnet + indexer)', function () {
  this.timeout(300_000);
  let stack: ConsoleStack;
  let brand: TraceChainClient;
  let farm: TraceChainClient;
  let app: RunningConsole;
  const tokens: Record<string, string> = {};
  let tokenIds: Record<string, number>;
  let consoleOpts: ConsoleOptions;

  const fromIndexer = async <T>(path: string): Promise<T> => {
    const res = await stack.indexed(path, 'Org1MSP');
    expect(res.status, path).to.equal(200);
    return (await res.json()) as T;
  };
  const exported = async (taskId: string) => (await fromIndexer<{ '@context': unknown; epcisBody: { eventList: Event[] } }>(`/epcis/lots/${taskId}`));
  const stagesOnChain = async (taskId: string) => (await brand.trace.getTrace(taskId)).stages.filter((s) => s.record).map((s) => s.stage);
  const capture = (doc: unknown, token: string | null = tokens.erp, type = 'application/ld+json') =>
    fetch(`${app.url}/epcis/capture`, { method: 'POST', headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(doc) });
  const job = async (location: string): Promise<Job> => {
    let last: Job | undefined;
    await until('the capture job to finish', async () => {
      const res = await fetch(`${app.url}${location}`, { headers: { authorization: `Bearer ${tokens.erp}` } });
      last = (await res.json()) as Job;
      return !last.running;
    });
    return last as Job;
  };
  const captured = async (doc: unknown): Promise<Job> => {
    const res = await capture(doc);
    expect(res.status, JSON.stringify(await res.clone().json())).to.equal(202);
    const location = res.headers.get('location') as string;
    expect(location).to.match(/^\/epcis\/capture\/[\w-]+$/);
    return job(location);
  };
  const documentOf = (context: unknown, eventList: Event[]) => ({ '@context': context, type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList } });

  /** a new task of the tea template for another lot, its farm stages recorded as task A's were (1000 kg picked) */
  const newLot = async (taskId: string, lot: string) => {
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, ['tea_plantation', 'tea_picking', 'tea_warehousing'].includes(s.stage) ? 'Org2MSP' : 'Org1MSP']));
    await brand.trace.createTask({ taskId, template: 'puer_tea', version: 1, product: { gtin: GTIN, name: '景迈古树普洱 357g' }, lot, plannedQuantity: 600, unit: 'cake', assignments });
    await farm.trace.recordStage({ taskId, stage: 'tea_plantation', eventTime: at(0), data: { tea_garden: '景迈山古茶园' } });
    await farm.trace.recordStage({ taskId, stage: 'tea_picking', eventTime: at(24), data: { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' } });
    await until(`the indexer to hold ${taskId}'s picking`, async () => (await fromIndexer<{ records: { stage: string }[] }>(`/api/tasks/${taskId}`).catch(() => ({ records: [] }))).records.some((r) => r.stage === 'tea_picking'));
  };
  /** task A's exported events of these stages, as events of another lot (the lot class rewritten, tc:taskId left out) */
  let source: { context: unknown; events: Event[] };
  const forLot = (lot: string, stages: string[]) =>
    source.events
      // stage records only: an audit of a stage names it too
      .filter((e) => stages.includes(e['tc:stage'] as string) && !('tc:verdict' in e))
      .map((e) => {
        const { 'tc:taskId': _task, ...rest } = JSON.parse(JSON.stringify(e).split('/10/CON-1"').join(`/10/${lot}"`)) as Event;
        return rest;
      });

  /** a new lot with these factory stages already captured for it: each test has lots of its own */
  const lotThrough = async (n: number, stages: string[]) => {
    await newLot(`capture-tea-${n}`, `CAP-${n}`);
    if (stages.length) expect((await captured(documentOf(source.context, forLot(`CAP-${n}`, stages)))).state).to.equal('success');
  };

  before(async () => {
    stack = await startStack({ seed: (c) => teaLotAwaitingWarehousing(c.Org1MSP, c.Org2MSP) });
    brand = stack.clients.Org1MSP;
    farm = stack.clients.Org2MSP;
    await until('the indexer to hold the packed lot', async () => (await exported(TASK).catch(() => ({ epcisBody: { eventList: [] } }))).epcisBody.eventList.some((e) => e['tc:stage'] === 'tea_packing'));
    consoleOpts = await stack.consoleOptions('Org1MSP', [['erp', ['data_entry', 'code_manager']], ['qa', ['qa']], ['assets', ['asset_manager']], ['admin', ['admin']]]);
    const db = openConsoleDb(consoleOpts.db);
    tokenIds = {};
    for (const name of ['erp', 'qa', 'assets']) {
      const t = createApiToken(db, name, `${name} system`, 'test');
      tokens[name] = t.token;
      tokenIds[name] = t.id;
    }
    db.close();
    app = await startConsole(consoleOpts);
    const doc = await exported(TASK);
    source = { context: doc['@context'], events: doc.epcisBody.eventList };
  });

  after(async () => {
    await app?.stop();
    await stack?.stop();
  });

  it("round trip: a lot's exported stage records, captured for a second lot, are recorded in order and export with the same event content", async () => {
    await newLot('capture-tea-2', 'CAP-2');
    const stages = ['tea_withering', 'tea_rolling', 'tea_drying'];
    const events = forLot('CAP-2', stages);
    expect(events.map((e) => e.type)).to.deep.equal(['TransformationEvent', 'TransformationEvent', 'TransformationEvent']);
    const done = await captured(documentOf(source.context, events));
    expect(done).to.include({ running: false, success: true, state: 'success' });
    expect(done.errors).to.deep.equal([]);
    expect(done.events.map((e) => [e.status, e.transaction])).to.deep.equal(stages.map(() => ['recorded', 'trace:recordStage']));
    expect(await stagesOnChain('capture-tea-2')).to.include.members(stages);
    const onChain = (await brand.trace.getTrace('capture-tea-2')).stages.find((s) => s.stage === 'tea_drying')!.record!;
    expect(onChain).to.include({ actor: 'erp', recordedBy: 'Org1MSP', txId: done.events[2].txId });

    // the indexer's export of the new lot says what the document said; only the chain's own references differ
    let again: Event[] = [];
    await until('the indexer to hold the captured records', async () => {
      again = (await exported('capture-tea-2')).epcisBody.eventList.filter((e) => stages.includes(e['tc:stage'] as string) && !('tc:verdict' in e));
      return again.length === 3;
    });
    const content = (e: Event) => {
      const { eventID: _id, recordTime: _rt, 'tc:txId': _tx, 'tc:block': _b, 'tc:taskId': _t, ...rest } = e;
      return rest;
    };
    expect(again.map(content)).to.deep.equal(events.map(content));
    expect(again.map((e) => e['tc:txId'])).to.deep.equal(done.events.map((e) => e.txId));
  });

  it('a document whose 3rd event breaks a cross-validation rule: events 1–2 recorded, 3 refused with ERR_CROSS_VALIDATION and its index, 4–5 not submitted', async () => {
    await newLot('capture-tea-3', 'CAP-3');
    const [withering, rolling, drying, inspection, packing] = forLot('CAP-3', ['tea_withering', 'tea_rolling', 'tea_drying', 'tea_inspection', 'tea_packing']);
    // 500 kg of maocha from 1000 kg of fresh leaf: the template's maocha_yield rule allows 18–30 %
    const badDrying = { ...drying, outputQuantityList: [{ ...(drying.outputQuantityList as Event[])[0], quantity: 500 }] };
    const packingAfter = { ...packing, inputQuantityList: [{ ...(packing.inputQuantityList as Event[])[0], quantity: 500 }] };
    const done = await captured(documentOf(source.context, [withering, rolling, badDrying, inspection, packingAfter]));
    expect(done).to.include({ running: false, success: false, state: 'failure' });
    expect(done.events.map((e) => e.status)).to.deep.equal(['recorded', 'recorded', 'refused', 'not_submitted', 'not_submitted']);
    expect(done.events[2].error?.code).to.equal('ERR_CROSS_VALIDATION');
    expect(done.events[2].error?.message).to.contain('maocha');
    expect(done.errors).to.deep.equal([{ type: 'epcisException:ValidationException', title: 'ERR_CROSS_VALIDATION', detail: done.events[2].error?.message, instance: '/epcisBody/eventList/2' }]);
    expect(await stagesOnChain('capture-tea-3')).to.deep.equal(['tea_plantation', 'tea_picking', 'tea_withering', 'tea_rolling']);
  });

  it('a malformed document is answered 400 with the schema\'s messages, and nothing is submitted', async () => {
    await lotThrough(5, ['tea_withering', 'tea_rolling']);
    const listJobs = async () => (await (await fetch(`${app.url}/epcis/capture`, { headers: { authorization: `Bearer ${tokens.erp}` } })).json()) as Job[];
    const jobsBefore = await listJobs();
    const before = await stagesOnChain('capture-tea-5');
    const [drying] = forLot('CAP-5', ['tea_drying']);
    const res = await capture({ ...documentOf(source.context, [{ ...drying, eventTime: 'yesterday' }]), schemaVersion: undefined });
    expect(res.status).to.equal(400);
    const { error } = (await res.json()) as { error: { code: string; message: string; fields: Record<string, string> } };
    expect(error.code).to.equal('ERR_EPCIS_SCHEMA');
    expect(error.fields['/']).to.contain("must have required property 'schemaVersion'");
    expect(error.fields['/epcisBody/eventList/0/eventTime']).to.contain('must match format "date-time"');
    // a ledger cannot roll back, so a client asking for rollback is told so; more than 500 events are 413
    const rollback = await fetch(`${app.url}/epcis/capture`, { method: 'POST', headers: { 'content-type': 'application/ld+json', authorization: `Bearer ${tokens.erp}`, 'GS1-Capture-Error-Behaviour': 'rollback' }, body: JSON.stringify(documentOf(source.context, [drying])) });
    expect([rollback.status, ((await rollback.json()) as { error: { code: string } }).error.code]).to.deep.equal([400, 'ERR_CAPTURE_BEHAVIOUR']);
    const tooMany = await capture(documentOf(source.context, Array.from({ length: 501 }, () => drying)));
    expect([tooMany.status, ((await tooMany.json()) as { error: { code: string } }).error.code]).to.deep.equal([413, 'ERR_CAPTURE_LIMIT']);
    expect(tooMany.headers.get('gs1-epcis-capture-limit')).to.equal('500');
    expect(await stagesOnChain('capture-tea-5')).to.deep.equal(before);
    // no job was made for any of them
    expect(await listJobs()).to.deep.equal(jobsBefore);
  });

  it('an unknown bizStep is refused with its index before anything is submitted; an ambiguous one asks for tc:stage', async () => {
    await lotThrough(6, ['tea_withering', 'tea_rolling']);
    const before = await stagesOnChain('capture-tea-6');
    const [drying, inspection] = forLot('CAP-6', ['tea_drying', 'tea_inspection']);
    const { 'tc:stage': _stage, ...unnamed } = drying;
    const done = await captured(documentOf(source.context, [{ ...drying, outputQuantityList: [{ ...(drying.outputQuantityList as Event[])[0], quantity: 240 }] }, { ...inspection, bizStep: 'repairing' }, unnamed]));
    expect(done).to.include({ running: false, success: false, state: 'failure' });
    expect(done.events.map((e) => [e.status, e.error?.code])).to.deep.equal([
      ['not_submitted', undefined],
      ['refused', 'ERR_EPCIS_BIZSTEP'],
      ['refused', 'ERR_EPCIS_AMBIGUOUS'],
    ]);
    expect(done.events[1].error?.message).to.contain("bizStep 'repairing' is no stage's step in template puer_tea v1");
    expect(done.events[2].error?.message).to.contain('name the stage in tc:stage');
    expect(await stagesOnChain('capture-tea-6')).to.deep.equal(before);
  });

  it('the CLI posts a file and prints each event\'s outcome: exit 0 when all are recorded, 1 when one is refused', async () => {
    const run = (doc: unknown) => {
      const file = join(stack.dir, `capture-${Date.now()}.jsonld`);
      writeFileSync(file, JSON.stringify(doc));
      return new Promise<{ code: number | null; out: string }>((done) => {
        execFile(process.execPath, [CLI, 'epcis', 'capture', file, '--console', app.url], { env: { ...process.env, TRACE_CONSOLE_TOKEN: tokens.erp } }, (err, out) => done({ code: err ? (err.code as number) : 0, out }));
      });
    };
    await lotThrough(7, ['tea_withering', 'tea_rolling', 'tea_drying']);
    const [inspection] = forLot('CAP-7', ['tea_inspection']);
    const ok = await run(documentOf(source.context, [inspection]));
    expect(ok.code, ok.out).to.equal(0);
    expect(ok.out).to.match(/^event 0 ObjectEvent: recorded {2}trace:recordStage capture-tea-7\/tea_inspection tx [0-9a-f]{64}$/m);
    expect(await stagesOnChain('capture-tea-7')).to.include('tea_inspection');
    const refused = await run(documentOf(source.context, [{ ...inspection, bizStep: 'repairing' }]));
    expect(refused.code).to.equal(1);
    expect(refused.out).to.contain("event 0 ObjectEvent: refused  [ERR_EPCIS_BIZSTEP] bizStep 'repairing'");
  });

  it('codes: a commissioning ObjectEvent issues them (level from tc:level), an AggregationEvent packs them; the export shows the same packing', async () => {
    await newLot('capture-tea-8', 'CAP-8');
    const items = [generateCode(), generateCode(), generateCode()];
    const caseCode = generateCode();
    const label = (code: string) => `https://brand.example/01/${GTIN}/10/CAP-8/21/${code}`;
    const hashOf = (code: string) => `https://ns.trace-chain.example/epcis/code/${codeHash(code)}`;
    const time = { eventTime: new Date().toISOString(), eventTimeZoneOffset: '+00:00' };
    const commission = (epcList: string[], level?: string, extra: Event = {}) => ({ type: 'ObjectEvent', ...time, epcList, action: 'ADD', bizStep: 'commissioning', disposition: 'active', ...(level ? { 'tc:level': level } : {}), ...extra });

    // without its level, a commissioning is ambiguous: nothing of the document is issued
    const unsure = await captured(documentOf(source.context, [commission(items.map(label), 'item'), commission([label(caseCode)])]));
    expect(unsure.events.map((e) => [e.status, e.error?.code])).to.deep.equal([['not_submitted', undefined], ['refused', 'ERR_EPCIS_AMBIGUOUS']]);
    expect((await brand.codes.verifyCode(codeHash(items[0]))).verdict).to.equal('unknown');

    const packing = { type: 'AggregationEvent', ...time, parentID: hashOf(caseCode), childEPCs: items.map(label), action: 'ADD', bizStep: 'packing' };
    const done = await captured(documentOf(source.context, [commission(items.map(label), 'item'), commission([hashOf(caseCode)], 'case', { 'tc:taskId': 'capture-tea-8' }), packing]));
    expect(done.events.map((e) => [e.status, e.transaction])).to.deep.equal([['recorded', 'codes:issueCodes'], ['recorded', 'codes:issueCodes'], ['recorded', 'codes:aggregate']]);
    expect((await brand.codes.listChildren(codeHash(caseCode))).items).to.have.members(items.map(codeHash));
    await until('the indexer to export the packing', async () => (await exported('capture-tea-8')).epcisBody.eventList.some((e) => e.type === 'AggregationEvent'));
    const aggregation = (await exported('capture-tea-8')).epcisBody.eventList.find((e) => e.type === 'AggregationEvent') as Event;
    expect(aggregation).to.include({ parentID: hashOf(caseCode), action: 'ADD', bizStep: 'packing', 'tc:txId': done.events[2].txId });
    expect(aggregation.childEPCs).to.have.members(items.map(hashOf));
  });

  it("GS1's example documents that fit no template here are refused event by event with reasons, nothing submitted", async () => {
    for (const name of ['Example_9.6.2-ObjectEvent.jsonld', 'Example_9.6.2-ObjectEventWithDigitalLink.jsonld', 'Example_9.6.3-AggregationEventWithDigitalLink.jsonld']) {
      const done = await captured(JSON.parse(readFileSync(join(GS1_EXAMPLES, name), 'utf8')));
      expect(done, name).to.include({ running: false, success: false, state: 'failure' });
      for (const e of done.events) {
        expect(e.status, name).to.equal('refused');
        expect(e.error?.code, name).to.equal('ERR_EPCIS_UNMAPPED');
        // the example's own extension and the source/destination lists have no place on chain
        expect(e.error?.message, name).to.contain('example:myField');
      }
    }
  });

  it('machine routes: no token 401, a user with no capturing role 403, an event beyond the user\'s roles refused, a revoked token 401; nothing submitted', async () => {
    await lotThrough(9, ['tea_withering', 'tea_rolling', 'tea_drying']);
    const before = await stagesOnChain('capture-tea-9');
    const doc = documentOf(source.context, forLot('CAP-9', ['tea_inspection']));
    const code = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    expect(await code(await capture(doc, null))).to.deep.equal([401, 'ERR_UNAUTHENTICATED']);
    expect(await code(await capture(doc, tokens.assets))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    // a QA system may capture audits, not the stage records a data-entry user makes
    const res = await capture(doc, tokens.qa);
    expect(res.status).to.equal(202);
    const byQa = await job(res.headers.get('location') as string);
    expect(byQa.events.map((e) => [e.status, e.error?.code])).to.deep.equal([['refused', 'ERR_FORBIDDEN_ROLE']]);
    expect(await code(await capture(doc, tokens.erp, 'text/plain'))).to.deep.equal([415, 'ERR_CONTENT_TYPE']);
    const db = openConsoleDb(consoleOpts.db);
    revokeApiToken(db, tokenIds.qa);
    db.close();
    expect(await code(await capture(doc, tokens.qa))).to.deep.equal([401, 'ERR_UNAUTHENTICATED']);
    expect(await stagesOnChain('capture-tea-9')).to.deep.equal(before);
  });

  it('an admin creates a token for a user (its value answered once, stored hashed), lists and revokes it; tokens open no session route', async () => {
    const login = await fetch(`${app.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    expect(login.status).to.equal(200);
    const cookie = (login.headers.get('set-cookie') as string).split(';')[0];
    const { csrf } = (await login.json()) as { csrf: string };
    const asAdmin = (path: string, body?: unknown) =>
      fetch(`${app.url}${path}`, body === undefined ? { headers: { cookie } } : { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = (await (await asAdmin('/api/users/erp/api-tokens', { label: 'WMS 2' })).json()) as { id: number; token: string; username: string };
    expect(created.username).to.equal('erp');
    expect(created.token).to.match(/^tcc_[\w-]{43}$/);
    const listed = (await (await asAdmin('/api/api-tokens')).json()) as Record<string, unknown>[];
    expect(listed.find((t) => t.id === created.id)).to.include({ username: 'erp', label: 'WMS 2', revokedAt: null });
    expect(JSON.stringify(listed)).to.not.contain(created.token.slice(4));
    const jobs = (token: string) => fetch(`${app.url}/epcis/capture`, { headers: { authorization: `Bearer ${token}` } });
    expect((await jobs(created.token)).status).to.equal(200);
    // a token is for the machine routes only; the cookie is for the pages' routes only
    expect((await fetch(`${app.url}/api/session`, { headers: { authorization: `Bearer ${created.token}` } })).status).to.equal(401);
    expect((await fetch(`${app.url}/epcis/capture`, { headers: { cookie } })).status).to.equal(401);
    expect((await asAdmin(`/api/api-tokens/${created.id}/revoke`, {})).status).to.equal(200);
    expect((await jobs(created.token)).status).to.equal(401);
    expect((await asAdmin(`/api/api-tokens/${created.id}/revoke`, {})).status).to.equal(409);
    // a label with markup is refused; without the CSRF token nothing is created
    expect((await asAdmin('/api/users/erp/api-tokens', { label: '<script>' })).status).to.equal(400);
    const noCsrf = await fetch(`${app.url}/api/users/erp/api-tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ label: 'x' }) });
    expect(noCsrf.status).to.equal(403);
    expect(((await (await asAdmin('/api/api-tokens')).json()) as unknown[]).length).to.equal(listed.length);
  });

  it('jobs survive a restart; a job cut by one is reported interrupted, with exactly what went on chain', async () => {
    await lotThrough(10, ['tea_withering', 'tea_rolling']);
    const [drying, inspection] = forLot('CAP-10', ['tea_drying', 'tea_inspection']);
    const doc = documentOf(source.context, [{ ...drying, outputQuantityList: [{ ...(drying.outputQuantityList as Event[])[0], quantity: 240 }] }, inspection]);
    const listJobs = async () => (await (await fetch(`${app.url}/epcis/capture`, { headers: { authorization: `Bearer ${tokens.erp}` } })).json()) as Job[];
    const earlier = await listJobs();
    const res = await capture(doc);
    expect(res.status).to.equal(202);
    const location = res.headers.get('location') as string;
    await app.stop();
    app = await startConsole(consoleOpts);
    const cut = await job(location);
    expect(cut).to.include({ running: false, success: false, state: 'interrupted' });
    const recorded = cut.events.filter((e) => e.status === 'recorded').map((e) => e.index);
    expect(cut.events.every((e) => ['recorded', 'not_submitted'].includes(e.status))).to.equal(true);
    const onChain = await stagesOnChain('capture-tea-10');
    expect(onChain.includes('tea_drying')).to.equal(recorded.includes(0));
    expect(onChain.includes('tea_inspection')).to.equal(recorded.includes(1));
    // the earlier jobs are still there after the restart
    const jobs = await listJobs();
    expect(jobs[0].captureID).to.equal(cut.captureID);
    expect(jobs.slice(1)).to.deep.equal(earlier);
  });
  it('a console killed during a capture: after its restart the job reads interrupted, what went on chain recorded, the event in flight unknown', async () => {
    // three lots' four stages, one after the other: twelve events, so the kill lands mid-job however fast they commit
    const lots = [4, 11, 12];
    for (const n of lots) await newLot(`capture-tea-${n}`, `CAP-${n}`);
    const stages = ['tea_withering', 'tea_rolling', 'tea_drying', 'tea_inspection'];
    const events = lots.flatMap((n) => stages.map((stage) => ({ taskId: `capture-tea-${n}`, stage })));
    const doc = documentOf(source.context, lots.flatMap((n) => forLot(`CAP-${n}`, stages)));
    // the same console as a process of its own, so that it can be killed mid-job
    const child = spawn(process.execPath, [resolve(__dirname, '../src/server.js'), '--connection', stack.devnet.connection, '--msp', 'Org1MSP', '--db', consoleOpts.db, '--indexer', stack.indexerUrl, '--port', '0'], {
      env: { ...process.env, CONSOLE_INDEXER_KEY: stack.indexerKeys.Org1MSP },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const url = await new Promise<string>((ok, fail) => {
        child.stdout.on('data', (d: Buffer) => /(http:\/\/\S+)/.exec(d.toString()) && ok(/(http:\/\/\S+)/.exec(d.toString())![1]));
        child.once('exit', () => fail(new Error('the console process exited')));
      });
      const posted = await fetch(`${url}/epcis/capture`, { method: 'POST', headers: { 'content-type': 'application/ld+json', authorization: `Bearer ${tokens.erp}` }, body: JSON.stringify(doc) });
      expect(posted.status).to.equal(202);
      const location = posted.headers.get('location') as string;
      await until('the first event to be recorded', async () => {
        const j = (await (await fetch(`${url}${location}`, { headers: { authorization: `Bearer ${tokens.erp}` } })).json()) as Job;
        return j.events[0].status === 'recorded';
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await app.stop();
      app = await startConsole(consoleOpts);
      const cut = await job(location);
      expect(cut).to.include({ running: false, success: false, state: 'interrupted' });
      const statuses = cut.events.map((e) => e.status).join(' ');
      expect(statuses).to.match(/^(recorded ?)+(unknown ?)?(not_submitted ?)*$/);
      const recorded = cut.events.filter((e) => e.status === 'recorded').length;
      const unknown = cut.events.filter((e) => e.status === 'unknown');
      unknown.forEach((e) => expect(e.error?.code).to.equal('ERR_INTERRUPTED'));
      expect(recorded, 'killed mid-job').to.be.below(events.length);
      // what the job says went on chain did; the event in flight may have; nothing after it was submitted
      const onChain: typeof events = [];
      for (const n of lots) onChain.push(...(await stagesOnChain(`capture-tea-${n}`)).filter((stage) => stages.includes(stage)).map((stage) => ({ taskId: `capture-tea-${n}`, stage })));
      expect(onChain.length - recorded).to.be.within(0, unknown.length);
      expect(onChain).to.deep.equal(events.slice(0, onChain.length));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
