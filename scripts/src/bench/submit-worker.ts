import { connect, hash } from '@hyperledger/fabric-gateway';
import { grpcClient, nodeSigner } from '@trace/client';
import { readFileSync } from 'node:fs';

/** One benchmark client process: submits `calls` at `concurrency` and reports each latency. */
export interface WorkerJob {
  endpoint: string;
  channel: string;
  chaincode: string;
  mspId: string;
  certPath: string;
  keyPath: string;
  concurrency: number;
  calls: { tx: string; args: string[] }[];
}

export interface WorkerResult {
  latencies: number[];
  failures: number;
  firstError?: string;
}

process.on('message', (job: WorkerJob) => {
  run(job).then(
    (r) => process.send!(r),
    (e: Error) => process.send!({ latencies: [], failures: job.calls.length, firstError: e.message }),
  );
});

async function run(job: WorkerJob): Promise<WorkerResult> {
  const client = grpcClient(job.endpoint);
  const gateway = connect({
    client,
    identity: { mspId: job.mspId, credentials: readFileSync(job.certPath) },
    signer: nodeSigner(readFileSync(job.keyPath)),
    hash: hash.none,
  });
  const contract = gateway.getNetwork(job.channel).getContract(job.chaincode);
  const latencies: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.calls.length) {
        const call = job.calls[next++];
        const t0 = performance.now();
        try {
          await contract.submitTransaction(call.tx, ...call.args);
          latencies.push(performance.now() - t0);
        } catch (e) {
          failures++;
          const err = e as Error & { details?: { message: string }[] };
          firstError ??= err.details?.[0]?.message ?? err.message;
        }
      }
    }),
  );
  gateway.close();
  client.close();
  return { latencies, failures, firstError };
}
