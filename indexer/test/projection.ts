import { expect } from 'chai';
import type { Db } from '../src';

/**
 * Tables a process fills on its own rather than from blocks (keys, the scan queue and what it
 * remembers of clients, leases, dead letters, TBaaS cloud-API invocations, the schema's version).
 * Every other table is a projection of the chain and must be equal after a replay.
 */
const LOCAL_TABLES = new Set(['api_keys', 'scan_queue', 'scan_ids', 'scan_rejects', 'scan_clients', 'local_secrets', 'dead_letters', 'leases', 'schema_version', 'invocations']);

/** Every projected table of the database, read from its schema so that a new table is compared too. */
export function projectedTables(db: Db): string[] {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return tables.filter((t) => !LOCAL_TABLES.has(t));
}

/** Asserts that two databases hold the same projection: the same tables, row for row. */
export function expectSameProjection(actual: Db, expected: Db): void {
  const tables = projectedTables(expected);
  expect(projectedTables(actual)).to.deep.equal(tables);
  for (const table of tables) {
    const dump = (db: Db) => db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
    expect(dump(actual), table).to.deep.equal(dump(expected));
  }
}
