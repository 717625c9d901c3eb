/**
 * A contender for the lease race test (run as its own process): takes the lease whenever it can,
 * renews it for a while, then stalls past the ttl so another process takes over. Prints each
 * successful take or renewal as `{holder, at}` on stdout.
 */
import { openDb } from '../src/db';
import { tryAcquire } from '../src/lease';

const [dbPath, holder, ttl, runFor] = process.argv.slice(2);
const ttlMs = Number(ttl);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const db = await openDb(dbPath);
  const end = Date.now() + Number(runFor);
  while (Date.now() < end) {
    const at = Date.now();
    if (!(await tryAcquire(db, 'ingestor', holder, ttlMs, at))) {
      await sleep(1);
      continue;
    }
    process.stdout.write(`${JSON.stringify({ holder, at })}\n`);
    // renew a few times, as a leader does every ttl/3, then stall: the lease lapses
    for (let i = 0; i < 3 && Date.now() < end; i++) {
      await sleep(ttlMs / 3);
      const renewAt = Date.now();
      if (!(await tryAcquire(db, 'ingestor', holder, ttlMs, renewAt))) break;
      process.stdout.write(`${JSON.stringify({ holder, at: renewAt })}\n`);
    }
    await sleep(ttlMs * 2);
  }
  await db.close();
}

void main();
