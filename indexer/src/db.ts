import { backfill, V13_COLUMNS, V3_TABLES, V6_TABLES } from './projections';
import { codeKeyColumn, schemaSql } from './schema';
import { isPostgresUrl, openStore, Sql, Store } from './store';

/** statements on the indexer's database, or inside one of its transactions */
export type Db = Sql;
export type { Store };

/**
 * The steps that brought a SQLite file from one schema version to the next (a new database is made
 * at the latest from schema.ts); each runs once, in order, inside a transaction. A step is SQL, or SQL
 * followed by a backfill of the tables it adds from the events already indexed, or a function (a step
 * that must read the data first, and may refuse: it throws, the transaction rolls back and the file
 * stays at the version before). The steps up to 14 are SQLite's alone (PostgreSQL databases start at
 * 14); a step after them runs on both engines and must be written for both, as schema.ts is.
 */
type Step = string | { sql: string; backfill: Parameters<typeof backfill>[1] } | { run: (db: Db) => Promise<void> };

const MIGRATIONS: Step[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL, previous_hash TEXT NOT NULL, data_hash TEXT NOT NULL, tx_count INTEGER NOT NULL, first_tx_ms INTEGER);
  CREATE TABLE transactions (
    block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL, validation_code TEXT NOT NULL, creator_msp TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL, chaincode TEXT, event_name TEXT, PRIMARY KEY (block, idx));
  CREATE INDEX transactions_tx_id ON transactions (tx_id);
  CREATE TABLE events (block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL, name TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (block, idx));
  CREATE INDEX events_name ON events (name);
  CREATE TABLE members (msp_id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, status TEXT NOT NULL, joined_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE TABLE products (gtin TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, brand TEXT NOT NULL, owner_msp TEXT NOT NULL, status TEXT NOT NULL, json TEXT NOT NULL);
  CREATE TABLE locations (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, region TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, owner_msp TEXT NOT NULL, status TEXT NOT NULL);
  CREATE TABLE templates (id TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, category TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (id, version));
  CREATE TABLE tasks (task_id TEXT PRIMARY KEY, template TEXT NOT NULL, version INTEGER NOT NULL, gtin TEXT NOT NULL, lot TEXT NOT NULL, json TEXT NOT NULL, created_at TEXT NOT NULL, audit TEXT);
  CREATE INDEX tasks_lot ON tasks (gtin, lot);
  CREATE TABLE stage_records (task_id TEXT NOT NULL, stage TEXT NOT NULL, version INTEGER NOT NULL, biz_step TEXT, event_time TEXT NOT NULL, location TEXT,
    data TEXT NOT NULL, recorded_by TEXT NOT NULL, tx_id TEXT NOT NULL, flags TEXT NOT NULL, reason TEXT, PRIMARY KEY (task_id, stage, version));
  CREATE TABLE audits (task_id TEXT NOT NULL, stage TEXT NOT NULL, verdict TEXT NOT NULL, comment TEXT NOT NULL, auditor TEXT NOT NULL, at TEXT NOT NULL, record_version INTEGER, tx_id TEXT NOT NULL, PRIMARY KEY (task_id, stage, tx_id));
  CREATE TABLE codes (hash TEXT PRIMARY KEY, task_id TEXT NOT NULL, gtin TEXT NOT NULL, lot TEXT NOT NULL, level TEXT NOT NULL, status TEXT NOT NULL, parent TEXT,
    suspect_since TEXT, diverted_since TEXT, issued_by TEXT NOT NULL, issued_at TEXT NOT NULL);
  CREATE INDEX codes_task ON codes (task_id);
  CREATE TABLE scans (code_hash TEXT NOT NULL, tx_id TEXT NOT NULL, idx INTEGER NOT NULL, channel TEXT NOT NULL, region TEXT NOT NULL, at TEXT NOT NULL, recorded_by TEXT NOT NULL, PRIMARY KEY (code_hash, tx_id, idx));
  CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, code_hash TEXT, task_id TEXT, device_id TEXT, rule_id TEXT, message TEXT, region TEXT, at TEXT NOT NULL, tx_id TEXT NOT NULL, UNIQUE (tx_id, type, code_hash, rule_id, device_id));
  CREATE INDEX alerts_type ON alerts (type);
  CREATE TABLE devices (device_id TEXT PRIMARY KEY, type TEXT NOT NULL, owner_msp TEXT NOT NULL, status TEXT NOT NULL, key_version INTEGER NOT NULL, last_seq INTEGER NOT NULL, thresholds TEXT NOT NULL);
  CREATE TABLE readings (device_id TEXT NOT NULL, seq INTEGER NOT NULL, task_id TEXT, digest TEXT NOT NULL, count INTEGER NOT NULL, stats TEXT NOT NULL, submitted_at TEXT NOT NULL, PRIMARY KEY (device_id, seq));
  CREATE TABLE alarms (alarm_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, task_id TEXT, metric TEXT NOT NULL, value REAL NOT NULL, bounds TEXT NOT NULL, source TEXT NOT NULL, at TEXT NOT NULL, acked_by TEXT, acked_at TEXT);
  CREATE TABLE asset_classes (class_id TEXT PRIMARY KEY, symbol TEXT NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL);
  CREATE TABLE balances (account TEXT NOT NULL, class_id TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (account, class_id));
  CREATE INDEX balances_class ON balances (class_id);
  CREATE TABLE offers (offer_id TEXT NOT NULL, class_id TEXT NOT NULL, seller TEXT NOT NULL, quantity INTEGER NOT NULL, price INTEGER NOT NULL, currency_class TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (class_id, offer_id));
  CREATE TABLE locks (class_id TEXT NOT NULL, lock_id TEXT NOT NULL, account TEXT NOT NULL, quantity INTEGER NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (class_id, lock_id));
  `,
  `
  CREATE TABLE scan_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, code_hash TEXT NOT NULL, channel TEXT NOT NULL, region TEXT NOT NULL, at TEXT NOT NULL, received_at TEXT NOT NULL);
  CREATE INDEX scan_queue_code ON scan_queue (code_hash);
  `,
  {
    sql: `
  CREATE TABLE code_sightings (code_hash TEXT NOT NULL, tx_id TEXT NOT NULL, idx INTEGER NOT NULL, device_id TEXT NOT NULL, at TEXT NOT NULL, lat REAL, lon REAL, PRIMARY KEY (code_hash, tx_id, idx));
  CREATE TABLE asset_events (class_id TEXT NOT NULL, block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL, name TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (class_id, block, idx));
  CREATE TABLE scan_ids (scan_id TEXT PRIMARY KEY, code_hash TEXT NOT NULL, channel TEXT NOT NULL, region TEXT NOT NULL, at TEXT NOT NULL);
  CREATE TABLE scan_rejects (id INTEGER PRIMARY KEY, code_hash TEXT NOT NULL, channel TEXT NOT NULL, region TEXT NOT NULL, at TEXT NOT NULL, received_at TEXT NOT NULL, error TEXT NOT NULL, rejected_at TEXT NOT NULL);
  CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, unit TEXT, json TEXT NOT NULL);
  CREATE INDEX alarms_task ON alarms (task_id);
  CREATE INDEX alarms_device ON alarms (device_id);
  CREATE INDEX offers_status ON offers (class_id, status);
  `,
    backfill: V3_TABLES,
  },
  `
  CREATE INDEX audits_stage_at ON audits (task_id, stage, at);
  `,
  `
  CREATE INDEX readings_task ON readings (task_id);
  `,
  {
    // form and stage definitions; a scan may come without a region (the scanner did not know it)
    sql: `
  CREATE TABLE definitions (kind TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, id));
  CREATE TABLE scans_v6 (code_hash TEXT NOT NULL, tx_id TEXT NOT NULL, idx INTEGER NOT NULL, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, recorded_by TEXT NOT NULL, PRIMARY KEY (code_hash, tx_id, idx));
  INSERT INTO scans_v6 SELECT * FROM scans;
  DROP TABLE scans;
  ALTER TABLE scans_v6 RENAME TO scans;
  CREATE TABLE scan_queue_v6 (id INTEGER PRIMARY KEY AUTOINCREMENT, code_hash TEXT NOT NULL, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, received_at TEXT NOT NULL);
  INSERT INTO scan_queue_v6 SELECT * FROM scan_queue;
  DROP TABLE scan_queue;
  ALTER TABLE scan_queue_v6 RENAME TO scan_queue;
  CREATE INDEX scan_queue_code ON scan_queue (code_hash);
  CREATE TABLE scan_ids_v6 (scan_id TEXT PRIMARY KEY, code_hash TEXT NOT NULL, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL);
  INSERT INTO scan_ids_v6 SELECT * FROM scan_ids;
  DROP TABLE scan_ids;
  ALTER TABLE scan_ids_v6 RENAME TO scan_ids;
  CREATE TABLE scan_rejects_v6 (id INTEGER PRIMARY KEY, code_hash TEXT NOT NULL, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, received_at TEXT NOT NULL, error TEXT NOT NULL, rejected_at TEXT NOT NULL);
  INSERT INTO scan_rejects_v6 SELECT * FROM scan_rejects;
  DROP TABLE scan_rejects;
  ALTER TABLE scan_rejects_v6 RENAME TO scan_rejects;
  `,
    backfill: V6_TABLES,
  },
  `
  -- chaincode calls as TBaaS's cloud API describes them (the indexer's only source without the access address)
  CREATE TABLE invocations (block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL, chaincode TEXT NOT NULL, function TEXT NOT NULL,
    args TEXT NOT NULL, status TEXT NOT NULL, sender TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (block, idx));
  CREATE INDEX invocations_tx_id ON invocations (tx_id);
  CREATE INDEX invocations_function ON invocations (function);
  -- statistics count the product chaincode's transactions and blocks apart from other chaincodes'
  -- (IF NOT EXISTS: a database rolled back to an older schema version may still have it)
  CREATE INDEX IF NOT EXISTS transactions_chaincode ON transactions (chaincode, block);
  `,
  `
  -- API keys bound to an org and a scope (member, auditor): only the SHA-256 of each key is kept
  CREATE TABLE api_keys (id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, org TEXT NOT NULL, scope TEXT NOT NULL, label TEXT,
    created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT);
  -- who asked to verify each code (salted address hashes of anonymous clients, key ids): which requests counted as scans
  CREATE TABLE scan_clients (code_hash TEXT NOT NULL, client TEXT NOT NULL, anonymous INTEGER NOT NULL, received INTEGER NOT NULL, counted INTEGER NOT NULL,
    counted_at TEXT, PRIMARY KEY (code_hash, client));
  -- the salt of those client hashes (apart from meta, which holds only what ingestion replays)
  CREATE TABLE local_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  `
  -- events that could not be decoded or projected, kept for a replay after a fix (/healthz reports them)
  CREATE TABLE dead_letters (block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL, name TEXT NOT NULL, payload TEXT NOT NULL, error TEXT NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (block, idx));
  `,
  `
  -- one row per duty only one process may do (ingestor, scan-sender): who holds it and until when (ms since the epoch)
  CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL, acquired_at INTEGER NOT NULL);
  `,
  // 11: the batch a queued scan was sent in, so a batch resent after a crash keeps its id and the
  // chaincode counts it once (recordScans' batchId)
  `ALTER TABLE scan_queue ADD COLUMN batch_id TEXT;
  CREATE INDEX scan_queue_batch ON scan_queue (batch_id) WHERE batch_id IS NOT NULL;`,
  // 12: the member's user who recorded or audited (the chaincode's actor), for members and auditors
  `ALTER TABLE stage_records ADD COLUMN actor TEXT;
  ALTER TABLE audits ADD COLUMN actor TEXT;`,
  {
    // 13: the member's user who issued a code, and who acknowledged an alarm (the chaincode's actor)
    sql: `ALTER TABLE codes ADD COLUMN issued_actor TEXT;
  ALTER TABLE alarms ADD COLUMN acked_actor TEXT;`,
    backfill: V13_COLUMNS,
  },
  // 14: code hashes as 32-byte keys (was 64 hex characters), the tables keyed by them clustered on them
  { run: codeKeysV14 },
];

