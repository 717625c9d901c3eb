import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { codeHash, generateCode, Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import pino from 'pino';
import { codeKey, createApiKey, openDb, ScanSender } from '../src';
import { newDbLocation } from './support/databases';

const SERVER = resolve(__dirname, '../src/server.js');
const CHAINCODE = resolve(__dirname, '../../../chaincode');

/** Starts the indexer as its own process; resolves with its base URL once it listens. */
function runIndexer(args: string[]): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [SERVER, ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) res({ child, base: `http://127.0.0.1:${m[1]}` });
    });
    child.once('exit', (code) => rej(new Error(`indexer exited with ${code}`)));
  });
}

describe('indexer verify endpoint and durable scan queue (devnet)', function () {
  this.timeout(180_000);
  let devnet: RunningDevnet;
  let ledger: Ledger;
  let c: TraceChainClient;
  const code = generateCode();

  before(async () => {
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1', '--tls']);
    ledger = ledgerFromConfig(devnet.connection);
    c = new TraceChainClient(ledger);
    await c.consortium.bootstrap({ consortium: 'scan', name: 'Brand', roles: ['brand', 'producer', 'processor', 'warehouse', 'logistics', 'retailer', 'inspector'] });
    await c.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand' });
    await loadTemplatePackage(c, tea);
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, 'Org1MSP']));
    await c.trace.createTask({ taskId: 'scan-1', template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: 'S1', plannedQuantity: 1, unit: 'cake', assignments });
    await c.codes.issueCodes({ taskId: 'scan-1', level: 'item', codeHashes: [codeHash(code)] });
  });

  after(async () => {
    ledger?.close();
    await devnet?.stop();
  });

  it('answers at once with the indexed verdict and pending scans; a queued scan survives a SIGKILL and reaches the chain after restart', async () => {
    const location = await newDbLocation('scans');
    const args = ['--connection', devnet.connection, '--db', location];
    const keyDb = await openDb(location);
    const member = { authorization: `Bearer ${(await createApiKey(keyDb, { org: 'Org1MSP', scope: 'member' })).key}` };
    await keyDb.close();
    // First run: never sends, so the accepted scan is only in the queue when the process dies.
    const first = await runIndexer([...args, '--send-interval', '3600000']);
    const post = (base: string, body: unknown) => fetch(`${base}/api/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    let indexed = false;
    for (let i = 0; i < 100 && !indexed; i++) {
      indexed = (await fetch(`${first.base}/api/codes/${codeHash(code)}`, { headers: member })).status === 200;
      if (!indexed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(indexed).to.equal(true);
    const r = await post(first.base, { code: code.toLowerCase(), region: 'CN-53' });
    expect(r.status).to.equal(200);
    const v = (await r.json()) as { genuine: boolean; verdict: string; lot: string; scans: { onChain: number; pending: number; total: number } };
    expect([v.genuine, v.verdict, v.lot]).to.deep.equal([true, 'genuine', 'S1']);
    expect(v.scans).to.deep.equal({ onChain: 0, pending: 1, total: 1 });
    const unknown = (await (await post(first.base, { code: generateCode(), region: 'CN-53' })).json()) as { verdict: string };
    expect(unknown.verdict).to.equal('unknown');
    for (const [body, status] of [[{ code, region: 'china' }, 400], [{ region: 'CN' }, 400], ['{not json', 400], [{ code, region: 'CN', channel: 'fax' }, 400]] as const) {
      const bad = await post(first.base, body);
      expect(bad.status, JSON.stringify(body)).to.equal(status);
      expect(((await bad.json()) as { error: { code: string } }).error.code).to.equal('ERR_VALIDATION');
    }
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect((await c.codes.verifyCode(codeHash(code))).genuine && (await c.codes.verifyCode(codeHash(code)) as { scanCount: number }).scanCount).to.equal(0);

    const second = await runIndexer(args);
    try {
      let count = 0;
      for (let i = 0; i < 100 && count === 0; i++) {
        const onChain = await c.codes.verifyCode(codeHash(code));
        count = onChain.genuine ? onChain.scanCount : 0;
        if (count === 0) await new Promise((res) => setTimeout(res, 200));
      }
      expect(count).to.equal(1);
      let after = { scans: { onChain: 0, pending: 1 } };
      for (let i = 0; i < 100 && after.scans.onChain === 0; i++) {
        const res = await post(second.base, { code, region: 'CN-53' });
        after = (await res.json()) as typeof after;
        if (after.scans.onChain === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(after.scans.onChain).to.be.at.least(1);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  });

  it('resends a batch that committed before its sender could forget it under the same id, and nothing counts twice', async () => {
    const hash = codeHash(generateCode());
    await c.codes.issueCodes({ taskId: 'scan-1', level: 'item', codeHashes: [hash] });
    const db = await openDb(await newDbLocation('scans-resend'));
    const at = new Date(Date.now() - 60_000).toISOString();
    const rows = [['consumer', 'CN-53'], ['consumer', 'CN-44'], ['regulator', 'CN-53']] as const;
    const queue = 'INSERT INTO scan_queue (code_hash, channel, region, at, received_at, batch_id) VALUES (?, ?, ?, ?, ?, ?)';
    for (const [channel, region] of rows) await db.run(queue, codeKey(hash), channel, region, at, at, 'crashed-batch-01');
    // What the crashed sender got on chain: its batch committed, then the process died before the delete.
    const crashed = await c.codes.recordScans({ batchId: 'crashed-batch-01', scans: rows.map(([channel, region]) => ({ codeHash: hash, channel, region, at })) });
    expect(crashed.outcomes.map((o) => o.status)).to.deep.equal(['recorded', 'recorded', 'refused']);
    const sender = new ScanSender(db, ledger, pino({ level: 'silent' }), 20);
    const running = sender.run();
    try {
      for (let i = 0; i < 200 && (await db.value<number>('SELECT count(*) FROM scan_queue'))! > 0; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      sender.stop();
      await running;
    }
    expect(await db.value('SELECT count(*) FROM scan_queue')).to.equal(0);
    // The resend was answered as already recorded: the chain holds the two accepted scans once, and the
    // scan that transaction refused is kept with its error.
    const v = await c.codes.verifyCode(hash);
    expect(v.genuine && v.scanCount).to.equal(2);
    const rejects = await db.all<{ channel: string; error: string }>('SELECT channel, error FROM scan_rejects WHERE code_hash = ?', codeKey(hash));
    expect(rejects.map((r) => r.channel)).to.deep.equal(['regulator']);
    expect(rejects[0].error).to.match(/^\[ERR_FORBIDDEN\]/);
    await db.close();
  });
});
