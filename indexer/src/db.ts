import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { backfill, V13_COLUMNS, V3_TABLES, V6_TABLES } from './projections';

export type Db = Database.Database;

/** Versioned schema migrations: each runs once, in order, inside a transaction. */
/**
 * A schema step: SQL, or SQL followed by a backfill of the tables it adds from the events already
 * indexed, or a function (a step that must read the data first, and may refuse: it throws, the
 * transaction rolls back and the file stays at the version before).
 */
type Migration = string | { sql: string; backfill: Parameters<typeof backfill>[1] } | { run: (db: Db) => void };

const MIGRATIONS: Migration[] = [
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

/** a column that holds a code key: 32 bytes, never text (a hex string bound by mistake fails the insert instead of never matching) */
const key = (c: string) => `BLOB NOT NULL CHECK (typeof(${c}) = 'blob' AND length(${c}) = 32)`;
const keyOrNull = (c: string) => `BLOB CHECK (${c} IS NULL OR (typeof(${c}) = 'blob' AND length(${c}) = 32))`;

/**
 * Rebuilds `table` with a new definition: creates it beside the old one, copies the rows (`copy`:
 * the column list and the SELECT from the old table), drops the old one, takes its name, then runs
 * `after` (its indexes).
 */
function replaceTable(db: Db, table: string, definition: string, copy: string, after = ''): void {
  db.exec(`CREATE TABLE ${table}_new ${definition}; INSERT INTO ${table}_new ${copy}; DROP TABLE ${table}; ALTER TABLE ${table}_new RENAME TO ${table}; ${after}`);
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
function codeKeysV14(db: Db): void {
  const bad: string[] = [];
  for (const { table, column, nullable } of CODE_KEY_COLUMNS) {
    const wrong = `${nullable ? `${column} IS NOT NULL AND ` : `${column} IS NULL OR `}NOT (typeof(${column}) = 'text' AND length(${column}) = 64 AND ${column} NOT GLOB '*[^0-9a-f]*')`;
    const r = db.prepare(`SELECT count(*) AS n, (SELECT quote(${column}) FROM ${table} WHERE ${wrong} LIMIT 1) AS example FROM ${table} WHERE ${wrong}`).get() as { n: number; example: string };
    if (r.n > 0) bad.push(`${table}.${column}: ${r.n} row${r.n === 1 ? '' : 's'} (e.g. ${r.example.length > 80 ? `${r.example.slice(0, 77)}...` : r.example})`);
  }
  if (bad.length > 0)
    throw new Error(
      `schema version 14 (code hashes as 32-byte keys) refused: rows hold values that are not code hashes (64 lowercase hex characters): ${bad.join('; ')}. ` +
        'Nothing was changed; the database stays at schema version 13 (correct or delete those rows, or index the chain again into a new file).',
    );
  // the AUTOINCREMENT high-water marks: ids of rows already deleted (a drained queue) are never handed out again
  const sequences = db.prepare("SELECT name, seq FROM sqlite_sequence WHERE name IN ('alerts', 'scan_queue')").all() as { name: string; seq: number }[];
  replaceTable(
    db,
    'codes',
    `(id INTEGER PRIMARY KEY, hash ${key('hash')} UNIQUE, task_id TEXT NOT NULL, gtin TEXT NOT NULL, lot TEXT NOT NULL, level TEXT NOT NULL, status TEXT NOT NULL,
    parent ${keyOrNull('parent')}, suspect_since TEXT, diverted_since TEXT, issued_by TEXT NOT NULL, issued_at TEXT NOT NULL, issued_actor TEXT)`,
    `(hash, task_id, gtin, lot, level, status, parent, suspect_since, diverted_since, issued_by, issued_at, issued_actor) SELECT unhex(hash), task_id, gtin, lot, level, status, unhex(parent), suspect_since, diverted_since, issued_by, issued_at, issued_actor FROM codes ORDER BY rowid`,
    `CREATE INDEX codes_task ON codes (task_id);`,
  );
  replaceTable(
    db,
    'scans',
    `(code_hash ${key('code_hash')}, tx_id TEXT NOT NULL, idx INTEGER NOT NULL, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, recorded_by TEXT NOT NULL,
    PRIMARY KEY (code_hash, tx_id, idx)) WITHOUT ROWID`,
    `(code_hash, tx_id, idx, channel, region, at, recorded_by) SELECT unhex(code_hash), tx_id, idx, channel, region, at, recorded_by FROM scans ORDER BY code_hash, tx_id, idx`,
  );
  replaceTable(
    db,
    'code_sightings',
    `(code_hash ${key('code_hash')}, tx_id TEXT NOT NULL, idx INTEGER NOT NULL, device_id TEXT NOT NULL, at TEXT NOT NULL, lat REAL, lon REAL,
    PRIMARY KEY (code_hash, tx_id, idx)) WITHOUT ROWID`,
    `(code_hash, tx_id, idx, device_id, at, lat, lon) SELECT unhex(code_hash), tx_id, idx, device_id, at, lat, lon FROM code_sightings ORDER BY code_hash, tx_id, idx`,
  );
  replaceTable(
    db,
    'scan_clients',
    `(code_hash ${key('code_hash')}, client TEXT NOT NULL, anonymous INTEGER NOT NULL, received INTEGER NOT NULL, counted INTEGER NOT NULL,
    counted_at TEXT, PRIMARY KEY (code_hash, client)) WITHOUT ROWID`,
    `(code_hash, client, anonymous, received, counted, counted_at) SELECT unhex(code_hash), client, anonymous, received, counted, counted_at FROM scan_clients ORDER BY code_hash, client`,
  );
  replaceTable(
    db,
    'alerts',
    `(id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, code_hash ${keyOrNull('code_hash')}, task_id TEXT, device_id TEXT, rule_id TEXT, message TEXT,
    region TEXT, at TEXT NOT NULL, tx_id TEXT NOT NULL, UNIQUE (tx_id, type, code_hash, rule_id, device_id))`,
    `(id, type, code_hash, task_id, device_id, rule_id, message, region, at, tx_id) SELECT id, type, unhex(code_hash), task_id, device_id, rule_id, message, region, at, tx_id FROM alerts ORDER BY id`,
    `CREATE INDEX alerts_type ON alerts (type);`,
  );
  replaceTable(
    db,
    'scan_queue',
    `(id INTEGER PRIMARY KEY AUTOINCREMENT, code_hash ${key('code_hash')}, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, received_at TEXT NOT NULL, batch_id TEXT)`,
    `(id, code_hash, channel, region, at, received_at, batch_id) SELECT id, unhex(code_hash), channel, region, at, received_at, batch_id FROM scan_queue ORDER BY id`,
    `CREATE INDEX scan_queue_code ON scan_queue (code_hash); CREATE INDEX scan_queue_batch ON scan_queue (batch_id) WHERE batch_id IS NOT NULL;`,
  );
  replaceTable(
    db,
    'scan_ids',
    `(scan_id TEXT PRIMARY KEY, code_hash ${key('code_hash')}, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL)`,
    `(scan_id, code_hash, channel, region, at) SELECT scan_id, unhex(code_hash), channel, region, at FROM scan_ids ORDER BY scan_id`,
  );
  replaceTable(
    db,
    'scan_rejects',
    `(id INTEGER PRIMARY KEY, code_hash ${key('code_hash')}, channel TEXT NOT NULL, region TEXT, at TEXT NOT NULL, received_at TEXT NOT NULL, error TEXT NOT NULL, rejected_at TEXT NOT NULL)`,
    `(id, code_hash, channel, region, at, received_at, error, rejected_at) SELECT id, unhex(code_hash), channel, region, at, received_at, error, rejected_at FROM scan_rejects ORDER BY id`,
  );
  for (const { name, seq } of sequences) {
    if (db.prepare('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?').run(seq, name).changes === 0) db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)').run(name, seq);
  }
}

/** statements kept per connection; SQL text is static in this package, the cap only guards against misuse */
const STATEMENT_CACHE_MAX = 1000;

/**
 * Makes db.prepare return a cached statement for SQL it has seen: compiling a statement costs more
 * than running most of ours (about 20 µs against 5), and the projections and API handlers prepare
 * their statements inline, per event and per request. better-sqlite3 statements are reusable and
 * reset after run/get/all. A cached statement is handed out in its default mode (a caller's pluck,
 * raw or expand does not leak to the next), and a fresh one is prepared while the cached one is busy
 * in an iterate(). Callers must not bind() parameters permanently to a statement from db.prepare.
 */
function cacheStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let stmt = cache.get(sql);
    if (stmt?.busy) return prepare(sql);
    if (!stmt) {
      if (cache.size >= STATEMENT_CACHE_MAX) cache.clear();
      stmt = prepare(sql);
      cache.set(sql, stmt);
    } else if (stmt.reader) {
      stmt.pluck(false).raw(false).expand(false);
    }
    return stmt;
  }) as Database.Database['prepare'];
}

