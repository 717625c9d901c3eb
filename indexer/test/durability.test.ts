import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testClock } from '@trace/test-network';
import { codeHex, codeKey } from '../src/code-key';
import { openDb } from '../src/db';
import { durably, expireScanIds, SCAN_ID_TTL_MS } from '../src/scan-durability';

const SYNC_NORMAL = 1;
const SYNC_FULL = 2;

describe('what only the indexer holds: fsynced writes and scan-id expiry (SQLite)', () => {
  const db = openDb(join(mkdtempSync(join(tmpdir(), 'durability-')), 'indexer.sqlite'));
  const sync = () => db.pragma('synchronous', { simple: true }) as number;
  const scanIds = () => (db.prepare('SELECT scan_id FROM scan_ids ORDER BY scan_id').pluck().all() as string[]);

  const clock = testClock();

  after(() => db.close());

  it('commits accepted scans with a full fsync and leaves the rest of the database at NORMAL, also when the write fails', () => {
    expect(sync()).to.equal(SYNC_NORMAL);
    let inside = 0;
    durably(db, () => {
      inside = sync();
      db.prepare('INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, ?, ?, ?, ?)').run(codeKey('a'.repeat(64)), 'consumer', 'CN-53', clock.at(0), clock.at(0));
    });
    expect([inside, sync()]).to.deep.equal([SYNC_FULL, SYNC_NORMAL]);
    expect(() =>
      durably(db, () => {
        db.prepare('INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, ?, ?, ?, ?)').run(codeKey('b'.repeat(64)), 'consumer', null, clock.at(0), clock.at(0));
        throw new Error('refused half-way');
      }),
    ).to.throw('refused half-way');
    expect(sync()).to.equal(SYNC_NORMAL);
    expect((db.prepare('SELECT code_hash FROM scan_queue').pluck().all() as Buffer[]).map(codeHex)).to.deep.equal(['a'.repeat(64)]);
  });

  it('forgets scan ids once their scan is older than the window, and keeps the recent ones', () => {
    const insert = db.prepare('INSERT INTO scan_ids (scan_id, code_hash, channel, region, at) VALUES (?, ?, ?, ?, ?)');
    insert.run('old', codeKey('c'.repeat(64)), 'consumer', null, new Date(clock.now - SCAN_ID_TTL_MS - 1).toISOString());
    insert.run('edge', codeKey('c'.repeat(64)), 'consumer', null, new Date(clock.now - SCAN_ID_TTL_MS).toISOString());
    insert.run('fresh', codeKey('c'.repeat(64)), 'consumer', null, new Date(clock.now - 60_000).toISOString());
    expect(expireScanIds(db, SCAN_ID_TTL_MS, clock.now)).to.equal(1);
    expect(scanIds()).to.deep.equal(['edge', 'fresh']);
    expect(expireScanIds(db, 3_600_000, clock.now)).to.equal(1);
    expect(scanIds()).to.deep.equal(['fresh']);
  });
});
