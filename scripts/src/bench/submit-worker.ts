import { LedgerError, ledgerFromConfig } from '@trace/client';

/** One benchmark client process: submits `calls` at `concurrency` and reports each latency. */
export interface WorkerJob {
  /** the connection profile the worker opens its own ledger from, as `mspId`'s User1 */
  connection: string;
  mspId: string;
  concurrency: number;
  calls: { tx: string; args: string[] }[];
}

export interface WorkerResult {
  latencies: number[];
  failures: number;
  /** failures by cause: the error code, with the commit's validation code when there is one */
  failureCauses: Record<string, number>;
  firstError?: string;
  /** this process's CPU time (user + system) while it submitted, connection setup excluded */
  cpuMs: number;
}

function causeOf(e: unknown): string {
  if (!(e instanceof LedgerError)) return 'other';
  return e.details.validationCode ? `${e.code}/${e.details.validationCode}` : e.code;
}

process.on('message', (job: WorkerJob) => {
  run(job).then(
    (r) => process.send!(r),
    (e: Error) => process.send!({ latencies: [], failures: job.calls.length, failureCauses: { [causeOf(e)]: job.calls.length }, firstError: e.message, cpuMs: 0 }),
  );
});

async function run(job: WorkerJob): Promise<WorkerResult> {
  const ledger = ledgerFromConfig(job.connection, { msp: job.mspId, user: 'User1' });
  const latencies: number[] = [];
  let failures = 0;
  const failureCauses: Record<string, number> = {};
  let firstError: string | undefined;
  let next = 0;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.calls.length) {
        const call = job.calls[next++];
        const t0 = performance.now();
        try {
          await ledger.submit(call.tx, ...call.args);
          latencies.push(performance.now() - t0);
        } catch (e) {
          failures++;
          failureCauses[causeOf(e)] = (failureCauses[causeOf(e)] ?? 0) + 1;
          firstError ??= (e as Error).message;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  ledger.close();
  return { latencies, failures, failureCauses, firstError, cpuMs: (cpu.user + cpu.system) / 1000 };
}
