import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FabricGatewayLedger, identityFromFiles } from '@trace/client';
import { RunningDevnet, startDevnet, withSeed } from '@trace/test-network';
import { applyBlock, checkpoint, openDb } from '../src';
import { expectSameProjection } from './projection';

const SERVER = resolve(__dirname, '../src/server.js');

describe('indexer crash safety (devnet)', function () {
  this.timeout(300_000);
  let devnet: RunningDevnet;
  let ledger: FabricGatewayLedger;
  let height = 0n;

  before(async () => {
    // A fixture chain of a few hundred blocks, each with an event.
    devnet = await startDevnet(['--endorsers', '1', '--block-size', '2']);
    const u = devnet.user('Org1MSP', 'User1');
    ledger = FabricGatewayLedger.connect({ endpoint: devnet.endpoint, channel: devnet.channel, chaincode: devnet.chaincode, identity: identityFromFiles('Org1MSP', u.certPath, u.keyPath) });
    let last = 0n;
    for (let i = 0; i < 400; i += 8) {
      const results = await Promise.all(Array.from({ length: 8 }, (_, j) => ledger.submit('emit', `k${i + j}`, 'made', `p${i + j}`)));
      last = results.reduce((m, r) => (r.blockNumber > m ? r.blockNumber : m), last);
    }
    height = last + 1n;
    expect(Number(height)).to.be.greaterThan(100);
  });

  after(async () => {
    ledger?.close();
    await devnet?.stop();
  });

  it('is killed with SIGKILL at 20 random points during ingestion, resumes each time, and ends equal to a full replay', () =>
    withSeed('CRASH_SEED', async (random) => {
      const dir = mkdtempSync(join(tmpdir(), 'indexer-crash-'));
      const dbPath = join(dir, 'live.sqlite');
      const run = () => spawn(process.execPath, [SERVER, '--connection', devnet.connection, '--db', dbPath, '--port', '0'], { stdio: 'ignore' });
      const progress: number[] = [];
      const read = () => {
        const db = openDb(dbPath);
        const n = Number(checkpoint(db));
        db.close();
        return n;
      };
      for (let kill = 0; kill < 20; kill++) {
        // Kill once ingestion passes a random block between here and an even share of what is left.
        const from = read();
        const target = from + 1 + Math.floor(random() * Math.max(1, (Number(height) - from) / (21 - kill)));
        const child = run();
        const deadline = Date.now() + 30_000;
        while (read() < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        progress.push(read());
      }
      // Let the last run finish the chain.
      const child = run();
      for (let i = 0; i < 600; i++) {
        const db = openDb(dbPath);
        const done = checkpoint(db) >= height;
        db.close();
        if (done) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(progress.filter((p) => p > 0 && p < Number(height)).length, `killed mid-ingestion (${progress.join(', ')})`).to.be.at.least(15);

      const live = openDb(dbPath);
      const upTo = checkpoint(live);
      const replay = openDb(join(dir, 'replay.sqlite'));
      const stream = await ledger.blocks(0n);
      for await (const block of stream) {
        applyBlock(replay, block);
        if (block.number + 1n === upTo) break;
      }
      stream.close();
      expectSameProjection(live, replay);
      expect((live.prepare("SELECT count(*) AS n FROM events WHERE name = 'made'").get() as { n: number }).n).to.equal(400);
      live.close();
      replay.close();
    }));
});
