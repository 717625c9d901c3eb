import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fabricDeployPlan, PACKAGE_ID, readFabricNetwork } from '../src/deploy/fabric-plan';
import { readDeployments } from '@trace/client';

const NETWORK_SH = resolve(__dirname, '../../../test-network/fabric/network.sh');
const DEPLOY = resolve(__dirname, '../src/deploy.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'deploy-fabric-'));

/** network.json of a 3-org network as network.sh generate writes it, and an (empty) package file. */
function fixture(): { dir: string; network: string; pkg: string } {
  const dir = tmp();
  const r = spawnSync('bash', [NETWORK_SH, 'generate', '--orgs', '3', '--dir', dir], { encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  const pkg = join(dir, 'trace-ccaas.tar.gz');
  writeFileSync(pkg, '');
  return { dir, network: join(dir, 'network.json'), pkg };
}

const deploy = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const base = { ...process.env, ...env };
  if (!('FABRIC_BIN' in env)) delete base.FABRIC_BIN;
  return spawnSync(process.execPath, [DEPLOY, '--target', 'fabric', ...args], { encoding: 'utf8', env: base });
};

describe('npm run deploy -- --target fabric (no Fabric binaries)', function () {
  this.timeout(60_000);

  it('plans install per org, the package ID, approval per org with the policy, readiness, commit through every org and querycommitted', () => {
    const { network, pkg } = fixture();
    const n = readFabricNetwork(network);
    const steps = fabricDeployPlan(n, { packagePath: pkg, name: 'trace', version: '1.0', sequence: 2, channelConfigPolicy: '/Channel/Application/Endorsement' });
    expect(steps.map((s) => s.what)).to.deep.equal([
      "install on Org1MSP's peer 127.0.0.1:7051",
      "install on Org2MSP's peer 127.0.0.1:7061",
      "install on Org3MSP's peer 127.0.0.1:7071",
      'package ID',
      'approve for Org1MSP',
      'approve for Org2MSP',
      'approve for Org3MSP',
      'commit readiness',
      'commit',
      'committed definition',
    ]);
    const approve2 = steps[5];
    expect(approve2.env).to.deep.equal({
      CORE_PEER_LOCALMSPID: 'Org2MSP',
      CORE_PEER_MSPCONFIGPATH: n.orgs[1].adminMsp,
      CORE_PEER_ADDRESS: '127.0.0.1:7061',
      CORE_PEER_TLS_ENABLED: 'true',
      CORE_PEER_TLS_ROOTCERT_FILE: n.orgs[1].tlsRootCert,
    });
    expect(approve2.args.join(' ')).to.equal(
      `lifecycle chaincode approveformyorg -o 127.0.0.1:7040 --ordererTLSHostnameOverride orderer.example.com --tls --cafile ${n.orderer.tlsRootCert} --channelID tracechannel --name trace --version 1.0 --sequence 2 --channel-config-policy /Channel/Application/Endorsement --package-id ${PACKAGE_ID}`,
    );
    const commit = steps[8].args;
    expect(commit.filter((a, i) => commit[i - 1] === '--peerAddresses')).to.deep.equal(['127.0.0.1:7051', '127.0.0.1:7061', '127.0.0.1:7071']);
    expect(commit.filter((a, i) => commit[i - 1] === '--tlsRootCertFiles')).to.deep.equal(n.orgs.map((o) => o.tlsRootCert));
  });

  it('prints the steps as shell commands when FABRIC_BIN is not set', () => {
    const { network, pkg } = fixture();
    const r = deploy(['--network', network, '--package', pkg, '--signature-policy', "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer')"]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('FABRIC_BIN is not set');
    expect(r.stdout).to.match(/PACKAGE_ID=\$\(CORE_PEER_LOCALMSPID=Org1MSP .* peer lifecycle chaincode calculatepackageid /);
    expect(r.stdout.match(/peer lifecycle chaincode approveformyorg .* --signature-policy 'OutOf\(2, '\\''Org1MSP.peer'\\''.* --package-id "\$PACKAGE_ID"/g)).to.have.length(3);
    expect(r.stdout).to.include('peer lifecycle chaincode querycommitted --channelID tracechannel --name trace --output json');
  });

  it('runs each step through FABRIC_BIN/peer with the org admin’s environment and checks the committed definition', () => {
    const { network, pkg } = fixture();
    const bin = join(tmp(), 'bin');
    mkdirSync(bin);
    const calls = join(bin, 'calls.log');
    // a recording stand-in for the peer CLI: the commands and environments are what is under test here
    const approvals = (org3: boolean) => JSON.stringify({ sequence: 1, version: '1.0', approvals: { Org1MSP: true, Org2MSP: true, Org3MSP: org3 } });
    const fakePeer = (org3: boolean) =>
      `#!/bin/sh\necho "$CORE_PEER_LOCALMSPID|$CORE_PEER_ADDRESS|$FABRIC_CFG_PATH|$*" >> ${calls}\ncase "$3" in calculatepackageid) echo trace_1.0:abc123 ;; querycommitted) echo '${approvals(org3)}' ;; esac\n`;
    writeFileSync(join(bin, 'peer'), fakePeer(true));
    chmodSync(join(bin, 'peer'), 0o755);
    const log = join(bin, 'deployments.jsonl');
    const r = deploy(['--network', network, '--package', pkg, '--record', log], { FABRIC_BIN: bin, FABRIC_CFG_PATH: '/opt/fabric/config' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('trace version 1.0 sequence 1 committed on tracechannel, approved by Org1MSP, Org2MSP, Org3MSP');
    // the deployment is appended to the record the member console reads (the package file is empty: its SHA-256)
    const [recorded, ...more] = readDeployments(log).records;
    expect(more).to.have.length(0);
    expect(recorded).to.deep.include({ target: 'fabric', chaincode: 'trace', version: '1.0', sequence: 1, channel: 'tracechannel', packageId: 'trace_1.0:abc123', packageHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
    expect(recorded.orgs).to.deep.equal(['Org1MSP', 'Org2MSP', 'Org3MSP']);
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    expect(lines).to.have.length(10);
    expect(lines.slice(0, 3).map((l) => l.split('|').slice(0, 3).join('|'))).to.deep.equal(['Org1MSP|127.0.0.1:7051|/opt/fabric/config', 'Org2MSP|127.0.0.1:7061|/opt/fabric/config', 'Org3MSP|127.0.0.1:7071|/opt/fabric/config']);
    expect(lines[6]).to.match(/^Org3MSP\|.*approveformyorg .* --package-id trace_1\.0:abc123$/);

    // a definition committed without one org's approval is a failed deploy
    writeFileSync(join(bin, 'peer'), fakePeer(false));
    const missing = deploy(['--network', network, '--package', pkg, '--record', log], { FABRIC_BIN: bin });
    expect([missing.status, missing.stderr]).to.satisfy(([s, err]: [number, string]) => s === 1 && err.includes('[ERR_DEPLOY] committed without the approval of Org3MSP'));
    expect(readDeployments(log).records, 'a failed deployment is not recorded').to.have.length(1);
  });

  it('refuses bad arguments with exit code 2 and a stable code, before any peer command', () => {
    const { dir, network, pkg } = fixture();
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ channel: 'c', orderer: { address: 'o:1', tlsRootCert: 'x' }, orgs: [] }));
    const cases: [string[], string][] = [
      [['--package', pkg], '[ERR_ARGS] --network'],
      [['--network', network, '--package', pkg, '--signature-policy', "OR('Org1MSP.peer')", '--channel-config-policy', '/Channel/Application/Endorsement'], '[ERR_ARGS] give --signature-policy or --channel-config-policy, not both'],
      [['--network', network, '--package', pkg, '--sequence', '0'], '[ERR_ARGS] --sequence must be a positive integer'],
      [['--network', network, '--package', join(dir, 'none.tar.gz')], '[ERR_PACKAGE] no package at'],
      [['--network', broken, '--package', pkg], '[ERR_NETWORK]'],
      [['--network', join(dir, 'missing.json'), '--package', pkg], '[ERR_NETWORK] cannot read'],
    ];
    for (const [args, message] of cases) {
      const r = deploy(args, { FABRIC_BIN: join(dir, 'no-bin') });
      expect([r.status, r.stderr], args.join(' ')).to.satisfy(([s, err]: [number, string]) => s === 2 && err.includes(message));
      expect(r.stdout, args.join(' ')).to.not.include('deploy: install');
    }
  });
});
