import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { codeHash, generateCode, Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet, testClock } from '@trace/test-network';
import { createApiKey, openDb, ROUTES, startIndexer } from '../src';
import type { Scope } from '../src';
import { newDbLocation } from './support/databases';

const CHAINCODE = resolve(__dirname, '../../../chaincode');
const KEYS_CLI = resolve(__dirname, '../src/keys.js');
/** a private item of the plantation stage (not in the tea template's public view), and the org's user who recorded it (actor): they must reach only the task's orgs and auditors */
const SECRET = 'c0ffee'.repeat(10) + 'beef';
const RANK: Record<Scope, number> = { public: 0, member: 1, auditor: 2 };

describe('indexer scopes: public, member and auditor audiences over every route, with security headers (devnet)', function () {
  this.timeout(240_000);
  let devnet: RunningDevnet;
  let ledger: Ledger;
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let base: string;
  let dbPath: string;
  const code = generateCode();
  let recordTx = '';
  /** callers: no key, a member of another org, a member of the task's org, an auditor */
  const callers: { name: string; scope: Scope; full: boolean; key?: string }[] = [
    { name: 'anonymous', scope: 'public', full: false },
    { name: 'member of another org', scope: 'member', full: false },
    { name: "member of the task's org", scope: 'member', full: true },
    { name: 'auditor', scope: 'auditor', full: true },
  ];
  const call = (path: string, key?: string, init: RequestInit = {}) =>
    fetch(base + path, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(key ? { authorization: `Bearer ${key}` } : {}) } });

  before(async () => {
    dbPath = await newDbLocation('scopes');
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1']);
    ledger = ledgerFromConfig(devnet.connection);
    const c = new TraceChainClient(ledger);
    await c.consortium.bootstrap({ consortium: 'scopes', name: 'Brand', roles: ['brand', 'producer', 'processor', 'warehouse', 'logistics', 'retailer', 'inspector'] });
    await c.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand' });
    await loadTemplatePackage(c, tea);
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, 'Org1MSP']));
    await c.trace.createTask({ taskId: 'sc-1', template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: 'L1', plannedQuantity: 10, unit: 'cake', assignments, actor: SECRET });
    recordTx = (await c.trace.recordStage({ taskId: 'sc-1', stage: 'tea_plantation', eventTime: testClock().at(0), data: { tea_garden: 'Jingmai', tea_organic_cert: SECRET }, actor: SECRET })).txId;
    await c.codes.issueCodes({ taskId: 'sc-1', level: 'item', codeHashes: [codeHash(code)], actor: SECRET });
    const db = await openDb(dbPath);
    callers[1].key = (await createApiKey(db, { org: 'Org2MSP', scope: 'member' })).key;
    callers[2].key = (await createApiKey(db, { org: 'Org1MSP', scope: 'member' })).key;
    callers[3].key = (await createApiKey(db, { org: 'Org3MSP', scope: 'auditor' })).key;
    await db.close();
    indexer = await startIndexer({ connection: devnet.connection, db: dbPath, port: 0 });
    base = `http://127.0.0.1:${indexer.port}`;
    for (let i = 0; i < 300 && (await call(`/api/codes/${codeHash(code)}`, callers[3].key)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  });

  after(async () => {
    await indexer?.stop();
    ledger?.close();
    await devnet?.stop();
  });

  it("walks every route with each audience: a lower scope is refused (401 without a key, 403 with one), and private items reach only the task's orgs and auditors", async () => {
    const values: Record<string, string> = { number: '0', txId: recordTx, taskId: 'sc-1', hash: codeHash(code), classId: 'none', gtin: '06901234567892', lot: 'L1', deviceId: 'none', stage: 'tea_plantation', account: '0'.repeat(64), code, serial: code, file: 'common.js' };
    const block = (await (await call(`/api/transactions/${recordTx}`, callers[3].key)).json()) as { block: number };
    values.number = String(block.block);
    const seen = new Map<string, Set<string>>();
    for (const r of ROUTES) {
      const path = r.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name]);
      for (const who of callers) {
        const init = r.method === 'post' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, region: 'CN-53' }) } : {};
        const res = await call(path, who.key, init);
        const text = await res.text();
        const what = `${r.method.toUpperCase()} ${path} as ${who.name}`;
        if (RANK[who.scope] < RANK[r.scope]) {
          expect([res.status, (JSON.parse(text) as { error: { code: string } }).error.code], what).to.deep.equal(who.key ? [403, 'ERR_FORBIDDEN'] : [401, 'ERR_UNAUTHORIZED']);
          continue;
        }
        expect(res.status, `${what}: ${text.slice(0, 200)}`).to.be.oneOf([200, 302, 400, 404]);
        // every answer: no sniffing, no Referer, no framing; pages: scripts and styles from this origin only
        expect([res.headers.get('x-content-type-options'), res.headers.get('referrer-policy')], what).to.deep.equal(['nosniff', 'no-referrer']);
        const csp = res.headers.get('content-security-policy') ?? '';
        expect(csp, what).to.include("frame-ancestors 'none'");
        if (res.status === 200 && res.headers.get('content-type')?.startsWith('text/html')) expect(csp, what).to.include("script-src 'self'; style-src 'self'");
        else expect(csp, what).to.match(/^default-src 'none'/);
        if (text.includes(SECRET)) (seen.get(who.name) ?? seen.set(who.name, new Set()).get(who.name)!).add(r.path);
      }
    }
    // the private item leaks to no one else, and the routes that should carry it do carry it
    expect([...seen.keys()].sort()).to.deep.equal(['auditor', "member of the task's org"]);
    const epcis = ['/epcis/codes/{hash}', '/epcis/events', '/epcis/lots/{taskId}'];
    expect([...seen.get("member of the task's org")!].sort()).to.deep.equal(['/api/codes/{hash}', '/api/tasks/{taskId}', '/api/transactions/{txId}', ...epcis]);
    expect([...seen.get('auditor')!].sort()).to.deep.equal(['/api/audit/record/{taskId}/{stage}', '/api/codes/{hash}', '/api/tasks/{taskId}', '/api/transactions/{txId}', ...epcis]);
    // another org's member still sees the task, with the public items of its records
    const task = (await (await call('/api/tasks/sc-1', callers[1].key)).json()) as { records: { data: Record<string, unknown>; actor: string | null }[] };
    expect(task.records.map((x) => [x.data, x.actor])).to.deep.equal([[{ tea_garden: 'Jingmai' }, null]]);
    const own = (await (await call('/api/tasks/sc-1', callers[2].key)).json()) as { records: { actor: string | null }[] };
    expect(own.records.map((x) => x.actor)).to.deep.equal([SECRET]);
  });

  it('documents each route\'s scope as a security requirement in /openapi.json', async () => {
    const doc = (await (await call('/openapi.json')).json()) as { components: { securitySchemes: Record<string, { scheme: string }> }; paths: Record<string, Record<string, { security: unknown[]; 'x-scope': string; responses: Record<string, unknown> }>> };
    expect(doc.components.securitySchemes.apiKey.scheme).to.equal('bearer');
    for (const r of ROUTES) {
      const op = doc.paths[r.path][r.method];
      expect([op['x-scope'], op.security], r.path).to.deep.equal([r.scope, r.scope === 'public' ? [] : [{ apiKey: [r.scope] }]]);
      if (r.scope !== 'public') expect(Object.keys(op.responses), r.path).to.include.members(['401', '403']);
    }
  });

  it('refuses a malformed, unknown or revoked key with 401; the keys CLI creates, lists and revokes keys stored hashed', async () => {
    for (const authorization of ['Basic abc', `Bearer tck_000000000000_${'x'.repeat(43)}`]) {
      const res = await fetch(`${base}/api/tasks`, { headers: { authorization } });
      expect([res.status, ((await res.json()) as { error: { code: string } }).error.code], authorization).to.deep.equal([401, 'ERR_UNAUTHORIZED']);
    }
    // a wrong key on a public route is refused too, rather than served as the public
    expect((await call('/api/trace/lot/06901234567892/L1', 'tck_nope')).status).to.equal(401);

    const cli = (...args: string[]) => execFileSync(process.execPath, [KEYS_CLI, '--db', dbPath, ...args], { encoding: 'utf8' });
    const created = cli('create', '--org', 'Org4MSP', '--scope', 'member', '--label', 'till-1');
    const key = /^(tck_\S+)$/m.exec(created)![1];
    const id = /^key (\w+) for Org4MSP \(member\)/.exec(created)![1];
    expect((await call('/api/tasks', key)).status).to.equal(200);
    const listed = cli('list');
    expect(listed).to.match(new RegExp(`^${id}  Org4MSP  member  till-1  created \\S+  last used 20\\S+  active$`, 'm'));
    expect(listed).not.to.include(key.slice(18));
    const db = await openDb(dbPath);
    expect(JSON.stringify(await db.all('SELECT * FROM api_keys'))).not.to.include(key.slice(18));
    await db.close();
    expect(cli('revoke', id)).to.include(`key ${id} revoked`);
    const res = await call('/api/tasks', key);
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).to.deep.equal([401, 'ERR_UNAUTHORIZED']);
    expect(cli('list')).to.match(new RegExp(`^${id} .* REVOKED 20`, 'm'));
    // bad CLI input: a stable exit code and nothing stored
    const before = cli('list');
    expect(() => execFileSync(process.execPath, [KEYS_CLI, '--db', dbPath, 'create', '--org', 'Org4MSP', '--scope', 'root'], { stdio: 'pipe' })).to.throw(/ERR_VALIDATION: scope must be one of member, auditor/);
    expect(cli('list')).to.equal(before);
  });
});
