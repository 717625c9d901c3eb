import { fork } from 'node:child_process';
import { join } from 'node:path';
import { cpuMs, cpuMsOf, percentile } from './stats';
import type { WorkerJob, WorkerResult } from './submit-worker';
import { BenchTarget } from './target';

export interface PhaseResult {
  /** wall time of the whole phase */
  seconds: number;
  tps: number;
  p50: number;
  p95: number;
  p99: number;
  failures: number;
  /** failures by cause (error code / commit validation code), over all workers */
  failureCauses: Record<string, number>;
  firstError?: string;
  /** NaN unless the devnet runs locally; its chaincode processes are not included */
  devnetCpuMsPerTx: number;
  /**
   * The chaincode processes' CPU time per execution (transactions × endorsing orgs), failed ones
   * included; NaN when the chaincode processes are not known
   */
  chaincodeCpuMsPerExec: number;
  /** the client processes' own CPU time per transaction (submitted, failed ones included) */
  clientCpuMsPerTx: number;
}

/**
 * Splits calls over `workers` client processes (each its own gateway connection, signing with
 * Node's crypto) and runs them at `concurrency` in total, as one org's user.
 */
export async function runCalls(target: BenchTarget, calls: WorkerJob['calls'], concurrency: number, workers: number, mspId = target.orgs[0]): Promise<PhaseResult> {
  const cpu = () => (target.pid === undefined ? NaN : cpuMs(target.pid));
  const chaincodePids = target.chaincodePids?.() ?? [];
  const chaincodeCpu0 = cpuMsOf(chaincodePids);
  const cpu0 = cpu();
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const child = fork(join(__dirname, 'submit-worker.js'));
      const job: WorkerJob = {
        connection: target.profileFor(mspId),
        mspId,
        concurrency: Math.max(1, Math.round(concurrency / workers)),
        calls: calls.filter((_, i) => i % workers === w),
      };
      return new Promise<WorkerResult>((resolve, reject) => {
        child.once('message', (r: WorkerResult) => {
          child.kill();
          resolve(r);
        });
        child.once('error', reject);
        child.send(job);
      });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const chaincodeCpu = cpuMsOf(chaincodePids) - chaincodeCpu0;
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return {
    seconds,
    tps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    failures: results.reduce((n, r) => n + r.failures, 0),
    failureCauses: results.reduce<Record<string, number>>((all, r) => {
      for (const [cause, n] of Object.entries(r.failureCauses)) all[cause] = (all[cause] ?? 0) + n;
      return all;
    }, {}),
    firstError: results.find((r) => r.firstError)?.firstError,
    devnetCpuMsPerTx: (cpu() - cpu0) / Math.max(1, latencies.length),
    chaincodeCpuMsPerExec: target.endorsementsPerTx && chaincodePids.length > 0 ? chaincodeCpu / (Math.max(1, calls.length) * target.endorsementsPerTx) : NaN,
    clientCpuMsPerTx: results.reduce((n, r) => n + r.cpuMs, 0) / Math.max(1, calls.length),
  };
}
