import { expect } from 'chai';
import { Server } from 'node:http';
import { resolve } from 'node:path';
import { ChainBlock, FabricGatewayLedger, identityFromFiles, Ledger, TraceChainClient } from '@trace/client';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { applyBlock, createApiKey, createApp, openDb } from '../src';
import type { Store } from '../src/db';
import { newDbLocation } from './support/databases';

const CHAINCODE = resolve(__dirname, '../../../chaincode');

function connect(devnet: RunningDevnet, chaincode: string): FabricGatewayLedger {
  const u = devnet.user('Org1MSP', 'User1');
  return FabricGatewayLedger.connect({ endpoint: devnet.endpoint, channel: devnet.channel, chaincode, identity: identityFromFiles('Org1MSP', u.certPath, u.keyPath) });
}

/** The chain's blocks from genesis up to and including block `last`. */
async function blocksUpTo(ledger: Ledger, last: bigint): Promise<ChainBlock[]> {
  const stream = await ledger.blocks(0n);
  const out: ChainBlock[] = [];
  try {
    for await (const b of stream) {
      out.push(b);
      if (b.number >= last) break;
    }
  } finally {
    stream.close();
  }
  return out;
}

/**
 * Statistics are about the product. The devnet runs one chaincode per channel, so the second
 * chaincode's transactions come from a second devnet running the fixture chaincode: its real,
 * parsed transactions are added to the product chain's blocks, as a channel carrying both
 * chaincodes would hold them, and the product chain's genesis block is a config block.
 */
describe('indexer statistics count the product chaincode apart from others on the channel (devnet)', function () {
  this.timeout(180_000);
  let product: RunningDevnet;
  let other: RunningDevnet;
  let db: Store;
  let server: Server;
  let base: string;
  let member: { authorization: string };

  before(async () => {
    [product, other] = await Promise.all([startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1']), startDevnet(['--endorsers', '1'])]);
    const trace = connect(product, 'trace');
    const fixture = connect(other, 'fixture');
    try {
      const c = new TraceChainClient(trace);
      await c.consortium.bootstrap({ consortium: 'stats', name: 'Brand', roles: ['brand'] });
      await c.catalog.defineProduct({ gtin: '06901234567892', name: 'tea', category: 'tea', brand: 'Brand' });
      let lastOther = 0n;
      for (let i = 0; i < 5; i++) lastOther = (await fixture.submit('put', `k${i}`, 'v')).blockNumber;
      const height = (await trace.submit('catalog:defineLocation', JSON.stringify({ id: '6901234000016', name: 'farm', type: 'farm', geo: { lat: 22.19, lon: 100.03 }, region: 'CN-53' }))).blockNumber;
      const productBlocks = await blocksUpTo(trace, height);
      const otherBlocks = await blocksUpTo(fixture, lastOther);
      // block n of the shared channel: the product's block n followed by the other chaincode's block n
      const merged = productBlocks.map((b, n) => ({ ...b, transactions: [...b.transactions, ...(n > 0 ? (otherBlocks[n]?.transactions ?? []) : [])] }));
      // the other chain has more blocks than the product's: the rest go to the last block
      merged[merged.length - 1].transactions.push(...otherBlocks.slice(merged.length).flatMap((b) => b.transactions));
      db = await openDb(await newDbLocation('stats'));
      for (const b of merged) await applyBlock(db, b, 'trace');
      member = { authorization: `Bearer ${(await createApiKey(db, { org: 'Org1MSP', scope: 'member' })).key}` };
      const app = createApp(db, () => ({ ready: true, next: BigInt(merged.length) }), { chaincode: 'trace' });
      server = await new Promise<Server>((res) => {
        const s = app.listen(0, '127.0.0.1', () => res(s));
      });
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    } finally {
      trace.close();
      fixture.close();
    }
  });

  after(async () => {
    server?.close();
    await db?.close();
    await Promise.all([product?.stop(), other?.stop()]);
  });

  it('counts only the product chaincode’s blocks and transactions, and reports the others apart', async () => {
    const stats = (await (await fetch(`${base}/api/stats`, { headers: member })).json()) as Record<string, unknown> & {
      chain: { blocks: number; transactions: number; configBlocks: number };
      system: { transactions: number };
      other: { transactions: number; byChaincode: Record<string, number> };
    };
    // bootstrap, defineProduct, defineLocation: three product transactions in three blocks after genesis
    expect(stats.chaincode).to.equal('trace');
    expect(stats.transactions).to.equal(3);
    expect(stats.blocks).to.equal(3);
    expect(stats.other).to.deep.equal({ transactions: 5, byChaincode: { fixture: 5 } });
    expect(stats.system.transactions).to.equal(0);
    expect(stats.chain).to.deep.equal({ blocks: 4, transactions: 8, configBlocks: 1 });
    const tp = (await (await fetch(`${base}/api/stats/throughput?minutes=60`, { headers: member })).json()) as { series: { valid: number }[] };
    expect(tp.series.reduce((n, s) => n + s.valid, 0)).to.equal(3);
  });
});
