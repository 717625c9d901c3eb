import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * The indexer's SQL layer: one async interface over SQLite (better-sqlite3, the embedded default)
 * and PostgreSQL (node-postgres, shared by processes on several machines). Statements are SQL text
 * with `?` parameters, the same text on both engines (the few expressions that differ are chosen by
 * `engine` where they are written). A query builder would re-express the indexer's hand-measured
 * statements (multi-row inserts, partial and clustered indexes) without changing what runs, and hide
 * what this layer needs of each driver: better-sqlite3's prepared statements kept per connection
 * (compiling one costs four times running most of ours), its multi-statement exec and IMMEDIATE
 * transactions, pg's named prepared statements and a LISTEN connection.
 */
export type Engine = 'sqlite' | 'postgres';

/** what a statement binds: better-sqlite3 refuses booleans and undefined, so they are not allowed here */
export type Param = string | number | bigint | Buffer | Uint8Array | null;

/** Statements on a database or inside one of its transactions. */
export interface Sql {
  readonly engine: Engine;
  /** every row */
  all<T = Record<string, unknown>>(sql: string, ...params: Param[]): Promise<T[]>;
  /** the first row */
  get<T = Record<string, unknown>>(sql: string, ...params: Param[]): Promise<T | undefined>;
  /** the first column of the first row */
  value<T>(sql: string, ...params: Param[]): Promise<T | undefined>;
  /** the first column of every row */
  column<T>(sql: string, ...params: Param[]): Promise<T[]>;
  /** runs a statement; resolves to the number of rows it changed */
  run(sql: string, ...params: Param[]): Promise<number>;
  /** runs statements without parameters, separated by semicolons */
  exec(script: string): Promise<void>;
  /**
   * Runs `fn` in a transaction (a savepoint inside one): committed when it resolves, rolled back
   * when it throws. Inside, every statement must go through `tx`: on SQLite other statements of
   * this process wait until the transaction ends.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

/** A database: its statements, and how it is closed. */
export interface Store extends Sql {
  /** where it is: a file path or a postgres:// URL without its password */
  readonly location: string;
  /**
   * Hears the NOTIFY messages of a channel (PostgreSQL only) on a connection of its own, until the
   * store is closed. `onListening` hears when that connection is lost (false: messages may be missed
   * from then on) and when it is made again (true). Resolves once listening.
   */
  listen(channel: string, onMessage: (payload: string) => void, onListening?: (listening: boolean) => void): Promise<void>;
  close(): Promise<void>;
}

/** whether a database location is a PostgreSQL URL (else it is a SQLite file path, or :memory:) */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//.test(location);

/**
 * The database a command works on: its --db flag, else INDEXER_DB, else the devnet's file. A file
 * path is made absolute (another thread or process may open it from elsewhere); a URL is kept.
 */
export function dbLocation(flag?: string): string {
  const location = flag ?? process.env.INDEXER_DB ?? '.devnet/indexer.sqlite';
  return isPostgresUrl(location) || location === ':memory:' ? location : resolve(location);
}

/** A location as it may be logged: a URL's password is replaced by ***. */
export function redactLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const u = new URL(location);
    if (u.password) u.password = '***';
    for (const name of ['password', 'sslpassword']) if (u.searchParams.has(name)) u.searchParams.set(name, '***');
    return u.toString();
  } catch {
    // a URL node-postgres reads but WHATWG does not (e.g. no host): nothing of it is shown
    return 'postgres://***';
  }
}

/**
 * Whether a database error is of the moment rather than of the statement (PostgreSQL: connection
 * lost, deadlock or serialization failure, out of resources, shutdown, lock timeout): what failed may
 * succeed when done again, so it must not be taken for a bad event.
 */
export function isTransient(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (/^(08|40|53|57)/.test(code) || code === '55P03');
}

/** statements kept per connection (SQL built per request, such as IN lists, may vary without end: the cache is emptied when full) */
const STATEMENT_CACHE_MAX = 1000;

/** One transaction at a time on a SQLite connection; statements outside it wait until it ends. */
class Gate {
  held?: Promise<void>;

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.held) await this.held;
    let release!: () => void;
    this.held = new Promise((r) => (release = r));
    try {
      return await fn();
    } finally {
      this.held = undefined;
      release();
    }
  }
}

class SqliteSql implements Sql {
  readonly engine = 'sqlite';

  constructor(
    protected readonly db: Database.Database,
    private readonly statements: Map<string, Database.Statement>,
    /** the gate statements wait at (none inside the transaction that holds it) */
    private readonly gate: Gate | undefined,
    private readonly depth: number,
  ) {}

