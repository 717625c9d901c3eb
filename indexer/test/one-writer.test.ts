import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { codeHash, generateCode, Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { applyBlocks, checkpoint, codeKey, createApiKey, Db, LeaseInfo, openDb } from '../src';
import { tableNames, tableRows } from './projection';
import { newDbLocation } from './support/databases';

const SERVER = resolve(__dirname, '../src/server.js');
const CHAINCODE = resolve(__dirname, '../../../chaincode');
const TTL_MS = 3000;

/** What only an indexer holds (keys, queued scans and their clients, leases): not replayed from the chain. */
const LOCAL_TABLES = ['schema_version', 'leases', 'api_keys', 'local_secrets', 'scan_queue', 'scan_ids', 'scan_rejects', 'scan_clients'];

interface Indexer {
  child: ChildProcess;
  base: string;
  /** its structured log lines */
  log: Record<string, unknown>[];
}

/** Starts an indexer process on the shared database; resolves once it listens. */
function runIndexer(connection: string, db: string): Promise<Indexer> {
  const child = spawn(process.execPath, [SERVER, '--connection', connection, '--db', db, '--port', '0', '--send-interval', '100'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, INDEXER_LEASE_TTL_MS: String(TTL_MS) },
  });
  const log: Record<string, unknown>[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    const lines = err.split('\n');
    err = lines.pop()!;
    for (const l of lines) if (l.startsWith('{')) log.push(JSON.parse(l) as Record<string, unknown>);
  });
  return new Promise((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) res({ child, base: `http://127.0.0.1:${m[1]}`, log });
    });
    child.once('exit', (code) => rej(new Error(`indexer exited with ${code}`)));
  });
}

interface Health {
  nextBlock: number;
  leases: { ingestor: LeaseInfo; scanSender: LeaseInfo };
}
const health = async (ix: Indexer) => (await (await fetch(`${ix.base}/healthz`)).json()) as Health;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `check` holds; fails with `what` (and the last error) after `ms`. A poll that fails is
 * one more "not yet": a process taking a lease over may drop a poll's keep-alive connection.
 */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last poll: ${String(last)})` : ''}`);
    await sleep(100);
  }
}

/** Waits for `count` log lines of the event (the log pipe may lag behind /healthz), then returns them. */
async function logged(ix: Indexer, event: string, count: number): Promise<Record<string, unknown>[]> {
  await until(`${count} ${event} log lines`, () => ix.log.filter((l) => l.event === event).length >= count, 10_000);
  return ix.log.filter((l) => l.event === event);
}

/** Every row of every table the chain's events fill, in a stable order. */
async function projections(db: Db): Promise<Record<string, unknown[]>> {
  const rows: Record<string, unknown[]> = {};
  for (const t of (await tableNames(db)).filter((name) => !LOCAL_TABLES.includes(name))) rows[t] = await tableRows(db, t);
  return rows;
}

