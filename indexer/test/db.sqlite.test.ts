import { expect } from 'chai';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src';

describe('index database file (SQLite)', () => {
  it('creates its folder on a first run, and opens the same file again with its schema', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'idx-db-')), 'not', 'yet', 'there', 'indexer.sqlite');
    const db = await openDb(path);
    await db.run("INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES ('x', 'me', 1, 1)");
    await db.close();
    expect(existsSync(path)).to.equal(true);
    const again = await openDb(path);
    expect(await again.column('SELECT holder FROM leases')).to.deep.equal(['me']);
    await again.close();
  });
});
