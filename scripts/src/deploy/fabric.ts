import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DeploymentRecord, fileSha256 } from '@trace/client';
import { checkCommitted, DeployError, fabricDeployPlan, FabricDeployOptions, formatPlan, PACKAGE_ID, readFabricNetwork } from './fabric-plan';

const ROOT = resolve(__dirname, '../../../..');
/** `npm run package:fabric` (scripts/src/package-fabric.ts) and where it writes the lifecycle packages */
const PACKAGER = resolve(__dirname, '../package-fabric.js');
const packageOf = (type: string) => join(ROOT, 'build', 'fabric', `trace-${type}.tar.gz`);

export interface FabricTargetOptions {
  network?: string;
  package?: string;
  /** the org allowed to bootstrap the consortium, written into the package */
  founder?: string;
  type?: string;
  label?: string;
  address?: string;
  name?: string;
  version?: string;
  sequence?: string;
  'signature-policy'?: string;
  'channel-config-policy'?: string;
}

/** The package to install: the one given, or the one `npm run package:fabric` builds now. */
function lifecyclePackage(v: FabricTargetOptions, log: (line: string) => void): string {
  if (v.package) {
    if (!existsSync(v.package)) throw new DeployError('ERR_PACKAGE', `no package at ${v.package}`);
    return resolve(v.package);
  }
  const type = v.type ?? 'ccaas';
  if (type !== 'ccaas' && type !== 'node') throw new DeployError('ERR_ARGS', `--type is ccaas or node, got ${type}`);
  if (!existsSync(PACKAGER)) throw new DeployError('ERR_PACKAGE', 'npm run package:fabric is not built in this tree: give --package <lifecycle package .tar.gz>');
  const args = [...(v.founder ? ['--founder', v.founder] : []), ...(v.label ? ['--label', v.label] : []), ...(v.address ? ['--address', v.address] : [])];
  log(`building the packages: node ${PACKAGER} ${args.join(' ')}`);
  execFileSync(process.execPath, [PACKAGER, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  return packageOf(type);
}

/**
 * deploy --target fabric: installs, approves per org, commits and checks the chaincode definition
 * through the peer CLI of FABRIC_BIN, or prints those commands when FABRIC_BIN is not set.
 */
export function deployFabric(v: FabricTargetOptions, env: NodeJS.ProcessEnv, log: (line: string) => void): DeploymentRecord | undefined {
  if (!v.network) throw new DeployError('ERR_ARGS', '--network <network.json> is required (test-network/fabric/network.sh up, generate or samples writes it)');
  const network = readFabricNetwork(v.network);
  const opts: FabricDeployOptions = {
    packagePath: lifecyclePackage(v, log),
    name: v.name ?? 'trace',
    version: v.version ?? '1.0',
    sequence: Number(v.sequence ?? 1),
    signaturePolicy: v['signature-policy'],
    channelConfigPolicy: v['channel-config-policy'],
  };
  const steps = fabricDeployPlan(network, opts);
  const bin = env.FABRIC_BIN;
  if (!bin) {
    log(`FABRIC_BIN is not set: the steps, to run with a Fabric 2.5 release's peer CLI (FABRIC_CFG_PATH=<release>/config):\n${formatPlan(steps)}`);
    return undefined;
  }
  const peer = join(bin, 'peer');
  if (!existsSync(peer)) throw new DeployError('ERR_FABRIC_BIN', `${peer} does not exist`);
  const cfg = env.FABRIC_CFG_PATH ?? env.FABRIC_CFG ?? join(bin, '..', 'config');
  let packageId = '';
  let committed = '';
  for (const s of steps) {
    log(`deploy: ${s.what}`);
    const args = s.args.map((a) => (a === PACKAGE_ID ? packageId : a));
    let out: string;
    try {
      out = execFileSync(peer, args, { env: { ...env, FABRIC_CFG_PATH: cfg, ...s.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      // installing again is not a failure: the peer keeps one copy per package ID
      if (args[2] === 'install' && /already successfully installed/.test(err.stderr ?? '')) continue;
      throw new DeployError('ERR_DEPLOY', `${s.what} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-3).join(' | ')}`);
    }
    if (s.what === 'package ID') packageId = out.trim();
    if (s.what === 'committed definition') committed = out;
  }
  checkCommitted(committed, network, opts);
  log(`deploy: ${opts.name} version ${opts.version} sequence ${opts.sequence} committed on ${network.channel}, approved by ${network.orgs.map((o) => o.mspId).join(', ')}
package ID ${packageId}: a ccaas package's chaincode server runs with CHAINCODE_ID=${packageId} and CHAINCODE_SERVER_ADDRESS=<the address in its connection.json>`);
  return {
    at: new Date().toISOString(), target: 'fabric', chaincode: opts.name, version: opts.version, sequence: opts.sequence, channel: network.channel,
    orgs: network.orgs.map((o) => o.mspId), packageFile: opts.packagePath, packageHash: fileSha256(opts.packagePath), packageId,
  };
}
