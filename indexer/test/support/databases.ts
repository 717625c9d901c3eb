import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, openStore } from '../../src/store';

/**
 * The engine the indexer suite runs against: SQLite, or PostgreSQL when INDEXER_TEST_ENGINE is
 * `postgres` (the server at INDEXER_TEST_PG_URL, started by the suite's global setup).
 */
export const TEST_ENGINE: Engine = process.env.INDEXER_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

let databases = 0;

/**
 * The location of a new, empty database on the engine under test: a file in a new temporary folder,
 * or a new database on the test server. `name` only makes it easier to recognise.
 */
export async function newDbLocation(name = 'index'): Promise<string> {
  if (TEST_ENGINE === 'sqlite') return join(mkdtempSync(join(tmpdir(), `${name}-`)), `${name}.sqlite`);
  const server = process.env.INDEXER_TEST_PG_URL;
  if (!server) throw new Error('INDEXER_TEST_PG_URL is not set (the global setup starts a server)');
  const db = `t${process.pid}_${++databases}_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`.slice(0, 63);
  const store = await openStore(server);
  try {
    await store.exec(`CREATE DATABASE ${db}`);
  } finally {
    await store.close();
  }
  const url = new URL(server);
  url.pathname = `/${db}`;
  return url.toString();
}
