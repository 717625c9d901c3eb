import { expect } from 'chai';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeHex, codeKey, openDb, SCHEMA_VERSION } from '../src';
import { openStore, Sql } from '../src/store';
import { rejection } from './support/rejection';

/**
 * SQLite files of an older schema (code hashes as hex text) and how SQLite stores the keys; a new
 * PostgreSQL database is only ever made at the latest schema. code-keys.test.ts checks the keys on
 * both engines.
 */

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const [A, B, C, D] = ['item-a', 'item-b', 'case-c', 'unknown-d'].map(hex);
const AT = '2026-01-01T00:00:00.000Z';
/** the schema version before code hashes became 32-byte keys */
const HEX_VERSION = 13;

/** every table and column that holds a code hash */
const KEY_COLUMNS: [string, string][] = [
  ['codes', 'hash'],
  ['codes', 'parent'],
  ['scans', 'code_hash'],
  ['alerts', 'code_hash'],
  ['scan_queue', 'code_hash'],
  ['code_sightings', 'code_hash'],
  ['scan_ids', 'code_hash'],
  ['scan_rejects', 'code_hash'],
  ['scan_clients', 'code_hash'],
];
const KEY_TABLES = [...new Set(KEY_COLUMNS.map(([t]) => t))];

const dir = mkdtempSync(join(tmpdir(), 'code-keys-'));
let files = 0;
const newFile = () => join(dir, `${files++}.sqlite`);

/**
 * A file of schema version 13 (code hashes as hex text) with rows in every table holding a hash;
 * alerts and the scan queue had rows deleted after their last insert, so their AUTOINCREMENT
 * sequences are ahead of their largest ids.
 */
async function hexFile(): Promise<string> {
  const path = newFile();
  await (await openDb(path, { version: HEX_VERSION })).close();
  // written as they were, without openDb (which would migrate the file)
  const db = await openStore(path);
  await db.exec(`
    INSERT INTO codes (hash, task_id, gtin, lot, level, status, parent, suspect_since, diverted_since, issued_by, issued_at, issued_actor) VALUES
      ('${A}', 'T1', '06901234567892', 'L1', 'item', 'issued', '${C}', '${AT}', NULL, 'Org1MSP', '${AT}', 'alice'),
      ('${B}', 'T1', '06901234567892', 'L1', 'item', 'void', NULL, NULL, '${AT}', 'Org1MSP', '${AT}', NULL),
      ('${C}', 'T1', '06901234567892', 'L1', 'case', 'issued', NULL, NULL, NULL, 'Org1MSP', '${AT}', 'alice');
    INSERT INTO scans (code_hash, tx_id, idx, channel, region, at, recorded_by) VALUES
      ('${A}', 'tx1', 0, 'consumer', 'CN-53', '${AT}', 'Org1MSP'), ('${A}', 'tx1', 1, 'consumer', NULL, '${AT}', 'Org1MSP'), ('${B}', 'tx2', 0, 'retailer', 'US', '${AT}', 'Org2MSP');
    INSERT INTO alerts (type, code_hash, task_id, device_id, rule_id, message, region, at, tx_id) VALUES
      ('clone', '${A}', 'T1', NULL, NULL, 'scanned 11 times, threshold 10', NULL, '${AT}', 'tx1'),
      ('sensor', NULL, 'T1', 'dev-1', NULL, 'storage_temp_c = 31', NULL, '${AT}', 'tx3'),
      ('unknown', '${D}', NULL, NULL, NULL, 'unknown code', 'CN-53', '${AT}', 'tx2'),
      ('diversion', '${B}', 'T1', NULL, NULL, 'scanned in US', 'US', '${AT}', 'tx2');
    DELETE FROM alerts WHERE id = 4;
    INSERT INTO scan_queue (code_hash, channel, region, at, received_at, batch_id) VALUES
      ('${A}', 'consumer', 'CN-53', '${AT}', '${AT}', NULL), ('${B}', 'consumer', 'CN-53', '${AT}', '${AT}', NULL), ('${A}', 'consumer', NULL, '${AT}', '${AT}', 'batch-1'),
      ('${D}', 'consumer', 'CN-44', '${AT}', '${AT}', 'batch-1'), ('${C}', 'rfid', NULL, '${AT}', '${AT}', NULL), ('${B}', 'consumer', 'CN-11', '${AT}', '${AT}', NULL);
    DELETE FROM scan_queue WHERE id IN (1, 2, 6);
    INSERT INTO code_sightings (code_hash, tx_id, idx, device_id, at, lat, lon) VALUES ('${C}', 'tx3', 0, 'dev-1', '${AT}', 22.1, 100.5), ('${A}', 'tx3', 1, 'dev-1', '${AT}', NULL, NULL);
    INSERT INTO scan_ids (scan_id, code_hash, channel, region, at) VALUES ('retry-1', '${A}', 'consumer', 'CN-53', '${AT}'), ('retry-2', '${D}', 'consumer', NULL, '${AT}');
    INSERT INTO scan_rejects (id, code_hash, channel, region, at, received_at, error, rejected_at) VALUES (2, '${B}', 'consumer', 'cn-53', '${AT}', '${AT}', '[ERR_VALIDATION] region', '${AT}');
    INSERT INTO scan_clients (code_hash, client, anonymous, received, counted, counted_at) VALUES ('${A}', 'ab12', 1, 3, 1, '${AT}'), ('${A}', 'key:k1', 0, 2, 2, '${AT}'), ('${D}', 'ab12', 1, 1, 0, NULL);
  `);
  await db.close();
  return path;
}

