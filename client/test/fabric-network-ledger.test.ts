import * as grpc from '@grpc/grpc-js';
import { common, msp, orderer } from '@hyperledger/fabric-protos';
import { expect } from 'chai';
import { BlockEvent, Gateway, Wallets, X509Identity } from 'fabric-network';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, RunningDevnet, startDevnet } from '@trace/test-network';
import { ChainBlock, ChainEvent, Checkpoint, connectionProfile, EventStream, FabricGatewayLedger, FabricNetworkLedger, FabricNetworkLedgerOptions, identityFromFiles, LedgerError, ledgerFromConfig, nodeSigner } from '../src';
import { rejection } from './rejection';


const text = (b: Uint8Array) => Buffer.from(b).toString();

async function firstBlock(stream: EventStream<ChainBlock>): Promise<ChainBlock> {
  try {
    for await (const block of stream) return block;
    throw new Error('the block stream ended');
  } finally {
    stream.close();
  }
}

/** The options for one identity of a devnet, with each org's peer at its own endpoint. */
function devnetOptions(devnet: RunningDevnet, mspId: string, extra: Partial<FabricNetworkLedgerOptions> = {}): FabricNetworkLedgerOptions {
  const user = devnet.user(mspId, 'User1');
  return {
    channel: devnet.channel,
    chaincode: devnet.chaincode,
    identity: identityFromFiles(mspId, user.certPath, user.keyPath),
    peers: Object.fromEntries(Object.entries(devnet.peerEndpoints).map(([m, endpoint]) => [m, [{ endpoint }]])),
    orderers: [{ endpoint: devnet.ordererEndpoint }],
    ...extra,
  };
}

