import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { profileMsps } from '../src/e2e/connections';

const SCRIPT = resolve(__dirname, '../../../test-network/fabric/network.sh');
const net = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const base = { ...process.env, ...env };
  for (const k of ['FABRIC_BIN', 'FABRIC_CFG', 'CCAAS_BUILDER'] as const) if (!(k in env)) delete base[k];
  return spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', env: base });
};
const tmp = () => mkdtempSync(join(tmpdir(), 'fabric-net-'));
const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** Fabric binaries are not available in CI: these run the scripts' paths that need none. */
describe('test-network/fabric/network.sh (no Fabric binaries)', function () {
  this.timeout(60_000);

  it('generate writes cryptogen and configtxgen input and network.json for N orgs on the chosen ports', () => {
    const dir = tmp();
    const r = net(['generate', '--orgs', '3', '--channel', 'qa-channel', '--dir', dir, '--port-base', '8040']);
    expect(r.status, r.stderr).to.equal(0);
    const network = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as { channel: string; orderer: { address: string }; orgs: { mspId: string; peer: string; adminMsp: string }[] };
    expect(network.channel).to.equal('qa-channel');
    expect(network.orderer.address).to.equal('127.0.0.1:8040');
    expect(network.orgs.map((o) => [o.mspId, o.peer])).to.deep.equal([['Org1MSP', '127.0.0.1:8051'], ['Org2MSP', '127.0.0.1:8061'], ['Org3MSP', '127.0.0.1:8071']]);
    expect(network.orgs[2].adminMsp).to.equal(join(dir, 'organizations/peerOrganizations/org3.example.com/users/Admin@org3.example.com/msp'));
    const configtx = readFileSync(join(dir, 'configtx.yaml'), 'utf8');
    expect(configtx).to.include('OrdererType: etcdraft');
    expect(configtx).to.include('BatchSize: {MaxMessageCount: 10,');
    expect(configtx).to.include('Application: &ApplicationCapabilities {V2_5: true}');
    expect(configtx.match(/AnchorPeers: \[\{Host: 127\.0\.0\.1, Port: 80\d1\}\]/g)).to.have.length(3);
    expect(configtx).to.include('Organizations: [*Org1,*Org2,*Org3]');
    // the orderer signs blocks as role orderer: its org's Writers must admit members, or peers reject every block
    expect(configtx).to.match(/Name: OrdererMSP[\s\S]*?Writers: \{Type: Signature, Rule: "OR\('OrdererMSP\.member'\)"\}/);
    expect(configtx).to.include(`Writers: {Type: Signature, Rule: "OR('Org1MSP.admin', 'Org1MSP.client')"}`);
    expect(readFileSync(join(dir, 'crypto-config.yaml'), 'utf8').match(/Domain: org\d\.example\.com/g)).to.have.length(3);
  });

  it('profiles writes a common connection profile per org from the crypto material', () => {
    const dir = tmp();
    const cas = [1, 2].map((i) => {
      const d = join(dir, `organizations/peerOrganizations/org${i}.example.com/tlsca`);
      mkdirSync(d, { recursive: true });
      const text = pem();
      writeFileSync(join(d, `tlsca.org${i}.example.com-cert.pem`), text);
      return text;
    });
    const r = net(['profiles', '--orgs', '2', '--dir', dir]);
    expect(r.status, r.stderr).to.equal(0);
    const p = JSON.parse(readFileSync(join(dir, 'connection-org2.json'), 'utf8')) as {
      client: { organization: string };
      organizations: Record<string, { mspid: string; peers: string[] }>;
      peers: Record<string, { url: string; tlsCACerts: { pem: string }; grpcOptions: Record<string, string> }>;
      'x-trace': { channel: string; chaincode: string; identities: Record<string, Record<string, { mspDir: string }>> };
    };
    expect(p.client.organization).to.equal('Org2');
    expect(p.organizations.Org2).to.deep.equal({ mspid: 'Org2MSP', peers: ['peer0.org2.example.com'] });
    const peer = p.peers['peer0.org2.example.com'];
    expect([peer.url, peer.tlsCACerts.pem, peer.grpcOptions['ssl-target-name-override']]).to.deep.equal(['grpcs://127.0.0.1:7061', cas[1], 'peer0.org2.example.com']);
    expect([p['x-trace'].channel, p['x-trace'].chaincode]).to.deep.equal(['tracechannel', 'trace']);
    expect(p['x-trace'].identities.Org2MSP.Admin.mspDir).to.equal('organizations/peerOrganizations/org2.example.com/users/Admin@org2.example.com/msp');
    expect(profileMsps(join(dir, 'connection-org1.json'))).to.deep.equal(['Org1MSP']);
  });

  it('samples describes fabric-samples’ Docker test-network (org1 on 7051, org2 on 9051) for deploy and e2e, outside fabric-samples', () => {
    const samples = tmp();
    for (const i of [1, 2]) {
      const d = join(samples, `organizations/peerOrganizations/org${i}.example.com/tlsca`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `tlsca.org${i}.example.com-cert.pem`), pem());
    }
    const out = tmp();
    const r = net(['samples', samples, '--out', out]);
    expect(r.status, r.stderr).to.equal(0);
    const n = JSON.parse(readFileSync(join(out, 'network.json'), 'utf8')) as { channel: string; orderer: { address: string }; orgs: { peer: string; tlsRootCert: string }[] };
    expect([n.channel, n.orderer.address, ...n.orgs.map((o) => o.peer)]).to.deep.equal(['mychannel', 'localhost:7050', 'localhost:7051', 'localhost:9051']);
    expect(n.orgs[1].tlsRootCert).to.equal(join(samples, 'organizations/peerOrganizations/org2.example.com/tlsca/tlsca.org2.example.com-cert.pem'));
    const p = JSON.parse(readFileSync(join(out, 'connection-org2.json'), 'utf8')) as { peers: Record<string, { url: string }>; 'x-trace': { channel: string; identities: Record<string, Record<string, { mspDir: string }>> } };
    expect(p.peers['peer0.org2.example.com'].url).to.equal('grpcs://localhost:9051');
    expect(p['x-trace'].channel).to.equal('mychannel');
    // absolute: the profile does not sit beside the crypto material
    expect(p['x-trace'].identities.Org2MSP.User1.mspDir).to.equal(join(samples, 'organizations/peerOrganizations/org2.example.com/users/User1@org2.example.com/msp'));
  });

  it('refuses bad arguments and missing binaries with a stable code, before starting anything', () => {
    const dir = tmp();
    const cases: [string[], NodeJS.ProcessEnv, string][] = [
      [['up', '--orgs', '0', '--dir', dir], {}, '[ERR_ARGS] --orgs must be 1 to 9'],
      [['up', '--orgs', '10', '--dir', dir], {}, '[ERR_ARGS] --orgs must be 1 to 9'],
      [['up', '--channel', 'Trace', '--dir', dir], {}, '[ERR_ARGS] --channel must be lower case'],
      [['up', '--port-base', '80', '--dir', dir], {}, '[ERR_ARGS] --port-base'],
      [['up', '--dir', dir, 'extra'], {}, '[ERR_ARGS] unexpected argument extra'],
      [['launch'], {}, "[ERR_ARGS] unknown command 'launch'"],
      [['up', '--dir', dir], {}, '[ERR_FABRIC_BIN] set FABRIC_BIN'],
      [['profiles', '--dir', dir], {}, '[ERR_NO_NETWORK]'],
      [['down', '--dir', join(dir, 'none')], {}, '[ERR_NO_NETWORK] no network'],
      [['samples', dir], {}, '[ERR_SAMPLES]'],
    ];
    // a release without the discover binary
    const bin = join(tmp(), 'bin');
    mkdirSync(bin);
    for (const b of ['peer', 'orderer', 'configtxgen', 'osnadmin', 'cryptogen']) {
      writeFileSync(join(bin, b), '#!/bin/sh\nexit 1\n');
      chmodSync(join(bin, b), 0o755);
    }
    cases.push([['up', '--dir', dir], { FABRIC_BIN: bin }, `[ERR_FABRIC_BIN] ${bin}/discover is missing`]);
    for (const [args, env, message] of cases) {
      const r = net(args, env);
      expect([r.status, r.stderr], args.join(' ')).to.satisfy(([s, err]: [number, string]) => s === 2 && err.includes(message));
    }
    expect(existsSync(join(dir, 'pids')), 'no process was started').to.equal(false);
  });
});
