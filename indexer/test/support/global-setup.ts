import { PostgresServer, startPostgres } from '@trace/test-network';

let server: PostgresServer | undefined;

/** On PostgreSQL (INDEXER_TEST_ENGINE=postgres) without INDEXER_TEST_PG_URL, a throwaway server for the run. */
export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.INDEXER_TEST_ENGINE !== 'postgres' || process.env.INDEXER_TEST_PG_URL) return;
  server = await startPostgres({ durable: false });
  process.env.INDEXER_TEST_PG_URL = server.url;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await server?.stop();
}
