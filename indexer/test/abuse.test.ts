import { expect } from 'chai';
import { Server } from 'node:http';
import { resolve } from 'node:path';
import { codeHash, generateCode, Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { codeKey, createApiKey, createApp, openDb, startIndexer } from '../src';
import { newDbLocation } from './support/databases';

const CHAINCODE = resolve(__dirname, '../../../chaincode');
const APP_ORIGIN = 'https://shop.example';
const FOREIGN = 'https://evil.example';

describe('indexer verify abuse: JSON only, CORS for own and app origins, scans counted per client and code, clients behind a proxy (devnet)', function () {
  this.timeout(240_000);
  let devnet: RunningDevnet;
  let ledger: Ledger;
  let c: TraceChainClient;
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let base: string;
  let dbPath: string;
  const [oneClient, manyClients, plain] = [generateCode(), generateCode(), generateCode()];
  const verify = (code: string, headers: Record<string, string> = {}, body: string = JSON.stringify({ code, region: 'CN-53' })) =>
    fetch(`${base}/api/verify`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const queued = async (hash: string) => {
    const db = await openDb(dbPath);
    try {
      return (await db.value<number>('SELECT (SELECT count(*) FROM scan_queue WHERE code_hash = ?) + (SELECT count(*) FROM scans WHERE code_hash = ?)', codeKey(hash), codeKey(hash)))!;
    } finally {
      await db.close();
    }
  };

  before(async () => {
    dbPath = await newDbLocation('abuse');
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1']);
    ledger = ledgerFromConfig(devnet.connection);
    c = new TraceChainClient(ledger);
    await c.consortium.bootstrap({ consortium: 'abuse', name: 'Brand', roles: ['brand', 'producer', 'processor', 'warehouse', 'logistics', 'retailer', 'inspector'] });
    await c.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand' });
    await loadTemplatePackage(c, tea);
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, 'Org1MSP']));
    await c.trace.createTask({ taskId: 'ab-1', template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: 'A1', plannedQuantity: 3, unit: 'cake', assignments });
    await c.codes.issueCodes({ taskId: 'ab-1', level: 'item', codeHashes: [oneClient, manyClients, plain].map(codeHash) });
    // behind one proxy (X-Forwarded-For names the client); no per-client limit gets in the way of counting
    indexer = await startIndexer({ connection: devnet.connection, db: dbPath, port: 0, sendIntervalMs: 200, verifyPerMinute: 1_000_000, proxyHops: 1, appOrigins: [APP_ORIGIN] });
    base = `http://127.0.0.1:${indexer.port}`;
    for (let i = 0; i < 300 && (await fetch(`${base}/api/trace/code/${codeHash(plain)}`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  });

  after(async () => {
    await indexer?.stop();
    ledger?.close();
    await devnet?.stop();
  });

  it('refuses a verify from a foreign origin (text/plain or JSON) and a non-JSON body; the app origin and the own pages may post', async () => {
    const h = codeHash(plain);
    const before = await queued(h);
    const foreignText = await verify(plain, { origin: FOREIGN, 'content-type': 'text/plain' });
    expect([foreignText.status, ((await foreignText.json()) as { error: { code: string } }).error.code, foreignText.headers.get('access-control-allow-origin')]).to.deep.equal([403, 'ERR_FORBIDDEN_ORIGIN', null]);
    const foreignJson = await verify(plain, { origin: FOREIGN });
    expect(foreignJson.status).to.equal(403);
    const text = await verify(plain, { 'content-type': 'text/plain' });
    expect([text.status, ((await text.json()) as { error: { code: string } }).error.code]).to.deep.equal([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect(await queued(h), 'nothing refused was queued').to.equal(before);

    const fromApp = await verify(plain, { origin: APP_ORIGIN, 'x-forwarded-for': '192.0.2.1' });
    expect([fromApp.status, fromApp.headers.get('access-control-allow-origin')]).to.deep.equal([200, APP_ORIGIN]);
    const fromPage = await verify(plain, { origin: base, 'x-forwarded-for': '192.0.2.2' });
    expect([fromPage.status, fromPage.headers.get('access-control-allow-origin')]).to.deep.equal([200, base]);
    expect(await queued(h)).to.equal(before + 2);

    const preflight = (origin: string) => fetch(`${base}/api/verify`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });
    const app = await preflight(APP_ORIGIN);
    expect([app.status, app.headers.get('access-control-allow-origin'), app.headers.get('access-control-allow-headers')]).to.deep.equal([204, APP_ORIGIN, 'Content-Type, Authorization']);
    const foreign = await preflight(FOREIGN);
    expect([foreign.status, foreign.headers.get('access-control-allow-origin')]).to.deep.equal([204, null]);
    // any page may still read the public trace, without credentials
    const read = await fetch(`${base}/api/trace/code/${h}`, { headers: { origin: FOREIGN } });
    expect([read.status, read.headers.get('access-control-allow-origin')]).to.deep.equal([200, '*']);
  });

  it('50 anonymous scans of one code from one client, sent at once, count once and raise no clone alert; from 50 clients they do, and the alert says they were anonymous', async () => {
    // a client cannot pass for another by adding its own X-Forwarded-For entry: the trusted proxy's last entry counts;
    // sent at once, the requests' admissions take turns (SQLite's IMMEDIATE transactions, a lock per code on PostgreSQL)
    const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => (await (await verify(oneClient, { 'x-forwarded-for': `10.9.9.${i}, 203.0.113.7` })).json()) as { counted: boolean }));
    expect(results.filter((r) => r.counted).length).to.equal(1);
    for (let i = 0; i < 50; i++) results.push((await (await verify(manyClients, { 'x-forwarded-for': `198.51.100.${i}` })).json()) as { counted: boolean });
    expect(results.slice(50).every((r) => r.counted)).to.equal(true);

    const onChain = async (code: string) => ((await c.codes.verifyCode(codeHash(code))) as { scanCount: number }).scanCount;
    for (let i = 0; i < 200 && (await onChain(manyClients)) < 50; i++) await new Promise((r) => setTimeout(r, 100));
    expect([await onChain(oneClient), await onChain(manyClients)]).to.deep.equal([1, 50]);

    const db = await openDb(dbPath);
    const { key } = await createApiKey(db, { org: 'Org1MSP', scope: 'member' });
    await db.close();
    type Alert = { code_hash: string; fromAnonymousScans: boolean; scanOrigin: { anonymous: { clients: number; counted: number; received: number }; keyed: { counted: number } } };
    let clones: Alert[] = [];
    for (let i = 0; i < 100 && clones.length === 0; i++) {
      clones = (await (await fetch(`${base}/api/alerts?type=clone`, { headers: { authorization: `Bearer ${key}` } })).json()) as Alert[];
      if (clones.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(clones.map((a) => a.code_hash)).to.deep.equal([codeHash(manyClients)]);
    expect([clones[0].fromAnonymousScans, clones[0].scanOrigin]).to.deep.equal([true, { anonymous: { clients: 50, counted: 50, received: 50 }, keyed: { counted: 0 } }]);
  });

  it('rate-limits per real client behind the proxy: another client is served, a forged X-Forwarded-For entry is no escape', async () => {
    const limits = await newDbLocation('abuse-limits');
    const db = await openDb(limits);
    const app = createApp(db, () => ({ ready: true, next: 0n }), { perClientPerMinute: { verify: 10, audit: 10 }, proxyHops: 1 });
    const server = await new Promise<Server>((res) => {
      const s = app.listen(0, '127.0.0.1', () => res(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/verify`;
      const post = (xff: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': xff }, body: JSON.stringify({ code: plain }) }).then((r) => r.status);
      // a burst of one (10 a minute): the second request of a client is limited, whatever it prepends
      expect([await post('203.0.113.1'), await post('1.1.1.1, 203.0.113.1'), await post('203.0.113.2')]).to.deep.equal([200, 429, 200]);
    } finally {
      server.close();
      await db.close();
    }
    const again = await openDb(limits);
    try {
      expect(() => createApp(again, () => ({ ready: true, next: 0n }), { proxyHops: -1 })).to.throw(/proxy hops must be a non-negative integer/);
      expect(() => createApp(again, () => ({ ready: true, next: 0n }), { appOrigins: ['https://shop.example/path'] })).to.throw(/must be scheme:\/\/host/);
    } finally {
      await again.close();
    }
  });
});
