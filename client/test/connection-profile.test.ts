import { expect } from 'chai';
import { dump as toYaml } from 'js-yaml';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { ConnectionProfile, identityFromMspDir, Ledger, LedgerError, ledgerFromConfig, resolveConnection } from '../src';
import { rejection } from './rejection';

const CLI = resolve(__dirname, '../src/cli.js');
const NO_ENV = {};

function profileOf(path: string): ConnectionProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as ConnectionProfile;
}


async function withLedger<T>(ledger: Ledger, fn: (l: Ledger) => Promise<T>): Promise<T> {
  try {
    return await fn(ledger);
  } finally {
    ledger.close();
  }
}

const text = (b: Uint8Array) => Buffer.from(b).toString();

describe('common connection profiles over TLS (devnet --tls)', () => {
  let devnet: RunningDevnet;
  let dir: string;
  /** writes a variant of the Org1 profile and returns its path */
  const variant = (name: string, edit: (p: ConnectionProfile) => void, asYaml = false) => {
    const p = profileOf(devnet.connection);
    edit(p);
    const path = join(dir, name);
    writeFileSync(path, asYaml ? toYaml(p) : JSON.stringify(p));
    return path;
  };
  const org1Peer = 'peer0.org1.example.com';

  before(async () => {
    devnet = await startDevnet(['--tls', '--block-timeout', '20']);
    dir = mkdtempSync(join(tmpdir(), 'profiles-'));
  });

  after(async () => {
    await devnet?.stop();
  });

  it('writes one standard profile per org: client.organization, grpcs:// peers on their own ports, TLS CA, server name', () => {
    const p1 = profileOf(devnet.profiles.Org1MSP);
    const p2 = profileOf(devnet.profiles.Org2MSP);
    expect(p1.client?.organization).to.equal('Org1');
    expect(p2.client?.organization).to.equal('Org2');
    const { signedCert, ...org2 } = p1.organizations!.Org2 as { signedCert?: { path: string } };
    expect(org2).to.deep.equal({ mspid: 'Org2MSP', peers: ['peer0.org2.example.com'] });
    // the org's console identity certificate (the key other orgs' consoles encrypt items for), issued by its CA
    expect(signedCert?.path).to.match(/\/Org2MSP\/users\/User1\/msp\/signcerts\/cert\.pem$/);
    expect(new X509Certificate(readFileSync(signedCert!.path)).issuer).to.match(/org2/i);
    const peer1 = p1.peers![org1Peer];
    const peer2 = p1.peers!['peer0.org2.example.com'];
    expect(peer1.url).to.equal(`grpcs://${devnet.peer('Org1MSP').endpoint}`);
    expect(peer2.url).to.match(/^grpcs:\/\/127\.0\.0\.1:\d+$/).and.not.equal(peer1.url);
    expect(peer1.grpcOptions?.['ssl-target-name-override']).to.equal(org1Peer);
    expect(readFileSync(peer1.tlsCACerts!.path!, 'utf8')).to.contain('BEGIN CERTIFICATE');
    expect(p1['x-trace']).to.include({ channel: devnet.channel, chaincode: devnet.chaincode });
  });

  it('each org reaches its own peer over TLS through its profile (JSON and YAML)', async () => {
    const yaml = variant('org2.yaml', () => undefined, true);
    await withLedger(ledgerFromConfig(devnet.profiles.Org2MSP), async (l) => {
      await l.submit('put', 'tls-key', 'v1');
      expect(JSON.parse(text(await l.evaluate('whoami'))).mspId).to.equal('Org2MSP');
    });
    await withLedger(ledgerFromConfig(yaml, { msp: 'Org2MSP' }), async (l) => {
      expect(text(await l.evaluate('get', 'tls-key'))).to.equal('v1');
      expect(JSON.parse(text(await l.evaluate('whoami'))).mspId).to.equal('Org2MSP');
    });
  });

  it('refuses a peer certificate from another CA with ERR_TLS naming the peer, and writes nothing', async () => {
    const wrongCa = variant('wrong-ca.json', (p) => (p.peers![org1Peer].tlsCACerts = { path: p.peers!['peer0.org2.example.com'].tlsCACerts!.path }));
    const err = await withLedger(ledgerFromConfig(wrongCa), (l) => rejection(l.submit('put', 'wrong-ca', 'x')));
    expect(err.code).to.equal('ERR_TLS');
    expect(err.message).to.contain(`TLS connection to ${org1Peer} at grpcs://${devnet.peer('Org1MSP').endpoint} failed`);
    await withLedger(ledgerFromConfig(devnet.connection), async (l) => expect(text(await l.evaluate('get', 'wrong-ca'))).to.equal(''));
  });

  it('refuses a server name the certificate does not carry with ERR_TLS naming the peer', async () => {
    const wrongName = variant('wrong-name.json', (p) => (p.peers![org1Peer].grpcOptions = { 'ssl-target-name-override': 'peer9.org1.example.com' }));
    const err = await withLedger(ledgerFromConfig(wrongName), (l) => rejection(l.submit('put', 'wrong-name', 'x')));
    expect(err.code).to.equal('ERR_TLS');
    expect(err.message).to.contain(`${org1Peer} at grpcs://${devnet.peer('Org1MSP').endpoint}`).and.contain('peer9.org1.example.com');
    await withLedger(ledgerFromConfig(devnet.connection), async (l) => expect(text(await l.evaluate('get', 'wrong-name'))).to.equal(''));
  });

  it("falls back to the org's next peer when the first is unreachable", async () => {
    const withDeadPeer = variant('fallback.json', (p) => {
      p.peers!['peer1.org1.example.com'] = { url: 'grpcs://127.0.0.1:1', tlsCACerts: p.peers![org1Peer].tlsCACerts };
      p.organizations!.Org1.peers = ['peer1.org1.example.com', org1Peer];
    });
    await withLedger(ledgerFromConfig(withDeadPeer), async (l) => expect((await l.submit('put', 'fallback', 'ok')).blockNumber > 0n).to.equal(true));
    const onlyDead = variant('dead.json', (p) => {
      p.peers![org1Peer].url = 'grpcs://127.0.0.1:1';
    });
    const err = await withLedger(ledgerFromConfig(onlyDead), (l) => rejection(l.evaluate('get', 'fallback')));
    expect(err.code).to.equal('ERR_UNAVAILABLE');
    expect(err.message).to.contain(`${org1Peer} at grpcs://127.0.0.1:1 is unavailable`);
  });

  it('takes a stock fabric-samples-shaped YAML profile (inline PEM, no x-trace) with channel, chaincode and identity as options', async () => {
    const own = profileOf(devnet.connection);
    const stock = {
      name: 'test-network-org1',
      version: '1.0.0',
      client: { organization: 'Org1', connection: { timeout: { peer: { endorser: '300' } } } },
      organizations: { Org1: { mspid: 'Org1MSP', peers: [org1Peer], certificateAuthorities: ['ca.org1.example.com'] } },
      peers: { [org1Peer]: { url: own.peers![org1Peer].url, tlsCACerts: { pem: readFileSync(own.peers![org1Peer].tlsCACerts!.path!, 'utf8') }, grpcOptions: { 'ssl-target-name-override': org1Peer, hostnameOverride: org1Peer } } },
      certificateAuthorities: { 'ca.org1.example.com': { url: 'https://localhost:7054', caName: 'ca-org1', httpOptions: { verify: false } } },
    };
    const path = join(dir, 'connection-org1.yaml');
    writeFileSync(path, toYaml(stock));
    const user = devnet.user('Org1MSP');
    const missing = (() => {
      try {
        resolveConnection(path, { chaincode: devnet.chaincode, identity: { cert: user.certPath, key: user.keyPath } }, NO_ENV);
      } catch (e) {
        return e as LedgerError;
      }
    })();
    expect([missing?.code, missing?.message]).to.deep.equal(['ERR_CONFIG', `${path}: no channel: give one (option or TRACE_CHANNEL), set x-trace.channel, or list exactly one under channels`]);
    const opts = { channel: devnet.channel, chaincode: devnet.chaincode, identity: { cert: user.certPath, key: user.keyPath } };
    await withLedger(ledgerFromConfig(path, opts), async (l) => expect(JSON.parse(text(await l.evaluate('whoami'))).mspId).to.equal('Org1MSP'));
    const noIdentity = (() => {
      try {
        resolveConnection(path, { channel: devnet.channel, chaincode: devnet.chaincode }, NO_ENV);
      } catch (e) {
        return e as LedgerError;
      }
    })();
    expect(noIdentity?.code).to.equal('ERR_IDENTITY');
    // the environment fills in what the profile lacks, as for the CLIs
    const fromEnv = resolveConnection(path, {}, { TRACE_CHANNEL: devnet.channel, TRACE_CHAINCODE: devnet.chaincode, TRACE_MSP_DIR: user.mspDir });
    expect([fromEnv.channel, fromEnv.chaincode, fromEnv.mspId, fromEnv.peers[0].serverNameOverride]).to.deep.equal([devnet.channel, devnet.chaincode, 'Org1MSP', org1Peer]);
  });

  it('loads identities from an MSP directory (picking the key that matches), from PEM files and from a file wallet', async () => {
    const user = devnet.user('Org2MSP');
    const mspDir = join(dir, 'msp-copy');
    cpSync(user.mspDir, mspDir, { recursive: true });
    // a Fabric CA keystore may hold other keys; only the matching one signs
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(mspDir, 'keystore', '0000_sk'), other);
    expect(identityFromMspDir('Org2MSP', mspDir).keyPem.toString()).to.equal(readFileSync(user.keyPath, 'utf8'));
    const wallet = join(dir, 'wallet');
    mkdirSync(wallet);
    writeFileSync(join(wallet, 'appUser.id'), JSON.stringify({ credentials: { certificate: readFileSync(user.certPath, 'utf8'), privateKey: readFileSync(user.keyPath, 'utf8') }, mspId: 'Org2MSP', type: 'X.509', version: 1 }));
    const pemDir = join(dir, 'pem');
    mkdirSync(pemDir);
    copyFileSync(user.certPath, join(pemDir, 'cert.pem'));
    copyFileSync(user.keyPath, join(pemDir, 'key.pem'));
    for (const identity of [{ mspDir }, { cert: join(pemDir, 'cert.pem'), key: join(pemDir, 'key.pem') }, { wallet, label: 'appUser' }]) {
      await withLedger(ledgerFromConfig(devnet.profiles.Org2MSP, { identity }), async (l) => expect(JSON.parse(text(await l.evaluate('whoami'))).mspId).to.equal('Org2MSP'));
    }
    const err = await rejection(Promise.resolve().then(() => ledgerFromConfig(devnet.profiles.Org2MSP, { identity: { wallet, label: 'nobody' } })));
    expect([err.code, err.message]).to.deep.equal(['ERR_IDENTITY', `no identity nobody in wallet ${wallet} (${join(wallet, 'nobody.id')} is missing)`]);
    writeFileSync(join(wallet, 'hsm.id'), JSON.stringify({ credentials: {}, mspId: 'Org2MSP', type: 'HSM-X.509', version: 1 }));
    const hsm = await rejection(Promise.resolve().then(() => ledgerFromConfig(devnet.profiles.Org2MSP, { identity: { wallet, label: 'hsm' } })));
    expect(hsm.code).to.equal('ERR_IDENTITY');
  });

  it('the trace CLI connects over TLS through the profile, and names the peer that presents an unexpected certificate', () => {
    const run = (connection: string) => spawnSync(process.execPath, [CLI, 'evaluate', 'whoami', '--connection', connection, '--msp', 'Org2MSP'], { encoding: 'utf8' });
    const ok = run(devnet.connection);
    expect(ok.status, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout).mspId).to.equal('Org2MSP');
    const wrongCa = variant('cli-wrong-ca.json', (p) => (p.peers!['peer0.org2.example.com'].tlsCACerts = { path: p.peers![org1Peer].tlsCACerts!.path }));
    const refused = run(wrongCa);
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/^trace: \[ERR_TLS\] TLS connection to peer0\.org2\.example\.com at grpcs:\/\/127\.0\.0\.1:\d+ failed/);
  });

  it('names the org it cannot find', async () => {
    const err = await rejection(Promise.resolve().then(() => ledgerFromConfig(devnet.connection, { msp: 'Org7MSP' })));
    expect([err.code, err.message]).to.deep.equal(['ERR_CONFIG', `${devnet.connection}: no organization Org7MSP (organizations: Org1/Org1MSP, Org2/Org2MSP)`]);
  });
});