/**
 * Every row of the tables holding code hashes, in key order, code keys read as hex (what the API
 * answers); without codes.id, the row id schema version 14 names (the rows' order of issuance).
 */
async function rows(db: Sql): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const t of KEY_TABLES) {
    const columns = (await db.column<string>(`SELECT name FROM pragma_table_info('${t}')`)).filter((c) => !(t === 'codes' && c === 'id'));
    const all = await db.all(`SELECT ${columns.join(', ')} FROM ${t} ORDER BY ${columns.map((_, i) => i + 1).join(', ')}`);
    out[t] = all.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? codeHex(v) : v])));
  }
  return out;
}

const sequences = (db: Sql) => db.all('SELECT name, seq FROM sqlite_sequence ORDER BY name');
const version = (db: Sql) => db.value('SELECT version FROM schema_version');
/** the schema as sqlite_master describes it (tables, indexes and their SQL), without page numbers */
const schema = (db: Sql) => db.all<{ sql: string | null }>("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name");
/**
 * The schema with its SQL without layout, to compare a new file (made from schema.ts) with an old one
 * brought up by the migration steps (written apart; SQLite quotes the name of a table it renamed).
 */
const definitions = async (db: Sql) => (await schema(db)).map((r) => ({ ...r, sql: r.sql?.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/"(\w+)"/g, '$1') ?? null }));

