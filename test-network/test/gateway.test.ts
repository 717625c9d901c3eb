import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { common, gateway as gpb, peer } from '@hyperledger/fabric-protos';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../src/devnet/crypto/ca';
import { loadPrivateKey, signMessage, toHighS } from '../src/devnet/crypto/ecdsa';
import { Client, gatewayClient, RunningDevnet, startDevnet, utf8 } from './support/devnet-process';

interface GatewayErr {
  name: string;
  code: number;
  message: string;
  details: { message: string; mspId: string }[];
}

async function rejection(p: Promise<unknown>): Promise<GatewayErr> {
  try {
    await p;
  } catch (e) {
    return e as GatewayErr;
  }
  throw new Error('expected a rejection');
}

describe('devnet gateway (official fabric-gateway client)', () => {
  let devnet: RunningDevnet;
  let org1: Client;

  before(async () => {
    devnet = await startDevnet(['--max-message-bytes', String(256 * 1024)]);
    org1 = gatewayClient(devnet);
  });

  after(async () => {
    org1?.close();
    await devnet?.stop();
  });

  it('submits and evaluates round trips, with the transaction id and block number', async () => {
    const proposal = org1.contract.newProposal('put', { arguments: ['greeting', 'nihao'] });
    const tx = await proposal.endorse();
    const commit = await tx.submit();
    const status = await commit.getStatus();
    expect(status.successful).to.equal(true);
    expect(status.transactionId).to.match(/^[0-9a-f]{64}$/);
    expect(status.blockNumber > 0n).to.equal(true);
    expect(utf8(await org1.contract.evaluateTransaction('get', 'greeting'))).to.equal('nihao');
    const org2 = gatewayClient(devnet, { mspId: 'Org2MSP' });
    try {
      expect(utf8(await org2.contract.evaluateTransaction('get', 'greeting'))).to.equal('nihao');
      const who = JSON.parse(utf8(await org2.contract.evaluateTransaction('whoami'))) as { mspId: string; id: string };
      expect(who.mspId).to.equal('Org2MSP');
      expect(who.id).to.contain('OU=client/CN=User1');
    } finally {
      org2.close();
    }
  });

  it('answers the system chaincodes’ queries (qscc, cscc, _lifecycle) through the gateway as a Fabric peer does', async () => {
    const qscc = org1.network.getContract('qscc');
    const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', devnet.channel));
    expect(info.getHeight()).to.be.greaterThan(1);
    const last = common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByNumber', devnet.channel, String(info.getHeight() - 1)));
    expect(last.getHeader()!.getNumber()).to.equal(info.getHeight() - 1);
    expect(Buffer.from(last.getHeader()!.getPreviousHash_asU8())).to.deep.equal(Buffer.from(info.getPreviousblockhash_asU8()));
    const beyond = await rejection(qscc.evaluateTransaction('GetBlockByNumber', devnet.channel, String(info.getHeight() + 5)));
    expect([beyond.code, beyond.details[0].message]).to.deep.equal([grpc.status.UNKNOWN, `Failed to get block number ${info.getHeight() + 5}, error entry not found in index`]);
    const otherChannel = await rejection(qscc.evaluateTransaction('GetChainInfo', 'nosuchchannel'));
    expect(otherChannel.details[0].message).to.contain("invalid channel ID: 'nosuchchannel'");

    const config = common.Config.deserializeBinary(await org1.network.getContract('cscc').evaluateTransaction('GetChannelConfig', devnet.channel));
    expect([...config.getChannelGroup()!.getGroupsMap().get('Application')!.getGroupsMap().keys()].sort()).to.deep.equal([...devnet.orgs].sort());

    const args = new peer.lifecycle.QueryChaincodeDefinitionArgs();
    args.setName(devnet.chaincode);
    const definition = peer.lifecycle.QueryChaincodeDefinitionResult.deserializeBinary(await org1.network.getContract('_lifecycle').evaluateTransaction('QueryChaincodeDefinition', args.serializeBinary()));
    expect([definition.getSequence(), definition.getEndorsementPlugin(), definition.getValidationPlugin()]).to.deep.equal([1, 'escc', 'vscc']);
    expect(peer.ApplicationPolicy.deserializeBinary(definition.getValidationParameter_asU8()).getSignaturePolicy()!.getIdentitiesList()).to.have.length(devnet.orgs.length);
    args.setName('nosuchcc');
    const undefinedCc = await rejection(org1.network.getContract('_lifecycle').evaluateTransaction('QueryChaincodeDefinition', args.serializeBinary()));
    expect(undefinedCc.details[0].message).to.equal('namespace nosuchcc is not defined');
  });

  it('keeps key history with transaction ids and timestamps, newest first', async () => {
    const first = await org1.contract.submitAsync('put', { arguments: ['h', 'one'] });
    await first.getStatus();
    await org1.contract.submitTransaction('del', 'h');
    await org1.contract.submitTransaction('put', 'h', 'three');
    const history = JSON.parse(utf8(await org1.contract.evaluateTransaction('history', 'h'))) as { txId: string; value: string; isDelete: boolean; seconds: number }[];
    expect(history.map((h) => [h.value, h.isDelete])).to.deep.equal([
      ['three', false],
      ['', true],
      ['one', false],
    ]);
    expect(history[2].txId).to.equal(first.getTransactionId());
    expect(history[0].seconds).to.be.closeTo(Date.now() / 1000, 120);
  });

  it('serves the contract metadata transaction', async () => {
    const meta = JSON.parse(utf8(await org1.contract.evaluateTransaction('org.hyperledger.fabric:GetMetadata'))) as {
      contracts: Record<string, { transactions: { name: string }[] }>;
    };
    const names = meta.contracts.fixture.transactions.map((t) => t.name);
    expect(names).to.include.members(['get', 'put', 'readWrite', 'wallClock']);
  });

  it('reports a chaincode error to the client as an endorsement error with its message', async () => {
    const err = await rejection(org1.contract.submitTransaction('fail', '[ERR_STATE] lot is closed'));
    expect(err.name).to.equal('EndorseError');
    expect(err.code).to.equal(grpc.status.ABORTED);
    expect(err.details[0].message).to.equal('chaincode response 500, [ERR_STATE] lot is closed');
    const evalErr = await rejection(org1.contract.evaluateTransaction('fail', 'plain failure'));
    expect(evalErr.code).to.equal(grpc.status.UNKNOWN);
    expect(evalErr.message).to.contain('chaincode response 500, plain failure');
  });

  it('catches non-deterministic chaincode under the default policy and names the differing key', async () => {
    const err = await rejection(org1.contract.submitTransaction('wallClock', 'clock'));
    expect(err.name).to.equal('EndorseError');
    expect(err.code).to.equal(grpc.status.ABORTED);
    expect(err.message).to.contain('failed to collect enough transaction endorsements');
    expect(err.details.map((d) => d.message).join('\n')).to.match(/ProposalResponsePayloads do not match.*write of key "clock" differs/);
    expect(utf8(await org1.contract.evaluateTransaction('get', 'clock'))).to.equal('');
  });

  it('marks a transaction endorsed by too few orgs ENDORSEMENT_POLICY_FAILURE and leaves state alone', async () => {
    const tx = await org1.contract.newProposal('put', { arguments: ['policy', 'x'], endorsingOrganizations: ['Org1MSP'] }).endorse();
    const status = await (await tx.submit()).getStatus();
    expect(status.code).to.equal(peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
    expect(utf8(await org1.contract.evaluateTransaction('get', 'policy'))).to.equal('');
  });

  describe('identity checks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rogue-ca-'));

    async function assertRejected(client: Client, key: string): Promise<void> {
      try {
        const err = await rejection(client.contract.submitTransaction('put', key, 'intruder'));
        expect(err.name).to.equal('EndorseError');
        expect(err.code).to.equal(grpc.status.ABORTED);
        expect(err.details[0].message).to.match(/access denied/);
        const evalErr = await rejection(client.contract.evaluateTransaction('get', key));
        expect(evalErr.code).to.equal(grpc.status.FAILED_PRECONDITION);
      } finally {
        client.close();
      }
      expect(utf8(await org1.contract.evaluateTransaction('get', key))).to.equal('');
    }

    it('rejects a certificate that no devnet CA issued, even under a known MSP id', async () => {
      const rogue = await CertificateAuthority.open(dir, 'Org1MSP', 'org1.example.com');
      const files = await rogue.issue('mallory', { ou: 'client' });
      const client = gatewayClient(devnet, { certPem: readFileSync(files.certPath), signer: async (m) => signMessage(loadPrivateKey(readFileSync(files.keyPath)), m) });
      await assertRejected(client, 'rogue');
    });

    it('rejects an identity of an MSP that is not on the channel', async () => {
      const stranger = await CertificateAuthority.open(join(dir, 'stranger'), 'StrangerMSP', 'stranger.example.com');
      const files = await stranger.issue('eve', { ou: 'client' });
      const client = gatewayClient(devnet, { mspId: 'StrangerMSP', user: 'none', certPem: readFileSync(files.certPath), signer: async (m) => signMessage(loadPrivateKey(readFileSync(files.keyPath)), m) });
      await assertRejected(client, 'stranger');
    });

    it('accepts an identity issued later by the org CA, with its Fabric CA attributes visible to the chaincode', async () => {
      const ca = await CertificateAuthority.open(join(devnet.dataDir, 'crypto', 'Org2MSP'), 'Org2MSP', 'org2.example.com');
      const files = await ca.issue('inspector1', { ou: 'client', attrs: { role: 'inspector' } });
      const client = gatewayClient(devnet, { mspId: 'Org2MSP', certPem: readFileSync(files.certPath), signer: async (m) => signMessage(loadPrivateKey(readFileSync(files.keyPath)), m) });
      try {
        const who = JSON.parse(utf8(await client.contract.evaluateTransaction('whoami'))) as { mspId: string; role: string; id: string };
        expect(who).to.include({ mspId: 'Org2MSP', role: 'inspector' });
        expect(who.id).to.contain('CN=inspector1');
      } finally {
        client.close();
      }
    });

    it('rejects a request signed with another key than the certificate', async () => {
      const otherKey = loadPrivateKey(readFileSync(devnet.user('Org1MSP', 'Admin').keyPath));
      await assertRejected(gatewayClient(devnet, { signer: async (m) => signMessage(otherKey, m) }), 'badsig');
    });

    it('rejects a high-S signature', async () => {
      const key = loadPrivateKey(readFileSync(devnet.user('Org1MSP', 'User1').keyPath));
      await assertRejected(gatewayClient(devnet, { signer: async (m) => toHighS(signMessage(key, m)) }), 'highs');
    });
  });

  describe('bad input', () => {
    let raw: grpc.Client & { evaluate: grpc.requestCallback<unknown> & ((...a: unknown[]) => void) };

    before(() => {
      const Ctor = grpc.makeGenericClientConstructor(gpb.GatewayService, 'Gateway');
      raw = new Ctor(devnet.endpoint, grpc.credentials.createInsecure()) as unknown as typeof raw;
    });
    after(() => raw.close());

    const call = (req: gpb.EvaluateRequest) =>
      new Promise<grpc.ServiceError | undefined>((res) => (raw.evaluate as unknown as (r: unknown, cb: (e?: grpc.ServiceError) => void) => void)(req, (e) => res(e)));

    async function stillServing(): Promise<void> {
      expect(utf8(await org1.contract.evaluateTransaction('get', 'greeting'))).to.equal('nihao');
    }

    it('answers a garbage proposal with INVALID_ARGUMENT', async () => {
      const req = new gpb.EvaluateRequest();
      const sp = new peer.SignedProposal();
      sp.setProposalBytes(Buffer.from('this is not a protobuf Proposal \xff\xfe'));
      sp.setSignature(Buffer.from('x'));
      req.setProposedTransaction(sp);
      const err = await call(req);
      expect(err?.code).to.equal(grpc.status.INVALID_ARGUMENT);
      const empty = await call(new gpb.EvaluateRequest());
      expect(empty?.code).to.equal(grpc.status.INVALID_ARGUMENT);
      await stillServing();
    });

    it('rejects an unknown chaincode and an unknown channel', async () => {
      const other = gatewayClient(devnet, { chaincode: 'nosuchcc' });
      const wrongChannel = gatewayClient(devnet, { channel: 'nosuchchannel' });
      try {
        const e1 = await rejection(other.contract.evaluateTransaction('get', 'x'));
        expect(e1.code).to.equal(grpc.status.FAILED_PRECONDITION);
        expect(e1.message).to.contain('chaincode nosuchcc');
        const e2 = await rejection(wrongChannel.contract.submitTransaction('put', 'x', 'y'));
        expect(e2.code).to.equal(grpc.status.FAILED_PRECONDITION);
        expect(e2.message).to.contain('channel nosuchchannel');
      } finally {
        other.close();
        wrongChannel.close();
      }
      await stillServing();
    });

    it('refuses an argument over the size limit and keeps serving', async () => {
      const big = 'x'.repeat(300 * 1024);
      const err = await rejection(org1.contract.submitTransaction('put', 'big', big));
      expect(err.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      await stillServing();
      expect(utf8(await org1.contract.evaluateTransaction('get', 'big'))).to.equal('');
    });
  });
});
