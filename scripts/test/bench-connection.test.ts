import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunningDevnet, startDevnet } from '@trace/test-network';

const TRACE_BENCH = resolve(__dirname, '../src/bench/trace.js');
const bench = (...args: string[]) => spawnSync(process.execPath, [TRACE_BENCH, ...args], { encoding: 'utf8', timeout: 170_000 });

/** A tiny workload, to check the path rather than to measure. */
describe('benchmarks against an existing network (--connection)', function () {
  this.timeout(180_000);
  let devnet: RunningDevnet;

  before(async () => {
    devnet = await startDevnet(['--chaincode-path', resolve(__dirname, '../../../chaincode'), '--chaincode-name', 'trace', '--endorsers', '1']);
  });
  after(async () => {
    await devnet?.stop();
    if (devnet) rmSync(devnet.dataDir, { recursive: true, force: true });
  });

  it('bench:trace runs its workload through the profile instead of starting a devnet, and reports no devnet CPU or memory', () => {
    const r = bench('10', '--connection', devnet.profiles.Org1MSP, '--connection', devnet.profiles.Org2MSP);
    expect(r.status, r.stderr.slice(-2000)).to.equal(0);
    expect(r.stdout).to.include('existing network: Org1MSP through');
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out).to.include({ bench: 'trace', tasks: 10, failures: 0, cpu_ms_per_tx: null, rss_mb: null });
    expect(out.tps).to.be.a('number').greaterThan(0);
    // percentiles in order: p50 ≤ p95 ≤ p99
    expect(out.p95_ms).to.be.a('number').within(out.p50_ms as number, out.p99_ms as number);
  });

  it('refuses profiles that name fewer than two orgs, before any transaction', () => {
    const one = join(mkdtempSync(join(tmpdir(), 'bench-')), 'one.json');
    writeFileSync(one, JSON.stringify({ organizations: { Org1: { mspid: 'Org1MSP', peers: ['p'] } }, peers: { p: { url: 'grpcs://127.0.0.1:1' } } }));
    const r = bench('10', '--connection', one);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('[ERR_PROFILE] the benchmarks need two orgs; the --connection profiles name Org1MSP');
  });
});
