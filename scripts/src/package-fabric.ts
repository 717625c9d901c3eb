import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * package:fabric — the chaincode for Fabric 2.5 peers, as `peer lifecycle chaincode install` takes it:
 *   build/fabric/trace-node.tar.gz   metadata.json {type: node} + code.tar.gz (src/: package.json,
 *                                    package-lock.json, dist), for the peer's Node builder (npm ci);
 *   build/fabric/trace-ccaas.tar.gz  metadata.json {type: ccaas} + code.tar.gz (connection.json), for
 *                                    the ccaas builder, which dials the chaincode server at `address`;
 *   build/fabric/chaincode/          that server's image context: the same code + Dockerfile.
 * The manifest and lockfile are committed in chaincode/packaging/fabric: exact versions, class-transformer
 * 0.5.1 for fabric-contract-api too (its own range asks for 0.4.x, which breaks every transaction
 * returning an object), so a builder installing the package alone gets the tree the tests ran.
 */

const ROOT = resolve(__dirname, '../../..');
const PACKAGING = join(ROOT, 'chaincode', 'packaging', 'fabric');

const USAGE = `usage: npm run package:fabric -- --founder MSPID [--out build/fabric] [--label trace_0.1.0] [--address trace-chaincode:9999]
                                  [--dial-timeout 10s] [--tls --root-cert FILE [--client-auth --client-cert FILE --client-key FILE]]
  --founder       the org allowed to bootstrap the consortium (deployment.json in the package; the
                  chaincode server takes TRACE_FOUNDER_MSP); without it nobody can bootstrap
  --address       where peers dial the chaincode server (the ccaas builder expands {{.peername}}-style templates)
  --root-cert     CA certificate (PEM) of the chaincode server's TLS certificate
  --client-auth   the server requires client certificates: the peer presents --client-cert/--client-key (PEM)`;

/** connection.json as Fabric's ccaas builder reads it (PEM contents, not paths). */
export interface CcaasConnection {
  address: string;
  dial_timeout: string;
  tls_required: boolean;
  client_auth_required?: boolean;
  root_cert?: string;
  client_key?: string;
  client_cert?: string;
}

class UsageError extends Error {}

function usage(message: string): never {
  throw new UsageError(`[ERR_ARGS] ${message}`);
}

function pem(option: string, path: string | undefined): string {
  if (!path) usage(`--${option} is required here`);
  try {
    const text = readFileSync(path, 'utf8');
    if (!/^-----BEGIN [A-Z ]+-----$/m.test(text)) usage(`--${option} ${path} is not PEM`);
    return text;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    return usage(`--${option}: cannot read ${path}`);
  }
}

const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Fabric's package label rule: starts alphanumeric, then alphanumerics and _ . + - */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

function connectionFrom(values: Record<string, string | boolean | undefined>): CcaasConnection {
  const address = String(values.address ?? 'trace-chaincode:9999');
  if (!/^\S+:(\d+|\{\{.+\}\})$/.test(address)) usage(`--address must be host:port, got ${address}`);
  const dialTimeout = String(values['dial-timeout'] ?? '10s');
  if (!/^\d+(ms|s|m)$/.test(dialTimeout)) usage(`--dial-timeout must be a Go duration such as 10s, got ${dialTimeout}`);
  if (!values.tls) {
    if (values['root-cert'] || values['client-auth']) usage('--root-cert and --client-auth need --tls');
    return { address, dial_timeout: dialTimeout, tls_required: false };
  }
  const conn: CcaasConnection = { address, dial_timeout: dialTimeout, tls_required: true, client_auth_required: Boolean(values['client-auth']), root_cert: pem('root-cert', values['root-cert'] as string | undefined) };
  if (conn.client_auth_required) {
    conn.client_cert = pem('client-cert', values['client-cert'] as string | undefined);
    conn.client_key = pem('client-key', values['client-key'] as string | undefined);
  }
  return conn;
}

