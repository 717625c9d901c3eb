import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * The console's own state: its users, their sessions and machine API tokens, who tried which write (refusals too; the
 * chain records the accepted ones' user), and EPCIS capture jobs with each event's outcome.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  created_by TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  username TEXT NOT NULL,
  org TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  tx_id TEXT,
  outcome TEXT NOT NULL
);
-- code issuing jobs (一物一码): the printed codes are in each job's print file, not here
CREATE TABLE IF NOT EXISTS code_jobs (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  gtin TEXT NOT NULL,
  lot TEXT NOT NULL,
  level TEXT NOT NULL,
  count INTEGER NOT NULL,
  issued INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  error TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(id),
  label TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS capture_jobs (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT,
  events TEXT NOT NULL
);
`;

export function openConsoleDb(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  return db;
}

/** One line of the audit log: who tried which write as the org, and how it ended (a chain error code, or ok). */
export function logWrite(db: Db, entry: { username: string; org: string; action: string; subject: string; outcome: string; txId?: string }): void {
  db.prepare('INSERT INTO audit_log (at, username, org, action, subject, tx_id, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)').run(new Date().toISOString(), entry.username, entry.org, entry.action, entry.subject, entry.txId ?? null, entry.outcome);
}
