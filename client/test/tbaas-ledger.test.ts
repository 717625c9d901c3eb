import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningDevnet, startDevnet, TbaasEmulator, writeClientFile } from '@trace/test-network';
import { ChainBlock, FabricGatewayLedger, identityFromFiles, InvocationBlock, LedgerError, ledgerFromConfig, loadTbaasConfig, TbaasConfig, TbaasError, TbaasLedger } from '../src';

const ORG1 = { secretId: 'AKIDorg1test0000000000000000000001', secretKey: 'org1-secret-key-never-printed', mspId: 'Org1MSP' };
const ORG2 = { secretId: 'AKIDorg2test0000000000000000000002', secretKey: 'org2-secret-key-never-printed', mspId: 'Org2MSP' };
const SECRETS = [ORG1.secretId, ORG1.secretKey, ORG2.secretId, ORG2.secretKey];
const ORG1Env = { TENCENTCLOUD_SECRET_ID: ORG1.secretId, TENCENTCLOUD_SECRET_KEY: ORG1.secretKey, TENCENTCLOUD_REGION: 'ap-guangzhou' };

/** The LedgerError code a call fails with ('resolved' if it does not fail). */
const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: LedgerError) => e.code);

async function failure(p: Promise<unknown>): Promise<TbaasError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected the call to fail').to.be.instanceOf(TbaasError);
  return e as TbaasError;
}

