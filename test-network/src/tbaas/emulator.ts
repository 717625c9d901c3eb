import * as grpc from '@grpc/grpc-js';
import { connect, Gateway, signers } from '@hyperledger/fabric-gateway';
import { msp } from '@hyperledger/fabric-protos';
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import pino, { Logger } from 'pino';
import { TokenBucket } from '@trace/token-bucket';
import { CertificateAuthority, TlsPair } from '../devnet/crypto/ca';
import { MspRegistry } from '../devnet/crypto/msp';
import { dataHash, headerHash } from '../devnet/ledger/blockhash';
import { codeName, parseEnvelope } from '../devnet/ledger/transaction';
import { DevnetAccess, UserFiles } from '../devnet/layout';
import { startAccessAddress } from './access-address';
import { BlockMirror } from './block-mirror';
import { invocationSpec, invocationSpecJson } from './invocation-spec';
import { verifyTc3 } from './tc3';

export const API_VERSION = '2018-04-16';
const ACTIONS = ['InvokeFabricChaincode', 'QueryFabricChaincode', 'DescribeFabricBlock', 'DescribeFabricTransaction'] as const;
type Action = (typeof ACTIONS)[number];
const MAX_BODY = 8 * 1024 * 1024;

/** One TBaaS account: its API key and the org (MSP identity of the devnet) its calls run as. */
export interface EmulatorAccount {
  secretId: string;
  secretKey: string;
  mspId: string;
  /** devnet user whose certificate the org's calls carry (default User1) */
  user?: string;
}

export interface EmulatorOptions {
  /** the devnet's connection file contents */
  /** the running devnet, as its data directory describes it */
  devnet: DevnetAccess;
  accounts: EmulatorAccount[];
  clusterId?: string;
  /** the TBaaS channel id clients name; it maps to the devnet's channel */
  channelId?: string;
  regions?: string[];
  /** requests a second per SecretId, as TBaaS limits each action (default 20) */
  rateLimit?: number;
  /** port of the access address (default: any free one) */
  accessPort?: number;
  logger?: Logger;
}

/** Where and how a user reaches the network directly, as the TBaaS console shows it. */
export interface AccessAddress {
  /** host:port of the mTLS gRPC listener */
  endpoint: string;
  /** the name in the server certificate (for the TLS server name override) */
  serverName: string;
  /** the network's TLS CA certificate (PEM) */
  tlsCaPem: string;
  /** the Fabric channel name the peer serves (the cloud API calls it channel-<name>) */
  channel: string;
}

/** What a console's 证书管理 issues one org's user: a signing identity of the org and a TLS client pair. */
export interface UserCredentials {
  mspId: string;
  sign: TlsPair;
  tls: TlsPair;
}

class Failure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function mspOf(creator: Uint8Array | undefined): string {
  if (!creator || creator.length === 0) return '';
  try {
    return msp.SerializedIdentity.deserializeBinary(creator).getMspid();
  } catch {
    return '';
  }
}

/** TBaaS prints times as `YYYY-MM-DD HH:mm:ss` (here in UTC). */
const timeText = (seconds: number) => new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);

/**
 * The TBaaS cloud API (Fabric 2.3 actions of version 2018-04-16) over a running devnet: each
 * SecretId is one org's account whose calls are signed with that org's devnet identity through the
 * Fabric Gateway; blocks are followed from the devnet into memory to answer DescribeFabricBlock and
 * DescribeFabricTransaction with the fields Tencent documents, and nothing else. Requests are
 * verified like the cloud (TC3-HMAC-SHA256, 5-minute window, 20 requests/s per SecretId) and
 * answered with Tencent's envelopes. Beside the cloud API it serves the network's access address
 * (mutual TLS, Deliver only, as a Fabric 2.3 peer) and issues the users' certificates for it.
 */
