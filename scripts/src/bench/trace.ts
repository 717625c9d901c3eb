import { runProductBench } from './product-devnet';
import { PhaseResult, runCalls } from './run-workers';
import { nullable, round, rssMb } from './stats';
import { cpuText } from './target';

/**
 * bench:trace — recordStage with 20 data items through the devnet (product chaincode, default
 * MAJORITY-of-2 policy) at concurrency 32: first stage A (no predecessor), then stage B, which
 * three cross-validation rules tie to A. Reports stage B's chaincode CPU per execution (the
 * chaincode processes' CPU over transactions × endorsing orgs; null when they are not known) and
 * the client processes' CPU per transaction.
 * Usage: node scripts/dist/src/bench/trace.js [tasks=2000] [--connection profile … [--chaincode-pids 1,2 --endorsements 2]]
 */

const ITEMS = 20;

function stageData(prefix: string, seed: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: ITEMS }, (_, i) => [`${prefix}${i + 1}`, 100 + ((seed * 7 + i * 13) % 900)]));
}

function print(label: string, r: PhaseResult): void {
  console.log(`  ${label.padEnd(34)} ${round(r.tps).toString().padStart(7)} tx/s  p50 ${round(r.p50, 1)} ms  p95 ${round(r.p95, 1)} ms  p99 ${round(r.p99, 1)} ms  devnet ${cpuText(r.devnetCpuMsPerTx)} CPU-ms/tx  chaincode ${cpuText(r.chaincodeCpuMsPerExec)} CPU-ms/exec  client ${cpuText(r.clientCpuMsPerTx)} CPU-ms/tx  failures ${r.failures}`);
  if (r.firstError) console.log(`    first failure: ${r.firstError}`);
}

runProductBench(async ({ target, client: c, args }) => {
  const [own, second] = target.orgs;
  const tasks = Number(args[0] ?? 2000);
  const concurrency = 32;
  console.log(`setup: consortium, ${2 * ITEMS} items, 2 stages, template with 3 rules, product`);
  await c.consortium.bootstrap({ consortium: 'bench', name: 'bench org', roles: ['brand', 'producer', 'processor'] });
  await c.consortium.addMember({ mspId: second, name: 'second org', roles: ['producer'] });
  await c.catalog.defineProduct({ gtin: '06901234567892', name: 'bench tea', category: 'tea', brand: 'bench' });
  for (const p of ['a', 'b']) {
    await Promise.all(Array.from({ length: ITEMS }, (_, i) => c.process.defineItem({ id: `bench_${p}${i + 1}`, name: `${p}${i + 1}`, type: 'number', min: 0, max: 1e6, required: true, privacy: 'plain' })));
    await c.process.defineForm({ id: `bench_${p}_form`, name: p, items: Array.from({ length: ITEMS }, (_, i) => `bench_${p}${i + 1}`) });
    await c.process.defineStage({ id: `bench_${p}`, name: p, forms: [`bench_${p}_form`], role: p === 'a' ? 'producer' : 'processor', requiresAudit: false, bizStep: 'transforming' });
  }
  await c.process.defineTemplate({
    id: 'bench',
    version: 1,
    name: 'bench',
    category: 'tea',
    stages: [{ stage: 'bench_a', after: [] }, { stage: 'bench_b', after: ['bench_a'] }],
    rules: [
      { id: 'r1', kind: 'lte', left: 'bench_b.bench_b1', right: 'bench_a.bench_a1', factor: 10, severity: 'reject' },
      { id: 'r2', kind: 'ratio', left: 'bench_b.bench_b2', right: 'bench_a.bench_a2', min: 0.01, max: 100, severity: 'reject' },
      { id: 'r3', kind: 'timeOrder', left: 'bench_a.eventTime', right: 'bench_b.eventTime', maxHours: 48, severity: 'flag' },
    ],
    scanAlertThreshold: 10,
    publicView: {},
  });
  const ids = Array.from({ length: tasks }, (_, i) => `bench-${i}`);
  const assignments = { bench_a: own, bench_b: own };
  const t = Date.now() - 3_600_000;
  const created = await runCalls(
    target,
    ids.map((taskId) => ({ tx: 'trace:createTask', args: [JSON.stringify({ taskId, template: 'bench', version: 1, product: { gtin: '06901234567892', name: 'bench tea' }, lot: taskId, plannedQuantity: 1, unit: 'kg', assignments })] })),
    concurrency,
    2,
  );
  print(`createTask (setup), ${tasks} tasks`, created);
  const recordA = await runCalls(
    target,
    ids.map((taskId, n) => ({ tx: 'trace:recordStage', args: [JSON.stringify({ taskId, stage: 'bench_a', eventTime: new Date(t).toISOString(), data: stageData('bench_a', n) })] })),
    concurrency,
    2,
  );
  print(`recordStage A (20 items)`, recordA);
  const recordB = await runCalls(
    target,
    ids.map((taskId, n) => ({ tx: 'trace:recordStage', args: [JSON.stringify({ taskId, stage: 'bench_b', eventTime: new Date(t + 60_000).toISOString(), data: stageData('bench_b', n) })] })),
    concurrency,
    2,
  );
  print(`recordStage B (20 items, 3 rules)`, recordB);
  console.log(
    JSON.stringify({
      bench: 'trace',
      tasks,
      concurrency,
      tps: round(recordB.tps),
      p50_ms: round(recordB.p50, 1),
      p95_ms: round(recordB.p95, 1),
      p99_ms: round(recordB.p99, 1),
      tps_first_stage: round(recordA.tps),
      cpu_ms_per_tx: nullable(recordB.devnetCpuMsPerTx),
      chaincode_cpu_ms_per_exec: nullable(recordB.chaincodeCpuMsPerExec),
      client_cpu_ms_per_tx: nullable(recordB.clientCpuMsPerTx),
      failures: recordA.failures + recordB.failures,
      rss_mb: target.pid === undefined ? null : round(rssMb(target.pid)),
    }),
  );
});
