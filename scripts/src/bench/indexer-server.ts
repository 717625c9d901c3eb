import pino from 'pino';
import { createApp, openDb, runServeWorkers } from '@trace/indexer';

/**
 * The indexer's HTTP API over an already seeded database, without a chain: no ingestor and no scan
 * sender (POST /api/verify only queues scans in SQLite). Started by bench:indexer in its own process
 * so that the load generator does not share the server's event loop; with workers > 1, as
 * `indexer serve --workers N` runs (node:cluster on one port).
 * Usage: node scripts/dist/src/bench/indexer-server.js <db> [workers=1]
 * Tells its parent { port, pids } (the pids whose CPU time serves the requests).
 */
const file = process.argv[2];
const workers = Number(process.argv[3] ?? 1);

async function serve(): Promise<void> {
  const db = await openDb(file);
  const app = createApp(db, () => ({ ready: true, next: 0n }));
  app.on('error', (e: Error) => console.error(`indexer-server: ${e.message}`));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      if (workers === 1) process.send?.({ port: (server.address() as { port: number }).port, pids: [process.pid] });
      resolve();
    });
    process.on('SIGTERM', () => {
      server.close();
      void db.close().finally(() => process.exit(0));
    });
  });
}

if (workers === 1) void serve();
else runServeWorkers(workers, serve, pino({ level: 'warn' }, pino.destination(2)), (port, pids) => process.send?.({ port, pids }));
