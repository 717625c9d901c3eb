import { Server, ServerCredentials } from '@grpc/grpc-js';
import { gateway, peer } from '@hyperledger/fabric-protos';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino, { Logger } from 'pino';
import { CertificateAuthority, IdentityFiles, IssueOptions } from './crypto/ca';
import { loadPrivateKey, signMessage } from './crypto/ecdsa';
import { MspRegistry } from './crypto/msp';
import { Ledger, OwnEndorsements, Signer } from './ledger/ledger';
import { Orderer } from './orderer/orderer';
import { Endorser, PeerIdentity } from './peer/endorser';
import { ChaincodeLauncher } from './peer/launcher';
import { deliverService } from './services/deliver';
import { gatewayService } from './services/gateway';
import { msp } from '@hyperledger/fabric-protos';

export interface DevnetOptions {
  /** data directory: crypto material, ledger, logs, connection.json */
  dataDir: string;
  host?: string;
  /** 0 picks a free port */
  port?: number;
  channel?: string;
  /** application org MSP ids (fixed once the data directory exists) */
  orgs?: string[];
  /** node: the node binary the chaincode processes run with (default the devnet's own) */
  chaincode: { name: string; version?: string; path: string; node?: string };
  /** distinct orgs that must endorse; default MAJORITY of the orgs */
  endorsers?: number;
  batch?: { maxMessages?: number; timeoutMs?: number; preferredMaxBytes?: number };
  /** largest gRPC message accepted */
  maxMessageBytes?: number;
  executeTimeoutMs?: number;
  logger?: Logger;
}

export interface ConnectionProfile {
  channel: string;
  chaincode: string;
  gatewayEndpoint: string;
  orgs: Record<string, { caCert: string; users: Record<string, { certPath: string; keyPath: string }> }>;
}

interface StoredConfig {
  channel: string;
  orgs: string[];
}

const DEFAULT_USERS: { name: string; ou: 'client' | 'admin' }[] = [
  { name: 'Admin', ou: 'admin' },
  { name: 'User1', ou: 'client' },
];

function domainOf(mspId: string): string {
  return mspId.replace(/MSP$/, '').toLowerCase() + '.example.com';
}

function fileSigner(files: IdentityFiles): Signer {
  const sid = new msp.SerializedIdentity();
  sid.setMspid(files.mspId);
  sid.setIdBytes(readFileSync(files.certPath));
  const key = loadPrivateKey(readFileSync(files.keyPath));
  return { serialized: sid.serializeBinary(), sign: (m) => signMessage(key, m) };
}

/** The embedded network: one channel, a peer per org, a solo orderer, a CA per org, one chaincode. */
export class Devnet {
  readonly log: Logger;
  readonly dataDir: string;
  private server?: Server;
  private cas = new Map<string, CertificateAuthority>();
  ledger!: Ledger;
  launcher!: ChaincodeLauncher;
  private orderer!: Orderer;
  private boundPort = 0;
  private stored!: StoredConfig;

  constructor(private readonly opts: DevnetOptions) {
    this.dataDir = resolve(opts.dataDir);
    this.log = opts.logger ?? pino({ base: { svc: 'devnet' } }, pino.destination(2));
  }

