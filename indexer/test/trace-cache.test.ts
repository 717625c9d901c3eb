import { expect } from 'chai';
import type { ChainBlock } from '@trace/client';
import { applyBlock, Db, openDb, TraceCache } from '../src';
import { newDbLocation } from './support/databases';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HASH = (n: number) => n.toString(16).padStart(64, '0');

/** Polls `check` (every 20 ms, up to 5 s) until it holds; fails with `what` otherwise. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await sleep(20);
  }
  expect.fail(`never: ${what}`);
}

describe('trace cache: an entry lives until the index moves, whichever connection moved it', () => {
  it('serves a body until another connection indexes a block; on PostgreSQL caches nothing while its LISTEN connection is lost, and again once it is back', async () => {
    const location = await newDbLocation('trace-cache');
    const [db, ingestor] = [await openDb(location), await openDb(location)];
    let height = 0;
    // an empty block from the other connection, as an ingest process writes one
    const block = (w: Db) => applyBlock(w, { number: BigInt(height), hash: HASH(height + 1), previousHash: HASH(height++), dataHash: HASH(0), transactions: [] } satisfies ChainBlock);
    let computed = 0;
    const cache = new TraceCache(db);
    const get = async () => (await cache.get('code/x', async () => ({ n: ++computed }))).body;
    try {
      expect(await get()).to.equal('{"n":1}');
      expect(await get()).to.equal('{"n":1}');
      expect(computed).to.equal(1);

      await block(ingestor);
      // SQLite reads the height at once; PostgreSQL hears the commit's NOTIFY a moment later
      await eventually('the block empties the cache', async () => (await get()) !== '{"n":1}');
      const after = await get();
      expect(await get()).to.equal(after);

      if (db.engine === 'postgres') {
        // the LISTEN connection dies: from then on nothing is served from the cache
        await ingestor.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
        await eventually('the lost connection turns the cache off', async () => (await get()) !== (await get()));
        // it is made again (after a second): caching resumes, and blocks empty the cache as before
        await eventually('the cache is back', async () => (await get()) === (await get()));
        const cached = await get();
        await block(ingestor);
        await eventually('a block after the reconnection empties the cache', async () => (await get()) !== cached);
      }
    } finally {
      await db.close();
      await ingestor.close();
    }
  });
});
