import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { ledgerFromConfig } from '@trace/client';
import { openDb } from './db';
import { runDuties } from './duties';
import type { IngestThreadData, IngestThreadMessage } from './ingest-thread';

/** The ingest thread of the combined mode (started by ingest-thread.ts). */
const data = workerData as IngestThreadData;
const port = parentPort!;
const send = (m: IngestThreadMessage) => port.postMessage(m);
// lines go to the parent, which writes them through its own logger
const log = pino({ base: null, level: data.logLevel }, { write: (line: string) => send({ log: line }) });

/**
 * Opens the thread's own database connection and runs the duties, reporting its status when it
 * changes, until the parent says stop. A failure here (a database it cannot open) is an unhandled
 * rejection, which ends the thread with that error: the parent reports it.
 */
async function main(): Promise<void> {
  const db = await openDb(data.db);
  const duties = await runDuties(db, ledgerFromConfig(data.connection, { msp: data.msp, user: data.user, log }), log, data.duties);
  let last = '';
  let stopping = false;
  let reporting: NodeJS.Timeout | undefined;
  // every 100 ms after the last report ended (a slow database never stacks them up)
  const report = async () => {
    try {
      const status = await duties.status();
      const key = JSON.stringify(status, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      if (key !== last) {
        last = key;
        send({ status });
      }
    } catch (e) {
      log.warn({ event: 'indexer.status_failed', err: (e as Error).message });
    }
    if (!stopping) reporting = setTimeout(() => void report(), 100);
  };
  await report();

  port.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    stopping = true;
    clearTimeout(reporting);
    void duties.stop().then(async () => {
      await db.close();
      send('stopped');
    });
  });
}

void main();
