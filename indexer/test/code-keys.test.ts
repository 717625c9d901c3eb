import { expect } from 'chai';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChainBlock } from '@trace/client';
import { applyBlock, codeHex, codeKey, createApiKey, createApp, Db, openDb, SCHEMA_VERSION } from '../src';

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
function hexFile(): string {
  const path = newFile();
  openDb(path, { version: HEX_VERSION }).close();
  const db = new Database(path);
  db.exec(`
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
  db.close();
  return path;
}

/**
 * Every row of the tables holding code hashes, in key order, code keys read as hex (what the API
 * answers); without codes.id, the row id schema version 14 names (the rows' order of issuance).
 */
function rows(db: Database.Database): Record<string, Record<string, unknown>[]> {
  return Object.fromEntries(
    KEY_TABLES.map((t) => {
      const columns = (db.prepare(`SELECT name FROM pragma_table_info('${t}')`).pluck().all() as string[]).filter((c) => !(t === 'codes' && c === 'id'));
      const all = db.prepare(`SELECT ${columns.join(', ')} FROM ${t} ORDER BY ${columns.map((_, i) => i + 1).join(', ')}`).all() as Record<string, unknown>[];
      return [t, all.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? codeHex(v) : v])))];
    }),
  );
}

const sequences = (db: Database.Database) => db.prepare('SELECT name, seq FROM sqlite_sequence ORDER BY name').all();
const version = (db: Database.Database) => db.prepare('SELECT version FROM schema_version').pluck().get();
/** the schema as sqlite_master describes it (tables, indexes and their SQL), without page numbers */
const schema = (db: Database.Database) => db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name").all();

describe('code hashes as 32-byte keys (schema version 14)', () => {
  it('runs on SQLite with unhex() (3.41 or later)', () => {
    const db = new Database(':memory:');
    const [major, minor] = (db.prepare('SELECT sqlite_version()').pluck().get() as string).split('.').map(Number);
    expect(major * 1000 + minor, 'sqlite_version').to.be.at.least(3041);
    expect(db.prepare("SELECT unhex('00ff')").pluck().get()).to.deep.equal(Buffer.from([0, 255]));
    db.close();
  });

  it('upgrades a schema 13 file: every hash converted, every other value and the AUTOINCREMENT sequences kept, the schema a new file has', () => {
    const path = hexFile();
    const old = new Database(path, { readonly: true });
    const before = rows(old);
    const sequencesBefore = sequences(old);
    expect([version(old), before.codes.length, before.scans.length, before.alerts.length, before.scan_queue.length]).to.deep.equal([HEX_VERSION, 3, 3, 3, 3]);
    expect(sequencesBefore).to.deep.equal([
      { name: 'alerts', seq: 4 },
      { name: 'scan_queue', seq: 6 },
    ]);
    old.close();

    const db = openDb(path);
    try {
      expect(version(db)).to.equal(SCHEMA_VERSION).and.to.equal(14);
      for (const [t, c] of KEY_COLUMNS) {
        const kinds = db.prepare(`SELECT DISTINCT typeof(${c}) || '/' || length(${c}) FROM ${t} WHERE ${c} IS NOT NULL`).pluck().all();
        expect(kinds, `${t}.${c}`).to.deep.equal(['blob/32']);
      }
      // the same rows, value for value, once the keys are read back as hex
      expect(rows(db)).to.deep.equal(before);
      expect(db.prepare('SELECT parent FROM codes WHERE hash = ?').pluck().get(codeKey(A))).to.deep.equal(codeKey(C));
      expect(sequences(db)).to.deep.equal(sequencesBefore);
      // ids of deleted rows are not handed out again
      expect(Number(db.prepare("INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, 'consumer', NULL, ?, ?)").run(codeKey(A), AT, AT).lastInsertRowid)).to.equal(7);
      expect(Number(db.prepare("INSERT INTO alerts (type, code_hash, at, tx_id) VALUES ('unknown', ?, ?, 'tx9')").run(codeKey(D), AT).lastInsertRowid)).to.equal(5);
      const fresh = openDb(newFile());
      try {
        expect(schema(db)).to.deep.equal(schema(fresh));
      } finally {
        fresh.close();
      }
      expect(db.pragma('integrity_check', { simple: true })).to.equal('ok');
    } finally {
      db.close();
    }
  });

  it('refuses a file holding a value that is no code hash, names it, and leaves the file at schema 13', () => {
    const path = hexFile();
    const raw = new Database(path);
    raw.exec(`
      INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_at) VALUES ('${hex('upper').toUpperCase()}', 'T1', 'g', 'l', 'item', 'issued', 'Org1MSP', '${AT}');
      INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_at) VALUES (NULL, 'T1', 'g', 'l', 'item', 'issued', 'Org1MSP', '${AT}');
      INSERT INTO scans (code_hash, tx_id, idx, channel, region, at, recorded_by) VALUES ('not-a-hash', 'tx9', 0, 'consumer', NULL, '${AT}', 'Org1MSP');
      INSERT INTO alerts (type, code_hash, at, tx_id) VALUES ('unknown', '${A.slice(1)}', '${AT}', 'tx9');
    `);
    const before = { rows: rows(raw), schema: schema(raw), sequences: sequences(raw) };
    raw.close();

    expect(() => openDb(path)).to.throw(
      /^schema version 14 \(code hashes as 32-byte keys\) refused: .*not code hashes \(64 lowercase hex characters\): codes\.hash: 2 rows \(e\.g\. ('[0-9A-F]{64}'|NULL)\); scans\.code_hash: 1 row \(e\.g\. 'not-a-hash'\); alerts\.code_hash: 1 row \(e\.g\. '[0-9a-f]{63}'\)\. Nothing was changed; the database stays at schema version 13/,
    );
    const after = new Database(path, { readonly: true });
    try {
      expect(version(after)).to.equal(HEX_VERSION);
      expect({ rows: rows(after), schema: schema(after), sequences: sequences(after) }).to.deep.equal(before);
    } finally {
      after.close();
    }
    // and once the rows are corrected, the same file upgrades
    const fix = new Database(path);
    fix.exec(`UPDATE codes SET hash = lower(hash) WHERE hash IS NOT NULL; DELETE FROM codes WHERE hash IS NULL; DELETE FROM scans WHERE tx_id = 'tx9'; DELETE FROM alerts WHERE tx_id = 'tx9'`);
    fix.close();
    const db = openDb(path);
    expect(version(db)).to.equal(SCHEMA_VERSION);
    db.close();
  });

  it('keeps scans, code_sightings and scan_clients clustered on a BLOB key (WITHOUT ROWID); codes appends rows with a UNIQUE BLOB key index; alerts and the queue stay rowid tables', () => {
    const db = openDb(newFile());
    try {
      const withoutRowid = Object.fromEntries(KEY_TABLES.map((t) => [t, db.prepare('SELECT wr FROM pragma_table_list WHERE name = ?').pluck().get(t)]));
      expect(withoutRowid).to.deep.equal({ codes: 0, scans: 1, alerts: 0, scan_queue: 0, code_sightings: 1, scan_ids: 0, scan_rejects: 0, scan_clients: 1 });
      expect(db.prepare("SELECT count(*) FROM pragma_index_list('codes') il JOIN pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 AND ii.name = 'hash'").pluck().get()).to.equal(1);
      const columns = (t: string) => db.prepare(`SELECT name, type, pk FROM pragma_table_info('${t}') WHERE pk > 0 OR name IN ('hash', 'parent', 'code_hash') ORDER BY cid`).all();
      expect(columns('codes')).to.deep.equal([
        { name: 'id', type: 'INTEGER', pk: 1 },
        { name: 'hash', type: 'BLOB', pk: 0 },
        { name: 'parent', type: 'BLOB', pk: 0 },
      ]);
      expect(columns('scans')).to.deep.equal([
        { name: 'code_hash', type: 'BLOB', pk: 1 },
        { name: 'tx_id', type: 'TEXT', pk: 2 },
        { name: 'idx', type: 'INTEGER', pk: 3 },
      ]);
      expect(columns('scan_clients')).to.deep.equal([
        { name: 'code_hash', type: 'BLOB', pk: 1 },
        { name: 'client', type: 'TEXT', pk: 2 },
      ]);
      for (const [t, c] of KEY_COLUMNS) expect(db.prepare(`SELECT type FROM pragma_table_info('${t}') WHERE name = ?`).pluck().get(c), `${t}.${c}`).to.equal('BLOB');
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('alerts', 'scan_queue')").pluck().all()).to.have.members(['alerts', 'scan_queue']);
      expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'alerts'").pluck().get()).to.match(/id INTEGER PRIMARY KEY AUTOINCREMENT/);
      // a hash bound as hex text (a missed conversion) is refused, not stored as a key that never matches
      const insert = db.prepare("INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_at) VALUES (?, 'T1', 'g', 'l', 'item', 'issued', 'Org1MSP', ?)");
      expect(() => insert.run(A, AT)).to.throw(/CHECK constraint failed/);
      expect(() => insert.run(codeKey(A).subarray(1), AT)).to.throw(/CHECK constraint failed/);
      expect(() => db.prepare("INSERT INTO scans (code_hash, tx_id, idx, channel, at, recorded_by) VALUES (?, 'tx', 0, 'consumer', ?, 'Org1MSP')").run(A, AT)).to.throw(/CHECK constraint failed/);
      insert.run(codeKey(A), AT);
    } finally {
      db.close();
    }
  });

  it('the helpers take and give 64 lowercase hex characters only', () => {
    expect(codeHex(codeKey(A))).to.equal(A);
    for (const bad of [A.toUpperCase(), A.slice(1), `${A}0`, 'x'.repeat(64), undefined as unknown as string]) expect(() => codeKey(bad), String(bad)).to.throw(/not a code hash/);
    expect(() => codeHex(Buffer.alloc(31))).to.throw(/not a 32-byte code key/);
  });
});

describe('projections write code keys in multi-row inserts; the API answers hex', () => {
  const TX = (n: number) => n.toString(16).padStart(64, '0');
  let height = 0n;
  /** one block per event, of the product chaincode */
  const block = (db: Db, ...events: { name: string; payload: object }[]) => {
    const transactions = events.map((e, i) => ({
      transactionId: TX(Number(height) * 100 + i),
      validationCode: 'VALID',
      creatorMspId: 'Org1MSP',
      timestampMs: Date.parse(AT),
      chaincodeName: 'trace',
      event: { name: e.name, payload: Buffer.from(JSON.stringify({ ...e.payload, txId: TX(Number(height) * 100 + i), txTime: AT })) },
    }));
    const b: ChainBlock = { number: height, hash: TX(1e6 + Number(height)), previousHash: TX(1e6 + Number(height) - 1), dataHash: TX(2e6), transactions };
    height++;
    applyBlock(db, b);
  };
  const issued = Array.from({ length: 1300 }, (_, i) => hex(`code-${i}`));
  const [box, ...items] = issued.slice(0, 13);

  it('issues 1,300 codes (statements of 512, 512, 256, 16 and 4 rows), packs, scans and alerts with keys', () => {
    const db = openDb(newFile());
    try {
      block(db, { name: 'codes.Issued', payload: { taskId: 'T1', gtin: '06901234567892', lot: 'L1', level: 'item', codeHashes: issued, issuedBy: 'Org1MSP', actor: 'alice' } });
      block(db, { name: 'codes.Aggregated', payload: { parent: box, parentLevel: 'case', children: items } });
      block(db, {
        name: 'codes.Scanned',
        payload: {
          scans: [items[0], items[0], D].map((codeHash, i) => ({ codeHash, channel: 'consumer', region: i === 1 ? undefined : 'CN-53', at: AT, recordedBy: 'Org1MSP' })),
          alerts: [
            { type: 'clone', codeHash: items[0], taskId: 'T1', count: 11, threshold: 10 },
            { type: 'unknown', codeHash: D, taskId: '' },
          ],
        },
      });
      expect(db.prepare('SELECT count(*) FROM dead_letters').pluck().get()).to.equal(0);
      const codes = db.prepare('SELECT hash, task_id, level, status, issued_by, issued_actor, issued_at FROM codes').all() as { hash: Buffer }[];
      expect(codes.map((c) => codeHex(c.hash)).sort()).to.deep.equal([...issued].sort());
      expect(new Set(codes.map(({ hash: _h, ...rest }) => JSON.stringify(rest)))).to.deep.equal(new Set([JSON.stringify({ task_id: 'T1', level: 'item', status: 'issued', issued_by: 'Org1MSP', issued_actor: 'alice', issued_at: AT })]));
      expect((db.prepare('SELECT parent FROM codes WHERE parent IS NOT NULL').pluck().all() as Buffer[]).map(codeHex)).to.deep.equal(items.map(() => box));
      const scans = db.prepare('SELECT code_hash, idx, region FROM scans ORDER BY tx_id, idx').all() as { code_hash: Buffer; idx: number; region: string | null }[];
      expect(scans.map((s) => [codeHex(s.code_hash), s.idx, s.region])).to.deep.equal([
        [items[0], 0, 'CN-53'],
        [items[0], 1, null],
        [D, 2, 'CN-53'],
      ]);
      expect(db.prepare('SELECT suspect_since FROM codes WHERE hash = ?').pluck().get(codeKey(items[0]))).to.equal(AT);
      expect((db.prepare('SELECT code_hash FROM alerts ORDER BY id').pluck().all() as Buffer[]).map(codeHex)).to.deep.equal([items[0], D]);
    } finally {
      db.close();
    }
  });

  it('sends an event with a malformed or repeated hash to the dead letters whole (no code of it is inserted)', () => {
    const db = openDb(newFile());
    try {
      const issue = (codeHashes: string[]) => block(db, { name: 'codes.Issued', payload: { taskId: 'T1', gtin: '06901234567892', lot: 'L1', level: 'item', codeHashes, issuedBy: 'Org1MSP' } });
      issue([...issued.slice(0, 600), A.toUpperCase()]);
      // the repeat fails the fourth statement, after 512 + 64 + 16 rows went in
      issue([...issued.slice(0, 600), issued[0]]);
      expect(db.prepare('SELECT error FROM dead_letters ORDER BY block').pluck().all()).to.deep.equal([`not a code hash (64 lowercase hex characters): "${A.toUpperCase()}"`, 'UNIQUE constraint failed: codes.hash']);
      expect(db.prepare('SELECT count(*) FROM codes').pluck().get()).to.equal(0);
    } finally {
      db.close();
    }
  });

  it('answers codes, parents and alerts in lowercase hex over the API', async () => {
    const db = openDb(newFile());
    let server: Server | undefined;
    try {
      block(db, { name: 'codes.Issued', payload: { taskId: 'T1', gtin: '06901234567892', lot: 'L1', level: 'item', codeHashes: [box, ...items], issuedBy: 'Org1MSP' } });
      block(db, { name: 'codes.Aggregated', payload: { parent: box, parentLevel: 'case', children: items } });
      block(db, { name: 'codes.Scanned', payload: { scans: [{ codeHash: items[1], channel: 'consumer', region: 'US', at: AT, recordedBy: 'Org1MSP' }], alerts: [{ type: 'diversion', codeHash: items[1], taskId: 'T1', region: 'US' }] } });
      const authorization = `Bearer ${createApiKey(db, { org: 'Org1MSP', scope: 'member' }).key}`;
      const app = createApp(db, () => ({ ready: true, next: height }));
      server = await new Promise<Server>((res) => {
        const s = app.listen(0, '127.0.0.1', () => res(s));
      });
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const get = async (path: string) => (await fetch(`${base}${path}`, { headers: { authorization } })).json() as Promise<Record<string, unknown>>;
      expect(await get(`/api/codes/${items[1]}`)).to.deep.include({ hash: items[1], parent: box, diverted_since: AT, scans: 1 });
      expect(await get(`/api/codes/${box}`)).to.deep.include({ hash: box, parent: null, scans: 0 });
      expect(((await get('/api/alerts')) as unknown as { type: string; code_hash: string }[]).map((a) => [a.type, a.code_hash])).to.deep.equal([['diversion', items[1]]]);
      const verified = (await (await fetch(`${base}/api/verify`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ codeHash: items[2], region: 'CN-53', scanId: 'scan-1' }) })).json()) as Record<string, unknown>;
      expect(verified).to.deep.include({ codeHash: items[2], verdict: 'genuine', scans: { onChain: 0, pending: 1, total: 1 } });
      expect((db.prepare("SELECT code_hash FROM scan_ids WHERE scan_id = 'scan-1'").pluck().get() as Buffer).equals(codeKey(items[2]))).to.equal(true);
    } finally {
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      db.close();
    }
  });
});