describe('two indexers on one database (devnet)', function () {
  this.timeout(300_000);
  let devnet: RunningDevnet;
  let ledger: Ledger;
  let c: TraceChainClient;
  let dbPath: string;
  const running: ChildProcess[] = [];
  const scanned = [generateCode(), generateCode()].map(codeHash);

  before(async () => {
    dbPath = await newDbLocation('one-writer');
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1']);
    ledger = ledgerFromConfig(devnet.connection);
    c = new TraceChainClient(ledger);
    await c.consortium.bootstrap({ consortium: 'lease', name: 'Brand', roles: ['brand', 'producer', 'processor', 'warehouse', 'logistics', 'retailer', 'inspector'] });
    await c.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand' });
    await loadTemplatePackage(c, tea);
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, 'Org1MSP']));
    await c.trace.createTask({ taskId: 'lease-1', template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: 'L1', plannedQuantity: 100_000, unit: 'cake', assignments });
    await c.codes.issueCodes({ taskId: 'lease-1', level: 'item', codeHashes: scanned });
  });

  after(async () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    ledger?.close();
    await devnet?.stop();
  });

  it('only the leader ingests and sends scans; the follower takes over from a SIGKILLed leader at once and from a stalled one when its lease lapses; scans reach the chain once and the database equals a replay', async () => {
    const keyDb = await openDb(dbPath);
    const member = { authorization: `Bearer ${(await createApiKey(keyDb, { org: 'Org1MSP', scope: 'member' })).key}`, 'content-type': 'application/json' };
    await keyDb.close();
    const first = await runIndexer(devnet.connection, dbPath);
    running.push(first.child);
    await until('the first indexer to lead both duties', async () => {
      const h = await health(first);
      return h.leases.ingestor.role === 'leader' && h.leases.scanSender.role === 'leader';
    });
    const second = await runIndexer(devnet.connection, dbPath);
    running.push(second.child);
    const firstHolder = (await health(first)).leases.ingestor.holder!;
    const f = await health(second);
    expect([f.leases.ingestor.role, f.leases.scanSender.role]).to.deep.equal(['follower', 'follower']);
    expect([f.leases.ingestor.holder, f.leases.scanSender.holder]).to.deep.equal([firstHolder, firstHolder]);

    // Traffic: code issuance in three parallel lanes until stopped.
    let traffic = true;
    let issued = 0;
    const startLanes = () =>
      Array.from({ length: 3 }, async () => {
        while (traffic) {
          await c.codes.issueCodes({ taskId: 'lease-1', level: 'item', codeHashes: [generateCode(), generateCode()].map(codeHash) });
          issued++;
        }
      });
    let lanes = startLanes();
    const verify = (ix: Indexer, hash: string) => fetch(`${ix.base}/api/verify`, { method: 'POST', headers: member, body: JSON.stringify({ codeHash: hash, region: 'CN-53' }) });
    const onChain = async (hash: string) => {
      const v = await c.codes.verifyCode(hash);
      return v.genuine ? v.scanCount : -1;
    };
    // The follower serves the API: it reads what the leader indexes and queues scans for the leader to send.
    await until('the leader to index the scanned codes', async () => (await fetch(`${second.base}/api/codes/${scanned[0]}`, { headers: member })).status === 200);
    for (const ix of [second, first, second]) expect((await verify(ix, scanned[0])).status).to.equal(200);
    await until('three scans on chain', async () => (await onChain(scanned[0])) === 3);
    expect(second.log.filter((l) => String(l.event).startsWith('indexer.lease_') || l.event === 'indexer.scans_sent'), 'the follower took no lease and sent nothing').to.deep.equal([]);

    // SIGKILL the leader in the middle of the block stream.
    await until('more blocks while the traffic goes on', async () => issued >= 15);
    const killedAt = (await health(second)).nextBlock;
    first.child.kill('SIGKILL');
    const killed = Date.now();
    await new Promise((r) => first.child.once('exit', r));
    await until('the follower to take both duties over', async () => {
      const h = await health(second);
      return h.leases.ingestor.role === 'leader' && h.leases.scanSender.role === 'leader';
    }, 2 * TTL_MS);
    // the killed holder's process is gone: no need to wait for its lease to lapse
    expect(Date.now() - killed).to.be.lessThan(TTL_MS);
    expect((await logged(second, 'indexer.lease_takeover', 2)).map((l) => [l.lease, l.previousHolder, l.from])).to.have.deep.members([
      ['ingestor', firstHolder, 'holder gone'],
      ['scan-sender', firstHolder, 'holder gone'],
    ]);

    // A third process follows; the new leader stalls (SIGSTOP: alive, silent) and its lease lapses.
    const third = await runIndexer(devnet.connection, dbPath);
    running.push(third.child);
    const secondHolder = (await health(second)).leases.ingestor.holder!;
    await until('traffic after the takeover', async () => issued >= 30);
    // Stall the leader while it is idle: a process stopped inside a write transaction would keep
    // SQLite's write lock, which no lease can take back (every other process's writes would wait).
    traffic = false;
    await Promise.all(lanes);
    let seen = -1;
    await until('the leader to index the last block', async () => {
      const next = (await health(second)).nextBlock;
      const idle = next === seen;
      seen = next;
      return idle;
    });
    second.child.kill('SIGSTOP');
    const stalled = Date.now();
    await until('the third to take both duties over once the lease lapses', async () => {
      const h = await health(third);
      return h.leases.ingestor.role === 'leader' && h.leases.scanSender.role === 'leader';
    }, 3 * TTL_MS);
    // it waited for the lapse (the stalled holder renewed about ttl/3 before it stopped), unlike a takeover from a gone process
    expect(Date.now() - stalled).to.be.at.least(TTL_MS / 2);
    expect((await logged(third, 'indexer.lease_takeover', 2)).map((l) => [l.lease, l.previousHolder, l.from])).to.have.deep.members([
      ['ingestor', secondHolder, 'expired'],
      ['scan-sender', secondHolder, 'expired'],
    ]);
    for (let i = 0; i < 2; i++) expect((await verify(third, scanned[1])).status).to.equal(200);
    // The stalled process resumes: its renewals find another holder, and it stops ingesting and sending.
    second.child.kill('SIGCONT');
    await until('the resumed process to follow again', async () => {
      const h = await health(second);
      return h.leases.ingestor.role === 'follower' && h.leases.scanSender.role === 'follower';
    });
    expect((await logged(second, 'indexer.lease_lost', 2)).map((l) => [l.lease, l.reason])).to.have.deep.members([
      ['ingestor', 'another process holds the lease'],
      ['scan-sender', 'another process holds the lease'],
    ]);
    traffic = true;
    lanes = startLanes();
    await until('traffic after the second takeover', async () => issued >= 45);
    traffic = false;
    await Promise.all(lanes);
    await until('two scans of the second code on chain', async () => (await onChain(scanned[1])) === 2);
    const tip = (await ledger.submit('codes:issueCodes', JSON.stringify({ taskId: 'lease-1', level: 'item', codeHashes: [codeHash(generateCode())] }))).blockNumber + 1n;
    await until('the third to index the chain', async () => (await health(third)).nextBlock >= Number(tip));
    expect(killedAt).to.be.greaterThan(0).and.lessThan(Number(tip));
    // the queue is empty and nothing was sent twice
    await sleep(1000);
    expect([await onChain(scanned[0]), await onChain(scanned[1])]).to.deep.equal([3, 2]);

    for (const ix of [second, third]) {
      ix.child.kill('SIGTERM');
      await new Promise((r) => ix.child.once('exit', r));
    }
    const live = await openDb(dbPath);
    const upTo = await checkpoint(live);
    expect(await live.value('SELECT count(*) FROM scan_queue')).to.equal(0);
    const scans: unknown[] = [];
    for (const h of scanned) scans.push(await live.value('SELECT count(*) FROM scans WHERE code_hash = ?', codeKey(h)));
    expect(scans).to.deep.equal([3, 2]);
    // the leader's clean stop releases both leases
    expect(await live.all('SELECT name, expires_at FROM leases ORDER BY name')).to.deep.equal([
      { name: 'ingestor', expires_at: 0 },
      { name: 'scan-sender', expires_at: 0 },
    ]);

    // A fresh index replayed from block 0 into a new database holds the same rows.
    const replay = await openDb(await newDbLocation('one-writer-replay'));
    const stream = await ledger.blocks(0n);
    for await (const block of stream) {
      await applyBlocks(replay, [block], ledger.chaincodeName);
      if (block.number + 1n === upTo) break;
    }
    stream.close();
    const [a, b] = [await projections(live), await projections(replay)];
    expect(Object.keys(a)).to.deep.equal(Object.keys(b));
    for (const table of Object.keys(a)) expect(a[table], table).to.deep.equal(b[table]);
    expect((a.codes as unknown[]).length).to.equal(2 + 2 * issued + 1);
    await live.close();
    await replay.close();
  });
});