describe('FabricNetworkLedger against the devnet acting as a Fabric 2.3 peer (no Gateway service)', () => {
  let devnet: RunningDevnet;
  let ledger: FabricNetworkLedger;

  before(async () => {
    // Blocks are cut 300 ms after their first transaction, so concurrent submits share a block.
    devnet = await startDevnet(['--no-gateway', '--block-timeout', '300']);
    ledger = await FabricNetworkLedger.connect(devnetOptions(devnet, 'Org1MSP'));
  });

  after(async () => {
    ledger?.close();
    await devnet?.stop();
  });

  it('answers Gateway calls UNIMPLEMENTED, on the main endpoint and on the org peers', async () => {
    const user = devnet.user('Org1MSP', 'User1');
    for (const endpoint of [devnet.endpoint, devnet.peerEndpoints.Org2MSP]) {
      const gw = FabricGatewayLedger.connect({ endpoint, channel: devnet.channel, chaincode: devnet.chaincode, identity: identityFromFiles('Org1MSP', user.certPath, user.keyPath) });
      try {
        const err = await rejection(gw.evaluate('get', 'k'));
        expect(err.details.grpcCode).to.equal(12);
        expect(err.message).to.contain('unknown service gateway.Gateway');
      } finally {
        gw.close();
      }
    }
  });

  it('submits through ProcessProposal and Broadcast, waits for the commit and evaluates', async () => {
    const r = await ledger.submit('readWrite', 'k', 'v1');
    expect(r.transactionId).to.match(/^[0-9a-f]{64}$/);
    expect(r.blockNumber > 0n).to.equal(true);
    expect(text(await ledger.evaluate('get', 'k'))).to.equal('v1');
    const org2 = await FabricNetworkLedger.connect(devnetOptions(devnet, 'Org2MSP'));
    try {
      const who = JSON.parse(text(await org2.evaluate('whoami'))) as { mspId: string };
      expect(who.mspId).to.equal('Org2MSP');
      expect(text(await org2.evaluate('get', 'k'))).to.equal('v1');
    } finally {
      org2.close();
    }
  });

  it('turns a chaincode [ERR_X] error into that code, as over the Gateway, and changes nothing', async () => {
    const height = (await ledger.submit('put', 'kept', 'before')).blockNumber;
    const err = await rejection(ledger.submit('fail', '[ERR_CONFLICT] already there'));
    expect(err.code).to.equal('ERR_CONFLICT');
    expect(err.message).to.equal('already there');
    const evalErr = await rejection(ledger.evaluate('fail', '[ERR_NOT_FOUND] nothing'));
    expect(evalErr.code).to.equal('ERR_NOT_FOUND');
    expect(evalErr.message).to.equal('nothing');
    expect((await ledger.submit('put', 'after', 'x')).blockNumber).to.equal(height + 1n);
  });

  it('reports non-deterministic chaincode as ERR_ENDORSEMENT and never orders the transaction', async () => {
    const before = (await ledger.submit('put', 'clock', 'unchanged')).blockNumber;
    const err = await rejection(ledger.submit('wallClock', 'clock'));
    expect(err.code).to.equal('ERR_ENDORSEMENT');
    expect(err.message).to.match(/^ProposalResponsePayloads do not match \(peer0\.Org1MSP vs peer0\.Org2MSP\)/);
    expect(text(await ledger.evaluate('get', 'clock'))).to.equal('unchanged');
    const blocks = await ledger.blocks(before);
    const seen = [];
    for await (const b of blocks) {
      seen.push(b);
      break;
    }
    blocks.close();
    expect(seen[0].transactions.map((t) => t.transactionId)).not.to.include(err.details.transactionId);
    expect((await ledger.submit('put', 'next', 'x')).blockNumber).to.equal(before + 1n);
  });

  it('reports an MVCC conflict as ERR_COMMIT with MVCC_READ_CONFLICT, as over the Gateway', async () => {
    await ledger.submit('put', 'counter', '0');
    const results = await Promise.allSettled([ledger.submit('readWrite', 'counter', 'from-a'), ledger.submit('readWrite', 'counter', 'from-b')]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as LedgerError);
    expect(ok).to.have.length(1);
    expect(failed).to.have.length(1);
    expect(failed[0]).to.be.instanceOf(LedgerError);
    expect(failed[0].code).to.equal('ERR_COMMIT');
    expect(failed[0].details.validationCode).to.equal('MVCC_READ_CONFLICT');
    const winner = results[0].status === 'fulfilled' ? 'from-a' : 'from-b';
    expect(text(await ledger.evaluate('get', 'counter'))).to.equal(winner);
  });

  it('reports a transaction endorsed by too few orgs as ERR_COMMIT with ENDORSEMENT_POLICY_FAILURE', async () => {
    const lonely = await FabricNetworkLedger.connect(devnetOptions(devnet, 'Org1MSP', { endorsingOrganizations: ['Org1MSP'] }));
    try {
      const err = await rejection(lonely.submit('put', 'lonely', 'x'));
      expect(err.code).to.equal('ERR_COMMIT');
      expect(err.details.validationCode).to.equal('ENDORSEMENT_POLICY_FAILURE');
      expect(text(await ledger.evaluate('get', 'lonely'))).to.equal('');
    } finally {
      lonely.close();
    }
  });

  it('streams chaincode events and blocks over Deliver from a checkpoint the caller keeps', async () => {
    const start = (await ledger.submit('put', 'marker', 'x')).blockNumber;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await ledger.submit('emit', `e${i}`, 'made', `p${i}`)).transactionId);
    const got: ChainEvent[] = [];
    let checkpoint: Checkpoint = { blockNumber: start };
    for (const upTo of [2, 4]) {
      const stream = await ledger.chaincodeEvents(checkpoint);
      for await (const ev of stream) {
        got.push(ev);
        checkpoint = { blockNumber: ev.blockNumber, transactionId: ev.transactionId };
        if (got.length >= upTo) break;
      }
      stream.close();
    }
    expect(got.map((e) => e.transactionId)).to.deep.equal(ids);
    expect(text(got[3].payload)).to.equal('p3');

    const blocks = await ledger.blocks(start);
    const seen = [];
    for await (const b of blocks) {
      seen.push(b);
      if (seen.length === 2) break;
    }
    blocks.close();
    expect(seen[1].previousHash).to.equal(seen[0].hash);
    expect(seen[1].transactions[0]).to.include({ validationCode: 'VALID', creatorMspId: 'Org1MSP', chaincodeName: devnet.chaincode });
  });

  it('refuses a proposal from an identity the channel does not know with ERR_ENDORSEMENT, as the Gateway does', async () => {
    const foreignCa = await CertificateAuthority.open(join(mkdtempSync(join(tmpdir(), 'foreign-')), 'Org1MSP'), 'Org1MSP', 'org1.example.com');
    const stranger = await foreignCa.issue('User1', { ou: 'client' });
    const foreign = await FabricNetworkLedger.connect(devnetOptions(devnet, 'Org1MSP', { identity: identityFromFiles('Org1MSP', stranger.certPath, stranger.keyPath) }));
    try {
      const err = await rejection(foreign.submit('put', 'stranger', 'x'));
      expect(err.code).to.equal('ERR_ENDORSEMENT');
      expect(err.message).to.contain('access denied');
      expect(text(await ledger.evaluate('get', 'stranger'))).to.equal('');
    } finally {
      foreign.close();
    }
  });

  it('reports an unreachable orderer as ERR_UNAVAILABLE after endorsement, and nothing commits', async () => {
    const cut = await FabricNetworkLedger.connect(devnetOptions(devnet, 'Org1MSP', { orderers: [{ endpoint: '127.0.0.1:1' }], timeouts: { submit: 2000 } }));
    try {
      const err = await rejection(cut.submit('put', 'cut', 'x'));
      expect(err.code, err.message).to.equal('ERR_UNAVAILABLE');
      expect(err.details.transactionId).to.match(/^[0-9a-f]{64}$/);
      expect(text(await ledger.evaluate('get', 'cut'))).to.equal('');
    } finally {
      cut.close();
    }
  });

  it("serves what fabric-network's own event service asks for: filtered, full and private-data block events", async () => {
    const r = await ledger.submit('emit', 'seen', 'made', 'payload');
    const opts = devnetOptions(devnet, 'Org1MSP');
    const wallet = await Wallets.newInMemoryWallet();
    const identity: X509Identity = { type: 'X.509', mspId: 'Org1MSP', credentials: { certificate: String(opts.identity.certPem), privateKey: String(opts.identity.keyPem) } };
    await wallet.put('u', identity);
    const gateway = new Gateway();
    await gateway.connect(connectionProfile(opts), { wallet, identity: 'u', discovery: { enabled: false } });
    try {
      const network = await gateway.getNetwork(opts.channel);
      for (const type of ['filtered', 'full', 'private'] as const) {
        let listener: ((e: BlockEvent) => Promise<void>) | undefined;
        const event = await new Promise<BlockEvent>((resolve) => {
          listener = async (e) => resolve(e);
          void network.addBlockListener(listener, { type, startBlock: Number(r.blockNumber) });
        });
        network.removeBlockListener(listener!);
        expect(event.blockNumber.toString(), type).to.equal(r.blockNumber.toString());
        const tx = event.getTransactionEvents().find((t) => t.transactionId === r.transactionId);
        expect(tx?.isValid, type).to.equal(true);
        expect(tx?.getContractEvents().map((c) => c.eventName), type).to.deep.equal(['made']);
      }
    } finally {
      gateway.disconnect();
    }
  });

  it('refuses over Broadcast what the Gateway refuses (malformed, unknown channel, not signed by a writer), ordering nothing', async () => {
    const before = (await ledger.submit('put', 'b', '1')).blockNumber;
    const user = devnet.user('Org1MSP', 'User1');
    const otherKey = readFileSync(devnet.user('Org2MSP', 'User1').keyPath);
    const envelope = async (channel: string, key: Buffer) => {
      const ch = new common.ChannelHeader();
      ch.setType(common.HeaderType.ENDORSER_TRANSACTION);
      ch.setChannelId(channel);
      ch.setTxId(randomBytes(32).toString('hex'));
      const creator = new msp.SerializedIdentity();
      creator.setMspid('Org1MSP');
      creator.setIdBytes(readFileSync(user.certPath));
      const sh = new common.SignatureHeader();
      sh.setCreator(creator.serializeBinary());
      sh.setNonce(randomBytes(24));
      const header = new common.Header();
      header.setChannelHeader(ch.serializeBinary());
      header.setSignatureHeader(sh.serializeBinary());
      const payload = new common.Payload();
      payload.setHeader(header);
      const env = new common.Envelope();
      env.setPayload(payload.serializeBinary());
      env.setSignature(await nodeSigner(key)(env.getPayload_asU8()));
      return env;
    };
    const garbage = new common.Envelope();
    garbage.setPayload(Buffer.from([0xff, 0xff, 0xff]));
    const envelopes = [garbage, await envelope('nochannel', readFileSync(user.keyPath)), await envelope(devnet.channel, otherKey)];
    const client = new orderer.AtomicBroadcastClient(devnet.ordererEndpoint, grpc.credentials.createInsecure());
    try {
      const statuses = await new Promise<number[]>((resolve, reject) => {
        const call = client.broadcast();
        const got: number[] = [];
        call.on('data', (res: orderer.BroadcastResponse) => got.push(res.getStatus()));
        call.on('end', () => resolve(got));
        call.on('error', reject);
        envelopes.forEach((e) => call.write(e));
        call.end();
      });
      expect(statuses).to.deep.equal([common.Status.BAD_REQUEST, common.Status.NOT_FOUND, common.Status.FORBIDDEN]);
    } finally {
      client.close();
    }
    expect((await ledger.submit('put', 'b', '2')).blockNumber).to.equal(before + 1n);
  });
});