export class TbaasEmulator {
  readonly clusterId: string;
  readonly channelId: string;
  readonly regions: string[];
  /** test hook: added to the emulator's clock when checking X-TC-Timestamp */
  clockOffsetMs = 0;
  private server?: Server;
  private readonly clients = new Map<string, grpc.Client>();
  private readonly gateways = new Map<string, Gateway>();
  private readonly accounts = new Map<string, EmulatorAccount>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly mirror: BlockMirror;
  private readonly log: Logger;
  private follower?: { close(): void };
  /** injected faults, in order: an HTTP status, or (status 200) the cloud's throttling answer */
  private faults: { status: number; action?: string }[] = [];
  private tlsCa?: CertificateAuthority;
  private accessAddress?: AccessAddress & { stop(): void };
  private readonly users = new Map<string, Promise<UserCredentials>>();
  /** requests received, faults included (test hook) */
  requests = 0;
  /** test hook: rewrites a successful answer before it is sent (a cloud that misreports) */
  rewrite?: (action: string, response: Record<string, unknown>) => Record<string, unknown>;

  constructor(private readonly opts: EmulatorOptions) {
    this.clusterId = opts.clusterId ?? 'fabric-devnet';
    this.channelId = opts.channelId ?? `channel-${opts.devnet.channel}`;
    this.regions = opts.regions ?? ['ap-guangzhou', 'ap-hongkong'];
    this.mirror = new BlockMirror(opts.devnet.channel);
    this.log = opts.logger ?? pino({ level: 'silent' });
    for (const a of opts.accounts) {
      const user = opts.devnet.user(a.mspId, a.user ?? 'User1');
      if (!existsSync(user.certPath)) throw new Error(`no devnet identity ${a.user ?? 'User1'} for ${a.mspId}`);
      this.accounts.set(a.secretId, a);
      this.gateways.set(
        a.secretId,
        connect({
          client: this.peerClient(a.mspId, user),
          identity: { mspId: a.mspId, credentials: readFileSync(user.certPath) },
          signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(user.keyPath))),
        }),
      );
    }
  }

  /** One gRPC connection per org's peer, over TLS (with the user's client certificate) when the devnet speaks it. */
  private peerClient(mspId: string, user: UserFiles): grpc.Client {
    const known = this.clients.get(mspId);
    if (known) return known;
    const peer = this.opts.devnet.peer(mspId);
    const creds = peer.tlsCaPath
      ? grpc.credentials.createSsl(readFileSync(peer.tlsCaPath), readFileSync(user.tlsKeyPath), readFileSync(user.tlsCertPath))
      : grpc.credentials.createInsecure();
    const client = new grpc.Client(peer.endpoint, creds, { 'grpc.max_receive_message_length': -1, 'grpc.ssl_target_name_override': peer.serverName });
    this.clients.set(mspId, client);
    return client;
  }

  /** Where the emulated network keeps its TLS CA and the certificates it issued. */
  private get tbaasDir(): string {
    return join(this.opts.devnet.dataDir, 'tbaas', this.clusterId);
  }

  /** The org's signing CA certificate, as the devnet keeps it. */
  private caCertPath(mspId: string): string {
    return join(this.opts.devnet.dataDir, 'crypto', mspId, 'ca', 'ca.pem');
  }

  /** Test hook: the next `count` requests (of `action` only, if named) fail with this HTTP status before reaching the API (0 clears). */
  failNext(count: number, status = 502, action?: string): void {
    this.faults = Array.from({ length: count }, () => ({ status, action }));
  }

  /** Test hook: the next `count` requests (of `action` only, if named) are refused as over the rate limit (RequestLimitExceeded). */
  throttleNext(count: number, action?: string): void {
    this.faults = Array.from({ length: count }, () => ({ status: 200, action }));
  }

  /**
   * Listens once the genesis block is in, so every block the devnet has is served: the cloud API
   * (returns its host:port) and the access address (see `access`).
   */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    await this.follow();
    await this.mirror.waitForBlock(0);
    // The network's TLS CA, kept with the devnet's files so the certificates it issued outlive a restart.
    this.tlsCa = await CertificateAuthority.open(this.tbaasDir, 'TBaaS', `${this.clusterId}.tbaas`, 'tlsca');
    const serverName = `peer0.${this.clusterId}.tbaas`;
    const msps = new MspRegistry();
    for (const mspId of this.opts.devnet.orgs) msps.addOrg(mspId, readFileSync(this.caCertPath(mspId), 'utf8'));
    const listener = await startAccessAddress({ chain: this.mirror, msps, tlsCaPem: this.tlsCa.certPem, server: await this.tlsCa.issueTlsPem(join(this.tbaasDir, 'access'), serverName, [serverName, 'localhost', host]), log: this.log, host, port: this.opts.accessPort });
    this.accessAddress = { ...listener, serverName, tlsCaPem: this.tlsCa.certPem, channel: this.opts.devnet.channel };
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(port, host, r));
    return `${host}:${(this.server.address() as { port: number }).port}`;
  }

  /** The access address (after start). */
  get access(): AccessAddress {
    if (!this.accessAddress) throw new Error('the emulator is not started');
    const { endpoint, serverName, tlsCaPem, channel } = this.accessAddress;
    return { endpoint, serverName, tlsCaPem, channel };
  }

  /**
   * The certificates the console issues an account's org for the direct connection (once per org):
   * a signing certificate from the org's CA (the devnet's, files under its crypto/<msp>/users/tbaas-user)
   * and a TLS client certificate from the network's TLS CA.
   */
  userCredentials(secretId: string): Promise<UserCredentials> {
    const account = this.accounts.get(secretId);
    if (!account || !this.tlsCa) throw new Error(account ? 'the emulator is not started' : 'unknown SecretId');
    const { mspId } = account;
    let issued = this.users.get(mspId);
    if (!issued) {
      const tlsCa = this.tlsCa;
      issued = (async () => {
        const caCert = this.caCertPath(mspId);
        const org = /^O=(.*)$/m.exec(new X509Certificate(readFileSync(caCert)).subject)?.[1] ?? mspId;
        const ca = await CertificateAuthority.open(dirname(dirname(caCert)), mspId, org);
        const files = await ca.issue('tbaas-user', { ou: 'client' });
        return { mspId, sign: { certPem: readFileSync(files.certPath, 'utf8'), keyPem: readFileSync(files.keyPath, 'utf8') }, tls: await tlsCa.issueTlsPem(join(this.tbaasDir, 'users', mspId), `tbaas-user.${mspId}`) };
      })();
      this.users.set(mspId, issued);
    }
    return issued;
  }

  async stop(): Promise<void> {
    this.follower?.close();
    this.accessAddress?.stop();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
    this.gateways.forEach((g) => g.close());
    this.clients.forEach((c) => c.close());
  }

  /** Follows the devnet's blocks from genesis into the mirror. */
  private async follow(): Promise<void> {
    const gateway = this.gateways.values().next().value as Gateway;
    const events = await gateway.getNetwork(this.opts.devnet.channel).getBlockEvents({ startBlock: 0n });
    this.follower = events;
    void (async () => {
      try {
        for await (const block of events) this.mirror.add(block);
      } catch (e) {
        this.log.error({ event: 'tbaas.follow_failed', err: (e as Error).message });
      }
    })();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    this.requests++;
    const fault = this.faults[0];
    const injected = fault && (fault.action === undefined || fault.action === req.headers['x-tc-action']) ? this.faults.shift() : undefined;
    if (injected && injected.status !== 200) {
      res.writeHead(injected.status, { 'content-type': 'text/plain' }).end('Bad Gateway');
      return;
    }
    let answer: object;
    try {
      if (injected) throw new Failure('RequestLimitExceeded', 'The request rate exceeds the limit of the action.');
      answer = await this.answer(req);
    } catch (e) {
      const f = e instanceof Failure ? e : new Failure('InternalError', 'internal error');
      if (!(e instanceof Failure)) this.log.error({ event: 'tbaas.internal_error', requestId, err: (e as Error).message });
      answer = { Error: { Code: f.code, Message: f.message } };
    }
    const body = JSON.stringify({ Response: { ...answer, RequestId: requestId } });
    this.log.debug({ event: 'tbaas.request', requestId, action: req.headers['x-tc-action'], error: (answer as { Error?: { Code: string } }).Error?.Code });
    res.writeHead(200, { 'content-type': 'application/json', 'x-tc-requestid': requestId }).end(body);
  }

  private async answer(req: IncomingMessage): Promise<object> {
    if (req.method !== 'POST') throw new Failure('InvalidParameter', 'Only POST with a JSON body is served.');
    // the signature covers the path `/` and an empty query: any other URL is not what was signed
    if (req.url !== '/') throw new Failure('AuthFailure.SignatureFailure', 'The request path and query must be / as signed.');
    const body = await readBody(req);
    const auth = verifyTc3(req.headers, body, (id) => this.accounts.get(id)?.secretKey, Date.now() + this.clockOffsetMs);
    if ('code' in auth) throw new Failure(auth.code, auth.message);
    const action = String(req.headers['x-tc-action'] ?? '');
    if (!(ACTIONS as readonly string[]).includes(action)) throw new Failure('InvalidAction', `The action ${action.slice(0, 64)} does not exist.`);
    if (req.headers['x-tc-version'] !== API_VERSION) throw new Failure('NoSuchVersion', `The API version must be ${API_VERSION}.`);
    if (!this.regions.includes(String(req.headers['x-tc-region'] ?? ''))) throw new Failure('UnsupportedRegion', `The API supports the regions ${this.regions.join(', ')}.`);
    if (!this.admit(auth.secretId)) throw new Failure('RequestLimitExceeded', 'The request rate exceeds the limit of the action.');
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (!params || typeof params !== 'object' || Array.isArray(params)) throw new Error();
    } catch {
      throw new Failure('InvalidParameter', 'The request body is not a JSON object.');
    }
    this.checkTarget(params);
    const answer = await this.run(action as Action, params, auth.secretId);
    return this.rewrite ? this.rewrite(action, answer) : answer;
  }

  /** A token bucket per SecretId: `rateLimit` tokens a second, bursts up to the same number. */
  private admit(secretId: string): boolean {
    let bucket = this.buckets.get(secretId);
    if (!bucket) this.buckets.set(secretId, (bucket = new TokenBucket(this.opts.rateLimit ?? 20)));
    return bucket.tryTake();
  }

  private checkTarget(p: Record<string, unknown>): void {
    for (const k of ['ClusterId', 'ChannelId']) if (typeof p[k] !== 'string' || !p[k]) throw new Failure('InvalidParameter', `${k} is required.`);
    if (p.ClusterId !== this.clusterId) throw new Failure('ResourceNotFound', `The network ${String(p.ClusterId).slice(0, 64)} does not exist.`);
    if (p.ChannelId !== this.channelId) throw new Failure('ResourceNotFound', `The channel ${String(p.ChannelId).slice(0, 64)} does not exist.`);
  }

  private async run(action: Action, p: Record<string, unknown>, secretId: string): Promise<Record<string, unknown>> {
    switch (action) {
      case 'InvokeFabricChaincode':
        return this.invoke(p, secretId);
      case 'QueryFabricChaincode':
        return this.query(p, secretId);
      case 'DescribeFabricBlock':
        return this.describeBlock(p);
      case 'DescribeFabricTransaction':
        return this.describeTransaction(p);
    }
  }

  private chaincodeCall(p: Record<string, unknown>): { name: string; args: string[] } {
    if (typeof p.ChaincodeName !== 'string' || !p.ChaincodeName) throw new Failure('InvalidParameter', 'ChaincodeName is required.');
    if (p.ChaincodeName !== this.opts.devnet.chaincode) throw new Failure('ResourceNotFound', `The chaincode ${p.ChaincodeName.slice(0, 64)} does not exist on the channel.`);
    if (typeof p.FuncName !== 'string' || !p.FuncName) throw new Failure('InvalidParameter', 'FuncName is required.');
    const args = p.FuncParam ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new Failure('InvalidParameter', 'FuncParam must be a list of strings.');
    return { name: p.FuncName, args };
  }

  private contract(secretId: string) {
    return this.gateways.get(secretId)!.getNetwork(this.opts.devnet.channel).getContract(this.opts.devnet.chaincode);
  }

  private async invoke(p: Record<string, unknown>, secretId: string): Promise<Record<string, unknown>> {
    const { name, args } = this.chaincodeCall(p);
    if (p.WithAsyncResult !== undefined && typeof p.WithAsyncResult !== 'boolean') throw new Failure('InvalidParameter', 'WithAsyncResult must be a boolean.');
    const proposal = this.contract(secretId).newProposal(name, { arguments: args });
    let tx, commit;
    try {
      tx = await proposal.endorse();
      commit = await tx.submit();
    } catch (e) {
      throw chaincodeFailure(e);
    }
    if (p.WithAsyncResult) return { TxId: tx.getTransactionId(), TxStatus: '', TxResult: '' };
    const status = await commit.getStatus();
    await this.mirror.waitForBlock(Number(status.blockNumber));
    return { TxId: tx.getTransactionId(), TxStatus: codeName(status.code), TxResult: Buffer.from(tx.getResult()).toString('utf8') };
  }

  private async query(p: Record<string, unknown>, secretId: string): Promise<Record<string, unknown>> {
    const { name, args } = this.chaincodeCall(p);
    const proposal = this.contract(secretId).newProposal(name, { arguments: args });
    try {
      const result = await proposal.evaluate();
      return { TxId: proposal.getTransactionId(), TxStatus: 'VALID', TxResult: Buffer.from(result).toString('utf8') };
    } catch (e) {
      throw chaincodeFailure(e);
    }
  }

  /** DescribeFabricBlock's documented output: BlockHeight, BlockHash, PreBlockHash, TxCount, TransactionList, CreateTimestamp, ProposerOrg. */
  private describeBlock(p: Record<string, unknown>): Record<string, unknown> {
    const height = p.BlockHeight;
    if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0) throw new Failure('InvalidParameter', 'BlockHeight must be a non-negative integer.');
    if (height >= this.mirror.height) throw new Failure('ResourceNotFound', `The block ${height} does not exist.`);
    const block = this.mirror.block(height);
    const header = block.getHeader()!;
    const envelopes = block.getData()!.getDataList_asU8();
    const list = envelopes.map((env, index) => {
      const r = parseEnvelope(env);
      return { TxId: r.txId, ChaincodeName: r.tx?.endorser?.chaincodeName ?? '', Sender: mspOf(r.tx?.creator), CreateTime: timeText(r.tx?.seconds ?? 0), BlockHeight: height, TxIndex: index };
    });
    return {
      BlockHeight: height,
      BlockHash: headerHash(header).toString('hex'),
      PreBlockHash: Buffer.from(header.getPreviousHash_asU8()).toString('hex'),
      TxCount: list.length,
      TransactionList: list,
      CreateTimestamp: list[0]?.CreateTime ?? '',
      ProposerOrg: list[0]?.Sender ?? '',
    };
  }

  /**
   * DescribeFabricTransaction's documented output: TxId, TxHash, TxStatus, JoinOrgList, Sender,
   * CreateTime, BlockHeight, ChaincodeName and TransactionData, base64 of the proto JSON of the
   * transaction's ChaincodeInvocationSpec (the call and its arguments: no envelope, signature,
   * read/write set or event).
   */
  private describeTransaction(p: Record<string, unknown>): Record<string, unknown> {
    if (typeof p.TxId !== 'string' || !/^[0-9a-f]{1,128}$/.test(p.TxId)) throw new Failure('InvalidParameter', 'TxId must be a transaction id.');
    const tx = this.mirror.tx(p.TxId);
    if (!tx) throw new Failure('ResourceNotFound', `The transaction ${p.TxId} does not exist.`);
    const spec = tx.parsed ? invocationSpec(tx.parsed.payloadBytes) : undefined;
    const endorsers = (tx.parsed?.endorser?.endorsements ?? []).map((e) => mspOf(e.getEndorser_asU8()));
    return {
      TxId: p.TxId,
      TxHash: dataHash([tx.envelope]).toString('hex'),
      TxStatus: codeName(tx.code),
      JoinOrgList: [...new Set(endorsers)],
      Sender: mspOf(tx.parsed?.creator),
      CreateTime: timeText(tx.parsed?.seconds ?? 0),
      BlockHeight: tx.block,
      ChaincodeName: tx.parsed?.endorser?.chaincodeName ?? '',
      TransactionData: Buffer.from(JSON.stringify(invocationSpecJson(spec))).toString('base64'),
    };
  }
}

/** A chaincode or endorsement error as TBaaS reports it: FailedOperation with the peer's message. */
function chaincodeFailure(e: unknown): Failure {
  const err = e as { message?: string; details?: { message: string }[] };
  return new Failure('FailedOperation', err.details?.[0]?.message ?? err.message ?? String(e));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Failure('InvalidParameter', 'The request body is too large.'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
