import { rmSync } from 'node:fs';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { round, rssMb } from './stats';
import { PhaseResult, runCalls } from './run-workers';
import { devnetTarget } from './target';

/**
 * bench:devnet — readWrite submits (one read, one write) of the fixture chaincode through the
 * official gateway client, at concurrency 1, 16 and 64, under the default two-org MAJORITY
 * policy and with one endorser. Clients run in separate processes and sign with Node's crypto.
 * Usage: node scripts/dist/src/bench/devnet.js [txPerLevel=3000]
 */

async function runLevel(devnet: RunningDevnet, concurrency: number, count: number, tag: string): Promise<PhaseResult> {
  const calls = Array.from({ length: count }, (_, i) => ({ tx: 'readWrite', args: [`${tag}-c${concurrency}-${i}`, 'v'] }));
  const r = await runCalls(devnetTarget(devnet), calls, concurrency, concurrency === 1 ? 1 : 2);
  if (r.firstError) console.error(`  ${r.failures} failures, first: ${r.firstError}`);
  return r;
}

async function main(): Promise<void> {
  const perLevel = Number(process.argv[2] ?? 3000);
  const out: Record<string, number | string> = { bench: 'devnet' };
  for (const [label, args] of [
    ['default', []],
    ['one', ['--endorsers', '1']],
  ] as const) {
    const devnet = await startDevnet([...args]);
    try {
      console.log(`\n${label === 'default' ? 'default policy (MAJORITY of 2 orgs: 2 endorsements)' : 'one endorser'}; ${perLevel} tx per level`);
      await runLevel(devnet, 16, Math.min(500, perLevel), `warm-${label}`);
      for (const c of [1, 16, 64]) {
        const r = await runLevel(devnet, c, c === 1 ? Math.min(500, perLevel) : perLevel, label);
        console.log(
          `  c=${String(c).padStart(2)}  ${round(r.tps).toString().padStart(7)} tx/s  p50 ${round(r.p50, 2)} ms  p99 ${round(r.p99, 2)} ms  devnet ${round(r.devnetCpuMsPerTx, 2)} CPU-ms/tx  failures ${r.failures}`,
        );
        const suffix = label === 'one' ? '_one' : '';
        out[`tps_c${c}${suffix}`] = round(r.tps);
        if (c === 1) out[`p50_ms_c1${suffix}`] = round(r.p50, 2);
        if (c === 64) {
          out[`p99_ms_c64${suffix}`] = round(r.p99, 2);
          out[`cpu_ms_per_tx${suffix}`] = round(r.devnetCpuMsPerTx, 2);
        }
        if (r.failures > 0) out[`failures_c${c}${suffix}`] = r.failures;
      }
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