describe('common connection profiles over mutual TLS (devnet --mtls)', () => {
  let devnet: RunningDevnet;

  before(async () => {
    devnet = await startDevnet(['--mtls', '--block-timeout', '20']);
  });

  after(async () => {
    await devnet?.stop();
  });

  it('connects with the TLS client certificate the profile names, for each org', async () => {
    for (const mspId of ['Org1MSP', 'Org2MSP']) {
      await withLedger(ledgerFromConfig(devnet.connection, { msp: mspId }), async (l) => {
        await l.submit('put', `mtls-${mspId}`, 'v');
        expect(JSON.parse(text(await l.evaluate('whoami'))).mspId).to.equal(mspId);
      });
    }
  });

  it('is refused without a client certificate (ERR_TLS) and writes nothing', async () => {
    const user = devnet.user('Org1MSP');
    const err = await withLedger(ledgerFromConfig(devnet.connection, { identity: { mspDir: user.mspDir } }), (l) => rejection(l.submit('put', 'no-client-cert', 'x')));
    expect(err.code).to.equal('ERR_TLS');
    expect(err.message).to.contain(`peer0.org1.example.com at grpcs://${devnet.peer('Org1MSP').endpoint}`).and.contain('certificate required');
    await withLedger(ledgerFromConfig(devnet.connection), async (l) => expect(text(await l.evaluate('get', 'no-client-cert'))).to.equal(''));
  });

  it('refuses a client certificate that no TLS CA of the channel issued (the signing CA is not a TLS CA)', async () => {
    const user = devnet.user('Org1MSP');
    const err = await withLedger(ledgerFromConfig(devnet.connection, { tlsClient: { cert: user.certPath, key: user.keyPath } }), (l) => rejection(l.submit('put', 'foreign-client-cert', 'x')));
    // under TLS 1.3 the refusal is a closed connection, with no alert the client could read
    expect(err.code).to.equal('ERR_UNAVAILABLE');
    expect(err.message).to.contain(`peer0.org1.example.com at grpcs://${devnet.peer('Org1MSP').endpoint} is unavailable (or it refused the TLS client certificate)`);
    await withLedger(ledgerFromConfig(devnet.connection), async (l) => expect(text(await l.evaluate('get', 'foreign-client-cert'))).to.equal(''));
  });

  it('the trace CLI connects through the profile, with the TLS client certificate from the environment for a stock identity', () => {
    const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args, '--connection', devnet.profiles.Org2MSP], { encoding: 'utf8', env: { ...process.env, ...env } });
    const ok = run(['evaluate', 'whoami']);
    expect(ok.status, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout).mspId).to.equal('Org2MSP');
    const user = devnet.user('Org2MSP', 'Admin');
    const viaEnv = run(['evaluate', 'whoami'], { TRACE_MSP_DIR: user.mspDir, TRACE_TLS_CLIENT_CERT: user.tlsCertPath, TRACE_TLS_CLIENT_KEY: user.tlsKeyPath });
    expect(viaEnv.status, viaEnv.stderr).to.equal(0);
    expect(JSON.parse(viaEnv.stdout).id).to.contain('CN=Admin');
    const refused = run(['evaluate', 'whoami'], { TRACE_MSP_DIR: user.mspDir });
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/^trace: \[ERR_TLS\] TLS connection to peer0\.org2\.example\.com at grpcs:\/\/127\.0\.0\.1:\d+ failed/);
  });
});