/** GNU tar, reproducible (sorted, owner 0, mtime 0): the package ID is the hash of these bytes. */
function tarGz(target: string, dir: string, entries: string[], prefix = ''): void {
  const transform = prefix ? ['--transform', `s,^,${prefix},`] : [];
  execFileSync('tar', ['-czf', target, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', ...transform, '-C', dir, ...entries]);
}

/** A lifecycle package: metadata.json + code.tar.gz, built in a scratch directory. */
function lifecyclePackage(out: string, target: string, metadata: { type: string; label: string }, writeCode: (codeTarGz: string) => void): void {
  const scratch = mkdtempSync(join(out, '.pkg-'));
  try {
    writeFileSync(join(scratch, 'metadata.json'), JSON.stringify(metadata));
    writeCode(join(scratch, 'code.tar.gz'));
    tarGz(target, scratch, ['metadata.json', 'code.tar.gz']);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function options() {
  return parseArgs({
    options: {
      out: { type: 'string' },
      founder: { type: 'string' },
      label: { type: 'string' },
      address: { type: 'string' },
      'dial-timeout': { type: 'string' },
      tls: { type: 'boolean' },
      'root-cert': { type: 'string' },
      'client-auth': { type: 'boolean' },
      'client-cert': { type: 'string' },
      'client-key': { type: 'string' },
      help: { type: 'boolean' },
    },
  }).values;
}

function main(): void {
  let values: ReturnType<typeof options>;
  try {
    values = options();
  } catch (e) {
    usage((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const manifest = JSON.parse(readFileSync(join(PACKAGING, 'package.json'), 'utf8')) as { version: string };
  const label = values.label ?? `trace_${manifest.version}`;
  if (!LABEL.test(label)) usage(`--label ${label}: a label starts with a letter or digit, then letters, digits, _ . + -`);
  const connection = connectionFrom(values);
  if (values.founder !== undefined && !MSP_ID.test(values.founder)) usage(`--founder ${values.founder} is not an MSP ID`);
  const out = resolve(values.out ?? join(ROOT, 'build', 'fabric'));
  const code = join(out, 'chaincode');

  // The compiled chaincode (tsc -b), JavaScript only, under the committed manifest and lockfile.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(ROOT, 'chaincode')], { stdio: 'inherit' });
  rmSync(code, { recursive: true, force: true });
  mkdirSync(code, { recursive: true });
  cpSync(join(ROOT, 'chaincode', 'dist', 'src'), join(code, 'dist'), { recursive: true, filter: (src) => !/\.(d\.ts|map)$/.test(src) });
  for (const file of ['package.json', 'package-lock.json', 'Dockerfile']) copyFileSync(join(PACKAGING, file), join(code, file));
  // The server image takes deployment.json always ({} without a founder: then TRACE_FOUNDER_MSP decides); the Node package only with one.
  writeFileSync(join(code, 'deployment.json'), JSON.stringify(values.founder ? { founderMsp: values.founder } : {}) + '\n');
  const codeEntries = ['package.json', 'package-lock.json', 'dist', ...(values.founder ? ['deployment.json'] : [])];

  const nodePkg = join(out, 'trace-node.tar.gz');
  lifecyclePackage(out, nodePkg, { type: 'node', label }, (codeTarGz) => tarGz(codeTarGz, code, codeEntries, 'src/'));
  const ccaasPkg = join(out, 'trace-ccaas.tar.gz');
  lifecyclePackage(out, ccaasPkg, { type: 'ccaas', label }, (codeTarGz) => {
    const dir = mkdtempSync(join(out, '.conn-'));
    try {
      writeFileSync(join(dir, 'connection.json'), JSON.stringify(connection, null, 2) + '\n');
      tarGz(codeTarGz, dir, ['connection.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const rel = (p: string) => relative(ROOT, p);
  console.log(`node package:  ${rel(nodePkg)} (label ${label}; peer lifecycle chaincode install ${rel(nodePkg)})
ccaas package: ${rel(ccaasPkg)} (label ${label}; dials ${connection.address}${connection.tls_required ? ', TLS' : ''}${connection.client_auth_required ? ', client auth' : ''})
server image:  docker build -t trace-chaincode ${rel(code)}   (run with CHAINCODE_ID=<package ID of the ccaas package>${values.founder ? ` and TRACE_FOUNDER_MSP=${values.founder}` : ''})
founder:       ${values.founder ?? 'none: no org can bootstrap the consortium (give --founder MSPID)'}`);
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(`package:fabric: ${(e as Error).message}`);
    if (e instanceof UsageError) console.error(USAGE);
    process.exit(1);
  }
}
