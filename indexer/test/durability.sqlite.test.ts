import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testClock } from '@trace/test-network';
import { codeHex, codeKey } from '../src/code-key';
import { openDb, Store } from '../src/db';
import { durably } from '../src/scan-durability';
import type { Sql } from '../src/store';
import { rejection } from './support/rejection';

const SYNC_NORMAL = 1;
const SYNC_FULL = 2;
const QUEUE = 'INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, ?, ?, ?, ?)';

describe('what only the indexer holds: fsynced writes (SQLite)', () => {
  let db: Store;
  const sync = (sql: Sql) => sql.value<number>('PRAGMA synchronous');

  const clock = testClock();

  before(async () => {
    db = await openDb(join(mkdtempSync(join(tmpdir(), 'durability-')), 'indexer.sqlite'));
  });

  after(() => db?.close());

  it('commits accepted scans with a full fsync and leaves the rest of the database at NORMAL, also when the write fails', async () => {
    expect(await sync(db)).to.equal(SYNC_NORMAL);
    let inside = 0;
    await durably(db, async (tx) => {
      inside = (await sync(tx))!;
      await tx.run(QUEUE, codeKey('a'.repeat(64)), 'consumer', 'CN-53', clock.at(0), clock.at(0));
    });
    expect([inside, await sync(db)]).to.deep.equal([SYNC_FULL, SYNC_NORMAL]);
    const failed = await rejection(() =>
      durably(db, async (tx) => {
        await tx.run(QUEUE, codeKey('b'.repeat(64)), 'consumer', null, clock.at(0), clock.at(0));
        throw new Error('refused half-way');
      }),
    );
    expect(failed.message).to.include('refused half-way');
    expect(await sync(db)).to.equal(SYNC_NORMAL);
    expect((await db.column<Buffer>('SELECT code_hash FROM scan_queue')).map(codeHex)).to.deep.equal(['a'.repeat(64)]);
  });
});
