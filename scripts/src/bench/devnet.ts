import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDevnet } from '@trace/test-network';
import { nullable, round, rssMb } from './stats';
import { PhaseResult, runCalls } from './run-workers';
import { BenchTarget, cpuText, devnetTarget, measuredText, networkChaincode, networkTarget } from './target';

/**
 * bench:devnet — readWrite submits (one read, one write) of the fixture chaincode through the
 * official gateway client, at concurrency 1, 16 and 64, under the default two-org MAJORITY
 * policy and with one endorser. Clients run in separate processes and sign with Node's crypto.
 * With `--connection <profile>` (repeatable) the levels run once on an existing network whose
 * profiles name the fixture chaincode (`test-network/fixture-chaincode`); its chaincode CPU is
 * measured only from `--chaincode-pids 123,456 --endorsements 2`.
 * Usage: node scripts/dist/src/bench/devnet.js [txPerLevel=3000] [--connection profile … [--chaincode-pids 1,2 --endorsements 2]]
 */

async function runLevel(target: BenchTarget, concurrency: number, count: number, tag: string): Promise<PhaseResult> {
  const calls = Array.from({ length: count }, (_, i) => ({ tx: 'readWrite', args: [`${tag}-c${concurrency}-${i}`, 'v'] }));
  const r = await runCalls(target, calls, concurrency, concurrency === 1 ? 1 : 2);
  if (r.firstError) console.error(`  ${r.failures} failures, first: ${r.firstError}`);
  return r;
}

/** The three levels on one target, their figures into `out` (keys with `suffix`). */
async function runLevels(target: BenchTarget, perLevel: number, label: string, suffix: string, out: Record<string, number | string | null>): Promise<void> {
  await runLevel(target, 16, Math.min(500, perLevel), `warm-${label}`);
  for (const c of [1, 16, 64]) {
    const r = await runLevel(target, c, c === 1 ? Math.min(500, perLevel) : perLevel, label);
    console.log(
      `  c=${String(c).padStart(2)}  ${round(r.tps).toString().padStart(7)} tx/s  p50 ${round(r.p50, 2)} ms  p99 ${round(r.p99, 2)} ms  devnet ${cpuText(r.devnetCpuMsPerTx)} CPU-ms/tx  chaincode ${cpuText(r.chaincodeCpuMsPerExec)} CPU-ms/exec  client ${cpuText(r.clientCpuMsPerTx)} CPU-ms/tx  failures ${r.failures}`,
    );
    out[`tps_c${c}${suffix}`] = round(r.tps);
    if (c === 1) out[`p50_ms_c1${suffix}`] = round(r.p50, 2);
    if (c === 64) {
      out[`p99_ms_c64${suffix}`] = round(r.p99, 2);
      out[`cpu_ms_per_tx${suffix}`] = nullable(r.devnetCpuMsPerTx);
      out[`chaincode_cpu_ms_per_exec${suffix}`] = nullable(r.chaincodeCpuMsPerExec);
      out[`client_cpu_ms_per_tx${suffix}`] = nullable(r.clientCpuMsPerTx);
    }
    if (r.failures > 0) out[`failures_c${c}${suffix}`] = r.failures;
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { connection: { type: 'string', multiple: true }, 'chaincode-pids': { type: 'string' }, endorsements: { type: 'string' } },
    allowPositionals: true,
  });
  const perLevel = Number(positionals[0] ?? 3000);
  const out: Record<string, number | string | null> = { bench: 'devnet' };
  if (values.connection) {
    const target = networkTarget(values.connection, networkChaincode(values['chaincode-pids'], values.endorsements));
    console.log(`existing network: ${target.orgs[0]} through ${target.profileFor(target.orgs[0])}; ${measuredText(target)}; ${perLevel} tx per level`);
    await runLevels(target, perLevel, 'network', '', out);
    console.log(JSON.stringify(out));
    return;
  }
  for (const [label, args] of [
    ['default', []],
    ['one', ['--endorsers', '1']],
  ] as const) {
    const devnet = await startDevnet([...args]);
    try {
      console.log(`\n${label === 'default' ? 'default policy (MAJORITY of 2 orgs: 2 endorsements)' : 'one endorser'}; ${perLevel} tx per level`);
      await runLevels(devnetTarget(devnet, label === 'one' ? 1 : undefined), perLevel, label, label === 'one' ? '_one' : '', out);
      if (label === 'default') out.rss_mb = round(rssMb(devnet.proc.pid!));
    } finally {
      await devnet.stop();
      rmSync(devnet.dataDir, { recursive: true, force: true });
    }
  }
  console.log(JSON.stringify(out));
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