async function runStep(tx: Db, step: Step): Promise<void> {
  if (typeof step === 'string') await tx.exec(step);
  else if ('run' in step) await step.run(tx);
  else {
    await tx.exec(step.sql);
    await backfill(tx, step.backfill);
  }
}

/** Every column that holds a code hash, and whether it may be NULL (schema version 14 stores them as 32-byte BLOBs). */
const CODE_KEY_COLUMNS: { table: string; column: string; nullable: boolean }[] = [
  { table: 'codes', column: 'hash', nullable: false },
  { table: 'codes', column: 'parent', nullable: true },
  { table: 'scans', column: 'code_hash', nullable: false },
  { table: 'alerts', column: 'code_hash', nullable: true },
  { table: 'scan_queue', column: 'code_hash', nullable: false },
  { table: 'code_sightings', column: 'code_hash', nullable: false },
  { table: 'scan_ids', column: 'code_hash', nullable: false },
  { table: 'scan_rejects', column: 'code_hash', nullable: false },
  { table: 'scan_clients', column: 'code_hash', nullable: false },
];

/** SQLite's column types of a code key (step 14 is SQLite's alone) */
const key = (c: string) => codeKeyColumn('sqlite', c, false);
const keyOrNull = (c: string) => codeKeyColumn('sqlite', c, true);

