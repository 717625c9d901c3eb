import { expect } from 'chai';
import { peer } from '@hyperledger/fabric-protos';
import { Client, gatewayClient, RunningDevnet, startDevnet, utf8 } from './support/devnet-process';

const Code = peer.TxValidationCode;

describe('devnet validation (blocks cut every 300 ms so concurrent submits share a block)', () => {
  let devnet: RunningDevnet;
  let org1: Client;
  let org2: Client;

  before(async () => {
    devnet = await startDevnet(['--block-timeout', '300', '--block-size', '100']);
    org1 = gatewayClient(devnet);
    org2 = gatewayClient(devnet, { mspId: 'Org2MSP' });
  });

  after(async () => {
    org1?.close();
    org2?.close();
    await devnet?.stop();
  });

  it('commits one of two read-write transactions on the same key and marks the other MVCC_READ_CONFLICT', async () => {
    await org1.contract.submitTransaction('put', 'counter', '0');
    // Both endorsed against the same committed version, then ordered into one block.
    const a = await org1.contract.newProposal('readWrite', { arguments: ['counter', 'from-a'] }).endorse();
    const b = await org2.contract.newProposal('readWrite', { arguments: ['counter', 'from-b'] }).endorse();
    const [ca, cb] = [await a.submit(), await b.submit()];
    const [sa, sb] = await Promise.all([ca.getStatus(), cb.getStatus()]);
    expect(sa.blockNumber).to.equal(sb.blockNumber);
    expect(sa.code).to.equal(Code.VALID);
    expect(sb.code).to.equal(Code.MVCC_READ_CONFLICT);
    expect(utf8(await org1.contract.evaluateTransaction('get', 'counter'))).to.equal('from-a');
  });

  it('marks a range read PHANTOM_READ_CONFLICT when an earlier transaction in the block inserts into the range', async () => {
    await org1.contract.submitTransaction('put', 'range/1', 'x');
    await org1.contract.submitTransaction('put', 'range/3', 'x');
    const reader = await org1.contract.newProposal('countRange', { arguments: ['range/', 'range/~', 'range-count'] }).endorse();
    expect(utf8(reader.getResult())).to.equal('2');
    const inserter = await org2.contract.newProposal('put', { arguments: ['range/2', 'x'] }).endorse();
    const ci = await inserter.submit();
    const cr = await reader.submit();
    const [si, sr] = await Promise.all([ci.getStatus(), cr.getStatus()]);
    expect(si.blockNumber).to.equal(sr.blockNumber);
    expect(si.code).to.equal(Code.VALID);
    expect(sr.code).to.equal(Code.PHANTOM_READ_CONFLICT);
    expect(utf8(await org1.contract.evaluateTransaction('get', 'range-count'))).to.equal('');
  });

  it('marks a range read PHANTOM_READ_CONFLICT when a committed block changed the range after simulation', async () => {
    const reader = await org1.contract.newProposal('countRange', { arguments: ['range/', 'range/~', 'range-count'] }).endorse();
    await org2.contract.submitTransaction('del', 'range/1');
    const status = await (await reader.submit()).getStatus();
    expect(status.code).to.equal(Code.PHANTOM_READ_CONFLICT);
  });

  it('rejects a resubmitted transaction as DUPLICATE_TXID', async () => {
    const tx = await org1.contract.newProposal('put', { arguments: ['dup', '1'] }).endorse();
    const first = await (await tx.submit()).getStatus();
    expect(first.code).to.equal(Code.VALID);
    // The same signed envelope again: the orderer takes it, the committer refuses it.
    const again = await tx.submit();
    const status = await again.getStatus();
    expect(status.code).to.equal(Code.VALID); // CommitStatus reports the first occurrence, as Fabric does
    const blocks = await org1.network.getBlockEvents({ startBlock: first.blockNumber + 1n });
    try {
      let duplicates = 0;
      for await (const block of blocks) {
        const filter = block.getMetadata()!.getMetadataList_asU8()[2];
        duplicates += Array.from(filter).filter((c) => c === Code.DUPLICATE_TXID).length;
        if (duplicates > 0) break;
      }
      expect(duplicates).to.equal(1);
    } finally {
      blocks.close();
    }
  });
});

describe('devnet with one endorser', () => {
  let devnet: RunningDevnet;
  let org1: Client;

  before(async () => {
    devnet = await startDevnet(['--endorsers', '1']);
    org1 = gatewayClient(devnet);
  });

  after(async () => {
    org1?.close();
    await devnet?.stop();
  });

  it('commits the non-deterministic transaction that two endorsers disagree on', async () => {
    const tx = await org1.contract.newProposal('wallClock', { arguments: ['clock'] }).endorse();
    const status = await (await tx.submit()).getStatus();
    expect(status.code).to.equal(Code.VALID);
    expect(utf8(await org1.contract.evaluateTransaction('get', 'clock'))).to.match(/^\d+-/);
  });
});
