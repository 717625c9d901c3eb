import { expect } from 'chai';
import { resolve } from 'node:path';
import { codeHash, generateCode, Ledger, ledgerFromConfig, signReadings, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet, testClock } from '@trace/test-network';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { applyBlock, createApiKey, openDb, ROUTES, startIndexer } from '../src';
import { openApiConformance } from './conformance';
import { expectSameProjection } from './projection';
import { newDbLocation } from './support/databases';

const CHAINCODE = resolve(__dirname, '../../../chaincode');
const { at } = testClock();

describe('indexer: chain events into SQLite, served over HTTP (devnet over mutual TLS, standard connection profile)', function () {
  this.timeout(180_000);
  let devnet: RunningDevnet;
  let ledger: Ledger;
  let c: TraceChainClient;
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let base: string;
  let location: string;
  const codes = [codeHash(generateCode()), codeHash(generateCode())];
  let lastTx = '';
  /** these tests read everything: an auditor's key (scopes.test.ts walks the audiences) */
  let auditor: { authorization: string };
  /** a member key of another org: below the auditor routes' scope */
  let memberKey = '';

  const get = async (path: string) => {
    const res = await fetch(base + path, { headers: auditor });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & unknown[] };
  };

  before(async () => {
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1', '--mtls']);
    ledger = ledgerFromConfig(devnet.connection);
    c = new TraceChainClient(ledger);
    await c.consortium.bootstrap({ consortium: 'idx', name: 'Brand', roles: ['brand', 'producer', 'processor', 'warehouse', 'logistics', 'retailer', 'inspector'] });
    await c.consortium.addMember({ mspId: 'Org2MSP', name: 'Partner', roles: ['producer'] });
    await c.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand' });
    await loadTemplatePackage(c, tea);
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, 'Org1MSP']));
    await c.trace.createTask({ taskId: 'idx-1', template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: 'L1', plannedQuantity: 10, unit: 'cake', assignments });
    await c.trace.recordStage({ taskId: 'idx-1', stage: 'tea_plantation', eventTime: at(0), data: { tea_garden: 'Jingmai', tea_organic_cert: 'a'.repeat(64) } });
    await c.codes.issueCodes({ taskId: 'idx-1', level: 'item', codeHashes: codes });
    await c.codes.recordScans({ scans: Array.from({ length: 11 }, () => ({ codeHash: codes[0], channel: 'consumer' as const, region: 'CN-53', at: at(10) })) });
    await c.codes.recordScans({ scans: [{ codeHash: codes[1], channel: 'consumer', region: 'US', at: at(11) }] });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await c.devices.registerDevice({ deviceId: 'd1', type: 'temperature', publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(), thresholds: { storage_temp_c: { max: 25 } } });
    lastTx = (await c.ledger.submit('devices:submitReadings', JSON.stringify(signReadings(privateKey, { deviceId: 'd1', seq: 1, readings: [{ at: at(12), metric: 'storage_temp_c', value: 30, unit: '°C' }] })))).transactionId;
    location = await newDbLocation('indexer-live');
    const keyDb = await openDb(location);
    auditor = { authorization: `Bearer ${(await createApiKey(keyDb, { org: 'Org1MSP', scope: 'auditor' })).key}` };
    memberKey = (await createApiKey(keyDb, { org: 'Org2MSP', scope: 'member' })).key;
    await keyDb.close();
    indexer = await startIndexer({ connection: devnet.connection, db: location, port: 0 });
    base = `http://127.0.0.1:${indexer.port}`;
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${base}/api/transactions/${lastTx}`, { headers: auditor });
      if (r.status === 200) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  });

  after(async () => {
    await indexer?.stop();
    ledger?.close();
    await devnet?.stop();
  });

  it('is healthy, and every route answers only what /openapi.json documents for it, in the documented shape', async () => {
    expect((await get('/healthz')).status).to.equal(200);
    const doc = (await get('/openapi.json')).body as unknown as Parameters<typeof openApiConformance>[0] & { openapi: string };
    expect(doc.openapi).to.match(/^3\./);
    expect(Object.keys(doc.paths).sort()).to.deep.equal(ROUTES.map((r) => r.path).sort());
    const conforms = openApiConformance(doc);
    const member = { authorization: `Bearer ${memberKey}` };
    // every GET route answers 200 for things that exist (asset routes: no class exists here → 404 is their answer)
    const values: Record<string, string> = { number: '1', txId: lastTx, taskId: 'idx-1', hash: codes[0], classId: 'none', gtin: '06901234567892', lot: 'L1', deviceId: 'd1', stage: 'tea_plantation', account: '0'.repeat(64), code: 'ABCDE', serial: 'ABCDE', file: 'common.js' };
    let checked = 0;
    for (const r of ROUTES.filter((x) => x.method === 'get')) {
      const path = r.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name]);
      const call = (p: string, headers: Record<string, string>) => fetch(base + p, { redirect: 'manual', headers });
      const res = await call(path, auditor);
      const expected = r.path === '/' ? 302 : /\/api\/assets\/classes\/\{classId\}/.test(r.path) ? 404 : r.path === '/api/stats/sensors' ? 400 : 200;
      expect(res.status, path).to.equal(expected);
      await conforms(r, res, path);
      if (res.status === 200 && res.headers.get('content-type')?.startsWith('application/json')) checked++;
      // the refusals: an unknown key, no key and a lower scope's key, malformed path parameters
      await conforms(r, await call(path, { authorization: 'Bearer not-a-key' }), `${path} with an unknown key`);
      await conforms(r, await call(path, {}), `${path} without a key`);
      await conforms(r, await call(path, member), `${path} with a member key`);
      if (r.params) {
        const bad = r.path.replace(/\{(\w+)\}/g, '%20..%20');
        await conforms(r, await call(bad, auditor), `${bad} (malformed parameters)`);
      }
    }
    expect(checked).to.be.greaterThan(20);
  });

  it('projects members, tasks with records, codes with scans, and alerts', async () => {
    const members = (await get('/api/members')).body as { msp_id: string; roles: string[] }[];
    expect(members.map((m) => m.msp_id)).to.deep.equal(['Org1MSP', 'Org2MSP']);
    expect(((await get('/api/members?limit=1&offset=1')).body as { msp_id: string }[]).map((m) => m.msp_id), 'paged').to.deep.equal(['Org2MSP']);
    const products = (await get('/api/products?owner=Org1MSP&status=active')).body as { gtin: string; owner_msp: string; spec: object; delegates: string[] }[];
    expect(products.map((p) => [p.gtin, p.owner_msp, p.spec, p.delegates])).to.deep.equal([['06901234567892', 'Org1MSP', {}, []]]);
    expect((await get('/api/products?owner=Org2MSP')).body, "another org's").to.deep.equal([]);
    expect((await get('/api/products?status=retired')).body).to.deep.equal([]);
    const task = (await get('/api/tasks/idx-1')).body as unknown as { task: { lot: string }; records: { stage: string; data: Record<string, unknown> }[] };
    expect(task.task.lot).to.equal('L1');
    expect(task.records.map((r) => [r.stage, r.data.tea_garden])).to.deep.equal([['tea_plantation', 'Jingmai']]);
    const code = (await get(`/api/codes/${codes[0]}`)).body as unknown as { scans: number; suspect_since: string | null; lot: string };
    expect(code.scans).to.equal(11);
    expect(code.suspect_since).to.be.a('string');
    const clone = (await get('/api/alerts?type=clone')).body as { code_hash: string }[];
    expect(clone.map((a) => a.code_hash)).to.deep.equal([codes[0]]);
    const diversion = (await get('/api/alerts?type=diversion')).body as { code_hash: string; region: string }[];
    expect(diversion.map((a) => [a.code_hash, a.region])).to.deep.equal([[codes[1], 'US']]);
    const sensor = (await get('/api/alerts?type=sensor')).body as { device_id: string }[];
    expect(sensor.map((a) => a.device_id)).to.deep.equal(['d1']);
    const tx = (await get(`/api/transactions/${lastTx}`)).body as unknown as { validation_code: string; event: { name: string } };
    expect([tx.validation_code, tx.event.name]).to.deep.equal(['VALID', 'devices.ReadingsSubmitted']);
  });

  it('serves the public trace of a code and of a lot, with only the items the template makes public', async () => {
    const t = (await get(`/api/trace/code/${codes[0]}`)).body as unknown as {
      code: { verdict: string; scans: number };
      product: { gtin: string };
      lot: string;
      stages: { stage: string; data: Record<string, unknown>; by: { name: string } }[];
    };
    expect([t.code.verdict, t.code.scans, t.product.gtin, t.lot]).to.deep.equal(['suspect', 11, '06901234567892', 'L1']);
    expect(t.stages.map((s) => [s.stage, s.data, s.by.name])).to.deep.equal([['tea_plantation', { tea_garden: 'Jingmai' }, 'Brand']]);
    const lot = (await get('/api/trace/lot/06901234567892/L1')).body as unknown as { stages: unknown[] };
    expect(lot.stages).to.have.length(1);
    expect((await get('/api/trace/lot/06901234567892/NOPE')).status).to.equal(404);
  });

  it('answers bad input with 400 and unknown things with 404, as JSON with a code', async () => {
    const cases: [string, number, string][] = [
      ['/api/blocks?limit=0', 400, 'ERR_VALIDATION'],
      ['/api/blocks?offset=-1', 400, 'ERR_VALIDATION'],
      ['/api/codes/NOTAHASH', 400, 'ERR_VALIDATION'],
      [`/api/codes/${'0'.repeat(64)}`, 404, 'ERR_NOT_FOUND'],
      ['/api/tasks/nope', 404, 'ERR_NOT_FOUND'],
      ['/api/alerts?type=bogus', 400, 'ERR_VALIDATION'],
      ['/api/nothing', 404, 'ERR_NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      const r = await get(path);
      expect([r.status, (r.body as unknown as { error: { code: string } }).error.code], path).to.deep.equal([status, code]);
    }
  });

  it('produces the same database when replaying from the genesis block', async () => {
    const replay = await openDb(await newDbLocation('indexer-replay'));
    const live = await openDb(location);
    const height = (await live.value<string>("SELECT value FROM meta WHERE key = 'next_block'"))!;
    const stream = await ledger.blocks(0n);
    for await (const block of stream) {
      await applyBlock(replay, block);
      if (block.number + 1n === BigInt(height)) break;
    }
    stream.close();
    await expectSameProjection(replay, live);
    await replay.close();
    await live.close();
  });
});
