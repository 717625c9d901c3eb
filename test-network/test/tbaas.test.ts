import { expect } from 'chai';
import { createHash, createHmac } from 'node:crypto';
import { RunningDevnet, startDevnet, TbaasEmulator, tc3Signature, verifyTc3 } from '../src';

const SECRET_ID = 'AKIDemulatortest000000000000000000';
const SECRET_KEY = 'emulator-test-key';
const keyOf = (id: string) => (id === SECRET_ID ? SECRET_KEY : undefined);

/** Headers of a TC3-signed POST, built here from the public algorithm (not the client SDK). */
function signed(body: string, opts: { host?: string; action?: string; timestamp?: number; service?: string; date?: string; key?: string; signedHeaders?: string } = {}) {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const date = opts.date ?? new Date(Number(timestamp) * 1000).toISOString().slice(0, 10);
  const host = opts.host ?? 'tbaas.tencentcloudapi.com';
  const service = opts.service ?? 'tbaas';
  const signature = tc3Signature(opts.key ?? SECRET_KEY, { date, service, timestamp, contentType: 'application/json', host: host.replace(/:\d+$/, ''), body: Buffer.from(body) });
  return {
    authorization: `TC3-HMAC-SHA256 Credential=${SECRET_ID}/${date}/${service}/tc3_request, SignedHeaders=${opts.signedHeaders ?? 'content-type;host'}, Signature=${signature}`,
    'content-type': 'application/json',
    host,
    'x-tc-action': opts.action ?? 'DescribeFabricBlock',
    'x-tc-timestamp': timestamp,
    'x-tc-version': '2018-04-16',
    'x-tc-region': 'ap-guangzhou',
  };
}

describe('TBaaS emulator: TC3-HMAC-SHA256 verification', () => {
  const body = '{"ClusterId":"fabric-devnet","ChannelId":"channel-mychannel","BlockHeight":0}';
  const now = Date.now();
  const code = (h: Record<string, string>, b = body, at = now) => {
    const r = verifyTc3(h, Buffer.from(b), keyOf, at);
    return 'code' in r ? r.code : r.secretId;
  };

  it('accepts a correct signature, with the host signed without its port', () => {
    expect(code(signed(body))).to.equal(SECRET_ID);
    expect(code(signed(body, { host: 'tbaas.tencentcloudapi.com:8443' }))).to.equal(SECRET_ID);
  });

  it('rejects a tampered body, another key, another service or date in the scope, and other signed headers', () => {
    expect(code(signed(body), body.replace('0}', '1}'))).to.equal('AuthFailure.SignatureFailure');
    expect(code(signed(body, { key: 'other' }))).to.equal('AuthFailure.SignatureFailure');
    expect(code(signed(body, { service: 'cvm' }))).to.equal('AuthFailure.SignatureFailure');
    expect(code(signed(body, { date: '2020-01-01' }))).to.equal('AuthFailure.SignatureFailure');
    expect(code(signed(body, { signedHeaders: 'content-type;host;x-tc-action' }))).to.equal('AuthFailure.SignatureFailure');
    expect(code({ ...signed(body), host: 'cvm.tencentcloudapi.com' })).to.equal('AuthFailure.SignatureFailure');
  });

  it('rejects timestamps more than 5 minutes off, unknown SecretIds and malformed authorizations', () => {
    expect(code(signed(body, { timestamp: Math.floor(now / 1000) - 301 }))).to.equal('AuthFailure.SignatureExpire');
    expect(code(signed(body, { timestamp: Math.floor(now / 1000) + 301 }))).to.equal('AuthFailure.SignatureExpire');
    expect(code(signed(body, { timestamp: Math.floor(now / 1000) - 299 }))).to.equal(SECRET_ID);
    expect(code({ ...signed(body), authorization: signed(body).authorization.replace(SECRET_ID, 'AKIDnobody') })).to.equal('AuthFailure.SecretIdNotFound');
    expect(code({ ...signed(body), authorization: 'Bearer x' })).to.equal('AuthFailure.InvalidAuthorization');
  });

  it('matches the canonical request of the TC3 documentation', () => {
    // Rebuilt by hand: the signature is the HMAC chain over exactly this string to sign.
    const canonical = ['POST', '/', '', 'content-type:application/json\nhost:tbaas.tencentcloudapi.com\n', 'content-type;host', createHash('sha256').update(body).digest('hex')].join('\n');
    const h = signed(body, { timestamp: 1_700_000_000 });
    const stringToSign = ['TC3-HMAC-SHA256', '1700000000', '2023-11-14/tbaas/tc3_request', createHash('sha256').update(canonical).digest('hex')].join('\n');
    const k = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();
    const expected = createHmac('sha256', k(k(k(`TC3${SECRET_KEY}`, '2023-11-14'), 'tbaas'), 'tc3_request')).update(stringToSign).digest('hex');
    expect(h.authorization.endsWith(`Signature=${expected}`)).to.equal(true);
  });
});

