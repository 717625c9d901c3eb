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
const db = openDb(data.db);
const duties = runDuties(db, ledgerFromConfig(data.connection, { msp: data.msp, user: data.user, log }), log, data.duties);

let last = '';
const report = () => {
  const status = duties.status();
  const key = JSON.stringify(status, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (key === last) return;
  last = key;
  send({ status });
};
report();
const reporting = setInterval(report, 100);

port.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(reporting);
  void duties.stop().then(() => {
    db.close();
    send('stopped');
  });
});
