import { Server, ServerCredentials, UntypedServiceImplementation } from '@grpc/grpc-js';
import { gateway, orderer, peer } from '@hyperledger/fabric-protos';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pino, { Logger } from 'pino';
import { CertificateAuthority, IssueOptions } from './crypto/ca';
import { loadPrivateKey, signMessage } from './crypto/ecdsa';
import { MspRegistry } from './crypto/msp';
import { Ledger, OwnEndorsements, Signer } from './ledger/ledger';
import { Orderer } from './orderer/orderer';
import { Endorser, PeerIdentity } from './peer/endorser';
import { ChaincodeLauncher } from './peer/launcher';
import { DevnetRecord, domainOf, profileFileName, tlsCaPath, TlsMode, UserFiles, userFiles } from './layout';
import { atomicBroadcastService } from './services/broadcast-service';
import { deliverService } from './services/deliver';
import { endorserService } from './services/endorser-service';
import { gatewayService } from './services/gateway';
import { unimplementedService } from './services/unimplemented-service';
import { msp } from '@hyperledger/fabric-protos';

export interface DevnetOptions {
  /** data directory: crypto material, ledger, logs, connection-<org>.json */
  dataDir: string;
  host?: string;
  /** 0 picks a free port */
  port?: number;
  channel?: string;
  /** application org MSP ids (fixed once the data directory exists) */
  orgs?: string[];
  /**
   * node: the node binary the chaincode processes run with (default the devnet's own); env: added to
   * their environment, after TRACE_FOUNDER_MSP = the first org (the product chaincode's founding org)
   */
  chaincode: { name: string; version?: string; path: string; node?: string; env?: Record<string, string> };
  /** distinct orgs that must endorse; default MAJORITY of the orgs */
  endorsers?: number;
  batch?: { maxMessages?: number; timeoutMs?: number; preferredMaxBytes?: number };
  /** largest gRPC message accepted */
  maxMessageBytes?: number;
  executeTimeoutMs?: number;
  /** 'tls' serves every client-facing service over TLS (a port per org, with that org's TLS CA's server certificate); 'mtls' also requires client certificates */
  tls?: TlsMode;
  /** false: no gateway.Gateway service, as a Fabric 2.3 peer (calls fail 12 UNIMPLEMENTED); default true */
  gateway?: boolean;
  logger?: Logger;
}

const DEFAULT_USERS: { name: string; ou: 'client' | 'admin' }[] = [
  { name: 'Admin', ou: 'admin' },
  { name: 'User1', ou: 'client' },
];

function fileSigner(files: { mspId: string; certPath: string; keyPath: string }): Signer {
  const sid = new msp.SerializedIdentity();
  sid.setMspid(files.mspId);
  sid.setIdBytes(readFileSync(files.certPath));
  const key = loadPrivateKey(readFileSync(files.keyPath));
  return { serialized: sid.serializeBinary(), sign: (m) => signMessage(key, m) };
}

const ORDERER_NAME = 'orderer0.orderer.example.com';

const bindServer = (server: Server, address: string, creds: ServerCredentials) =>
  new Promise<number>((res, rej) => server.bindAsync(address, creds, (err, p) => (err ? rej(err) : res(p))));

/** The embedded network: one channel, a peer per org, a solo orderer, a CA per org, one chaincode. */
export class Devnet {
  readonly log: Logger;
  readonly dataDir: string;
  private server?: Server;
  /** with TLS, the chaincodes' ChaincodeSupport stream stays on its own loopback plaintext port */
  private chaincodeServer?: Server;
  private chaincodePort = 0;
  private cas = new Map<string, CertificateAuthority>();
  private tlsCas = new Map<string, CertificateAuthority>();
  /** one listener per org peer (protos.Endorser, protos.Deliver): a pre-2.4 client addresses each org's peer by its own endpoint */
  private peerServers: { mspId: string; server: Server; port: number }[] = [];
  ledger!: Ledger;
  launcher!: ChaincodeLauncher;
  private orderer!: Orderer;
  private boundPort = 0;
  private stored!: DevnetRecord;

  constructor(private readonly opts: DevnetOptions) {
    this.dataDir = resolve(opts.dataDir);
    this.log = opts.logger ?? pino({ base: { svc: 'devnet' } }, pino.destination(2));
  }

