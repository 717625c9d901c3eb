import { createApp, openDb } from '@trace/indexer';

/**
 * The indexer's HTTP API over an already seeded database, without a chain: no ingestor and no scan
 * sender (POST /api/verify only queues scans in SQLite). Started by bench:indexer in its own process
 * so that the load generator does not share the server's event loop.
 * Usage: node scripts/dist/src/bench/indexer-server.js <db>
 */
const db = openDb(process.argv[2]);
const app = createApp(db, () => ({ ready: true, next: 0n }));
app.on('error', (e: Error) => console.error(`indexer-server: ${e.message}`));
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ port });
});
process.on('SIGTERM', () => {
  server.close();
  db.close();
  process.exit(0);
});