describe('connectionProfile', () => {
  it('builds a common connection profile with TLS roots and server names', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const profile = connectionProfile({
      channel: 'ch',
      peers: { Org1MSP: [{ endpoint: 'peer.example:7051', tlsCACert: ca, serverName: 'peer0.org1.example.com' }], Org2MSP: [{ endpoint: 'p2:9051', name: 'peer0.org2' }] },
      orderers: [{ endpoint: 'orderer.example:7050', tlsCACert: ca }],
    });
    expect(profile).to.deep.equal({
      name: 'ch',
      version: '1.0.0',
      organizations: { Org1MSP: { mspid: 'Org1MSP', peers: ['peer0.Org1MSP'] }, Org2MSP: { mspid: 'Org2MSP', peers: ['peer0.org2'] } },
      peers: {
        'peer0.Org1MSP': { url: 'grpcs://peer.example:7051', tlsCACerts: { pem: ca }, grpcOptions: { 'ssl-target-name-override': 'peer0.org1.example.com', hostnameOverride: 'peer0.org1.example.com' } },
        'peer0.org2': { url: 'grpc://p2:9051', grpcOptions: {} },
      },
      orderers: { orderer0: { url: 'grpcs://orderer.example:7050', tlsCACerts: { pem: ca }, grpcOptions: {} } },
      channels: {
        ch: {
          orderers: ['orderer0'],
          peers: {
            'peer0.Org1MSP': { endorsingPeer: true, chaincodeQuery: true, ledgerQuery: true, eventSource: true },
            'peer0.org2': { endorsingPeer: true, chaincodeQuery: true, ledgerQuery: true, eventSource: true },
          },
        },
      },
    });
  });
});

