import { expect } from 'chai';
import { startDevnet, RunningDevnet } from '@trace/test-network';
import * as grpc from '@grpc/grpc-js';
import { Checkpoint, ChainEvent, FabricGatewayLedger, grpcClient, identityFromFiles, LedgerError } from '../src';

describe('FabricGatewayLedger against the devnet', () => {
  let devnet: RunningDevnet;
  let ledger: FabricGatewayLedger;

  before(async () => {
    devnet = await startDevnet(['--block-timeout', '20']);
    const user = devnet.user('Org1MSP', 'User1');
    ledger = FabricGatewayLedger.connect({
      endpoint: devnet.endpoint,
      channel: devnet.channel,
      chaincode: devnet.chaincode,
      identity: identityFromFiles('Org1MSP', user.certPath, user.keyPath),
    });
  });

  after(async () => {
    ledger?.close();
    await devnet?.stop();
  });

  it('submits, waits for the commit and evaluates', async () => {
    const r = await ledger.submit('readWrite', 'k', 'v1');
    expect(r.transactionId).to.match(/^[0-9a-f]{64}$/);
    expect(r.blockNumber > 0n).to.equal(true);
    expect(Buffer.from(r.result).toString()).to.equal('');
    expect(Buffer.from(await ledger.evaluate('get', 'k')).toString()).to.equal('v1');
  });

  it('turns a chaincode [ERR_X] error into a LedgerError with that code and no state change', async () => {
    const err = await ledger.submit('fail', '[ERR_CONFLICT] already there').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LedgerError);
    expect((err as LedgerError).code).to.equal('ERR_CONFLICT');
    expect((err as LedgerError).message).to.equal('already there');
    const evalErr = await ledger.evaluate('fail', '[ERR_NOT_FOUND] nothing').catch((e: unknown) => e);
    expect((evalErr as LedgerError).code).to.equal('ERR_NOT_FOUND');
  });

  it('reports a non-deterministic transaction as ERR_ENDORSEMENT naming the key', async () => {
    const err = await ledger.submit('wallClock', 'clock').catch((e: unknown) => e);
    expect((err as LedgerError).code).to.equal('ERR_ENDORSEMENT');
    expect((err as LedgerError).message).to.contain('write of key "clock" differs');
  });

  it('reports a transaction that fails validation as ERR_COMMIT with its validation code', async () => {
    const user = devnet.user('Org1MSP', 'User1');
    const lonely = FabricGatewayLedger.connect({
      endpoint: devnet.endpoint,
      channel: devnet.channel,
      chaincode: devnet.chaincode,
      identity: identityFromFiles('Org1MSP', user.certPath, user.keyPath),
      endorsingOrganizations: ['Org1MSP'],
    });
    try {
      const err = (await lonely.submit('put', 'lonely', 'x').catch((e: unknown) => e)) as LedgerError;
      expect(err.code).to.equal('ERR_COMMIT');
      expect(err.details.validationCode).to.equal('ENDORSEMENT_POLICY_FAILURE');
      expect(Buffer.from(await ledger.evaluate('get', 'lonely')).toString()).to.equal('');
    } finally {
      lonely.close();
    }
  });

  it('streams chaincode events and blocks from a checkpoint the caller keeps', async () => {
    const start = (await ledger.submit('put', 'marker', 'x')).blockNumber;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await ledger.submit('emit', `e${i}`, 'made', `p${i}`)).transactionId);
    const got: ChainEvent[] = [];
    let checkpoint: Checkpoint = { blockNumber: start };
    for (const batch of [2, 4]) {
      const stream = await ledger.chaincodeEvents(checkpoint);
      for await (const ev of stream) {
        got.push(ev);
        checkpoint = { blockNumber: ev.blockNumber, transactionId: ev.transactionId };
        if (got.length >= (batch === 2 ? 2 : 6)) break;
      }
      stream.close();
    }
    expect(got.map((e) => e.transactionId)).to.deep.equal(ids);
    expect(Buffer.from(got[5].payload).toString()).to.equal('p5');

    const blocks = await ledger.blocks(start);
    const seen = [];
    for await (const b of blocks) {
      seen.push(b);
      if (seen.length === 3) break;
    }
    blocks.close();
    expect(seen[0].number).to.equal(start);
    expect(seen[1].previousHash).to.equal(seen[0].hash);
    expect(seen[1].transactions[0]).to.include({ validationCode: 'VALID', creatorMspId: 'Org1MSP', chaincodeName: devnet.chaincode });
    expect(seen[1].transactions[0].event?.name).to.equal('made');
  });

  it('once its block stream is live, learns commits from it: no CommitStatus call, the same outcomes', async () => {
    const user = devnet.user('Org1MSP', 'User1');
    const identity = identityFromFiles('Org1MSP', user.certPath, user.keyPath);
    // Counts the gateway's unary calls by method on connections of the test's own.
    const calls: string[] = [];
    const counted = () => {
      const client = grpcClient(devnet.endpoint);
      const unary = client.makeUnaryRequest.bind(client) as (...args: unknown[]) => grpc.ClientUnaryCall;
      client.makeUnaryRequest = ((method: string, ...rest: unknown[]) => (calls.push(method), unary(method, ...rest))) as typeof client.makeUnaryRequest;
      return client;
    };
    const statusCalls = () => calls.filter((m) => m.endsWith('/CommitStatus')).length;
    const opts = { endpoint: devnet.endpoint, channel: devnet.channel, chaincode: devnet.chaincode, identity };
    const watched = FabricGatewayLedger.connect({ ...opts, client: counted() });
    const lonely = FabricGatewayLedger.connect({ ...opts, client: counted(), endorsingOrganizations: ['Org1MSP'] });
    try {
      // The first submits ask with CommitStatus while the stream starts; later ones must not.
      let before = -1;
      for (let i = 0; i < 10 && before !== statusCalls(); i++) {
        before = statusCalls();
        await watched.submit('put', `w${i}`, 'x');
      }
      expect(statusCalls(), 'a submit without CommitStatus').to.equal(before);
      let last = 0n;
      for (let i = 0; i < 3; i++) {
        const r = await watched.submit('readWrite', `watched${i}`, `v${i}`);
        expect(r.blockNumber > last).to.equal(true);
        last = r.blockNumber;
        expect(Buffer.from(await watched.evaluate('get', `watched${i}`)).toString()).to.equal(`v${i}`);
      }
      expect(statusCalls()).to.equal(before);
      expect(calls.filter((m) => m.endsWith('/Submit')).length).to.be.greaterThan(3);

      // A transaction the committer marks invalid: ERR_COMMIT with its code, from the stream too.
      const first = (await lonely.submit('put', 'lonely2', 'x').catch((e: unknown) => e)) as LedgerError;
      expect(first.details.validationCode).to.equal('ENDORSEMENT_POLICY_FAILURE');
      await watched.submit('put', 'another block', 'x');
      let err: LedgerError | undefined;
      let fromStream = false;
      for (let i = 0; i < 5 && !fromStream; i++) {
        const n = statusCalls();
        err = (await lonely.submit('put', 'lonely2', 'x').catch((e: unknown) => e)) as LedgerError;
        fromStream = statusCalls() === n;
      }
      expect(fromStream, 'a failed commit learnt without CommitStatus').to.equal(true);
      expect(err!.code).to.equal('ERR_COMMIT');
      expect(err!.details.validationCode).to.equal('ENDORSEMENT_POLICY_FAILURE');
      expect(Buffer.from(await watched.evaluate('get', 'lonely2')).toString()).to.equal('');
    } finally {
      watched.close();
      lonely.close();
    }
  });
});