/** the schema version openDb migrates a database to */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating it and its folder) the database in WAL mode and applies pending migrations, up to
 * `version` (default: all; tests make files of an older version with it).
 */
export function openDb(path: string, { version: target = SCHEMA_VERSION }: { version?: number } = {}): Db {
  // a first run against a network of its own has no data folder yet (the default is the devnet's)
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit is atomic and the checkpoint row commits with its block's rows, so a
  // crash never leaves them inconsistent; a power loss may drop the last commits, which the ingestor
  // replays from the (equally older) checkpoint.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // 64 MiB of page cache (the default is 2 MiB): the code hashes are random keys, so every insert and
  // lookup lands on a different page of a B-tree that reaches ~100 MiB at a million codes.
  db.pragma('cache_size = -65536');
  // Checkpoint the WAL every 64 MiB rather than every 4 MiB (the default): a block of code issuance
  // dirties a page per code, so at the default nearly every block triggered a checkpoint that copied
  // (and fsynced) thousands of random pages; less often, pages rewritten by several blocks are copied
  // once. This halves ingestion time with a million codes. Consistency is unchanged (WAL commits).
  db.pragma('wal_autocheckpoint = 16384');
  // Read pages through a memory map (up to 1 GiB of the file): a lookup that misses the page cache
  // then costs a page fault on the OS cache instead of a pread system call. SQLite still writes through
  // the WAL with ordinary writes, so a crash cannot corrupt the file through the map.
  db.pragma('mmap_size = 1073741824');
  cacheStatements(db);
  // Each step reads the version inside an IMMEDIATE transaction, so two processes opening the same
  // file at once (the indexer and a reader) never run a migration twice.
  const step = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    const version = row?.version ?? 0;
    if (version >= target) return false;
    const m = MIGRATIONS[version];
    if (typeof m === 'string') db.exec(m);
    else if ('run' in m) m.run(db);
    else {
      db.exec(m.sql);
      backfill(db, m.backfill);
    }
    db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    return true;
  });
  const upToDate = () => {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").get();
    return !!exists && (db.prepare('SELECT version FROM schema_version').pluck().get() as number | undefined) === target;
  };
  // the common case (an up-to-date file) takes no write lock
  try {
    if (!upToDate()) {
      while (step.immediate()) {
        // next migration
      }
    }
  } catch (e) {
    // a refused step (rolled back: the file stays at the version before it) leaves no connection open
    db.close();
    throw e;
  }
  return db;
}

/**
 * The cases a code is packed in, innermost first, from its row's `parent` (at most `max` levels),
 * as their 32-byte keys.
 */
export function codeParents(db: Db, parent: Buffer | null, max = 4): Buffer[] {
  const parents: Buffer[] = [];
  const parentOf = db.prepare('SELECT parent FROM codes WHERE hash = ?').pluck();
  for (let p = parent; p && parents.length < max; p = (parentOf.get(p) as Buffer | null | undefined) ?? null) parents.push(p);
  return parents;
}

/** The next block to ingest (0 on a new database). */
export function checkpoint(db: Db): bigint {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'next_block'").get() as { value: string } | undefined;
  return row ? BigInt(row.value) : 0n;
}

export function setCheckpoint(db: Db, next: bigint): void {
  db.prepare("INSERT INTO meta (key, value) VALUES ('next_block', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(next.toString());
}
