import cluster from 'node:cluster';
import type { Logger } from 'pino';

/** waits before a serve worker that died is started again */
const RESPAWN_MS = 1000;

/**
 * `serve --workers N`: N serving processes on one port, through node:cluster. The primary owns the
 * listening socket and hands each connection to a worker in turn (round-robin), so the workers need
 * no port of their own and no SO_REUSEPORT (which Node 20 cannot set); a worker that dies is started
 * again, and SIGTERM / SIGINT stop them all. Each worker is a whole serve process with its own
 * database connection and trace cache. In a worker, runs `serve` instead. `onListening` hears, in
 * the primary, the port and the workers' pids once all of them listen.
 */
export function runServeWorkers(n: number, serve: () => Promise<void>, log: Logger, onListening?: (port: number, pids: number[]) => void): void {
  if (!cluster.isPrimary) {
    void serve();
    return;
  }
  let stopping = false;
  for (let i = 0; i < n; i++) cluster.fork();
  const listening = new Set<number>();
  cluster.on('listening', (worker, address) => {
    listening.add(worker.process.pid!);
    if (listening.size === n) onListening?.(address.port, [...listening]);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error({ event: 'indexer.serve_worker_exit', pid: worker.process.pid, code, signal, restartInMs: RESPAWN_MS });
    setTimeout(() => !stopping && cluster.fork(), RESPAWN_MS);
  });
  log.info({ event: 'indexer.serve_workers', workers: n });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    cluster.disconnect(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
