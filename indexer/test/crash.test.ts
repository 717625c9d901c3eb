import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { FabricGatewayLedger, identityFromFiles } from '@trace/client';
import { RunningDevnet, startDevnet, withSeed } from '@trace/test-network';
import { applyBlock, checkpoint, openDb } from '../src';
import { expectSameProjection } from './projection';
import { newDbLocation } from './support/databases';

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
      const dbPath = await newDbLocation('crash-live');
      const run = () => spawn(process.execPath, [SERVER, '--connection', devnet.connection, '--db', dbPath, '--port', '0'], { stdio: 'ignore' });
      const progress: number[] = [];
      // one connection watches the whole time: opening one per poll (a PostgreSQL connection takes
      // milliseconds) would let the ingestor run past the kill point
      const watch = await openDb(dbPath);
      const read = async () => Number(await checkpoint(watch));
      for (let kill = 0; kill < 20; kill++) {
        // Kill once ingestion passes a random block between here and an even share of what is left.
        const from = await read();
        const target = from + 1 + Math.floor(random() * Math.max(1, (Number(height) - from) / (21 - kill)));
        const child = run();
        const deadline = Date.now() + 30_000;
        while ((await read()) < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        progress.push(await read());
      }
      // Let the last run finish the chain.
      const child = run();
      for (let i = 0; i < 600 && (await checkpoint(watch)) < height; i++) await new Promise((r) => setTimeout(r, 100));
      await watch.close();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // at least half the kills land mid-ingestion: catching up, up to INGEST_BATCH blocks commit at once
      // (more of them on PostgreSQL, where a process takes longer to connect and finds more buffered)
      expect(progress.filter((p) => p > 0 && p < Number(height)).length, `killed mid-ingestion (${progress.join(', ')})`).to.be.at.least(10);

      const live = await openDb(dbPath);
      const upTo = await checkpoint(live);
      const replay = await openDb(await newDbLocation('crash-replay'));
      const stream = await ledger.blocks(0n);
      for await (const block of stream) {
        await applyBlock(replay, block);
        if (block.number + 1n === upTo) break;
      }
      stream.close();
      await expectSameProjection(live, replay);
      expect(await live.value("SELECT count(*) FROM events WHERE name = 'made'")).to.equal(400);
      await live.close();
      await replay.close();
    }));
});
