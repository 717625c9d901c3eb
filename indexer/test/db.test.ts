import { expect } from 'chai';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src';

describe('index database', () => {
  it('creates its folder on a first run, and opens the same file again with its schema', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'idx-db-')), 'not', 'yet', 'there', 'indexer.sqlite');
    const db = openDb(path);
    db.prepare("INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES ('x', 'me', 1, 1)").run();
    db.close();
    expect(existsSync(path)).to.equal(true);
    const again = openDb(path);
    expect(again.prepare('SELECT holder FROM leases').pluck().all()).to.deep.equal(['me']);
    again.close();
  });
});