  /**
   * The prepared statement for `sql`, from the cache: better-sqlite3 statements are reusable, and a
   * fresh one is prepared while the cached one is busy in an iterate().
   */
  private stmt(sql: string, raw = false): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt || stmt.busy) {
      if (!stmt && this.statements.size >= STATEMENT_CACHE_MAX) this.statements.clear();
      const fresh = this.db.prepare(sql);
      if (!stmt) this.statements.set(sql, fresh);
      stmt = fresh;
    }
    // rows as arrays for value/column, as objects otherwise (a cached statement keeps the last mode)
    if (stmt.reader) stmt.raw(raw);
    return stmt;
  }

  private async ready(): Promise<void> {
    while (this.gate?.held) await this.gate.held;
  }

  async all<T>(sql: string, ...params: Param[]): Promise<T[]> {
    await this.ready();
    return this.stmt(sql).all(...params) as T[];
  }

  async get<T>(sql: string, ...params: Param[]): Promise<T | undefined> {
    await this.ready();
    return this.stmt(sql).get(...params) as T | undefined;
  }

  async value<T>(sql: string, ...params: Param[]): Promise<T | undefined> {
    await this.ready();
    const row = this.stmt(sql, true).get(...params) as unknown[] | undefined;
    return row?.[0] as T | undefined;
  }

  async column<T>(sql: string, ...params: Param[]): Promise<T[]> {
    await this.ready();
    return (this.stmt(sql, true).all(...params) as unknown[][]).map((r) => r[0] as T);
  }

  async run(sql: string, ...params: Param[]): Promise<number> {
    await this.ready();
    return this.stmt(sql).run(...params).changes;
  }

  async exec(script: string): Promise<void> {
    await this.ready();
    this.db.exec(script);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const inner = new SqliteSql(this.db, this.statements, undefined, this.depth + 1);
    const body = async () => {
      // IMMEDIATE: the write lock is taken at the start, so a transaction never fails half way
      // because another connection wrote since it read (SQLITE_BUSY_SNAPSHOT)
      const [begin, commit, rollback] = this.depth === 0 ? ['BEGIN IMMEDIATE', 'COMMIT', 'ROLLBACK'] : [`SAVEPOINT s${this.depth}`, `RELEASE s${this.depth}`, `ROLLBACK TO s${this.depth}; RELEASE s${this.depth}`];
      this.db.exec(begin);
      try {
        const result = await fn(inner);
        this.db.exec(commit);
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec(rollback);
        throw e;
      }
    };
    return this.gate ? this.gate.exclusive(body) : body();
  }
}

class SqliteStore extends SqliteSql implements Store {
  constructor(
    db: Database.Database,
    readonly location: string,
  ) {
    super(db, new Map(), new Gate(), 0);
  }

  async listen(): Promise<void> {
    throw new Error('LISTEN is a PostgreSQL statement');
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** the SQL text for PostgreSQL: `?` parameters become $1, $2 … (not inside quotes or comments) */
function toPostgres(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\?/g, (m) => (m === '?' ? `$${++n}` : m));
}

/**
 * PostgreSQL texts and statement names by SQL text: each statement is parsed once per connection.
 * The name is a digest of the text, so SQL built per request (IN lists as long as the request's) never
 * runs out of names; only the map of texts is capped (and emptied when full).
 */
const postgresStatements = new Map<string, { text: string; name: string }>();

function postgresStatement(sql: string): { text: string; name: string } {
  let s = postgresStatements.get(sql);
  if (!s) {
    if (postgresStatements.size >= STATEMENT_CACHE_MAX) postgresStatements.clear();
    s = { text: toPostgres(sql), name: `s${createHash('sha1').update(sql).digest('hex').slice(0, 24)}` };
    postgresStatements.set(sql, s);
  }
  return s;
}

/** What better-sqlite3 refuses to bind, PostgreSQL refuses too: both engines store the same values or neither. */
function checkParams(params: Param[]): Param[] {
  for (const p of params)
    if (p !== null && typeof p !== 'string' && typeof p !== 'number' && typeof p !== 'bigint' && !(p instanceof Uint8Array))
      throw new TypeError(`SQLite3 can only bind numbers, strings, bigints, buffers, and null (got ${typeof p})`);
  return params;
}

/**
 * Column types as JavaScript wants them: bigint (count, BIGINT columns) and numeric (sum) as
 * numbers, as better-sqlite3 gives them (every such value here is an integer well below 2^53).
 */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return Number;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

class PostgresSql implements Sql {
  readonly engine = 'postgres';

  constructor(
    protected readonly client: pg.Pool | pg.PoolClient,
    private readonly depth: number,
  ) {}

  private async query(sql: string, params: Param[]): Promise<pg.QueryResult> {
    return this.client.query({ ...postgresStatement(sql), values: checkParams(params) });
  }

