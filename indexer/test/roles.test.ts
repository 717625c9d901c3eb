import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { codeHash, generateCode, Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet, testClock, withSeed } from '@trace/test-network';
import { applyBlock, checkpoint, createApiKey, openDb } from '../src';
import { expectSameProjection } from './projection';
import { newDbLocation } from './support/databases';

const SERVER = resolve(__dirname, '../src/server.js');
const CHAINCODE = resolve(__dirname, '../../../chaincode');
const { at } = testClock();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `node server.js <args>`; for a serving role, resolves with its port once it listens. */
function start(args: string[]): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = new Promise<number>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`indexer ${args[0]} exited with ${code}`)));
  });
  return { child, port };
}

async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

describe('indexer roles: one ingest process, several serve processes, caches that stay true (devnet)', function () {
  this.timeout(300_000);
  let devnet: RunningDevnet;
  let ledger: Ledger;
  let c: TraceChainClient;
  let dbPath: string;
  /** the two codes the tests read, and ten more scanned beside them */
  const all = Array.from({ length: 12 }, () => codeHash(generateCode()));
  const codes = all.slice(0, 2);
  const children: ChildProcess[] = [];
  let bases: string[] = [];
  let member: { authorization: string };

  const indexedPast = async (block: bigint, path = dbPath) => {
    const db = await openDb(path);
    try {
      for (let i = 0; i < 600 && (await checkpoint(db)) <= block; i++) await sleep(50);
      expect((await checkpoint(db)) > block, `block ${block} indexed`).to.equal(true);
    } finally {
      await db.close();
    }
  };
  const get = async (base: string, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { headers });
    const text = await res.text();
    return { status: res.status, etag: res.headers.get('etag'), text, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const scan = async (hash: string, region: string) => (await ledger.submit('codes:recordScans', JSON.stringify({ scans: [{ codeHash: hash, channel: 'consumer', region, at: at(10) }] }))).blockNumber;

  before(async () => {
    dbPath = await newDbLocation('roles');
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1', '--block-size', '2']);
    ledger = ledgerFromConfig(devnet.connection);
    c = new TraceChainClient(ledger);
    await c.consortium.bootstrap({ consortium: 'roles', name: 'Brand', roles: ['brand', 'producer', 'processor', 'warehouse', 'logistics', 'retailer', 'inspector'] });
    await c.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand' });
    await loadTemplatePackage(c, tea);
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, 'Org1MSP']));
    await c.trace.createTask({ taskId: 'roles-1', template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: 'L1', plannedQuantity: 10, unit: 'cake', assignments });
    await c.trace.recordStage({ taskId: 'roles-1', stage: 'tea_plantation', eventTime: at(0), data: { tea_garden: 'Jingmai', tea_organic_cert: 'a'.repeat(64) } });
    await c.codes.issueCodes({ taskId: 'roles-1', level: 'item', codeHashes: all });
    // some blocks to catch up on (two transactions a block): scans of six different codes at a time, each code every other round
    let last = 0n;
    for (let i = 0; i < 10; i++) {
      const blocks = await Promise.all(Array.from({ length: 6 }, (_, j) => scan(all[2 * j + (i % 2)], 'CN-53')));
      last = blocks.reduce((m, b) => (b > m ? b : m), last);
    }
    const keys = await openDb(dbPath);
    member = { authorization: `Bearer ${(await createApiKey(keys, { org: 'Org1MSP', scope: 'member' })).key}` };
    await keys.close();
    const args = ['--connection', devnet.connection, '--db', dbPath];
    const ingest = start(['ingest', ...args]);
    // two serve processes, and a third of two workers sharing one port (serve --workers 2)
    const serves = [start(['serve', ...args, '--port', '0']), start(['serve', ...args, '--port', '0']), start(['serve', ...args, '--port', '0', '--workers', '2'])];
    children.push(ingest.child, ...serves.map((s) => s.child));
    bases = (await Promise.all(serves.map((s) => s.port))).map((p) => `http://127.0.0.1:${p}`);
    await indexedPast(last);
  });

  after(async () => {
    for (const child of children) await kill(child);
    ledger?.close();
    await devnet?.stop();
  });

  it('two serve processes (and serve --workers 2) with one ingest process answer identically', async () => {
    const paths = [`/api/trace/code/${codes[0]}`, `/api/trace/code/${codes[1]}`, '/api/trace/lot/06901234567892/L1', `/api/codes/${codes[0]}`, '/api/tasks', '/api/blocks?limit=500'];
    for (const path of paths) {
      const [a, ...others] = await Promise.all(bases.map((base) => get(base, path, member)));
      expect(a.status, path).to.equal(200);
      for (const b of others) {
        expect(b.status, path).to.equal(200);
        expect(b.text, path).to.equal(a.text);
      }
    }
    const scans = (await get(bases[0], `/api/trace/code/${codes[0]}`)).body!.code as { scans: number };
    expect(scans.scans).to.equal(5);
    // serving processes neither ingest nor send scans: both leases are held by the ingest process
    const health = (await get(bases[1], '/healthz')).body! as { status: string; leases: Record<string, { role: string; holder: string }> };
    expect(health.status).to.equal('ok');
    const pid = children[0].pid;
    for (const lease of Object.values(health.leases)) {
      expect(lease.role).to.equal('follower');
      expect(lease.holder).to.contain(`:${pid}:`);
    }
  });

  it('answers 304 to If-None-Match with the trace ETag, and 200 with the body to a stale or foreign tag', async () => {
    const path = `/api/trace/code/${codes[1]}`;
    const first = await get(bases[0], path);
    expect(first.status).to.equal(200);
    expect(first.etag).to.match(/^"[0-9a-f]{32}"$/);
    const again = await get(bases[0], path, { 'if-none-match': first.etag! });
    expect(again.status).to.equal(304);
    expect(again.text).to.equal('');
    // one of a list, or the weak form of the tag, matches as well
    expect((await get(bases[0], path, { 'if-none-match': `"0123456789abcdef0123456789abcdef", W/${first.etag!}` })).status).to.equal(304);
    // the other serve process computes the same tag for the same trace
    expect((await get(bases[1], path, { 'if-none-match': first.etag! })).status).to.equal(304);
    const other = await get(bases[0], path, { 'if-none-match': '"0123456789abcdef0123456789abcdef"' });
    expect(other.status).to.equal(200);
    expect(other.text).to.equal(first.text);
    const lot = await get(bases[0], '/api/trace/lot/06901234567892/L1');
    expect((await get(bases[0], '/api/trace/lot/06901234567892/L1', { 'if-none-match': lot.etag! })).status).to.equal(304);
  });

  it('a cached trace is invalidated by the next block touching its code or lot, in serve processes apart from the ingest process', async () => {
    const path = `/api/trace/code/${codes[0]}`;
    const lotPath = '/api/trace/lot/06901234567892/L1';
    // both serve processes have the traces cached (answered twice: the second from the cache)
    const before = await Promise.all(bases.slice(0, 2).map((b) => get(b, path)));
    const lotBefore = await Promise.all(bases.slice(0, 2).map((b) => get(b, lotPath)));
    const untouched = await get(bases[0], `/api/trace/code/${codes[1]}`);
    for (const b of bases) expect((await get(b, path, { 'if-none-match': before[0].etag! })).status).to.equal(304);

    await indexedPast(await scan(codes[0], 'CN-44'));
    for (const [i, base] of bases.slice(0, 2).entries()) {
      const after = await get(base, path, { 'if-none-match': before[i].etag! });
      expect(after.status).to.equal(200);
      expect(after.etag).to.not.equal(before[i].etag);
      expect((after.body!.code as { scans: number; scanRegions: number })).to.include({ scans: 6, scanRegions: 2 });
    }
    // a trace the block did not change keeps its tag: a phone revalidating it still gets a 304
    expect((await get(bases[0], `/api/trace/code/${codes[1]}`, { 'if-none-match': untouched.etag! })).status).to.equal(304);

    const recorded = await ledger.submit('trace:recordStage', JSON.stringify({ taskId: 'roles-1', stage: 'tea_picking', eventTime: at(2), data: { tea_fresh_leaf_kg: 12.5, tea_pick_grade: 'one_bud_two_leaves' } }));
    await indexedPast(recorded.blockNumber);
    for (const [i, base] of bases.slice(0, 2).entries()) {
      const lot = await get(base, lotPath, { 'if-none-match': lotBefore[i].etag! });
      expect(lot.status).to.equal(200);
      expect((lot.body!.stages as { stage: string }[]).map((s) => s.stage)).to.deep.equal(['tea_plantation', 'tea_picking']);
      const code = (await get(base, path)).body!;
      expect((code.stages as unknown[]).length).to.equal(2);
    }
  });

  it('an ingest process killed with SIGKILL during ingestion and restarted ends equal to a replay', () =>
    withSeed('ROLES_SEED', async (random) => {
      const fresh = await newDbLocation('roles-killed');
      const shared = await openDb(dbPath);
      const height = Number(await checkpoint(shared));
      await shared.close();
      // one connection watches the whole time (opening one per poll would let the ingestor run past the kill point)
      const watch = await openDb(fresh);
      const read = async () => Number(await checkpoint(watch));
      const progress: number[] = [];
      for (let k = 0; k < 5; k++) {
        const from = await read();
        const target = from + 1 + Math.floor(random() * Math.max(1, (height - from) / (6 - k)));
        const { child } = start(['ingest', '--connection', devnet.connection, '--db', fresh]);
        const deadline = Date.now() + 30_000;
        while ((await read()) < target && Date.now() < deadline) await sleep(2);
        await kill(child, 'SIGKILL');
        progress.push(await read());
      }
      await watch.close();
      expect(progress.filter((p) => p > 0 && p < height).length, `killed mid-ingestion (${progress.join(', ')})`).to.be.at.least(3);
      const { child } = start(['ingest', '--connection', devnet.connection, '--db', fresh]);
      children.push(child);
      await indexedPast(BigInt(height - 1), fresh);
      await kill(child);

      const live = await openDb(fresh);
      const upTo = await checkpoint(live);
      const replay = await openDb(await newDbLocation('roles-replay'));
      const stream = await ledger.blocks(0n);
      for await (const block of stream) {
        await applyBlock(replay, block, 'trace');
        if (block.number + 1n === upTo) break;
      }
      stream.close();
      await expectSameProjection(live, replay);
      await live.close();
      await replay.close();
    }));
});