describe('code hashes as 32-byte keys (schema version 14) in SQLite files', () => {
  it('runs on SQLite with unhex() (3.41 or later)', () => {
    const db = new Database(':memory:');
    const [major, minor] = (db.prepare('SELECT sqlite_version()').pluck().get() as string).split('.').map(Number);
    expect(major * 1000 + minor, 'sqlite_version').to.be.at.least(3041);
    expect(db.prepare("SELECT unhex('00ff')").pluck().get()).to.deep.equal(Buffer.from([0, 255]));
    db.close();
  });

  it('upgrades a schema 13 file: every hash converted, every other value and the AUTOINCREMENT sequences kept, the schema a new file has', async () => {
    const path = await hexFile();
    const old = await openStore(path);
    const before = await rows(old);
    const sequencesBefore = await sequences(old);
    expect([await version(old), before.codes.length, before.scans.length, before.alerts.length, before.scan_queue.length]).to.deep.equal([HEX_VERSION, 3, 3, 3, 3]);
    expect(sequencesBefore).to.deep.equal([
      { name: 'alerts', seq: 4 },
      { name: 'scan_queue', seq: 6 },
    ]);
    await old.close();

    const db = await openDb(path);
    try {
      expect(await version(db)).to.equal(SCHEMA_VERSION).and.to.equal(14);
      for (const [t, c] of KEY_COLUMNS) {
        const kinds = await db.column(`SELECT DISTINCT typeof(${c}) || '/' || length(${c}) FROM ${t} WHERE ${c} IS NOT NULL`);
        expect(kinds, `${t}.${c}`).to.deep.equal(['blob/32']);
      }
      // the same rows, value for value, once the keys are read back as hex
      expect(await rows(db)).to.deep.equal(before);
      expect(await db.value('SELECT parent FROM codes WHERE hash = ?', codeKey(A))).to.deep.equal(codeKey(C));
      expect(await sequences(db)).to.deep.equal(sequencesBefore);
      // ids of deleted rows are not handed out again
      expect(await db.value("INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, 'consumer', NULL, ?, ?) RETURNING id", codeKey(A), AT, AT)).to.equal(7);
      expect(await db.value("INSERT INTO alerts (type, code_hash, at, tx_id) VALUES ('unknown', ?, ?, 'tx9') RETURNING id", codeKey(D), AT)).to.equal(5);
      const fresh = await openDb(newFile());
      try {
        expect(await definitions(db)).to.deep.equal(await definitions(fresh));
      } finally {
        await fresh.close();
      }
      expect(await db.value('PRAGMA integrity_check')).to.equal('ok');
    } finally {
      await db.close();
    }
  });

  it('refuses a file holding a value that is no code hash, names it, and leaves the file at schema 13', async () => {
    const path = await hexFile();
    const raw = await openStore(path);
    await raw.exec(`
      INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_at) VALUES ('${hex('upper').toUpperCase()}', 'T1', 'g', 'l', 'item', 'issued', 'Org1MSP', '${AT}');
      INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_at) VALUES (NULL, 'T1', 'g', 'l', 'item', 'issued', 'Org1MSP', '${AT}');
      INSERT INTO scans (code_hash, tx_id, idx, channel, region, at, recorded_by) VALUES ('not-a-hash', 'tx9', 0, 'consumer', NULL, '${AT}', 'Org1MSP');
      INSERT INTO alerts (type, code_hash, at, tx_id) VALUES ('unknown', '${A.slice(1)}', '${AT}', 'tx9');
    `);
    const before = { rows: await rows(raw), schema: await schema(raw), sequences: await sequences(raw) };
    await raw.close();

    expect((await rejection(() => openDb(path))).message).to.match(
      /^schema version 14 \(code hashes as 32-byte keys\) refused: .*not code hashes \(64 lowercase hex characters\): codes\.hash: 2 rows \(e\.g\. ('[0-9A-F]{64}'|NULL)\); scans\.code_hash: 1 row \(e\.g\. 'not-a-hash'\); alerts\.code_hash: 1 row \(e\.g\. '[0-9a-f]{63}'\)\. Nothing was changed; the database stays at schema version 13/,
    );
    const after = await openStore(path);
    try {
      expect(await version(after)).to.equal(HEX_VERSION);
      expect({ rows: await rows(after), schema: await schema(after), sequences: await sequences(after) }).to.deep.equal(before);
    } finally {
      await after.close();
    }
    // and once the rows are corrected, the same file upgrades
    const fix = await openStore(path);
    await fix.exec(`UPDATE codes SET hash = lower(hash) WHERE hash IS NOT NULL; DELETE FROM codes WHERE hash IS NULL; DELETE FROM scans WHERE tx_id = 'tx9'; DELETE FROM alerts WHERE tx_id = 'tx9'`);
    await fix.close();
    const db = await openDb(path);
    expect(await version(db)).to.equal(SCHEMA_VERSION);
    await db.close();
  });

  it('keeps scans, code_sightings and scan_clients clustered on a BLOB key (WITHOUT ROWID); codes appends rows with a UNIQUE BLOB key index; alerts and the queue stay rowid tables', async () => {
    const db = await openDb(newFile());
    try {
      const withoutRowid: Record<string, unknown> = {};
      for (const t of KEY_TABLES) withoutRowid[t] = await db.value('SELECT wr FROM pragma_table_list WHERE name = ?', t);
      expect(withoutRowid).to.deep.equal({ codes: 0, scans: 1, alerts: 0, scan_queue: 0, code_sightings: 1, scan_ids: 0, scan_rejects: 0, scan_clients: 1 });
      expect(await db.value("SELECT count(*) FROM pragma_index_list('codes') il JOIN pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 AND ii.name = 'hash'")).to.equal(1);
      const columns = (t: string) => db.all(`SELECT name, type, pk FROM pragma_table_info('${t}') WHERE pk > 0 OR name IN ('hash', 'parent', 'code_hash') ORDER BY cid`);
      expect(await columns('codes')).to.deep.equal([
        { name: 'id', type: 'INTEGER', pk: 1 },
        { name: 'hash', type: 'BLOB', pk: 0 },
        { name: 'parent', type: 'BLOB', pk: 0 },
      ]);
      expect(await columns('scans')).to.deep.equal([
        { name: 'code_hash', type: 'BLOB', pk: 1 },
        { name: 'tx_id', type: 'TEXT', pk: 2 },
        { name: 'idx', type: 'INTEGER', pk: 3 },
      ]);
      expect(await columns('scan_clients')).to.deep.equal([
        { name: 'code_hash', type: 'BLOB', pk: 1 },
        { name: 'client', type: 'TEXT', pk: 2 },
      ]);
      for (const [t, c] of KEY_COLUMNS) expect(await db.value(`SELECT type FROM pragma_table_info('${t}') WHERE name = ?`, c), `${t}.${c}`).to.equal('BLOB');
      expect(await db.column("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('alerts', 'scan_queue')")).to.have.members(['alerts', 'scan_queue']);
      expect(await db.value("SELECT sql FROM sqlite_master WHERE name = 'alerts'")).to.match(/id INTEGER PRIMARY KEY AUTOINCREMENT/);
      // a hash bound as hex text (a missed conversion) is refused, not stored as a key that never matches
      const insert = (hash: string | Buffer) => db.run("INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_at) VALUES (?, 'T1', 'g', 'l', 'item', 'issued', 'Org1MSP', ?)", hash, AT);
      expect((await rejection(() => insert(A))).message).to.match(/CHECK constraint failed/);
      expect((await rejection(() => insert(codeKey(A).subarray(1)))).message).to.match(/CHECK constraint failed/);
      expect((await rejection(() => db.run("INSERT INTO scans (code_hash, tx_id, idx, channel, at, recorded_by) VALUES (?, 'tx', 0, 'consumer', ?, 'Org1MSP')", A, AT))).message).to.match(/CHECK constraint failed/);
      await insert(codeKey(A));
    } finally {
      await db.close();
    }
  });
});
