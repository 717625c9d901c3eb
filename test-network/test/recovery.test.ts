import { expect } from 'chai';
import { common, peer } from '@hyperledger/fabric-protos';
import { sha256 } from '../src/devnet/crypto/ecdsa';
import { headerDer } from '../src/devnet/ledger/blockhash';
import { parseEnvelope } from '../src/devnet/ledger/transaction';
import { Client, findPids, gatewayClient, RunningDevnet, startDevnet, utf8, waitFor } from './support/devnet-process';

async function readAllBlocks(client: Client, height: number): Promise<common.Block[]> {
  const blocks: common.Block[] = [];
  const stream = await client.network.getBlockEvents({ startBlock: 0n });
  try {
    for await (const b of stream) {
      blocks.push(b);
      if (blocks.length === height) break;
    }
  } finally {
    stream.close();
  }
  return blocks;
}

/** Checks previous_hash/data_hash links from genesis and replays valid writes into a key → value map. */
function verifyAndReplay(blocks: common.Block[], namespace: string): Map<string, string> {
  const state = new Map<string, string>();
  let prev: Buffer = Buffer.alloc(0);
  blocks.forEach((block, n) => {
    const h = block.getHeader()!;
    expect(h.getNumber()).to.equal(n);
    expect(Buffer.from(h.getPreviousHash_asU8()).equals(prev), `previous_hash of block ${n}`).to.equal(true);
    expect(sha256(...block.getData()!.getDataList_asU8()).equals(Buffer.from(h.getDataHash_asU8())), `data_hash of block ${n}`).to.equal(true);
    prev = sha256(headerDer(h.getNumber(), h.getPreviousHash_asU8(), h.getDataHash_asU8()));
    const filter = block.getMetadata()!.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
    block
      .getData()!
      .getDataList_asU8()
      .forEach((env, i) => {
        if (filter[i] !== peer.TxValidationCode.VALID) return;
        for (const rw of parseEnvelope(env).tx?.endorser?.rwsets ?? []) {
          if (rw.namespace !== namespace) continue;
          for (const w of rw.kv.getWritesList()) {
            if (w.getIsDelete()) state.delete(w.getKey());
            else state.set(w.getKey(), utf8(w.getValue_asU8()));
          }
        }
      });
  });
  return state;
}

describe('devnet crash safety', () => {
  let devnet: RunningDevnet | undefined;

  afterEach(async () => {
    await devnet?.stop();
  });

  it('keeps every transaction it reported committed after a SIGKILL mid-stream, with a verifiable chain and state equal to a replay', async () => {
    devnet = await startDevnet(['--endorsers', '1']);
    const dataDir = devnet.dataDir;
    let client = gatewayClient(devnet);
    const committed = new Map<string, string>();
    let seq = 0;
    let stop = false;
    const writers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const key = `crash/${seq++}`;
        try {
          const tx = await client.contract.newProposal('put', { arguments: [key, `value-${key}`] }).endorse();
          const status = await (await tx.submit()).getStatus();
          if (status.successful) committed.set(key, tx.getTransactionId());
        } catch {
          // the network went away mid-call: this transaction's fate is unknown to the client
        }
      }
    });
    await waitFor(async () => expect(committed.size).to.be.greaterThan(150), 30_000, 20);
    await devnet.kill();
    stop = true;
    await Promise.all(writers);
    client.close();

    devnet = await startDevnet(['--endorsers', '1'], dataDir);
    client = gatewayClient(devnet);
    try {
      const height = Number((await (await client.contract.submitAsync('put', { arguments: ['after-restart', 'yes'] })).getStatus()).blockNumber) + 1;
      const replayed = verifyAndReplay(await readAllBlocks(client, height), devnet.chaincode);
      for (const key of committed.keys()) expect(replayed.get(key), key).to.equal(`value-${key}`);
      // State served by the restarted devnet equals the replay, key by key.
      const keys = [...replayed.keys()];
      const served = await Promise.all(keys.map(async (k) => utf8(await client.contract.evaluateTransaction('get', k))));
      expect(served).to.deep.equal(keys.map((k) => replayed.get(k)));
      expect(replayed.size).to.be.at.least(committed.size + 1);
    } finally {
      client.close();
    }
  });

  it('fails a transaction in flight when the chaincode process dies, and works again after its restart', async () => {
    devnet = await startDevnet();
    const client = gatewayClient(devnet);
    try {
      const pids = findPids(`--peer.address ${devnet.endpoint} --chaincode-id-name ${devnet.chaincode}:Org1MSP`);
      expect(pids).to.have.length(1);
      const pid = pids[0];
      const inFlight = client.contract.evaluateTransaction('sleep', '5000').then(
        () => undefined,
        (e: Error & { details?: { message: string }[] }) => e,
      );
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pid, 'SIGKILL');
      const err = await inFlight;
      expect(err, 'the in-flight transaction must fail').to.be.instanceOf(Error);
      expect(err!.details?.[0].message).to.contain('chaincode stream terminated');
      const next = await client.contract.submitTransaction('put', 'after-kill', '1').then(
        () => undefined,
        (e: Error & { details?: { message: string }[] }) => e,
      );
      expect(next, 'the next transaction must fail while the chaincode restarts').to.be.instanceOf(Error);
      expect(next!.details?.map((d) => d.message).join()).to.match(/not running|stream terminated/);
      await waitFor(() => client.contract.submitTransaction('put', 'after-kill', '2'), 20_000);
      expect(utf8(await client.contract.evaluateTransaction('get', 'after-kill'))).to.equal('2');
    } finally {
      client.close();
    }
  });
});