  get endpoint(): string {
    return `${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  get orgs(): string[] {
    return this.stored.orgs;
  }

  get connectionPath(): string {
    return join(this.dataDir, 'connection.json');
  }

  ca(mspId: string): CertificateAuthority {
    const ca = this.cas.get(mspId);
    if (!ca) throw new Error(`unknown org ${mspId}`);
    return ca;
  }

  /** Issues an identity from an org's CA (files under crypto/<msp>/users/<name>). */
  enroll(mspId: string, name: string, opts?: IssueOptions): Promise<IdentityFiles> {
    return this.ca(mspId).issue(name, opts);
  }

  async start(): Promise<void> {
    const o = this.opts;
    mkdirSync(this.dataDir, { recursive: true });
    const configPath = join(this.dataDir, 'devnet.json');
    this.stored = existsSync(configPath)
      ? (JSON.parse(readFileSync(configPath, 'utf8')) as StoredConfig)
      : { channel: o.channel ?? 'tracechannel', orgs: o.orgs ?? ['Org1MSP', 'Org2MSP'] };
    writeFileSync(configPath, JSON.stringify(this.stored, null, 2) + '\n');
    const { channel, orgs } = this.stored;
    const endorsers = o.endorsers ?? Math.floor(orgs.length / 2) + 1;
    if (endorsers < 1 || endorsers > orgs.length) throw new Error(`endorsers must be between 1 and ${orgs.length}`);

    const cryptoDir = join(this.dataDir, 'crypto');
    const msps = new MspRegistry();
    const peers: PeerIdentity[] = [];
    for (const mspId of orgs) {
      const ca = await CertificateAuthority.open(join(cryptoDir, mspId), mspId, domainOf(mspId));
      this.cas.set(mspId, ca);
      msps.addOrg(mspId, ca.certPem);
      for (const u of DEFAULT_USERS) await ca.issue(u.name, { ou: u.ou });
      peers.push({ mspId, address: '', signer: fileSigner(await ca.issue('peer0', { ou: 'peer' })) });
    }
    const ordererCa = await CertificateAuthority.open(join(cryptoDir, 'OrdererMSP'), 'OrdererMSP', 'orderer.example.com');
    const ordererSigner = fileSigner(await ordererCa.issue('orderer0', { ou: 'orderer' }));

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
      { name: o.chaincode.name, version: o.chaincode.version ?? '1.0', path: resolve(o.chaincode.path), node: o.chaincode.node && resolve(o.chaincode.node) },
      orgs,
      () => this.endpoint,
      join(this.dataDir, 'logs'),
      this.log,
    );
    const endorser = new Endorser({ ledger: this.ledger, msps, launcher: this.launcher, executeTimeoutMs: o.executeTimeoutMs ?? 30_000, ownEndorsements });

    const maxMessageBytes = o.maxMessageBytes ?? 16 * 1024 * 1024;
    this.server = new Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': -1, 'grpc.enable_channelz': 0 });
    this.server.addService(
      gateway.GatewayService,
      gatewayService({ ledger: this.ledger, msps, endorser, orderer: this.orderer, peers, chaincodeName: o.chaincode.name, endorsementsRequired: endorsers, log: this.log }),
    );
    this.server.addService(peer.DeliverService, deliverService(this.ledger, msps, this.log));
    this.server.addService(peer.ChaincodeSupportService, { register: (call: Parameters<ChaincodeLauncher['register']>[0]) => this.launcher.register(call) });
    this.boundPort = await new Promise<number>((res, rej) =>
      this.server!.bindAsync(`${o.host ?? '127.0.0.1'}:${o.port ?? 7051}`, ServerCredentials.createInsecure(), (err, port) => (err ? rej(err) : res(port))),
    );
    for (const p of peers) p.address = `peer0.${domainOf(p.mspId)}@${this.endpoint}`;

    this.launcher.start();
    await this.launcher.ready(60_000);
    this.writeConnectionProfile();
    this.log.info({ event: 'devnet.ready', endpoint: this.endpoint, channel, chaincode: o.chaincode.name, orgs, endorsers });
  }

  private writeConnectionProfile(): void {
    const profile: ConnectionProfile = { channel: this.stored.channel, chaincode: this.opts.chaincode.name, gatewayEndpoint: this.endpoint, orgs: {} };
    for (const mspId of this.stored.orgs) {
      const users: ConnectionProfile['orgs'][string]['users'] = {};
      for (const u of DEFAULT_USERS) users[u.name] = { certPath: join(this.dataDir, 'crypto', mspId, 'users', u.name, 'cert.pem'), keyPath: join(this.dataDir, 'crypto', mspId, 'users', u.name, 'key.pem') };
      profile.orgs[mspId] = { caCert: join(this.dataDir, 'crypto', mspId, 'ca', 'ca.pem'), users };
    }
    writeFileSync(this.connectionPath, JSON.stringify(profile, null, 2) + '\n');
  }

  async stop(): Promise<void> {
    this.server?.forceShutdown();
    await this.orderer?.stop();
    await this.launcher?.stop();
    this.ledger?.close();
    this.log.info({ event: 'devnet.stopped' });
  }
}
