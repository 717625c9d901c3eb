import { load as loadYaml } from 'js-yaml';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { LedgerError } from './errors';
import { GatewayIdentity, IdentitySource, loadIdentity } from './identities';

/**
 * Fabric's common connection profile, the part this client reads (fabric-samples' test-network
 * writes connection-org1.json/.yaml in this shape). `x-trace` is this product's extension section:
 * the channel, the chaincode and where each org's identities are; a stock profile without it works
 * when those come from options or the environment.
 */
export interface ConnectionProfile {
  name?: string;
  version?: string;
  client?: { organization?: string };
  organizations?: Record<string, { mspid?: string; peers?: string[]; certificateAuthorities?: string[] }>;
  peers?: Record<string, ProfilePeer>;
  /** read only by the older protocol (Broadcast), for Fabric 2.3 peers */
  orderers?: Record<string, ProfilePeer>;
  channels?: Record<string, unknown>;
  'x-trace'?: TraceExtension;
}

export interface ProfilePeer {
  /** grpcs://host:port (TLS) or grpc://host:port */
  url?: string;
  tlsCACerts?: { pem?: string | string[]; path?: string };
  grpcOptions?: { 'ssl-target-name-override'?: string; hostnameOverride?: string; [option: string]: unknown };
}

/** An identity in the x-trace section: its source plus, for mutual TLS, a client certificate and key. */
export interface ProfileIdentity extends IdentitySource {
  tlsClient?: TlsClientFiles;
}

export interface TlsClientFiles {
  cert: string;
  key: string;
}

/**
 * How a client submits: through the Fabric Gateway service (Fabric 2.4+, the devnet), or Fabric's
 * older protocol (ProcessProposal to each org's peer, Broadcast to the orderer: Fabric 2.3 peers,
 * TBaaS's access address), which needs the profile's orderers.
 */
export type SubmitProtocol = 'gateway' | 'legacy';
export const SUBMIT_PROTOCOLS: readonly SubmitProtocol[] = ['gateway', 'legacy'];

export interface TraceExtension {
  channel?: string;
  chaincode?: string;
  /** default gateway */
  protocol?: SubmitProtocol;
  /** identities by MSP id, then by label (Admin, User1 …); paths relative to the profile */
  identities?: Record<string, Record<string, ProfileIdentity>>;
}

/** One peer to dial: host:port and its TLS settings. */
export interface PeerTarget {
  /** the profile's name for the peer (peer0.org1.example.com), used in errors */
  name: string;
  endpoint: string;
  tls: boolean;
  /** trusted roots for the peer's certificate (PEM); the system's roots when absent */
  tlsRootCert?: Buffer;
  serverNameOverride?: string;
}

/** What a connection needs, resolved from a profile, options and the environment. */
export interface ResolvedConnection {
  mspId: string;
  /** the org's peers: the first is the gateway, the others are fallbacks */
  peers: PeerTarget[];
  channel: string;
  chaincode: string;
  identity: GatewayIdentity;
  tlsClient?: { cert: Buffer; key: Buffer };
  protocol: SubmitProtocol;
  /** every org's peers and the orderers, for the older protocol (orderers empty when the profile lists none) */
  network: { peers: Record<string, PeerTarget[]>; orderers: PeerTarget[] };
}

/** Choices a caller makes over the profile; each also reads an environment variable (in brackets). */
export interface ProfileOptions {
  /** the org, by MSP id or by its key in organizations; default client.organization */
  msp?: string;
  /** identity label (x-trace.identities or a wallet's <label>.id); default User1 */
  user?: string;
  /** [TRACE_CHANNEL] default x-trace.channel, else the profile's only channel */
  channel?: string;
  /** [TRACE_CHAINCODE] default x-trace.chaincode */
  chaincode?: string;
  /** [TRACE_MSP_DIR, TRACE_CERT + TRACE_KEY, TRACE_WALLET] the identity, instead of x-trace.identities */
  identity?: IdentitySource;
  /** [TRACE_TLS_CLIENT_CERT + TRACE_TLS_CLIENT_KEY] client certificate for peers that require mutual TLS */
  tlsClient?: TlsClientFiles;
  /** [TRACE_PROTOCOL] default x-trace.protocol, else gateway */
  protocol?: SubmitProtocol;
}

function fail(message: string): never {
  throw new LedgerError('ERR_CONFIG', message);
}

/** Reads a configuration file, YAML (.yaml/.yml) or JSON. */
export function readConfigFile(path: string): unknown {
  if (!existsSync(path)) fail(`connection file ${path} does not exist`);
  const text = readFileSync(path, 'utf8');
  try {
    return ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? loadYaml(text) : JSON.parse(text);
  } catch (e) {
    return fail(`${path} does not parse: ${(e as Error).message}`);
  }
}

function envIdentity(env: NodeJS.ProcessEnv): IdentitySource | undefined {
  if (env.TRACE_MSP_DIR) return { mspDir: env.TRACE_MSP_DIR };
  if (env.TRACE_CERT && env.TRACE_KEY) return { cert: env.TRACE_CERT, key: env.TRACE_KEY };
  if (env.TRACE_WALLET) return { wallet: env.TRACE_WALLET };
  return undefined;
}

