#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Db } from './db';
import { ChainEventRow, project } from './projections';

/** An event as indexed: its raw payload text, so a dead letter can be re-projected later. */
export interface IndexedEvent {
  block: number;
  idx: number;
  txId: string;
  name: string;
  payload: string;
}

/**
 * Projects one event inside a savepoint. An event that cannot be decoded or projected (a payload
 * that is no JSON, a shape the projection does not know) leaves no partial rows: it goes to
 * `dead_letters` with its block, transaction and error, and the caller goes on with the next event.
 * Returns the error message of a dead letter, else undefined.
 */
export function projectOrDeadLetter(db: Db, e: IndexedEvent): string | undefined {
  try {
    db.transaction(() => project(db, toRow(e)))();
    return undefined;
  } catch (err) {
    const error = (err as Error).message || String(err);
    db.prepare('INSERT OR REPLACE INTO dead_letters (block, idx, tx_id, name, payload, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(e.block, e.idx, e.txId, e.name, e.payload, error, new Date().toISOString());
    return error;
  }
}

const toRow = (e: IndexedEvent): ChainEventRow => ({ block: e.block, idx: e.idx, txId: e.txId, name: e.name, payload: JSON.parse(e.payload) as unknown });

export function deadLetterCount(db: Db): number {
  return db.prepare('SELECT count(*) FROM dead_letters').pluck().get() as number;
}

/**
 * Re-projects the dead letters in chain order (after a fix of the projection): each one that now
 * projects leaves the table; the others stay with their new error.
 */
export function replayDeadLetters(db: Db): { projected: number; failed: number } {
  const rows = db.prepare('SELECT block, idx, tx_id AS txId, name, payload FROM dead_letters ORDER BY block, idx').all() as IndexedEvent[];
  let projected = 0;
  for (const r of rows) {
    db.transaction(() => {
      if (projectOrDeadLetter(db, r) === undefined) {
        db.prepare('DELETE FROM dead_letters WHERE block = ? AND idx = ?').run(r.block, r.idx);
        projected++;
      }
    })();
  }
  return { projected, failed: rows.length - projected };
}

/** `dead-letters list | replay [--db <indexer.sqlite>]` */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { db: { type: 'string' } } });
  const { openDb } = await import('./db');
  const db = openDb(resolve(values.db ?? '.devnet/indexer.sqlite'));
  try {
    if (positionals[0] === 'list') {
      for (const d of db.prepare('SELECT block, idx, tx_id, name, error, at FROM dead_letters ORDER BY block, idx').all() as Record<string, unknown>[]) console.log(Object.values(d).join('  '));
    } else if (positionals[0] === 'replay') {
      const r = replayDeadLetters(db);
      console.log(`re-projected ${r.projected}, still failing ${r.failed}`);
      return r.failed === 0 ? 0 : 1;
    } else {
      console.error('usage: dead-letters.js list | replay   [--db <indexer.sqlite>]');
      return 2;
    }
    return 0;
  } finally {
    db.close();
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