/**
 * Rebuilds `table` with a new definition: creates it beside the old one, copies the rows (`copy`:
 * the column list and the SELECT from the old table), drops the old one, takes its name, then runs
 * `after` (its indexes).
 */
async function replaceTable(db: Db, table: string, definition: string, copy: string, after = ''): Promise<void> {
  await db.exec(`CREATE TABLE ${table}_new ${definition}; INSERT INTO ${table}_new ${copy}; DROP TABLE ${table}; ALTER TABLE ${table}_new RENAME TO ${table}; ${after}`);
}

/**
 * Schema version 14. A SHA-256 code hash was a 64-character TEXT key; it is now its 32 bytes in
 * every column that holds one. codes stays a rowid table, its rows appended in issuance order, with a
 * UNIQUE index on the 32-byte hash: random keys dirty a page of that index per code, and the index
 * (~40 bytes an entry) is half the text key's and a quarter of the whole row's — clustering codes on
 * the hash (WITHOUT ROWID) made every random insert carry the ~150-byte row and measured slower
 * (68,000 against 106,000 codes/s inserting a million random codes in 22,000-code transactions).
 * scans, code_sightings and scan_clients, keyed by the hash first and read by it, are WITHOUT ROWID
 * tables clustered on it. The AUTOINCREMENT tables (alerts, scan_queue) and scan_rejects, whose ids
 * are the queue's, stay rowid tables with their ids and sequences. Rows are copied in key order (codes
 * in issuance order), so each new B-tree is appended to, not filled at random places.
 * A value that is not a code hash (64 lowercase hex characters) is refused before anything changes:
 * converting it would lose or alter it.
 */
