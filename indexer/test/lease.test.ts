import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import pino from 'pino';
import { Db, holderIsGone, Lease, leaseHolderId, LeaseLostError, openDb, release, takeOver, tryAcquire } from '../src';
import { newDbLocation } from './support/databases';

const CONTENDER = resolve(__dirname, 'lease-contender.js');

const row = (db: Db) => db.get("SELECT holder, expires_at, acquired_at FROM leases WHERE name = 'ingestor'");

describe('indexer leases', function () {
  this.timeout(60_000);

  it('is taken by one holder, renewed only by it, taken over only once expired, and released at once', async () => {
    const path = await newDbLocation('lease-unit');
    const a = await openDb(path);
    const b = await openDb(path);
    try {
      expect(await tryAcquire(a, 'ingestor', 'A', 1000, 0)).to.equal(true);
      expect(await tryAcquire(b, 'ingestor', 'B', 1000, 500)).to.equal(false);
      expect(await row(b)).to.deep.equal({ holder: 'A', expires_at: 1000, acquired_at: 0 });
      // the holder renews; acquired_at keeps the start of its tenure
      expect(await tryAcquire(a, 'ingestor', 'A', 1000, 600)).to.equal(true);
      expect(await tryAcquire(b, 'ingestor', 'B', 1000, 1599)).to.equal(false);
      expect(await row(b)).to.deep.equal({ holder: 'A', expires_at: 1600, acquired_at: 0 });
      // expired: the other takes it; the old holder's renewal then fails and changes nothing
      expect(await tryAcquire(b, 'ingestor', 'B', 1000, 1600)).to.equal(true);
      expect(await tryAcquire(a, 'ingestor', 'A', 1000, 1700)).to.equal(false);
      expect(await row(a)).to.deep.equal({ holder: 'B', expires_at: 2600, acquired_at: 1600 });
      // a lease is per duty: the other duty is free
      expect(await tryAcquire(a, 'scan-sender', 'A', 1000, 1700)).to.equal(true);
      // only the holder can release it; then anyone takes it at once
      expect(await release(a, 'ingestor', 'A')).to.equal(false);
      expect(await row(a)).to.deep.equal({ holder: 'B', expires_at: 2600, acquired_at: 1600 });
      expect(await release(b, 'ingestor', 'B')).to.equal(true);
      expect(await tryAcquire(a, 'ingestor', 'A', 1000, 1800)).to.equal(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fences a former holder: its write transaction fails with ERR_LEASE_LOST and writes nothing', async () => {
    const path = await newDbLocation('lease-fence');
    const a = await openDb(path);
    const b = await openDb(path);
    try {
      let now = 0;
      const lease = new Lease(a, 'ingestor', { holder: 'A', ttlMs: 1000, log: pino({ level: 'silent' }), now: () => now });
      expect(await tryAcquire(a, 'ingestor', 'A', 1000, now)).to.equal(true);
      const write = (v: string) =>
        a.transaction(async (tx) => {
          await lease.fence(tx);
          await tx.run("INSERT INTO meta (key, value) VALUES ('probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", v);
        });
      await write('by A');
      now = 1000;
      expect(await tryAcquire(b, 'ingestor', 'B', 1000, now)).to.equal(true);
      let error: unknown;
      try {
        await write('by A after the takeover');
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(LeaseLostError);
      expect((error as LeaseLostError).code).to.equal('ERR_LEASE_LOST');
      expect(await b.value("SELECT value FROM meta WHERE key = 'probe'")).to.equal('by A');
      expect(await row(b)).to.deep.equal({ holder: 'B', expires_at: 2000, acquired_at: 1000 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lets a lease held by a process of this host that is gone be taken at once, and no other', async () => {
    const db = await openDb(await newDbLocation('lease-gone'));
    try {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
      await new Promise((r) => child.once('spawn', r));
      const [scope, , random] = leaseHolderId().split(':');
      const dead = `${scope}:${child.pid}:${random}`;
      expect(holderIsGone(dead), 'while it runs').to.equal(false);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(holderIsGone(dead)).to.equal(true);
      expect(holderIsGone(leaseHolderId()), 'this process').to.equal(false);
      expect(holderIsGone(`elsewhere/1:${child.pid}:${random}`), 'another host').to.equal(false);
      expect(await tryAcquire(db, 'ingestor', dead, 60_000, 0)).to.equal(true);
      // only from the holder the caller saw: a stale view takes nothing
      expect(await takeOver(db, 'ingestor', 'B', 'someone else', 60_000, 10)).to.equal(false);
      expect(await row(db)).to.deep.equal({ holder: dead, expires_at: 60_000, acquired_at: 0 });
      expect(await takeOver(db, 'ingestor', 'B', dead, 60_000, 10)).to.equal(true);
      expect(await row(db)).to.deep.equal({ holder: 'B', expires_at: 60_010, acquired_at: 10 });
    } finally {
      await db.close();
    }
  });

  it('runs the duty only while held: a holder whose renewals stall loses it to a follower and stops, and a released lease passes at once', async () => {
    const path = await newDbLocation('lease-runner');
    const [dbA, dbB] = [await openDb(path), await openDb(path)];
    const events: { event: string; lease: string; holder: string; from?: string; reason?: string }[] = [];
    const log = pino({}, { write: (line: string) => void events.push(JSON.parse(line) as (typeof events)[number]) });
    const duty = (who: string, log: string[]) => () => {
      log.push(`${who} start`);
      let stop!: () => void;
      const running = new Promise<void>((r) => (stop = r)).then(() => void log.push(`${who} stop`));
      return { running, stop: () => stop() };
    };
    const done: string[] = [];
    let frozen: number | undefined;
    const a = new Lease(dbA, 'ingestor', { holder: 'A', ttlMs: 300, log, now: () => frozen ?? Date.now() });
    const b = new Lease(dbB, 'ingestor', { holder: 'B', ttlMs: 300, log });
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(check()).to.equal(true);
    };
    try {
      // A first: the two first attempts would otherwise race (on PostgreSQL either may commit first)
      void a.run(duty('A', done));
      await waitFor(() => a.role === 'leader');
      void b.run(duty('B', done));
      await new Promise((r) => setTimeout(r, 150));
      expect([b.role, a.fresh(), b.fresh()]).to.deep.equal(['follower', true, false]);
      // A's renewals stall at one instant (its clock stands still): the lease it writes lapses for B
      frozen = Date.now();
      await waitFor(() => b.role === 'leader' && a.role === 'follower');
      expect(done).to.deep.equal(['A start', 'B start', 'A stop']);
      expect(await b.info()).to.deep.include({ role: 'leader', holder: 'B' });
      expect(events.filter((e) => e.event !== 'indexer.lease_acquired').map((e) => [e.event, e.holder, e.from ?? e.reason])).to.deep.equal([
        ['indexer.lease_takeover', 'B', 'expired'],
        ['indexer.lease_lost', 'A', 'another process holds the lease'],
      ]);
      frozen = undefined;
      // B stops cleanly: its duty ends, the lease is released and A takes it at its next poll
      await b.stop();
      await waitFor(() => a.role === 'leader');
      expect(done).to.deep.equal(['A start', 'B start', 'A stop', 'B stop', 'A start']);
      expect(events.at(-1)).to.deep.include({ event: 'indexer.lease_takeover', holder: 'A', from: 'released' });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await dbA.close();
      await dbB.close();
    }
  });

  it('refuses a ttl that is not a usable number of milliseconds', async () => {
    const db = await openDb(await newDbLocation('lease-ttl'));
    try {
      for (const ttlMs of [Number.NaN, 0, 299, 1.5]) expect(() => new Lease(db, 'ingestor', { holder: 'A', ttlMs, log: pino({ level: 'silent' }) }), String(ttlMs)).to.throw(/lease ttl must be/);
    } finally {
      await db.close();
    }
  });

  it('four processes racing for one lease never hold it at the same time, and take it over as it lapses', async () => {
    const path = await newDbLocation('lease-race');
    await (await openDb(path)).close();
    const ttlMs = 120;
    const runs = ['P1', 'P2', 'P3', 'P4'].map(
      (holder) =>
        new Promise<{ holder: string; at: number }[]>((res, rej) => {
          const child = spawn(process.execPath, [CONTENDER, path, holder, String(ttlMs), '3000'], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
          child.once('exit', (code) => (code === 0 ? res(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { holder: string; at: number })) : rej(new Error(`contender ${holder} exited with ${code}`))));
        }),
    );
    const takes = (await Promise.all(runs)).flat().sort((x, y) => x.at - y.at);
    // A take at `at` holds until at + ttl: two holders' terms never overlap.
    const overlaps = takes.slice(1).filter((t, i) => t.holder !== takes[i].holder && t.at - takes[i].at < ttlMs);
    expect(overlaps, JSON.stringify(overlaps.slice(0, 3))).to.deep.equal([]);
    const handovers = takes.slice(1).filter((t, i) => t.holder !== takes[i].holder).length;
    expect(handovers).to.be.at.least(5);
    expect(new Set(takes.map((t) => t.holder)).size).to.be.at.least(2);
  });
});
