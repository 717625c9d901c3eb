import { readFileSync } from 'node:fs';

/** What network.sh (generate, up or samples) writes: the orderer and each org's peer, admin MSP and TLS roots. */
export interface FabricNetwork {
  channel: string;
  orderer: { address: string; hostOverride?: string; tlsRootCert: string };
  orgs: { mspId: string; peer: string; peerHostOverride?: string; tlsRootCert: string; adminMsp: string }[];
}

export interface FabricDeployOptions {
  /** the lifecycle package (tar.gz) to install */
  packagePath: string;
  name: string;
  version: string;
  sequence: number;
  /** an explicit endorsement policy, e.g. OutOf(2, 'Org1MSP.peer', …); else the channel's default */
  signaturePolicy?: string;
  /** a channel config policy reference, e.g. /Channel/Application/Endorsement */
  channelConfigPolicy?: string;
}

/** One `peer` CLI call: its environment (an org admin's), its arguments, what it does. */
export interface PeerStep {
  what: string;
  org?: string;
  env: Record<string, string>;
  args: string[];
}

/** Stands in the arguments for the package ID, known once `calculatepackageid` has run. */
export const PACKAGE_ID = '${PACKAGE_ID}';

export class DeployError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`[${code}] ${message}`);
  }
}

/** Reads and checks network.json, so a typo fails here rather than as a peer CLI error halfway through. */
export function readFabricNetwork(path: string): FabricNetwork {
  let n: FabricNetwork;
  try {
    n = JSON.parse(readFileSync(path, 'utf8')) as FabricNetwork;
  } catch (e) {
    throw new DeployError('ERR_NETWORK', `cannot read ${path}: ${(e as Error).message}`);
  }
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!str(n?.channel) || !str(n.orderer?.address) || !str(n.orderer?.tlsRootCert)) throw new DeployError('ERR_NETWORK', `${path} needs channel and orderer.{address,tlsRootCert} (network.sh generate writes it)`);
  if (!Array.isArray(n.orgs) || !n.orgs.length) throw new DeployError('ERR_NETWORK', `${path} lists no orgs`);
  for (const o of n.orgs) if (!['mspId', 'peer', 'tlsRootCert', 'adminMsp'].every((k) => str(o[k as keyof typeof o]))) throw new DeployError('ERR_NETWORK', `${path}: every org needs mspId, peer, tlsRootCert and adminMsp`);
  return n;
}

/** An org admin's environment for the peer CLI, against that org's peer over TLS. */
export function orgEnv(o: FabricNetwork['orgs'][number]): Record<string, string> {
  return { CORE_PEER_LOCALMSPID: o.mspId, CORE_PEER_MSPCONFIGPATH: o.adminMsp, CORE_PEER_ADDRESS: o.peer, CORE_PEER_TLS_ENABLED: 'true', CORE_PEER_TLS_ROOTCERT_FILE: o.tlsRootCert };
}

/**
 * The lifecycle of one chaincode definition: install on every org's peer, approve per org, check
 * readiness, commit with every org's peer as endorser, and read the committed definition back.
 */
export function fabricDeployPlan(n: FabricNetwork, o: FabricDeployOptions): PeerStep[] {
  if (o.signaturePolicy && o.channelConfigPolicy) throw new DeployError('ERR_ARGS', 'give --signature-policy or --channel-config-policy, not both');
  if (!Number.isInteger(o.sequence) || o.sequence < 1) throw new DeployError('ERR_ARGS', `--sequence must be a positive integer, got ${o.sequence}`);
  if (!/^[A-Za-z0-9_-]+$/.test(o.name)) throw new DeployError('ERR_ARGS', `--name ${o.name}: letters, digits, _ and - only`);
  const orderer = ['-o', n.orderer.address, ...(n.orderer.hostOverride ? ['--ordererTLSHostnameOverride', n.orderer.hostOverride] : []), '--tls', '--cafile', n.orderer.tlsRootCert];
  const policy = o.signaturePolicy ? ['--signature-policy', o.signaturePolicy] : o.channelConfigPolicy ? ['--channel-config-policy', o.channelConfigPolicy] : [];
  const definition = ['--channelID', n.channel, '--name', o.name, '--version', o.version, '--sequence', String(o.sequence), ...policy];
  const first = n.orgs[0];
  return [
    ...n.orgs.map((org) => ({ what: `install on ${org.mspId}'s peer ${org.peer}`, org: org.mspId, env: orgEnv(org), args: ['lifecycle', 'chaincode', 'install', o.packagePath] })),
    { what: 'package ID', env: orgEnv(first), args: ['lifecycle', 'chaincode', 'calculatepackageid', o.packagePath] },
    ...n.orgs.map((org) => ({ what: `approve for ${org.mspId}`, org: org.mspId, env: orgEnv(org), args: ['lifecycle', 'chaincode', 'approveformyorg', ...orderer, ...definition, '--package-id', PACKAGE_ID] })),
    { what: 'commit readiness', env: orgEnv(first), args: ['lifecycle', 'chaincode', 'checkcommitreadiness', ...definition, '--output', 'json'] },
    {
      what: 'commit',
      env: orgEnv(first),
      args: ['lifecycle', 'chaincode', 'commit', ...orderer, ...definition, ...n.orgs.flatMap((org) => ['--peerAddresses', org.peer, '--tlsRootCertFiles', org.tlsRootCert])],
    },
    { what: 'committed definition', env: orgEnv(first), args: ['lifecycle', 'chaincode', 'querycommitted', '--channelID', n.channel, '--name', o.name, '--output', 'json'] },
  ];
}

const quote = (s: string) => (/^[A-Za-z0-9_./:=@,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The plan as shell lines a person can run: each step's environment, then the command. */
export function formatPlan(steps: PeerStep[], peerBin = 'peer'): string {
  return steps
    .map((s) => {
      const env = Object.entries(s.env).map(([k, v]) => `${k}=${quote(v)}`).join(' ');
      const cmd = [peerBin, ...s.args].map((a) => (a === PACKAGE_ID ? '"$PACKAGE_ID"' : quote(a))).join(' ');
      return `# ${s.what}\n${s.what === 'package ID' ? `PACKAGE_ID=$(${env} ${cmd})` : `${env} ${cmd}`}`;
    })
    .join('\n');
}

/** The committed definition `querycommitted --output json` prints, checked against what was deployed. */
export function checkCommitted(json: string, n: FabricNetwork, o: FabricDeployOptions): void {
  const d = JSON.parse(json) as { sequence?: number; version?: string; approvals?: Record<string, boolean> };
  if (d.sequence !== o.sequence || d.version !== o.version) throw new DeployError('ERR_DEPLOY', `committed ${o.name} is version ${d.version} sequence ${d.sequence}, not ${o.version} sequence ${o.sequence}`);
  const missing = n.orgs.filter((org) => d.approvals?.[org.mspId] !== true).map((org) => org.mspId);
  if (missing.length) throw new DeployError('ERR_DEPLOY', `committed without the approval of ${missing.join(', ')}`);
}