function peerTarget(name: string, peer: ProfilePeer | undefined, rel: (p: string) => string, where: string, kind = 'peer'): PeerTarget {
  if (!peer) fail(`${where}: peer ${name} is listed by its organization but not under peers`);
  const m = /^(grpcs?):\/\/([^/\s]+:\d+)\/?$/.exec(peer.url ?? '');
  if (!m) fail(`${where}: ${kind} ${name} url ${JSON.stringify(peer.url)} is not grpc://host:port or grpcs://host:port`);
  const target: PeerTarget = { name, endpoint: m[2], tls: m[1] === 'grpcs' };
  const override = peer.grpcOptions?.['ssl-target-name-override'] ?? peer.grpcOptions?.hostnameOverride;
  if (override) target.serverNameOverride = override;
  const pem = peer.tlsCACerts?.pem;
  if (pem) target.tlsRootCert = Buffer.from(Array.isArray(pem) ? pem.join('\n') : pem);
  else if (peer.tlsCACerts?.path) {
    const p = rel(peer.tlsCACerts.path);
    if (!existsSync(p)) fail(`${where}: ${kind} ${name} tlsCACerts.path ${p} does not exist`);
    target.tlsRootCert = readFileSync(p);
  }
  return target;
}

/** Resolves the connection a profile file describes for one org and identity. */
export function resolveConnection(path: string, opts: ProfileOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  const profile = readConfigFile(path) as ConnectionProfile;
  if (!profile || typeof profile !== 'object' || !profile.organizations || !profile.peers) fail(`${path} is not a connection profile: it needs organizations and peers`);
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(dirname(path), p));
  const orgs = Object.entries(profile.organizations);
  const wanted = opts.msp ?? profile.client?.organization;
  const found = wanted ? orgs.find(([key, o]) => o.mspid === wanted || key === wanted) : orgs.length === 1 ? orgs[0] : undefined;
  if (!found) fail(`${path}: ${wanted ? `no organization ${wanted}` : 'several organizations and no client.organization'} (organizations: ${orgs.map(([k, o]) => `${k}/${o.mspid}`).join(', ')})`);
  const [orgKey, org] = found;
  if (!org.mspid) fail(`${path}: organization ${orgKey} has no mspid`);
  if (!org.peers?.length) fail(`${path}: organization ${orgKey} lists no peers`);
  const peers = org.peers.map((name) => peerTarget(name, profile.peers![name], rel, path));

  const ext = profile['x-trace'] ?? {};
  const channels = Object.keys(profile.channels ?? {});
  const channel = opts.channel ?? env.TRACE_CHANNEL ?? ext.channel ?? (channels.length === 1 ? channels[0] : undefined);
  if (!channel) fail(`${path}: no channel: give one (option or TRACE_CHANNEL), set x-trace.channel, or list exactly one under channels`);
  const chaincode = opts.chaincode ?? env.TRACE_CHAINCODE ?? ext.chaincode;
  if (!chaincode) fail(`${path}: no chaincode: give one (option or TRACE_CHAINCODE) or set x-trace.chaincode`);

  const user = opts.user ?? 'User1';
  const listed = ext.identities?.[org.mspid]?.[user];
  const source = opts.identity ?? envIdentity(env) ?? listed;
  if (!source) throw new LedgerError('ERR_IDENTITY', `no identity ${user} for ${org.mspid} in ${path}: give an MSP directory, cert and key, or a wallet, or list it under x-trace.identities`);
  // Paths in the profile are relative to it; those from options and the environment to the working directory.
  const identityPath = source === listed ? rel : (p: string) => resolve(p);
  const resolved: IdentitySource = { label: user, ...source };
  for (const k of ['mspDir', 'cert', 'key', 'wallet'] as const) if (resolved[k]) resolved[k] = identityPath(resolved[k]!);
  const identity = loadIdentity(org.mspid, resolved);

  const envTls = env.TRACE_TLS_CLIENT_CERT && env.TRACE_TLS_CLIENT_KEY ? { cert: env.TRACE_TLS_CLIENT_CERT, key: env.TRACE_TLS_CLIENT_KEY } : undefined;
  const given = opts.tlsClient ?? envTls;
  const tlsFiles = given ?? (source === listed ? listed?.tlsClient : undefined);
  let tlsClient: ResolvedConnection['tlsClient'];
  if (tlsFiles) {
    const tlsPath = given ? (p: string) => resolve(p) : rel;
    const [cert, key] = [tlsPath(tlsFiles.cert), tlsPath(tlsFiles.key)];
    for (const f of [cert, key]) if (!existsSync(f)) fail(`${path}: TLS client file ${f} does not exist`);
    tlsClient = { cert: readFileSync(cert), key: readFileSync(key) };
  }
  const protocol = (opts.protocol ?? env.TRACE_PROTOCOL ?? ext.protocol ?? 'gateway') as SubmitProtocol;
  if (!SUBMIT_PROTOCOLS.includes(protocol)) fail(`${path}: protocol ${JSON.stringify(protocol)} is not one of ${SUBMIT_PROTOCOLS.join(', ')}`);
  const network = { peers: {} as Record<string, PeerTarget[]>, orderers: Object.entries(profile.orderers ?? {}).map(([name, o]) => peerTarget(name, o, rel, path, 'orderer')) };
  for (const [, o] of orgs) if (o.mspid) network.peers[o.mspid] = (o.peers ?? []).map((name) => peerTarget(name, profile.peers![name], rel, path));
  if (protocol === 'legacy' && network.orderers.length === 0) fail(`${path}: the legacy protocol broadcasts to an orderer, and the profile lists none under orderers`);
  return { mspId: org.mspid, peers, channel, chaincode, identity, tlsClient, protocol, network };
}