async function codeKeysV14(db: Db): Promise<void> {
  const bad: string[] = [];
  for (const { table, column, nullable } of CODE_KEY_COLUMNS) {
    const wrong = `${nullable ? `${column} IS NOT NULL AND ` : `${column} IS NULL OR `}NOT (typeof(${column}) = 'text' AND length(${column}) = 64 AND ${column} NOT GLOB '*[^0-9a-f]*')`;
    const r = (await db.get<{ n: number; example: string }>(`SELECT count(*) AS n, (SELECT quote(${column}) FROM ${table} WHERE ${wrong} LIMIT 1) AS example FROM ${table} WHERE ${wrong}`))!;
    if (r.n > 0) bad.push(`${table}.${column}: ${r.n} row${r.n === 1 ? '' : 's'} (e.g. ${r.example.length > 80 ? `${r.example.slice(0, 77)}...` : r.example})`);
  }
  if (bad.length > 0)
    throw new Error(
      `schema version 14 (code hashes as 32-byte keys) refused: rows hold values that are not code hashes (64 lowercase hex characters): ${bad.join('; ')}. ` +
        'Nothing was changed; the database stays at schema version 13 (correct or delete those rows, or index the chain again into a new file).',
    );
  // the AUTOINCREMENT high-water marks: ids of rows already deleted (a drained queue) are never handed out again
  const sequences = await db.all<{ name: string; seq: number }>("SELECT name, seq FROM sqlite_sequence WHERE name IN ('alerts', 'scan_queue')");
  await replaceTable(
    db,
    'codes',
    `(id INTEGER PRIMARY KEY, hash ${key('hash')} UNIQUE, task_id TEXT NOT NULL, gtin TEXT NOT NULL, lot TEXT NOT NULL, level TEXT NOT NULL, status TEXT NOT NULL,
    parent ${keyOrNull('parent')}, suspect_since TEXT, diverted_since TEXT, issued_by TEXT NOT NULL, issued_at TEXT NOT NULL, issued_actor TEXT)`,
    `(hash, task_id, gtin, lot, level, status, parent, suspect_since, diverted_since, issued_by, issued_at, issued_actor) SELECT unhex(hash), task_id, gtin, lot, level, status, unhex(parent), suspect_since, diverted_since, issued_by, issued_at, issued_actor FROM codes ORDER BY rowid`,
    `CREATE INDEX codes_task ON codes (task_id);`,
  );
  await replaceTable(
    db,
    'scans',
    `(code_hash ${key('code_hash')}, tx_id TEXT NOT NULL, idx INTEGER NOT NULL, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, recorded_by TEXT NOT NULL,
    PRIMARY KEY (code_hash, tx_id, idx)) WITHOUT ROWID`,
    `(code_hash, tx_id, idx, channel, region, at, recorded_by) SELECT unhex(code_hash), tx_id, idx, channel, region, at, recorded_by FROM scans ORDER BY code_hash, tx_id, idx`,
  );
  await replaceTable(
    db,
    'code_sightings',
    `(code_hash ${key('code_hash')}, tx_id TEXT NOT NULL, idx INTEGER NOT NULL, device_id TEXT NOT NULL, at TEXT NOT NULL, lat REAL, lon REAL,
    PRIMARY KEY (code_hash, tx_id, idx)) WITHOUT ROWID`,
    `(code_hash, tx_id, idx, device_id, at, lat, lon) SELECT unhex(code_hash), tx_id, idx, device_id, at, lat, lon FROM code_sightings ORDER BY code_hash, tx_id, idx`,
  );
  await replaceTable(
    db,
    'scan_clients',
    `(code_hash ${key('code_hash')}, client TEXT NOT NULL, anonymous INTEGER NOT NULL, received INTEGER NOT NULL, counted INTEGER NOT NULL,
    counted_at TEXT, PRIMARY KEY (code_hash, client)) WITHOUT ROWID`,
    `(code_hash, client, anonymous, received, counted, counted_at) SELECT unhex(code_hash), client, anonymous, received, counted, counted_at FROM scan_clients ORDER BY code_hash, client`,
  );
  await replaceTable(
    db,
    'alerts',
    `(id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, code_hash ${keyOrNull('code_hash')}, task_id TEXT, device_id TEXT, rule_id TEXT, message TEXT,
    region TEXT, at TEXT NOT NULL, tx_id TEXT NOT NULL, UNIQUE (tx_id, type, code_hash, rule_id, device_id))`,
    `(id, type, code_hash, task_id, device_id, rule_id, message, region, at, tx_id) SELECT id, type, unhex(code_hash), task_id, device_id, rule_id, message, region, at, tx_id FROM alerts ORDER BY id`,
    `CREATE INDEX alerts_type ON alerts (type);`,
  );
  await replaceTable(
    db,
    'scan_queue',
    `(id INTEGER PRIMARY KEY AUTOINCREMENT, code_hash ${key('code_hash')}, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, received_at TEXT NOT NULL, batch_id TEXT)`,
    `(id, code_hash, channel, region, at, received_at, batch_id) SELECT id, unhex(code_hash), channel, region, at, received_at, batch_id FROM scan_queue ORDER BY id`,
    `CREATE INDEX scan_queue_code ON scan_queue (code_hash); CREATE INDEX scan_queue_batch ON scan_queue (batch_id) WHERE batch_id IS NOT NULL;`,
  );
  await replaceTable(
    db,
    'scan_ids',
    `(scan_id TEXT PRIMARY KEY, code_hash ${key('code_hash')}, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL)`,
    `(scan_id, code_hash, channel, region, at) SELECT scan_id, unhex(code_hash), channel, region, at FROM scan_ids ORDER BY scan_id`,
  );
  await replaceTable(
    db,
    'scan_rejects',
    `(id INTEGER PRIMARY KEY, code_hash ${key('code_hash')}, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, received_at TEXT NOT NULL, error TEXT NOT NULL, rejected_at TEXT NOT NULL)`,
    `(id, code_hash, channel, region, at, received_at, error, rejected_at) SELECT id, unhex(code_hash), channel, region, at, received_at, error, rejected_at FROM scan_rejects ORDER BY id`,
  );
  for (const { name, seq } of sequences) {
    if ((await db.run('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?', seq, name)) === 0) await db.run('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', name, seq);
  }
}

