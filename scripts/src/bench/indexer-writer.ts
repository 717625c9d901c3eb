import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { ChainBlock, ChainTransaction } from '@trace/client';
import { applyBlocks, openDb } from '@trace/indexer';
import { codeHashOf } from './indexer-codes';

/**
 * bench:indexer's live ingestion: in a worker thread (as the combined mode's ingest thread), appends
 * blocks of consumer scans of issued codes to the database one commit per block, as the ingestor
 * following the chain does, one block every `blockMs` (a live chain cuts blocks at its pace, not
 * as fast as a thread can write), until told to stop; then answers { events, ms }.
 */
const { file, from, codes, blockMs } = workerData as { file: string; from: number; codes: number; blockMs: number };
const TXS_PER_BLOCK = 50;
const SCANS_PER_TX = 10;
const REGIONS = ['CN-53', 'CN-44', 'CN-11'];
const hex = () => randomBytes(32).toString('hex');

let stopped = false;
parentPort!.on('message', () => (stopped = true));

function block(number: number, previousHash: string): ChainBlock {
  const ms = Date.now();
  const transactions: ChainTransaction[] = Array.from({ length: TXS_PER_BLOCK }, () => {
    const txId = hex();
    const txTime = new Date(ms).toISOString();
    const scans = Array.from({ length: SCANS_PER_TX }, (_, k) => ({ codeHash: codeHashOf(Math.floor(Math.random() * codes)), channel: 'consumer', region: REGIONS[k % 3], at: txTime, recordedBy: 'Org1MSP', txId, count: 1 }));
    return { transactionId: txId, validationCode: 'VALID', creatorMspId: 'Org1MSP', timestampMs: ms, chaincodeName: 'trace', event: { name: 'codes.Scanned', payload: Buffer.from(JSON.stringify({ scans, alerts: [], txId, txTime })) } };
  });
  return { number: BigInt(number), hash: hex(), previousHash, dataHash: hex(), transactions };
}

async function run(): Promise<void> {
  const db = await openDb(file);
  const t = performance.now();
  let events = 0;
  let previous = hex();
  for (let n = from; !stopped; n++) {
    const b = block(n, previous);
    previous = b.hash;
    events += await applyBlocks(db, [b]);
    // the next block's time (the stop message comes in meanwhile)
    await new Promise((r) => setTimeout(r, Math.max(0, t + (n - from + 1) * blockMs - performance.now())));
  }
  await db.close();
  parentPort!.postMessage({ events, ms: performance.now() - t });
}

void run();