  get endpoint(): string {
    return `${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  /** the orderer's endpoint (orderer.AtomicBroadcast): the main listener */
  get ordererEndpoint(): string {
    return this.endpoint;
  }

  /** each org peer's own endpoint for ProcessProposal and Deliver */
  get peerEndpoints(): Record<string, string> {
    return Object.fromEntries(this.peerServers.map((p) => [p.mspId, `${this.opts.host ?? '127.0.0.1'}:${p.port}`]));
  }

  get orgs(): string[] {
    return this.stored.orgs;
  }

  get tls(): TlsMode {
    return this.opts.tls ?? 'none';
  }

  /** The first org's common connection profile. */
  get connectionPath(): string {
    return this.connectionProfiles[this.stored.orgs[0]];
  }

  /** Each org's common connection profile (connection-org1.json …), written at every start. */
  get connectionProfiles(): Record<string, string> {
    return Object.fromEntries(this.stored.orgs.map((m) => [m, join(this.dataDir, profileFileName(m))]));
  }

  ca(mspId: string): CertificateAuthority {
    const ca = this.cas.get(mspId);
    if (!ca) throw new Error(`unknown org ${mspId}`);
    return ca;
  }

  /** Issues an identity from an org's CA and its TLS client certificate from the org's TLS CA (files under crypto/<msp>/users/<name>). */
  async enroll(mspId: string, name: string, opts?: IssueOptions): Promise<UserFiles> {
    await this.ca(mspId).issue(name, opts);
    const files = userFiles(this.dataDir, mspId, name);
    await this.tlsCas.get(mspId)!.issueTls(dirname(files.tlsCertPath), `${name}@${domainOf(mspId)}`);
    return files;
  }

  async start(): Promise<void> {
    const o = this.opts;
    mkdirSync(this.dataDir, { recursive: true });
    const configPath = join(this.dataDir, 'devnet.json');
    const previous = existsSync(configPath) ? (JSON.parse(readFileSync(configPath, 'utf8')) as DevnetRecord) : undefined;
    this.stored = { channel: previous?.channel ?? o.channel ?? 'tracechannel', orgs: previous?.orgs ?? o.orgs ?? ['Org1MSP', 'Org2MSP'] };
    const { channel, orgs } = this.stored;
    const endorsers = o.endorsers ?? Math.floor(orgs.length / 2) + 1;
    if (endorsers < 1 || endorsers > orgs.length) throw new Error(`endorsers must be between 1 and ${orgs.length}`);

    const cryptoDir = join(this.dataDir, 'crypto');
    const msps = new MspRegistry();
    const peers: PeerIdentity[] = [];
    const host = o.host ?? '127.0.0.1';
    const serverCerts: { certPath: string; keyPath: string }[] = [];
    for (const mspId of orgs) {
      const domain = domainOf(mspId);
      const ca = await CertificateAuthority.open(join(cryptoDir, mspId), mspId, domain);
      this.cas.set(mspId, ca);
      const tlsCa = await CertificateAuthority.open(join(cryptoDir, mspId), mspId, domain, 'tlsca');
      this.tlsCas.set(mspId, tlsCa);
      msps.addOrg(mspId, ca.certPem);
      for (const u of DEFAULT_USERS) await this.enroll(mspId, u.name, { ou: u.ou });
      peers.push({ mspId, address: '', signer: fileSigner(await ca.issue('peer0', { ou: 'peer' })) });
      const serverNames = [...new Set(['127.0.0.1', 'localhost', `peer0.${domain}`, host])];
      serverCerts.push(await tlsCa.issueTls(join(cryptoDir, mspId, 'peers', `peer0.${domain}`, 'tls'), `peer0.${domain}`, serverNames));
    }
    const ordererCa = await CertificateAuthority.open(join(cryptoDir, 'OrdererMSP'), 'OrdererMSP', 'orderer.example.com');
    const ordererSigner = fileSigner(await ordererCa.issue('orderer0', { ou: 'orderer' }));
    const ordererTlsCa = await CertificateAuthority.open(join(cryptoDir, 'OrdererMSP'), 'OrdererMSP', 'orderer.example.com', 'tlsca');
    const ordererCert = await ordererTlsCa.issueTls(join(cryptoDir, 'OrdererMSP', 'orderers', ORDERER_NAME, 'tls'), ORDERER_NAME, [...new Set(['127.0.0.1', 'localhost', ORDERER_NAME, host])]);

    mkdirSync(join(this.dataDir, 'ledger'), { recursive: true });
    const t0 = Date.now();
    const ownEndorsements = new OwnEndorsements();
    this.ledger = new Ledger({
      ownEndorsements,
      path: join(this.dataDir, 'ledger', 'blocks.bin'),
      channelId: channel,
      msps,
      orderer: ordererSigner,
      endorsementsRequired: endorsers,
      orgs: orgs.map((mspId) => ({ mspId, caPem: this.ca(mspId).certPem })),
    });
    this.log.info({ event: 'ledger.opened', height: this.ledger.height, ms: Date.now() - t0 });

    this.orderer = new Orderer(
      this.ledger,
      {
        maxMessages: o.batch?.maxMessages ?? 500,
        timeoutMs: o.batch?.timeoutMs ?? 2,
        preferredMaxBytes: o.batch?.preferredMaxBytes ?? 2 * 1024 * 1024,
      },
      this.log,
    );
    this.launcher = new ChaincodeLauncher(
      {
        name: o.chaincode.name,
        version: o.chaincode.version ?? '1.0',
        path: resolve(o.chaincode.path),
        node: o.chaincode.node && resolve(o.chaincode.node),
        env: { TRACE_FOUNDER_MSP: orgs[0], ...o.chaincode.env },
      },
      orgs,
      () => `127.0.0.1:${this.chaincodePort}`,
      join(this.dataDir, 'logs'),
      this.log,
    );
    const endorser = new Endorser({ ledger: this.ledger, msps, launcher: this.launcher, executeTimeoutMs: o.executeTimeoutMs ?? 30_000, ownEndorsements });

    const maxMessageBytes = o.maxMessageBytes ?? 16 * 1024 * 1024;
    const newServer = () => new Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': -1, 'grpc.enable_channelz': 0 });
    const gatewayImpl =
      o.gateway === false
        ? unimplementedService(gateway.GatewayService, 'gateway.Gateway')
        : gatewayService({ ledger: this.ledger, msps, endorser, orderer: this.orderer, peers, chaincodeName: o.chaincode.name, endorsementsRequired: endorsers, definition: { name: o.chaincode.name, version: o.chaincode.version ?? '1.0', sequence: 1, orgs, endorsementsRequired: endorsers }, log: this.log });
    const deliverImpl = deliverService(this.ledger, msps, this.log);
    this.server = newServer();
    this.server.addService(gateway.GatewayService, gatewayImpl);
    this.server.addService(peer.DeliverService, deliverImpl);
    this.server.addService(orderer.AtomicBroadcastService, atomicBroadcastService({ ledger: this.ledger, msps, orderer: this.orderer, deliver: deliverImpl.deliver, log: this.log }));
    const chaincodeSupport = { register: (call: Parameters<ChaincodeLauncher['register']>[0]) => this.launcher.register(call) };
    await this.bind(ordererCert, chaincodeSupport);
    // Org peers listen next to the main port (7052, 7053 … for 7051), or on free ports when it is 0; with TLS each presents its org's certificate.
    const mainPort = o.port ?? 7051;
    for (const [i, p] of peers.entries()) {
      const server = newServer();
      server.addService(peer.EndorserService, endorserService({ ledger: this.ledger, endorser, peer: p, chaincodeName: o.chaincode.name, log: this.log }));
      server.addService(peer.DeliverService, deliverImpl);
      server.addService(gateway.GatewayService, gatewayImpl);
      const port = await bindServer(server, `${o.host ?? '127.0.0.1'}:${mainPort === 0 ? 0 : mainPort + 1 + i}`, this.serverCredentials(serverCerts[i]));
      this.peerServers.push({ mspId: p.mspId, server, port });
    }
    const peerEndpoints = this.peerEndpoints;
    for (const p of peers) p.address = `peer0.${domainOf(p.mspId)}@${peerEndpoints[p.mspId]}`;
    writeFileSync(configPath, JSON.stringify({ ...this.stored, chaincode: o.chaincode.name, tls: this.tls, peers: peerEndpoints, orderer: this.endpoint }, null, 2) + '\n');

    this.launcher.start();
    await this.launcher.ready(60_000);
    this.writeConnectionProfiles();
    this.log.info({ event: 'devnet.ready', endpoint: this.endpoint, peers: peerEndpoints, gateway: o.gateway !== false, tls: this.tls, channel, chaincode: o.chaincode.name, orgs, endorsers });
  }

  /**
   * The main listener (the Gateway for clients that name no org peer, Deliver, and the orderer's
   * Broadcast) presents the orderer's TLS certificate. Without TLS it also takes the chaincodes'
   * ChaincodeSupport streams; with TLS those stay on a plaintext port bound to loopback, as the
   * chaincodes are the devnet's own child processes.
   */
  private async bind(ordererCert: { certPath: string; keyPath: string }, chaincodeSupport: UntypedServiceImplementation): Promise<void> {
    const o = this.opts;
    const address = `${o.host ?? '127.0.0.1'}:${o.port ?? 7051}`;
    if (this.tls === 'none') {
      this.server!.addService(peer.ChaincodeSupportService, chaincodeSupport);
      this.boundPort = await bindServer(this.server!, address, ServerCredentials.createInsecure());
      this.chaincodePort = this.boundPort;
      return;
    }
    this.boundPort = await bindServer(this.server!, address, this.serverCredentials(ordererCert));
    this.chaincodeServer = new Server({ 'grpc.max_receive_message_length': o.maxMessageBytes ?? 16 * 1024 * 1024, 'grpc.enable_channelz': 0 });
    this.chaincodeServer.addService(peer.ChaincodeSupportService, chaincodeSupport);
    this.chaincodePort = await bindServer(this.chaincodeServer, '127.0.0.1:0', ServerCredentials.createInsecure());
  }

  /** Plaintext without TLS; else the org's server certificate, and with mTLS client certificates from any org's TLS CA. */
  private serverCredentials(cert: { certPath: string; keyPath: string }): ServerCredentials {
    if (this.tls === 'none') return ServerCredentials.createInsecure();
    const clientRoots = this.tls === 'mtls' ? Buffer.from(this.stored.orgs.map((m) => this.tlsCas.get(m)!.certPem).join('')) : null;
    const pair = { private_key: readFileSync(cert.keyPath), cert_chain: readFileSync(cert.certPath) };
    return ServerCredentials.createSsl(clientRoots, [pair], clientRoots !== null);
  }

  /**
   * Fabric's common connection profile per org, as fabric-samples' test-network writes them: every
   * org with its peer (grpcs:// and its TLS CA with TLS), client.organization naming the file's own
   * org, and an x-trace section with the channel, the chaincode and each org's users (MSP
   * directory, TLS client certificate).
   */
  private writeConnectionProfiles(): void {
    const scheme = this.tls === 'none' ? 'grpc' : 'grpcs';
    const orgKey = (mspId: string) => mspId.replace(/MSP$/, '');
    const peerName = (mspId: string) => `peer0.${domainOf(mspId)}`;
    const peers = Object.fromEntries(
      this.stored.orgs.map((m) => [
        peerName(m),
        {
          url: `${scheme}://${this.peerEndpoints[m]}`,
          ...(this.tls === 'none' ? {} : { tlsCACerts: { path: tlsCaPath(this.dataDir, m) } }),
          grpcOptions: { 'ssl-target-name-override': peerName(m), hostnameOverride: peerName(m) },
        },
      ]),
    );
    // For clients of Fabric's older protocol (fabric-network: Broadcast to the orderer).
    const orderer = {
      url: `${scheme}://${this.endpoint}`,
      ...(this.tls === 'none' ? {} : { tlsCACerts: { path: join(this.dataDir, 'crypto', 'OrdererMSP', 'tlsca', 'ca.pem') } }),
      grpcOptions: { 'ssl-target-name-override': ORDERER_NAME, hostnameOverride: ORDERER_NAME },
    };
    const identities = Object.fromEntries(
      this.stored.orgs.map((m) => [
        m,
        Object.fromEntries(
          DEFAULT_USERS.map((u) => {
            const f = userFiles(this.dataDir, m, u.name);
            return [u.name, { mspDir: f.mspDir, tlsClient: { cert: f.tlsCertPath, key: f.tlsKeyPath } }];
          }),
        ),
      ]),
    );
    for (const mspId of this.stored.orgs) {
      const profile = {
        name: `devnet-${orgKey(mspId).toLowerCase()}`,
        version: '1.0.0',
        client: { organization: orgKey(mspId), connection: { timeout: { peer: { endorser: '300' } } } },
        // signedCert: each org's client certificate, which the member console encrypts `cipher` items for
        organizations: Object.fromEntries(this.stored.orgs.map((m) => [orgKey(m), { mspid: m, peers: [peerName(m)], signedCert: { path: userFiles(this.dataDir, m, 'User1').certPath } }])),
        peers,
        orderers: { [ORDERER_NAME]: orderer },
        channels: { [this.stored.channel]: { orderers: [ORDERER_NAME], peers: Object.fromEntries(this.stored.orgs.map((m) => [peerName(m), {}])) } },
        'x-trace': { channel: this.stored.channel, chaincode: this.opts.chaincode.name, identities },
      };
      writeFileSync(this.connectionProfiles[mspId], JSON.stringify(profile, null, 2) + '\n');
    }
    // the devnet's former connection.json format: a data directory from before keeps no stale copy
    rmSync(join(this.dataDir, 'connection.json'), { force: true });
  }

  async stop(): Promise<void> {
    this.server?.forceShutdown();
    this.chaincodeServer?.forceShutdown();
    for (const p of this.peerServers) p.server.forceShutdown();
    await this.orderer?.stop();
    await this.launcher?.stop();
    this.ledger?.close();
    this.log.info({ event: 'devnet.stopped' });
  }
}
