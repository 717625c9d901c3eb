import { expect } from 'chai';
import { Server } from 'node:http';
import pino from 'pino';
import { ChainBlock, EventStream, FabricGatewayLedger, identityFromFiles } from '@trace/client';
import { RunningDevnet, startDevnet, testClock } from '@trace/test-network';
import { checkpoint, createApp, Db, GatewaySource, Ingestor, openDb, replayDeadLetters } from '../src';
import type { ChainSource } from '../src';
import { newDbLocation } from './support/databases';

const clock = testClock();
const member = (mspId: string) => JSON.stringify({ member: { mspId, name: mspId, roles: ['producer'], status: 'active', joinedAt: clock.at(0), updatedAt: clock.at(0) } });

/** The devnet's block source, counting the streams it opens and closes (in order), optionally failing the first stream after its first block. */
class WatchedSource implements ChainSource {
  readonly log: string[] = [];
  constructor(
    private readonly inner: GatewaySource,
    private failFirstAfterOneBlock = false,
  ) {}

  async blocks(from: bigint): Promise<EventStream<ChainBlock>> {
    const stream = await this.inner.blocks(from);
    const n = this.log.filter((l) => l.startsWith('open')).length;
    this.log.push(`open ${n}`);
    const fail = this.failFirstAfterOneBlock;
    this.failFirstAfterOneBlock = false;
    const log = this.log;
    return {
      close: () => {
        log.push(`close ${n}`);
        stream.close();
      },
      async *[Symbol.asyncIterator]() {
        let delivered = 0;
        for await (const b of stream) {
          if (fail && delivered === 1) throw new Error('connection reset (test)');
          delivered++;
          yield b;
        }
      },
    };
  }
}

describe('indexer poison events: dead letters, ingestion goes on, one stream, reconnects closed and backed off (devnet)', function () {
  this.timeout(180_000);
  let devnet: RunningDevnet;
  let ledger: FabricGatewayLedger;
  const txs: { id: string; block: bigint }[] = [];

  before(async () => {
    devnet = await startDevnet(['--endorsers', '1']);
    const u = devnet.user('Org1MSP', 'User1');
    ledger = FabricGatewayLedger.connect({ endpoint: devnet.endpoint, channel: devnet.channel, chaincode: devnet.chaincode, identity: identityFromFiles('Org1MSP', u.certPath, u.keyPath) });
    // a good event, one that is no JSON, one whose shape the projection cannot take, a good one after them
    for (const [key, payload] of [['a', member('OrgAMSP')], ['b', '{not json'], ['c', '{"member": null}'], ['d', member('OrgBMSP')]]) {
      const r = await ledger.submit('emit', key, 'consortium.MemberAdded', payload);
      txs.push({ id: r.transactionId, block: r.blockNumber });
    }
  });

  after(async () => {
    ledger?.close();
    await devnet?.stop();
  });

  const ingest = async (db: Db, source: ChainSource, logs: Record<string, unknown>[]) => {
    const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
    const ingestor = new Ingestor(db, source, log, devnet.chaincode);
    const running = ingestor.run();
    const last = txs[txs.length - 1].block;
    const deadline = Date.now() + 60_000;
    while ((await checkpoint(db)) <= last && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    ingestor.stop();
    await running;
  };

  it('puts undecodable and unprojectable events in dead letters, indexes the later ones on the same stream, and reports degraded', async () => {
    const db = await openDb(await newDbLocation('poison'));
    const source = new WatchedSource(new GatewaySource(ledger));
    const logs: Record<string, unknown>[] = [];
    await ingest(db, source, logs);
    expect(await db.column('SELECT msp_id FROM members ORDER BY msp_id')).to.deep.equal(['OrgAMSP', 'OrgBMSP']);
    const dead = await db.all<{ block: number; tx_id: string; name: string; payload: string; error: string }>('SELECT block, tx_id, name, payload, error FROM dead_letters ORDER BY block, idx');
    expect(dead.map((d) => [d.block, d.tx_id, d.name, d.payload])).to.deep.equal([
      [Number(txs[1].block), txs[1].id, 'consortium.MemberAdded', '{not json'],
      [Number(txs[2].block), txs[2].id, 'consortium.MemberAdded', '{"member": null}'],
    ]);
    expect(dead[0].error).to.match(/JSON/);
    expect(dead[1].error).to.match(/null/);
    // the raw events stay indexed; one stream the whole time, closed on stop
    expect(await db.value("SELECT count(*) FROM events WHERE name = 'consortium.MemberAdded'")).to.equal(4);
    expect(source.log).to.deep.equal(['open 0', 'close 0']);
    expect(logs.filter((l) => l.event === 'indexer.dead_letter').map((l) => l.txId)).to.deep.equal([txs[1].id, txs[2].id]);

    // an operations alert: /healthz answers degraded with the count, and the dashboard shows it
    const app = createApp(db, async () => ({ ready: true, next: await checkpoint(db) }));
    const server = await new Promise<Server>((res) => {
      const s = app.listen(0, '127.0.0.1', () => res(s));
    });
    try {
      const health = (await (await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/healthz`)).json()) as { status: string; deadLetters: number; reason: string };
      expect([health.status, health.deadLetters]).to.deep.equal(['degraded', 2]);
      expect(health.reason).to.match(/2 chain events could not be projected/);
    } finally {
      server.close();
    }
    // a replay before any fix projects nothing and keeps both, with nothing half-applied
    expect(await replayDeadLetters(db)).to.deep.equal({ projected: 0, failed: 2 });
    expect([await db.value('SELECT count(*) FROM dead_letters'), await db.value('SELECT count(*) FROM members')]).to.deep.equal([2, 2]);
    // once the cause is gone (here: the payload corrected in place, as a fixed decoder would read it), a replay projects it and clears it
    await db.run('UPDATE dead_letters SET payload = ? WHERE tx_id = ?', member('OrgCMSP'), txs[2].id);
    expect(await replayDeadLetters(db)).to.deep.equal({ projected: 1, failed: 1 });
    expect(await db.column('SELECT msp_id FROM members ORDER BY msp_id')).to.deep.equal(['OrgAMSP', 'OrgBMSP', 'OrgCMSP']);
    await db.close();
  });

  it('closes a failed stream before it reconnects, after a backoff, and resumes from its checkpoint', async () => {
    const db = await openDb(await newDbLocation('poison-reconnect'));
    const source = new WatchedSource(new GatewaySource(ledger), true);
    const logs: Record<string, unknown>[] = [];
    await ingest(db, source, logs);
    expect(source.log).to.deep.equal(['open 0', 'close 0', 'open 1', 'close 1']);
    const retry = logs.find((l) => l.event === 'indexer.source_error')!;
    expect([retry.err, retry.retryInMs]).to.deep.equal(['connection reset (test)', 1000]);
    expect(await db.value('SELECT count(*) FROM blocks')).to.equal(Number(await checkpoint(db)));
    expect(await db.column('SELECT msp_id FROM members ORDER BY msp_id')).to.deep.equal(['OrgAMSP', 'OrgBMSP']);
    await db.close();
  });
});
