import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Db, openDb, SCHEMA_VERSION } from '../src';

/**
 * What a SQLite database's schema is, independent of how its CREATE statements were written: per
 * table its columns (type, NOT NULL, default, key position), whether it is WITHOUT ROWID, its CHECK
 * constraints, and its indexes (columns, uniqueness, partial condition).
 */
async function shape(db: Db): Promise<unknown> {
  const tables = await db.all<{ name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  const out: Record<string, unknown> = {};
  for (const { name, sql } of tables) {
    const columns = await db.all(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_xinfo('${name}') ORDER BY cid`);
    const withoutRowid = await db.value(`SELECT wr FROM pragma_table_list('${name}')`);
    const checks = (sql.match(/CHECK \((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)/g) ?? []).sort();
    const indexes = [];
    for (const ix of await db.all<{ name: string; unique: number; origin: string; partial: number }>(`SELECT name, "unique", origin, partial FROM pragma_index_list('${name}') ORDER BY name`)) {
      const cols = await db.column(`SELECT name FROM pragma_index_info('${ix.name}') ORDER BY seqno`);
      const where = ix.origin === 'c' ? ((await db.value<string>('SELECT sql FROM sqlite_master WHERE name = ?', ix.name)) ?? '').replace(/^.*\bWHERE\b/s, 'WHERE') : '';
      // autoindexes are named after their table's creation order: compare them by content only
      indexes.push({ name: ix.origin === 'c' ? ix.name : ix.origin, unique: ix.unique, cols, partial: ix.partial ? where : '' });
    }
    out[name] = { columns, withoutRowid, checks, indexes: indexes.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) };
  }
  return out;
}

describe('index schema (SQLite)', () => {
  it('a new file made from the schema definition has the tables a file brought up step by step from version 0 has', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'schema-'));
    const stepped = join(dir, 'stepped.sqlite');
    // stops one step short, so the last step runs on a file that already exists (not the new-file path)
    await (await openDb(stepped, { version: SCHEMA_VERSION - 1 })).close();
    const old = await openDb(stepped);
    const fresh = await openDb(join(dir, 'fresh.sqlite'));
    try {
      expect(await old.value('SELECT version FROM schema_version')).to.equal(SCHEMA_VERSION);
      expect(await fresh.value('SELECT version FROM schema_version')).to.equal(SCHEMA_VERSION);
      const a = await shape(old);
      expect(Object.keys(a as object)).to.include.members(['codes', 'scans', 'alerts', 'leases', 'api_keys', 'schema_version']);
      expect(await shape(fresh)).to.deep.equal(a);
    } finally {
      await old.close();
      await fresh.close();
    }
  });
});
