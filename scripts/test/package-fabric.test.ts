import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CertificateAuthority } from '@trace/test-network';

const CLI = resolve(__dirname, '../src/package-fabric.js');

function packageFabric(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

/** The files of a tar.gz, read with tar itself: name → contents. */
function untar(archive: string): Record<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'untar-'));
  const run = spawnSync('tar', ['xzf', archive, '-C', dir]);
  expect(run.status, String(run.stderr)).to.equal(0);
  const out: Record<string, Buffer> = {};
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out[prefix + e.name] = readFileSync(join(d, e.name));
    }
  };
  walk(dir, '');
  return out;
}

/** A lifecycle package: its metadata and the files of its code.tar.gz. */
function lifecyclePackage(archive: string): { metadata: unknown; code: Record<string, Buffer> } {
  const outer = untar(archive);
  expect(Object.keys(outer).sort()).to.deep.equal(['code.tar.gz', 'metadata.json']);
  const dir = mkdtempSync(join(tmpdir(), 'code-'));
  writeFileSync(join(dir, 'code.tar.gz'), outer['code.tar.gz']);
  return { metadata: JSON.parse(outer['metadata.json'].toString()), code: untar(join(dir, 'code.tar.gz')) };
}

describe('package:fabric', function () {
  this.timeout(120_000);

  it('ships the versions the workspace tests run: committed manifests in step with chaincode/package.json', () => {
    const root = resolve(__dirname, '../../..');
    type Manifest = { version: string; dependencies: Record<string, string> };
    const read = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8')) as Manifest;
    const chaincode = read('chaincode/package.json');
    const fabric = read('chaincode/packaging/fabric/package.json');
    const tbaas = read('chaincode/packaging/tbaas/package.json');
    expect([fabric.version, tbaas.version]).to.deep.equal([chaincode.version, chaincode.version]);
    // The Fabric package pins exactly what the workspace has installed, so its tests cover the shipped tree.
    expect(Object.keys(fabric.dependencies).sort()).to.deep.equal(Object.keys(chaincode.dependencies).sort());
    for (const [name, version] of Object.entries(fabric.dependencies)) expect(read(`node_modules/${name}/package.json`).version, name).to.equal(version);
    expect(tbaas.dependencies).to.include({ 'fabric-shim': '2.3.0', 'fabric-contract-api': '2.3.0', 'class-transformer': '0.5.1', 'class-validator': fabric.dependencies['class-validator'] });
  });

  it('builds the Node package (src/ with the manifest, the lockfile and JavaScript only) and a plain ccaas package, byte for byte reproducibly', () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'fabric-a-')), mkdtempSync(join(tmpdir(), 'fabric-b-'))];
    for (const out of [a, b]) expect(packageFabric(['--out', out]).status).to.equal(0);
    const node = lifecyclePackage(join(a, 'trace-node.tar.gz'));
    expect(node.metadata).to.deep.equal({ type: 'node', label: 'trace_0.1.0' });
    const files = Object.keys(node.code);
    expect(files).to.include.members(['src/package.json', 'src/package-lock.json', 'src/dist/index.js', 'src/dist/server.js', 'src/dist/contracts/trace.js']);
    expect(files.filter((f) => !f.startsWith('src/') || /\.(ts|map)$/.test(f))).to.deep.equal([]);
    const lock = JSON.parse(node.code['src/package-lock.json'].toString()) as { lockfileVersion: number; packages: Record<string, { version?: string }> };
    expect(lock.lockfileVersion).to.equal(2);
    const transformers = Object.entries(lock.packages).filter(([path]) => path.endsWith('node_modules/class-transformer'));
    expect(transformers.map(([path, p]) => [path, p.version])).to.deep.equal([['node_modules/class-transformer', '0.5.1']]);

    const ccaas = lifecyclePackage(join(a, 'trace-ccaas.tar.gz'));
    expect(ccaas.metadata).to.deep.equal({ type: 'ccaas', label: 'trace_0.1.0' });
    expect(Object.keys(ccaas.code)).to.deep.equal(['connection.json']);
    expect(JSON.parse(ccaas.code['connection.json'].toString())).to.deep.equal({ address: 'trace-chaincode:9999', dial_timeout: '10s', tls_required: false });
    expect(existsSync(join(a, 'chaincode', 'Dockerfile')) && existsSync(join(a, 'chaincode', 'dist', 'server.js'))).to.equal(true);

    expect(files).to.not.include('src/deployment.json');
    // the server image's context always has one, for the Dockerfile's COPY: empty without a founder
    expect(JSON.parse(readFileSync(join(a, 'chaincode', 'deployment.json'), 'utf8'))).to.deep.equal({});
    // The founding org travels in the package every org approves.
    const founded = mkdtempSync(join(tmpdir(), 'fabric-founder-'));
    expect(packageFabric(['--out', founded, '--founder', 'Org2MSP']).status).to.equal(0);
    expect(JSON.parse(lifecyclePackage(join(founded, 'trace-node.tar.gz')).code['src/deployment.json'].toString())).to.deep.equal({ founderMsp: 'Org2MSP' });
    expect(JSON.parse(readFileSync(join(founded, 'chaincode', 'deployment.json'), 'utf8'))).to.deep.equal({ founderMsp: 'Org2MSP' });

    // The package ID is the label and the hash of these bytes: the same source gives the same ID.
    for (const name of ['trace-node.tar.gz', 'trace-ccaas.tar.gz']) expect(readFileSync(join(a, name)).equals(readFileSync(join(b, name))), name).to.equal(true);
  });

  it('writes the TLS fields the ccaas builder reads: the server CA, and the peer client pair with client auth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fabric-tls-'));
    const ca = await CertificateAuthority.open(join(dir, 'ca'), 'Org1MSP', 'org1.example.com');
    const peer = await ca.issue('peer0');
    const caFile = join(dir, 'ca', 'ca', 'ca.pem');
    const out = join(dir, 'out');
    const run = packageFabric(['--out', out, '--label', 'trace_tls', '--address', '{{.peername}}-trace:9443', '--dial-timeout', '5s', '--tls', '--root-cert', caFile, '--client-auth', '--client-cert', peer.certPath, '--client-key', peer.keyPath]);
    expect(run.status, run.stderr).to.equal(0);
    const { metadata, code } = lifecyclePackage(join(out, 'trace-ccaas.tar.gz'));
    expect(metadata).to.deep.equal({ type: 'ccaas', label: 'trace_tls' });
    expect(JSON.parse(code['connection.json'].toString())).to.deep.equal({
      address: '{{.peername}}-trace:9443',
      dial_timeout: '5s',
      tls_required: true,
      client_auth_required: true,
      root_cert: readFileSync(caFile, 'utf8'),
      client_cert: readFileSync(peer.certPath, 'utf8'),
      client_key: readFileSync(peer.keyPath, 'utf8'),
    });
  });

  it('refuses incomplete or invalid options with ERR_ARGS and writes nothing', () => {
    const out = mkdtempSync(join(tmpdir(), 'fabric-bad-'));
    const cases: [string[], string][] = [
      [['--tls'], '--root-cert is required here'],
      [['--tls', '--root-cert', resolve(__dirname, '../../package.json')], 'is not PEM'],
      [['--tls', '--root-cert', join(out, 'none.pem')], 'cannot read'],
      [['--client-auth'], 'need --tls'],
      [['--label', 'two words'], '--label two words'],
      [['--no-such-option'], "Unknown option '--no-such-option'"],
      [['--address', 'no-port'], '--address must be host:port'],
      [['--dial-timeout', 'soon'], '--dial-timeout must be a Go duration'],
      [['--founder', 'Org 1'], '--founder Org 1 is not an MSP ID'],
    ];
    for (const [args, text] of cases) {
      const run = packageFabric(['--out', out, ...args]);
      expect(run.status, args.join(' ')).to.equal(1);
      expect(run.stderr, args.join(' ')).to.include('[ERR_ARGS]').and.to.include(text);
    }
    expect(readdirSync(out)).to.deep.equal([]);
  });
});
