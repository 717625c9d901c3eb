#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { Db } from './db';
import { ChainEventRow, project } from './projections';
import { dbLocation, isTransient } from './store';

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
export async function projectOrDeadLetter(db: Db, e: IndexedEvent): Promise<string | undefined> {
  try {
    // a savepoint inside the caller's transaction: on PostgreSQL, the only way to go on after an SQL error
    await db.transaction((tx) => projectIndexed(tx, e));
    return undefined;
  } catch (err) {
    // a database error of the moment says nothing about the event: the caller's transaction fails and is retried
    if (isTransient(err)) throw err;
    const error = (err as Error).message || String(err);
    await db.run(
      `INSERT INTO dead_letters (block, idx, tx_id, name, payload, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (block, idx) DO UPDATE SET tx_id = excluded.tx_id, name = excluded.name, payload = excluded.payload, error = excluded.error, at = excluded.at`,
      e.block,
      e.idx,
      e.txId,
      e.name,
      e.payload,
      error,
      new Date().toISOString(),
    );
    return error;
  }
}

/** Projects one event as indexed (its payload decoded); throws what the projection throws. */
export const projectIndexed = (db: Db, e: IndexedEvent): Promise<void> => project(db, toRow(e));

/** a string with NUL (which PostgreSQL text cannot hold) as U+FFFD, on both engines */
const withoutNul = (_key: string, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '\uFFFD') : v);

// the reviver only for the rare payload that escapes a NUL (it slows every parse)
const toRow = (e: IndexedEvent): ChainEventRow => ({ block: e.block, idx: e.idx, txId: e.txId, name: e.name, payload: JSON.parse(e.payload, e.payload.includes('\\u0000') ? withoutNul : undefined) as unknown });

export async function deadLetterCount(db: Db): Promise<number> {
  return (await db.value<number>('SELECT count(*) FROM dead_letters'))!;
}

/**
 * Re-projects the dead letters in chain order (after a fix of the projection): each one that now
 * projects leaves the table; the others stay with their new error.
 */
export async function replayDeadLetters(db: Db): Promise<{ projected: number; failed: number }> {
  const rows = await db.all<IndexedEvent>('SELECT block, idx, tx_id AS "txId", name, payload FROM dead_letters ORDER BY block, idx');
  let projected = 0;
  for (const r of rows) {
    await db.transaction(async (tx) => {
      if ((await projectOrDeadLetter(tx, r)) === undefined) {
        await tx.run('DELETE FROM dead_letters WHERE block = ? AND idx = ?', r.block, r.idx);
        projected++;
      }
    });
  }
  return { projected, failed: rows.length - projected };
}

/** `dead-letters list | replay [--db <indexer.sqlite | postgres://...>]` */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { db: { type: 'string' } } });
  const { openDb } = await import('./db');
  const db = await openDb(dbLocation(values.db));
  try {
    if (positionals[0] === 'list') {
      for (const d of await db.all('SELECT block, idx, tx_id, name, error, at FROM dead_letters ORDER BY block, idx')) console.log(Object.values(d).join('  '));
    } else if (positionals[0] === 'replay') {
      const r = await replayDeadLetters(db);
      console.log(`re-projected ${r.projected}, still failing ${r.failed}`);
      return r.failed === 0 ? 0 : 1;
    } else {
      console.error('usage: dead-letters.js list | replay   [--db <indexer.sqlite | postgres://...>]');
      return 2;
    }
    return 0;
  } finally {
    await db.close();
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