describe('the legacy protocol chosen in a connection profile, over mutual TLS', () => {
  let devnet: RunningDevnet;

  before(async () => {
    devnet = await startDevnet(['--mtls', '--no-gateway']);
  });

  after(async () => {
    await devnet?.stop();
  });

  it('submits through ProcessProposal and Broadcast with the profile’s peers, orderer, identity and TLS client certificate', async () => {
    const ledger = ledgerFromConfig(devnet.profiles.Org2MSP, { protocol: 'legacy' });
    try {
      const done = await ledger.submit('put', 'legacy-k', 'legacy-v');
      expect(done.blockNumber > 0n).to.equal(true);
      expect(text(await ledger.evaluate('get', 'legacy-k'))).to.equal('legacy-v');
      const block = await firstBlock(await ledger.blocks(done.blockNumber));
      expect(block.transactions.map((t) => [t.transactionId, t.validationCode, t.creatorMspId])).to.deep.equal([[done.transactionId, 'VALID', 'Org2MSP']]);
    } finally {
      ledger.close();
    }
    // The same profile through the Gateway fails: this devnet answers as a Fabric 2.3 peer.
    const gateway = ledgerFromConfig(devnet.profiles.Org2MSP);
    try {
      expect((await rejection(gateway.evaluate('get', 'legacy-k'))).details.grpcCode).to.equal(12);
    } finally {
      gateway.close();
    }
  });

  it('refuses a legacy profile without orderers, and a client without the TLS client certificate', async () => {
    const profile = JSON.parse(readFileSync(devnet.profiles.Org1MSP, 'utf8')) as Record<string, unknown>;
    const dir = mkdtempSync(join(tmpdir(), 'legacy-profile-'));
    const noOrderers = join(dir, 'no-orderers.json');
    writeFileSync(noOrderers, JSON.stringify({ ...profile, orderers: undefined }));
    expect(() => ledgerFromConfig(noOrderers, { protocol: 'legacy' })).to.throw(LedgerError, /lists none under orderers/);
    const user = devnet.user('Org1MSP', 'User1');
    const noClientCert = ledgerFromConfig(devnet.profiles.Org1MSP, { protocol: 'legacy', identity: { cert: user.certPath, key: user.keyPath } });
    try {
      const err = await rejection(noClientCert.submit('put', 'refused-k', 'v'));
      expect([err.code, err.message]).to.satisfy(([code, message]: string[]) => code === 'ERR_UNAVAILABLE' && /no peer endorsed: .*TLS client certificate/.test(message));
    } finally {
      noClientCert.close();
    }
    const org1 = ledgerFromConfig(devnet.profiles.Org1MSP, { protocol: 'legacy' });
    try {
      expect(text(await org1.evaluate('get', 'refused-k'))).to.equal('');
    } finally {
      org1.close();
    }
  });
});
