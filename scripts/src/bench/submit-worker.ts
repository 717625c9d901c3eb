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
  firstError?: string;
  /** failures by Fabric validation code (MVCC_READ_CONFLICT …) or, before ordering, by error code */
  failuresBy: Record<string, number>;
}

process.on('message', (job: WorkerJob) => {
  run(job).then(
    (r) => process.send!(r),
    (e: Error) => process.send!({ latencies: [], failures: job.calls.length, firstError: e.message, failuresBy: { [(e as LedgerError).code ?? 'ERR']: job.calls.length } }),
  );
});

async function run(job: WorkerJob): Promise<WorkerResult> {
  const ledger = ledgerFromConfig(job.connection, { msp: job.mspId, user: 'User1' });
  const latencies: number[] = [];
  let failures = 0;
  const failuresBy: Record<string, number> = {};
  let firstError: string | undefined;
  let next = 0;
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
          firstError ??= (e as Error).message;
          const why = e instanceof LedgerError ? (e.details.validationCode ?? e.code) : 'ERR';
          failuresBy[why] = (failuresBy[why] ?? 0) + 1;
        }
      }
    }),
  );
  ledger.close();
  return { latencies, failures, firstError, failuresBy };
}
