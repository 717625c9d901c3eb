import { expect } from 'chai';
import { openDb, SCHEMA_VERSION } from '../src';
import { newDbLocation } from './support/databases';

describe('index database', () => {
  it('opens the same database again with its rows, and reopening an up-to-date database changes nothing', async () => {
    const location = await newDbLocation('db');
    const db = await openDb(location);
    await db.run("INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES ('x', 'me', 1, 1)");
    await db.close();
    const again = await openDb(location);
    try {
      expect(await again.column('SELECT holder FROM leases')).to.deep.equal(['me']);
      expect(await again.column('SELECT version FROM schema_version')).to.deep.equal([SCHEMA_VERSION]);
    } finally {
      await again.close();
    }
  });
});
