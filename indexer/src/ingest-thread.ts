import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { IndexerStatus } from './api';
import { checkpoint, Db } from './db';
import type { Duties, DutyOptions } from './duties';

/** What the ingest thread is started with: where the database and the chain are, and how it is tuned. */
export interface IngestThreadData {
  db: string;
  connection: string;
  msp?: string;
  user?: string;
  duties: DutyOptions;
  /** the parent logger's level: the thread does not format what would be dropped */
  logLevel: string;
}

/** Messages from the ingest thread: a log line, its status when it changes, or that it has stopped. */
export type IngestThreadMessage = { log: string } | { status: IndexerStatus } | 'stopped';

/** waits before an ingest thread that died is started again */
const RESTART_MS = 1000;

/** Writes a log line of the thread through the parent's logger (its level, time and base fields are the parent's). */
function relay(log: Logger, line: string): void {
  const record = JSON.parse(line) as Record<string, unknown> & { level: number; msg?: string };
  const label = log.levels.labels[record.level] as 'info';
  const { msg } = record;
  delete (record as Partial<typeof record>).level;
  delete record.time;
  delete record.msg;
  log[label](record, msg);
}

/**
 * The ingest role of the combined mode in a worker thread of its own, with its own connections to
 * the database and the chain: applying a block of thousands of codes never holds up the event loop
 * that answers requests. The thread reports its status (for /healthz) and forwards its logs; one that
 * dies is started again. `started`: the first thread runs its duties (its first status came), or
 * rejects when it ended before.
 */
export function startIngestThread(data: Omit<IngestThreadData, 'logLevel'>, db: Db, log: Logger): Duties & { started: Promise<void> } {
  /** what the running thread last reported; none while no thread runs its duties */
  let status: IndexerStatus | undefined;
  let hasStarted = false;
  let onStarted: (error?: Error) => void = () => undefined;
  const started = new Promise<void>((resolve, reject) => (onStarted = (error) => (error ? reject(error) : resolve())));
  // handled where it is awaited, which may be after the thread has already failed
  started.catch(() => undefined);
  let stopping = false;
  let worker: Worker | undefined;
  const spawn = () => {
    if (stopping) return;
    const w = new Worker(join(__dirname, 'ingest-thread-main.js'), { workerData: { ...data, logLevel: log.level } satisfies IngestThreadData });
    worker = w;
    w.on('message', (m: IngestThreadMessage) => {
      if (typeof m === 'object' && 'log' in m) relay(log, m.log);
      else if (typeof m === 'object') {
        status = m.status;
        hasStarted = true;
        onStarted();
      }
    });
    let failure: Error | undefined;
    w.on('error', (e) => {
      failure = e;
      log.error({ event: 'indexer.ingest_thread_failed', err: e.message });
    });
    w.on('exit', (code) => {
      worker = undefined;
      status = undefined;
      if (stopping) return;
      // a thread that never started its duties (a bad connection file, a database it cannot open) would fail again
      if (!hasStarted) {
        stopping = true;
        onStarted(new Error(`the ingest thread did not start: ${failure?.message ?? `exit code ${code}`}`));
        return;
      }
      log.error({ event: 'indexer.ingest_thread_exit', code, restartInMs: RESTART_MS });
      setTimeout(spawn, RESTART_MS).unref();
    });
  };
  spawn();
  return {
    started,
    // while none runs (starting, or started again), the thread is not ready, at the checkpoint in the database
    status: async () => status ?? { ready: false, next: await checkpoint(db) },
    stop: async () => {
      stopping = true;
      const w = worker;
      if (!w) return;
      // the thread stops its leases (releasing them) and closes its connections, then is ended
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.on('message', (m: IngestThreadMessage) => m === 'stopped' && resolve());
        w.postMessage('stop');
      });
      await w.terminate();
    },
  };
}