/** the schema version openDb migrates a database to */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** the key of the advisory lock PostgreSQL migrations run under (any constant shared by every indexer) */
const MIGRATION_LOCK = 0x7472_6163;

/**
 * Opens a database — a SQLite file (created with its folder) or a postgres:// URL — and brings its
 * schema to `version` (default: the latest; tests make SQLite files of an older version with it).
 * A new database is created from the schema definition; a SQLite file of an older version goes
 * through the steps above. Each step runs in a transaction that reads the version first (SQLite:
 * IMMEDIATE; PostgreSQL: under an advisory lock), so processes opening the same database at once
 * never run one twice; a step that refuses leaves the database at the version before it.
 */
export async function openDb(location: string, { version: target = SCHEMA_VERSION }: { version?: number } = {}): Promise<Store> {
  if (isPostgresUrl(location) && target !== SCHEMA_VERSION) throw new Error('a PostgreSQL database is only made at the latest schema version');
  const store = await openStore(location);
  const postgres = store.engine === 'postgres';
  const step = () =>
    store.transaction(async (tx) => {
      if (postgres) await tx.run('SELECT pg_advisory_xact_lock(?)', MIGRATION_LOCK);
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_version (version ${postgres ? 'BIGINT' : 'INTEGER'} NOT NULL)`);
      const version = await tx.value<number>('SELECT version FROM schema_version');
      if (version === undefined) await tx.run('INSERT INTO schema_version (version) VALUES (0)');
      const from = version ?? 0;
      if (from >= target) return false;
      if (from === 0 && target === SCHEMA_VERSION) {
        await tx.exec(schemaSql(store.engine));
        await tx.run('UPDATE schema_version SET version = ?', SCHEMA_VERSION);
        return false;
      }
      await runStep(tx, MIGRATIONS[from]);
      await tx.run('UPDATE schema_version SET version = ?', from + 1);
      return true;
    });
  const upToDate = async () => {
    const exists = postgres ? await store.value("SELECT to_regclass('schema_version')") : await store.value("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'");
    return !!exists && (await store.value<number>('SELECT version FROM schema_version')) === target;
  };
  // the common case (an up-to-date database) takes no write lock
  try {
    if (!(await upToDate())) {
      while (await step()) {
        // next step
      }
    }
  } catch (e) {
    // a refused step (rolled back: the database stays at the version before it) leaves no connection open
    await store.close();
    throw e;
  }
  return store;
}

/**
 * The cases a code is packed in, innermost first, from its row's `parent` (at most `max` levels),
 * as their 32-byte keys.
 */
export async function codeParents(db: Db, parent: Buffer | null, max = 4): Promise<Buffer[]> {
  const parents: Buffer[] = [];
  for (let p = parent; p && parents.length < max; p = (await db.value<Buffer | null>('SELECT parent FROM codes WHERE hash = ?', p)) ?? null) parents.push(p);
  return parents;
}

/**
 * The checkpoints kept in meta: the next block to ingest, and (TBaaS's cloud API alone) the next
 * block whose invocations are to be recorded.
 */
export type CheckpointName = 'next_block' | 'next_invocation_block';

/** A checkpoint (0 on a new database); by default the next block to ingest. */
export async function checkpoint(db: Db, name: CheckpointName = 'next_block'): Promise<bigint> {
  const value = await db.value<string>('SELECT value FROM meta WHERE key = ?', name);
  return value === undefined ? 0n : BigInt(value);
}

export async function setCheckpoint(db: Db, next: bigint, name: CheckpointName = 'next_block'): Promise<void> {
  await db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', name, next.toString());
}

/**
 * How far the index has followed the chain: both checkpoints in one read, as one string that changes
 * whenever either moves. Every projection commits with one of them, in any process sharing the
 * database, so an unchanged height means an unchanged projection.
 */
export async function checkpoints(db: Db): Promise<string> {
  const rows = await db.all<{ key: string; value: string }>("SELECT key, value FROM meta WHERE key IN ('next_block', 'next_invocation_block') ORDER BY key");
  return rows.map((r) => `${r.key}=${r.value}`).join('/');
}