  async all<T>(sql: string, ...params: Param[]): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async get<T>(sql: string, ...params: Param[]): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async value<T>(sql: string, ...params: Param[]): Promise<T | undefined> {
    const r = await this.client.query({ ...postgresStatement(sql), values: checkParams(params), rowMode: 'array' });
    return (r.rows[0] as unknown[] | undefined)?.[0] as T | undefined;
  }

  async column<T>(sql: string, ...params: Param[]): Promise<T[]> {
    const r = await this.client.query({ ...postgresStatement(sql), values: checkParams(params), rowMode: 'array' });
    return (r.rows as unknown[][]).map((row) => row[0] as T);
  }

  async run(sql: string, ...params: Param[]): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  async exec(script: string): Promise<void> {
    // the simple query protocol: several statements, no parameters
    await this.client.query(script);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.depth > 0) {
      const name = `s${this.depth}`;
      await this.client.query(`SAVEPOINT ${name}`);
      try {
        const result = await fn(new PostgresSql(this.client, this.depth + 1));
        await this.client.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (e) {
        await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
        await this.client.query(`RELEASE SAVEPOINT ${name}`);
        throw e;
      }
    }
    const client = await (this.client as pg.Pool).connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // A write transaction's statements are planned for their parameters (custom plans): the tables
      // grow from empty, and a generic plan the ingestor's connection settled on early (a scan of a
      // then tiny table) would be kept for its prepared statement — 12 times slower ingestion at
      // 100,000 codes, measured. Reads keep PostgreSQL's choice (a generic plan saves planning).
      await client.query('SET LOCAL plan_cache_mode = force_custom_plan');
      const result = await fn(new PostgresSql(client, 1));
      // PostgreSQL answers COMMIT of a transaction an error aborted (one a caller caught and went on
      // from) by rolling it back without an error: that must not pass for a commit
      if ((await client.query('COMMIT')).command === 'ROLLBACK') throw new Error('the transaction was aborted by an earlier error and rolled back');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // a connection that cannot roll back is not given back to the pool
        broken = rollbackError as Error;
      }
      throw e;
    } finally {
      client.release(broken);
    }
  }
}

/** how long a LISTEN connection that was lost waits before it connects again */
const RELISTEN_MS = 1000;

class PostgresStore extends PostgresSql implements Store {
  readonly location: string;

  constructor(
    private readonly pool: pg.Pool,
    url: string,
  ) {
    super(pool, 0);
    this.location = redactLocation(url);
  }

  private readonly listeners = new Set<pg.Client>();
  private closed = false;

  async listen(channel: string, onMessage: (payload: string) => void, onListening?: (listening: boolean) => void): Promise<void> {
    // one connection at a time: made and LISTENing, then watched for its end; after an end, one loop
    // tries again every RELISTEN_MS until it listens or the store is closed
    const attach = async (): Promise<void> => {
      // keepAlive: a connection that died without a word (a half-open socket) ends instead of hearing nothing
      const c = new pg.Client({ ...(this.pool.options as pg.ClientConfig), types: TYPES, keepAlive: true });
      c.on('error', () => undefined);
      c.on('notification', (m) => m.channel === channel && onMessage(m.payload ?? ''));
      try {
        await c.connect();
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      } catch (e) {
        await c.end().catch(() => undefined);
        throw e;
      }
      if (this.closed) {
        await c.end();
        return;
      }
      this.listeners.add(c);
      c.once('end', () => {
        this.listeners.delete(c);
        if (this.closed) return;
        onListening?.(false);
        void relisten();
      });
    };
    const relisten = async () => {
      while (!this.closed) {
        await new Promise((r) => setTimeout(r, RELISTEN_MS).unref());
        try {
          await attach();
          if (!this.closed) onListening?.(true);
          return;
        } catch {
          // the server is still away: again after the wait
        }
      }
    };
    await attach();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.listeners].map((c) => c.end()));
    await this.pool.end();
  }
}

/** connections a PostgreSQL store keeps open at most (INDEXER_PG_POOL) */
const POOL_MAX = Number(process.env.INDEXER_PG_POOL ?? 10);

/**
 * Opens a store: a postgres:// URL on PostgreSQL, else a SQLite file (created with its folder) in
 * WAL mode, tuned for the indexer.
 */
export async function openStore(location: string): Promise<Store> {
  if (isPostgresUrl(location)) {
    const pool = new pg.Pool({ connectionString: location, max: POOL_MAX, types: TYPES });
    // an idle connection that fails (the server restarted) is dropped by the pool, not thrown
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, location);
    try {
      await store.exec('SELECT 1');
    } catch (e) {
      await pool.end();
      throw new Error(`cannot connect to ${store.location}: ${(e as Error).message}`);
    }
    return store;
  }
  // a first run against a network of its own has no data folder yet (the default is the devnet's)
  if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
  const db = new Database(location);
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
  return new SqliteStore(db, location);
}
