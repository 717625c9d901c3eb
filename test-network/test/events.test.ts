import { expect } from 'chai';
import { ChaincodeEvent, checkpointers } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { Client, gatewayClient, RunningDevnet, startDevnet } from './support/devnet-process';

/** Submits n event-emitting transactions in waves so several share a block. */
async function emitEvents(client: Client, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 5) {
    const wave = await Promise.all(
      Array.from({ length: Math.min(5, n - i) }, async (_, j) => {
        const tx = await client.contract.newProposal('emit', { arguments: [`${prefix}${i + j}`, 'created', `${prefix}${i + j}`] }).endorse();
        await (await tx.submit()).getStatus();
        return tx.getTransactionId();
      }),
    );
    ids.push(...wave);
  }
  return ids;
}

async function take<T>(iter: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n === 0) return out;
  for await (const item of iter) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}

describe('devnet event streams resume after a checkpoint', () => {
  let devnet: RunningDevnet;
  let org1: Client;

  before(async () => {
    devnet = await startDevnet(['--block-timeout', '30']);
    org1 = gatewayClient(devnet);
  });

  after(async () => {
    org1?.close();
    await devnet?.stop();
  });

  it('delivers chaincode events with no gap and no duplicate across a restart of the stream', async () => {
    const startBlock = (await org1.contract.submitAsync('put', { arguments: ['marker', '1'] }).then((c) => c.getStatus())).blockNumber;
    const ids = await emitEvents(org1, 'ev', 20);
    const checkpointer = checkpointers.inMemory();
    const seen: ChaincodeEvent[] = [];
    // Read a few, then stop in the middle of a block.
    const first = await org1.network.getChaincodeEvents(devnet.chaincode, { startBlock });
    for await (const ev of first) {
      seen.push(ev);
      await checkpointer.checkpointChaincodeEvent(ev);
      if (seen.length === 7) break;
    }
    first.close();
    const rest = await org1.network.getChaincodeEvents(devnet.chaincode, { checkpoint: checkpointer, startBlock });
    try {
      seen.push(...(await take(rest, ids.length - seen.length)));
    } finally {
      rest.close();
    }
    expect(seen.map((e) => e.transactionId)).to.deep.equal(ids);
    expect(new Set(seen.map((e) => e.blockNumber)).size).to.be.lessThan(ids.length);
    expect(seen.every((e) => e.eventName === 'created' && e.chaincodeName === devnet.chaincode)).to.equal(true);
  });

  it('delivers only events of valid transactions, and live events after the history', async () => {
    const startBlock = (await org1.contract.submitAsync('put', { arguments: ['marker', '2'] }).then((c) => c.getStatus())).blockNumber;
    // An invalid transaction with an event: endorsed by one org only, it fails the policy.
    const bad = await org1.contract.newProposal('emit', { arguments: ['bad', 'created', 'bad'], endorsingOrganizations: ['Org1MSP'] }).endorse();
    await (await bad.submit()).getStatus();
    const stream = await org1.network.getChaincodeEvents(devnet.chaincode, { startBlock });
    try {
      const live = emitEvents(org1, 'live', 3);
      const events = await take(stream, 3);
      expect(events.map((e) => e.transactionId)).to.deep.equal(await live);
    } finally {
      stream.close();
    }
  });

  it('delivers blocks from a checkpoint with an unbroken hash chain', async () => {
    await emitEvents(org1, 'blk', 10);
    const checkpointer = checkpointers.inMemory();
    const blocks: common.Block[] = [];
    const first = await org1.network.getBlockEvents({ startBlock: 0n });
    for await (const block of first) {
      blocks.push(block);
      await checkpointer.checkpointBlock(BigInt(block.getHeader()!.getNumber()));
      if (blocks.length === 3) break;
    }
    first.close();
    const height = Number((await org1.contract.submitAsync('put', { arguments: ['marker', '3'] }).then((c) => c.getStatus())).blockNumber) + 1;
    const rest = await org1.network.getBlockEvents({ checkpoint: checkpointer });
    try {
      blocks.push(...(await take(rest, height - blocks.length)));
    } finally {
      rest.close();
    }
    expect(blocks.map((b) => b.getHeader()!.getNumber())).to.deep.equal(Array.from({ length: height }, (_, i) => i));
    const filtered = await org1.network.getFilteredBlockEvents({ startBlock: BigInt(height - 1) });
    try {
      const [fb] = await take(filtered, 1);
      expect(fb.getNumber()).to.equal(height - 1);
      expect(fb.getFilteredTransactionsList()[0].getTxValidationCode()).to.equal(0);
    } finally {
      filtered.close();
    }
  });
});
