import { expect } from 'chai';
import type { Db } from '../src';

/**
 * Tables a process fills on its own rather than from blocks (keys, the scan queue and what it
 * remembers of clients, leases, dead letters, TBaaS cloud-API invocations, the schema's version).
 * Every other table is a projection of the chain and must be equal after a replay.
 */
const LOCAL_TABLES = new Set(['api_keys', 'scan_queue', 'scan_ids', 'scan_rejects', 'scan_clients', 'local_secrets', 'dead_letters', 'leases', 'schema_version', 'invocations']);

/** Every table of the database but the engine's own (SQLite's sqlite_*), in byte order of their names. */
export async function tableNames(db: Db): Promise<string[]> {
  // each engine lists its tables in a catalogue of its own
  const sql =
    db.engine === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
      : "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'";
  return (await db.column<string>(sql)).sort();
}

/**
 * Ids the database hands out rather than the chain: left out of the comparison, as PostgreSQL's
 * sequences do not roll back with a transaction a SIGKILL ended (a resumed ingestor's ids may skip
 * numbers a replay's do not).
 */
const HANDED_OUT_IDS: Record<string, string> = { codes: 'id', alerts: 'id' };

/** Every row of a table, ordered by all its columns: two databases holding the same rows dump alike (PostgreSQL keeps no insertion order). */
export async function tableRows(db: Db, table: string): Promise<unknown[]> {
  const names =
    db.engine === 'sqlite'
      ? 'SELECT name FROM pragma_table_info(?) ORDER BY cid'
      : 'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position';
  const columns = (await db.column<string>(names, table)).filter((c) => c !== HANDED_OUT_IDS[table]).join(', ');
  return db.all(`SELECT ${columns} FROM ${table} ORDER BY ${columns}`);
}

/** Every projected table of the database, read from its schema so that a new table is compared too. */
export async function projectedTables(db: Db): Promise<string[]> {
  return (await tableNames(db)).filter((t) => !LOCAL_TABLES.has(t));
}

/** Asserts that two databases hold the same projection: the same tables, row for row. */
export async function expectSameProjection(actual: Db, expected: Db): Promise<void> {
  const tables = await projectedTables(expected);
  expect(await projectedTables(actual)).to.deep.equal(tables);
  for (const table of tables) expect(await tableRows(actual, table), table).to.deep.equal(await tableRows(expected, table));
}