describe('TBaaS emulator over a devnet: envelopes', function () {
  this.timeout(60_000);
  let devnet: RunningDevnet;
  let emulator: TbaasEmulator;
  let url: string;
  let host: string;

  before(async () => {
    devnet = await startDevnet();
    emulator = new TbaasEmulator({ devnet: devnet, accounts: [{ secretId: SECRET_ID, secretKey: SECRET_KEY, mspId: 'Org1MSP' }] });
    host = await emulator.start();
    url = `http://${host}/`;
  });

  after(async () => {
    await emulator?.stop();
    await devnet?.stop();
  });

  const post = async (payload: object | string, opts: Parameters<typeof signed>[1] = {}) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const res = await fetch(url, { method: 'POST', headers: signed(body, { host, service: host.split('.')[0], ...opts }), body });
    return { status: res.status, json: (await res.json()) as { Response: Record<string, unknown> & { RequestId: string; Error?: { Code: string; Message: string } } } };
  };
  const target = () => ({ ClusterId: emulator.clusterId, ChannelId: emulator.channelId });

  it('answers with the success envelope and a RequestId', async () => {
    const r = await post({ ...target(), BlockHeight: 0 });
    expect(r.status).to.equal(200);
    expect(r.json.Response.Error).to.equal(undefined);
    expect(r.json.Response.BlockHeight).to.equal(0);
    expect(r.json.Response.BlockHash).to.match(/^[0-9a-f]{64}$/);
    expect(r.json.Response.RequestId).to.match(/^[0-9a-f-]{36}$/);
  });

  it('answers every rejection with HTTP 200 and Response.Error, and a fault with the injected status', async () => {
    const cases: [object | string, Parameters<typeof signed>[1], string][] = [
      [{ ...target(), BlockHeight: 0 }, { key: 'wrong' }, 'AuthFailure.SignatureFailure'],
      [{ ...target(), BlockHeight: 0 }, { action: 'CreateCluster' }, 'InvalidAction'],
      [{ ...target(), BlockHeight: 'x' }, {}, 'InvalidParameter'],
      ['not json', {}, 'InvalidParameter'],
      [{ ...target(), ClusterId: 'fabric-x', BlockHeight: 0 }, {}, 'ResourceNotFound'],
      [{ ...target(), TxId: 'ab' }, { action: 'DescribeFabricTransaction' }, 'ResourceNotFound'],
      [{ ...target(), ChaincodeName: devnet.chaincode, FuncName: 'fail', FuncParam: ['[ERR_STATE] no'] }, { action: 'QueryFabricChaincode' }, 'FailedOperation'],
      [{ ...target(), ChaincodeName: devnet.chaincode, FuncName: 'put', FuncParam: [1] }, { action: 'InvokeFabricChaincode' }, 'InvalidParameter'],
    ];
    for (const [payload, opts, expected] of cases) {
      const r = await post(payload, opts);
      expect([r.status, r.json.Response.Error?.Code], `${expected} ${JSON.stringify(payload)}`).to.deep.equal([200, expected]);
      expect(r.json.Response.RequestId).to.be.a('string');
    }
    emulator.failNext(1, 500);
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).to.equal(500);
  });

  it('answers DescribeFabricBlock and DescribeFabricTransaction with exactly the documented fields, TransactionData the proto JSON of the invocation spec', async () => {
    const r = await post({ ...target(), ChaincodeName: devnet.chaincode, FuncName: 'put', FuncParam: ['doc-key', 'doc-value'] }, { action: 'InvokeFabricChaincode' });
    const txId = r.json.Response.TxId as string;
    expect(r.json.Response.TxStatus).to.equal('VALID');
    const tx = (await post({ ...target(), TxId: txId }, { action: 'DescribeFabricTransaction' })).json.Response;
    expect(Object.keys(tx).sort()).to.deep.equal(['BlockHeight', 'ChaincodeName', 'CreateTime', 'JoinOrgList', 'RequestId', 'Sender', 'TransactionData', 'TxHash', 'TxId', 'TxStatus']);
    expect(tx).to.deep.include({ TxId: txId, TxStatus: 'VALID', Sender: 'Org1MSP', ChaincodeName: devnet.chaincode });
    expect(tx.TxHash).to.match(/^[0-9a-f]{64}$/);
    expect(tx.CreateTime).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect((tx.JoinOrgList as string[]).length).to.be.greaterThan(0);
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    expect(JSON.parse(Buffer.from(tx.TransactionData as string, 'base64').toString('utf8'))).to.deep.equal({
      chaincode_spec: { type: 'NODE', chaincode_id: { name: devnet.chaincode }, input: { args: [b64('put'), b64('doc-key'), b64('doc-value')], decorations: {}, is_init: false }, timeout: 0 },
    });
    const block = (await post({ ...target(), BlockHeight: tx.BlockHeight })).json.Response;
    expect(Object.keys(block).sort()).to.deep.equal(['BlockHash', 'BlockHeight', 'CreateTimestamp', 'PreBlockHash', 'ProposerOrg', 'RequestId', 'TransactionList', 'TxCount']);
    const list = block.TransactionList as Record<string, unknown>[];
    expect(block.TxCount).to.equal(list.length);
    expect(Object.keys(list[0]).sort()).to.deep.equal(['BlockHeight', 'ChaincodeName', 'CreateTime', 'Sender', 'TxId', 'TxIndex']);
    expect(list.find((t) => t.TxId === txId)).to.deep.include({ BlockHeight: tx.BlockHeight, Sender: 'Org1MSP', ChaincodeName: devnet.chaincode });
    // the genesis block's config transaction has no invocation spec
    const genesis = (await post({ ...target(), BlockHeight: 0 })).json.Response;
    const config = (await post({ ...target(), TxId: (genesis.TransactionList as { TxId: string }[])[0].TxId }, { action: 'DescribeFabricTransaction' })).json.Response;
    expect([config.ChaincodeName, Buffer.from(config.TransactionData as string, 'base64').toString()]).to.deep.equal(['', '{}']);
  });
});
