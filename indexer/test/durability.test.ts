import { expect } from 'chai';
import { testClock } from '@trace/test-network';
import { codeHex, codeKey } from '../src/code-key';
import { openDb, Store } from '../src/db';
import { durably, expireScanIds, SCAN_ID_TTL_MS } from '../src/scan-durability';
import { newDbLocation } from './support/databases';
import { rejection } from './support/rejection';

const QUEUE = 'INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, ?, ?, ?, ?)';

/** (durability.sqlite.test.ts: the fsync SQLite makes of these writes) */
describe('what only the indexer holds: durable writes and scan-id expiry', () => {
  let db: Store;
  const scanIds = () => db.column<string>('SELECT scan_id FROM scan_ids ORDER BY scan_id');

  const clock = testClock();

  before(async () => {
    db = await openDb(await newDbLocation('durability'));
  });

  after(() => db?.close());

  it('commits a write of accepted scans, and nothing of one that fails half-way', async () => {
    await durably(db, async (tx) => {
      await tx.run(QUEUE, codeKey('a'.repeat(64)), 'consumer', 'CN-53', clock.at(0), clock.at(0));
    });
    const failed = await rejection(() =>
      durably(db, async (tx) => {
        await tx.run(QUEUE, codeKey('b'.repeat(64)), 'consumer', null, clock.at(0), clock.at(0));
        throw new Error('refused half-way');
      }),
    );
    expect(failed.message).to.include('refused half-way');
    expect((await db.column<Buffer>('SELECT code_hash FROM scan_queue')).map(codeHex)).to.deep.equal(['a'.repeat(64)]);
  });

  it('forgets scan ids once their scan is older than the window, and keeps the recent ones', async () => {
    const insert = 'INSERT INTO scan_ids (scan_id, code_hash, channel, region, at) VALUES (?, ?, ?, ?, ?)';
    await db.run(insert, 'old', codeKey('c'.repeat(64)), 'consumer', null, new Date(clock.now - SCAN_ID_TTL_MS - 1).toISOString());
    await db.run(insert, 'edge', codeKey('c'.repeat(64)), 'consumer', null, new Date(clock.now - SCAN_ID_TTL_MS).toISOString());
    await db.run(insert, 'fresh', codeKey('c'.repeat(64)), 'consumer', null, new Date(clock.now - 60_000).toISOString());
    expect(await expireScanIds(db, SCAN_ID_TTL_MS, clock.now)).to.equal(1);
    expect(await scanIds()).to.deep.equal(['edge', 'fresh']);
    expect(await expireScanIds(db, 3_600_000, clock.now)).to.equal(1);
    expect(await scanIds()).to.deep.equal(['fresh']);
  });
});