describe('TbaasLedger against the TBaaS emulator over a devnet', function () {
  this.timeout(120_000);
  let devnet: RunningDevnet;
  let emulator: TbaasEmulator;
  let gateway: FabricGatewayLedger;
  let config: TbaasConfig;
  let ledger: TbaasLedger;
  /** the same account with the access address: blocks and events over Deliver */
  let direct: TbaasLedger;
  const logs: object[] = [];
  const texts: string[] = [];
  const log = { warn: (o: object) => logs.push(o) };
  const tbaas = (over: Partial<TbaasConfig> = {}) => new TbaasLedger({ ...config, log, ...over });

  before(async () => {
    devnet = await startDevnet(['--block-timeout', '20']);
    emulator = new TbaasEmulator({ devnet: devnet, accounts: [ORG1, ORG2] });
    const endpoint = await emulator.start();
    config = { ...ORG1, region: 'ap-guangzhou', clusterId: emulator.clusterId, channelId: emulator.channelId, chaincodeName: devnet.chaincode, endpoint, protocol: 'http://', pollIntervalMs: 50, backoffMs: 50 };
    ledger = tbaas();
    const { file } = await writeClientFile(mkdtempSync(join(tmpdir(), 'tbaas-client-')), ORG1, emulator);
    direct = tbaas({ access: loadTbaasConfig(file, { ...ORG1Env, TBAAS_CLUSTER_ID: 'c', TBAAS_CHANNEL_ID: 'c', TBAAS_CHAINCODE_NAME: 'c' }).access });
    const user = devnet.user('Org1MSP', 'User1');
    gateway = FabricGatewayLedger.connect({ endpoint: devnet.endpoint, channel: devnet.channel, chaincode: devnet.chaincode, identity: identityFromFiles('Org1MSP', user.certPath, user.keyPath) });
  });

  after(async () => {
    ledger?.close();
    direct?.close();
    gateway?.close();
    await emulator?.stop();
    await devnet?.stop();
  });

  it('submits (InvokeFabricChaincode, waiting for the commit) and evaluates (QueryFabricChaincode) as the account org', async () => {
    const r = await ledger.submit('readWrite', 'k', 'v1');
    expect(r.transactionId).to.match(/^[0-9a-f]{64}$/);
    expect(r.blockNumber > 0n).to.equal(true);
    expect(Buffer.from(await ledger.evaluate('get', 'k')).toString()).to.equal('v1');
    expect(Buffer.from(await gateway.evaluate('get', 'k')).toString()).to.equal('v1');
    const who = JSON.parse(Buffer.from(await ledger.evaluate('whoami')).toString()) as { mspId: string };
    expect(who.mspId).to.equal('Org1MSP');
  });

  it('reads invocation records from DescribeFabricBlock + DescribeFabricTransaction: the call, its arguments, status, sender and block', async () => {
    const r = await ledger.submit('put', 'inv', 'ä value');
    const block = await ledger.invocationBlock(r.blockNumber);
    expect(block.number).to.equal(r.blockNumber);
    expect(block.invocations.find((i) => i.transactionId === r.transactionId)).to.deep.include({
      blockNumber: r.blockNumber,
      chaincodeName: devnet.chaincode,
      function: 'put',
      args: ['inv', 'ä value'],
      status: 'VALID',
      sender: 'Org1MSP',
    });
    // the genesis block's config transaction carries no invocation
    const genesis = await ledger.invocationBlock(0n);
    expect([genesis.txCount, genesis.invocations]).to.deep.equal([1, []]);
    const stream = await ledger.invocations(r.blockNumber);
    const seen: InvocationBlock[] = [];
    for await (const b of stream) {
      seen.push(b);
      break;
    }
    stream.close();
    expect(seen[0]).to.deep.equal(block);
  });

  it('refuses a TransactionData that is not the documented JSON (ERR_TBAAS_FORMAT) and answers that do not match their block (ERR_INTEGRITY)', async () => {
    const r = await ledger.submit('put', 'fmt', 'v');
    const rewrite = (action: string, field: string, value: unknown) => (emulator.rewrite = (a, res) => (a === action ? { ...res, [field]: value } : res));
    try {
      for (const text of ['not json', '{"payload":"AAAA","signature":""}', '{"chaincode_spec":{"input":{"args":[1]}}}']) {
        rewrite('DescribeFabricTransaction', 'TransactionData', Buffer.from(text).toString('base64'));
        expect(await codeOf(ledger.invocationBlock(r.blockNumber)), text).to.equal('ERR_TBAAS_FORMAT');
      }
      rewrite('DescribeFabricBlock', 'TxCount', 7);
      expect(await codeOf(ledger.invocationBlock(r.blockNumber))).to.equal('ERR_INTEGRITY');
      rewrite('DescribeFabricTransaction', 'BlockHeight', Number(r.blockNumber) + 1);
      expect(await codeOf(ledger.invocationBlock(r.blockNumber))).to.equal('ERR_INTEGRITY');
    } finally {
      emulator.rewrite = undefined;
    }
    expect((await ledger.invocationBlock(r.blockNumber)).invocations.map((i) => i.function)).to.deep.equal(['put']);
  });

  it('has no blocks or events without the access address (ERR_DIRECT_REQUIRED), and refuses incomplete access settings (ERR_CONFIG)', async () => {
    expect(await codeOf(ledger.blocks(0n))).to.equal('ERR_DIRECT_REQUIRED');
    expect(await codeOf(ledger.chaincodeEvents())).to.equal('ERR_DIRECT_REQUIRED');
    expect(ledger.hasDirectAccess).to.equal(false);
    const dir = mkdtempSync(join(tmpdir(), 'tbaas-access-'));
    const file = join(dir, 'tbaas.json');
    writeFileSync(file, JSON.stringify({ type: 'tbaas', access: { endpoint: 'x:1', channel: 'c' } }));
    const e = (() => {
      try {
        loadTbaasConfig(file, { ...ORG1Env, TBAAS_CLUSTER_ID: 'c', TBAAS_CHANNEL_ID: 'c', TBAAS_CHAINCODE_NAME: 'c' });
      } catch (err) {
        return err as LedgerError;
      }
    })();
    expect([e?.code, e?.message]).to.deep.equal(['ERR_CONFIG', `TBaaS access settings lack mspId, tlsCaCertPath, signCertPath, signKeyPath, tlsCertPath, tlsKeyPath (file ${file})`]);
  });

  it('delivers blocks over the access address (Deliver, mutual TLS) exactly as the gateway does', async () => {
    await ledger.submit('emit', 'e1', 'fixture.Emitted', '{"n":1}');
    const height = await ledger.height();
    const read = async (l: { blocks(s: bigint): Promise<AsyncIterable<ChainBlock> & { close(): void }> }) => {
      const out: ChainBlock[] = [];
      const s = await l.blocks(0n);
      for await (const b of s) {
        out.push(b);
        if (b.number + 1n === height) break;
      }
      s.close();
      return out;
    };
    const viaTbaas = await read(direct);
    expect(viaTbaas.map((b) => b.number)).to.deep.equal([...Array(Number(height)).keys()].map(BigInt));
    expect(viaTbaas).to.deep.equal(await read(gateway));
    expect(viaTbaas.at(-1)!.transactions[0].event?.name).to.equal('fixture.Emitted');
  });

  it('streams chaincode events from a checkpoint, resuming after the last processed transaction', async () => {
    const a = await ledger.submit('emit', 'e2', 'fixture.A', 'a');
    const b = await ledger.submit('emit', 'e3', 'fixture.B', 'b');
    const events = await direct.chaincodeEvents({ blockNumber: a.blockNumber, transactionId: a.transactionId });
    for await (const e of events) {
      expect([e.transactionId, e.eventName, Buffer.from(e.payload).toString()]).to.deep.equal([b.transactionId, 'fixture.B', 'b']);
      break;
    }
    events.close();
  });

  it('gives a chaincode error the same LedgerError code as the gateway, with the TBaaS code and RequestId, and changes nothing', async () => {
    const viaGateway = (await gateway.submit('fail', '[ERR_CONFLICT] already there').catch((e: unknown) => e)) as LedgerError;
    const e = await failure(ledger.submit('fail', '[ERR_CONFLICT] already there'));
    expect([e.code, e.message]).to.deep.equal([viaGateway.code, viaGateway.message]);
    expect(e.code).to.equal('ERR_CONFLICT');
    expect(e.tencentCode).to.equal('FailedOperation');
    expect(e.requestId).to.match(/^[0-9a-f-]{36}$/);
    const q = await failure(ledger.evaluate('fail', '[ERR_NOT_FOUND] nothing'));
    expect([q.code, q.message]).to.deep.equal(['ERR_NOT_FOUND', 'nothing']);
    expect(Buffer.from(await ledger.evaluate('get', 'k')).toString()).to.equal('v1');
    texts.push(e.message, String(e.stack), q.message);
  });

  it('rejects a wrong SecretKey (SignatureFailure), an unknown SecretId and an expired timestamp, changing nothing', async () => {
    const wrong = await failure(tbaas({ secretKey: 'not-the-key' }).submit('put', 'k', 'bad'));
    expect([wrong.code, wrong.tencentCode]).to.deep.equal(['ERR_AUTH', 'AuthFailure.SignatureFailure']);
    expect(wrong.requestId).to.not.equal('');
    const unknown = await failure(tbaas({ secretId: 'AKIDunknown', secretKey: 'whatever' }).submit('put', 'k', 'bad'));
    expect(unknown.tencentCode).to.equal('AuthFailure.SecretIdNotFound');
    emulator.clockOffsetMs = 6 * 60_000;
    const expired = await failure(ledger.submit('put', 'k', 'bad'));
    emulator.clockOffsetMs = 0;
    expect([expired.code, expired.tencentCode]).to.deep.equal(['ERR_AUTH', 'AuthFailure.SignatureExpire']);
    expect(Buffer.from(await ledger.evaluate('get', 'k')).toString()).to.equal('v1');
    texts.push(...[wrong, unknown, expired].flatMap((x) => [x.message, String(x.stack), JSON.stringify(x)]));
  });

  it('answers an unknown action, cluster, channel, chaincode, block and transaction with their Tencent codes', async () => {
    const action = await failure(ledger.api.call('DescribeFabricPeers', { ClusterId: config.clusterId, ChannelId: config.channelId }));
    expect([action.code, action.tencentCode]).to.deep.equal(['ERR_TBAAS_REQUEST', 'InvalidAction']);
    const cluster = await failure(tbaas({ clusterId: 'fabric-nope' }).evaluate('get', 'k'));
    expect([cluster.code, cluster.tencentCode]).to.deep.equal(['ERR_TBAAS_NOT_FOUND', 'ResourceNotFound']);
    expect((await failure(tbaas({ channelId: 'channel-nope' }).evaluate('get', 'k'))).tencentCode).to.equal('ResourceNotFound');
    expect((await failure(tbaas({ chaincodeName: 'nope' }).evaluate('get', 'k'))).tencentCode).to.equal('ResourceNotFound');
    expect((await failure(ledger.invocationBlock(1_000_000n))).tencentCode).to.equal('ResourceNotFound');
    expect((await failure(ledger.api.call('DescribeFabricTransaction', { ClusterId: config.clusterId, ChannelId: config.channelId, TxId: 'ab'.repeat(32) }))).tencentCode).to.equal('ResourceNotFound');
    const bad = await failure(ledger.api.call('DescribeFabricBlock', { ClusterId: config.clusterId, ChannelId: config.channelId, BlockHeight: -1 }));
    expect([bad.code, bad.tencentCode]).to.deep.equal(['ERR_TBAAS_REQUEST', 'InvalidParameter']);
  });

  it('throttles a burst over 20 requests/s per SecretId; retries then get through; with the client-side limit the burst succeeds', async () => {
    const org2 = { ...config, ...ORG2 };
    const unlimited = tbaas({ ...org2, rateLimit: false, maxRetries: 0 });
    // answered from the emulator's memory, so the burst arrives within the second even on a busy machine
    const burst = await Promise.allSettled(Array.from({ length: 60 }, () => unlimited.api.call('DescribeFabricBlock', { ClusterId: config.clusterId, ChannelId: config.channelId, BlockHeight: 0 })));
    const throttled = burst.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as TbaasError);
    expect(throttled.length).to.be.greaterThan(0);
    expect(throttled.every((e) => e.tencentCode === 'RequestLimitExceeded' && e.code === 'ERR_THROTTLED')).to.equal(true);
    await new Promise((r) => setTimeout(r, 1100));
    logs.length = 0;
    const retried = await Promise.all(Array.from({ length: 30 }, () => tbaas({ ...org2, rateLimit: false, maxRetries: 8 }).api.call<{ BlockHeight: number }>('DescribeFabricBlock', { ClusterId: config.clusterId, ChannelId: config.channelId, BlockHeight: 0 })));
    expect(retried.map((b) => b.BlockHeight)).to.deep.equal(Array(30).fill(0));
    expect(logs.some((l) => (l as { tencentCode: string }).tencentCode === 'RequestLimitExceeded')).to.equal(true);
    texts.push(JSON.stringify(logs));
    await new Promise((r) => setTimeout(r, 1100));
    const limited = tbaas(org2);
    const start = Date.now();
    const all = await Promise.all(Array.from({ length: 40 }, () => limited.evaluate('get', 'k')));
    expect(all.map((b) => Buffer.from(b).toString())).to.deep.equal(Array(40).fill('v1'));
    expect(Date.now() - start).to.be.greaterThan(900);
  });

  it('retries a 5xx with backoff and succeeds transparently, logging the retry without credentials', async () => {
    logs.length = 0;
    const before = emulator.requests;
    emulator.failNext(2, 502);
    expect(Buffer.from(await ledger.evaluate('get', 'k')).toString()).to.equal('v1');
    expect(emulator.requests - before).to.equal(3);
    expect(logs.map((l) => (l as { httpStatus: number }).httpStatus)).to.deep.equal([502, 502]);
    emulator.failNext(10, 503);
    const gaveUp = await failure(tbaas({ maxRetries: 2 }).evaluate('get', 'k'));
    expect([gaveUp.code, gaveUp.httpStatus]).to.deep.equal(['ERR_UNAVAILABLE', 503]);
    emulator.failNext(0);
    texts.push(gaveUp.message, JSON.stringify(logs));
  });

  it('close() ends a call that is waiting out retries at once (ERR_CLOSED) and refuses new calls', async () => {
    emulator.failNext(100, 503);
    const own = tbaas({ maxRetries: 5 });
    const started = Date.now();
    const waiting = failure(own.evaluate('get', 'k'));
    await new Promise((r) => setTimeout(r, 300));
    own.close();
    const closed = await waiting;
    expect([closed.code, Date.now() - started < 2000]).to.deep.equal(['ERR_CLOSED', true]);
    expect((await failure(own.evaluate('get', 'k'))).code).to.equal('ERR_CLOSED');
    emulator.failNext(0);
  });

  it('does not resend a submit after a 5xx (it may have run): the caller gets ERR_OUTCOME_UNKNOWN', async () => {
    const before = emulator.requests;
    emulator.failNext(1, 502);
    const unknown = await failure(ledger.submit('put', 'k5xx', 'v'));
    expect([unknown.code, emulator.requests - before]).to.deep.equal(['ERR_OUTCOME_UNKNOWN', 1]);
    emulator.failNext(0);
  });

  it('a submit that committed but whose block lookup fails is ERR_OUTCOME_UNKNOWN with its transaction id, never a failure to resend', async () => {
    const own = tbaas({ maxRetries: 1 });
    emulator.failNext(2, 503, 'DescribeFabricTransaction');
    const unknown = (await own.submit('put', 'k-lookup', 'v1').then(
      () => undefined,
      (e: LedgerError) => e,
    ))!;
    emulator.failNext(0);
    expect(unknown.code).to.equal('ERR_OUTCOME_UNKNOWN');
    expect(unknown.message).to.match(/committed VALID but its block could not be read/);
    texts.push(unknown.message);
    // it did commit, once, under the transaction id the error names
    const history = JSON.parse(Buffer.from(await ledger.evaluate('history', 'k-lookup')).toString()) as { txId: string; value: string }[];
    expect(history.map((h) => [h.txId, h.value])).to.deep.equal([[unknown.details.transactionId, 'v1']]);
    own.close();
  });

  it('close() while a submit is in flight: ERR_OUTCOME_UNKNOWN at once (it may still commit), not ERR_CLOSED', async () => {
    const own = tbaas();
    const before = emulator.requests;
    const started = Date.now();
    // a transaction that runs for 3 s in the chaincode, so the close lands while it is in flight
    const inFlight = failure(own.submit('sleep', '3000'));
    for (let i = 0; i < 200 && emulator.requests === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(emulator.requests, 'the submit reached the cloud API').to.be.greaterThan(before);
    own.close();
    const e = await inFlight;
    expect([e.code, Date.now() - started < 2500]).to.deep.equal(['ERR_OUTCOME_UNKNOWN', true]);
  });

  it('a throttled submit is retried (the cloud refused it before running it) and commits exactly once', async () => {
    logs.length = 0;
    const before = emulator.requests;
    emulator.throttleNext(3, 'InvokeFabricChaincode');
    const submitter = tbaas({ rateLimit: false, maxRetries: 8 });
    const r = await submitter.submit('put', 'k-throttled', 'once');
    const retries = logs.filter((l) => (l as { action: string }).action === 'InvokeFabricChaincode') as { tencentCode: string }[];
    expect(retries.map((l) => l.tencentCode)).to.deep.equal(Array(3).fill('RequestLimitExceeded'));
    // three refusals, the invocation, the block lookup
    expect(emulator.requests - before).to.equal(5);
    const history = JSON.parse(Buffer.from(await ledger.evaluate('history', 'k-throttled')).toString()) as { txId: string }[];
    expect(history.map((h) => h.txId)).to.deep.equal([r.transactionId]);
    submitter.close();
  });

  it('never puts a credential in an error message or a log line', () => {
    const all = texts.join('\n');
    expect(all.length).to.be.greaterThan(100);
    for (const s of SECRETS) expect(all).to.not.include(s);
  });

  it('reads its configuration from a file and the environment, and is chosen by ledgerFromConfig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tbaas-config-'));
    const file = join(dir, 'tbaas.json');
    writeFileSync(file, JSON.stringify({ type: 'tbaas', region: config.region, clusterId: config.clusterId, channelId: config.channelId, chaincodeName: config.chaincodeName, endpoint: config.endpoint, protocol: 'http://' }));
    const env = { TENCENTCLOUD_SECRET_ID: ORG1.secretId, TENCENTCLOUD_SECRET_KEY: ORG1.secretKey, TBAAS_CHANNEL_ID: 'channel-from-env' };
    expect(loadTbaasConfig(file, env)).to.include({ secretId: ORG1.secretId, channelId: 'channel-from-env', clusterId: config.clusterId });
    const missing = (() => {
      try {
        loadTbaasConfig(file, {});
      } catch (e) {
        return e as LedgerError;
      }
    })();
    expect([missing?.code, missing?.message]).to.deep.equal(['ERR_CONFIG', `TBaaS configuration lacks secretId, secretKey (file ${file} and environment)`]);
    writeFileSync(file, JSON.stringify({ ...config, type: 'tbaas', log: undefined }));
    const fromFile = ledgerFromConfig(file);
    expect(fromFile).to.be.instanceOf(TbaasLedger);
    expect(Buffer.from(await fromFile.evaluate('get', 'k')).toString()).to.equal('v1');
    fromFile.close();
  });
});
