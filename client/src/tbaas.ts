import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { chaincodeEventsFromBlocks } from './blocks';
import { LedgerError } from './errors';
import { FabricGatewayLedger } from './fabric-gateway';
import { ChainBlock, ChainEvent, Checkpoint, EventStream, Ledger, SubmitResult } from './ledger';
import { TbaasApi, TbaasApiOptions, TbaasError } from './tbaas-api';
import { checkBlockAnswers, FabricBlock, FabricTransaction, InvocationBlock, InvocationRecord, invocationOf } from './tbaas-invocations';

/**
 * The network's access address, for blocks over Deliver (mutual TLS), with the user certificates
 * the TBaaS console's 证书管理 issues. In a client file, paths are relative to the file.
 */
export interface TbaasAccessConfig {
  /** host:port of the access address */
  endpoint: string;
  /** the Fabric channel name on the peer */
  channel: string;
  /** MSP id of the signing identity */
  mspId: string;
  /** the network's TLS CA certificate (PEM file) */
  tlsCaCertPath: string;
  /** TLS server name to verify, when the address is not the certificate's name */
  serverName?: string;
  /** the user's signing certificate and key (PEM files) */
  signCertPath: string;
  signKeyPath: string;
  /** the user's TLS client certificate and key (PEM files) */
  tlsCertPath: string;
  tlsKeyPath: string;
}

const ACCESS_FIELDS = ['endpoint', 'channel', 'mspId', 'tlsCaCertPath', 'signCertPath', 'signKeyPath', 'tlsCertPath', 'tlsKeyPath'] as const;
const ACCESS_PATHS = ['tlsCaCertPath', 'signCertPath', 'signKeyPath', 'tlsCertPath', 'tlsKeyPath'] as const;

/** Where one TBaaS member reaches its chaincode: account credentials, region, network, channel, chaincode. */
export interface TbaasConfig extends TbaasApiOptions {
  /** the Fabric network (e.g. fabric-65z42qi150) */
  clusterId: string;
  /** the channel (e.g. channel-9xej4d) */
  channelId: string;
  chaincodeName: string;
  /** how often invocations() asks for the next block once it has caught up (default 1000 ms) */
  pollIntervalMs?: number;
  /** the direct connection for blocks and events; without it only the cloud API is used */
  access?: TbaasAccessConfig;
}

/** The JSON file form of TbaasConfig: `"type": "tbaas"` tells it from a gateway connection file. */
export interface TbaasConfigFile extends Partial<TbaasConfig> {
  type: 'tbaas';
}

/**
 * Reads a TBaaS client configuration from a JSON file (optional) and the environment, which wins:
 * TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_REGION, TBAAS_CLUSTER_ID,
 * TBAAS_CHANNEL_ID, TBAAS_CHAINCODE_NAME, TBAAS_ENDPOINT (host[:port]) and TBAAS_PROTOCOL. The
 * file's `access` object (if any) is checked whole and its paths resolved against the file's folder.
 */
export function loadTbaasConfig(path?: string, env: NodeJS.ProcessEnv = process.env): TbaasConfig {
  const file = path ? (JSON.parse(readFileSync(path, 'utf8')) as Partial<TbaasConfigFile>) : {};
  const config = {
    ...file,
    secretId: env.TENCENTCLOUD_SECRET_ID ?? file.secretId,
    secretKey: env.TENCENTCLOUD_SECRET_KEY ?? file.secretKey,
    region: env.TENCENTCLOUD_REGION ?? file.region,
    clusterId: env.TBAAS_CLUSTER_ID ?? file.clusterId,
    channelId: env.TBAAS_CHANNEL_ID ?? file.channelId,
    chaincodeName: env.TBAAS_CHAINCODE_NAME ?? file.chaincodeName,
    endpoint: env.TBAAS_ENDPOINT ?? file.endpoint,
    protocol: (env.TBAAS_PROTOCOL ?? file.protocol) as TbaasConfig['protocol'],
  };
  const missing = (['secretId', 'secretKey', 'region', 'clusterId', 'channelId', 'chaincodeName'] as const).filter((k) => !config[k]);
  if (missing.length) throw new LedgerError('ERR_CONFIG', `TBaaS configuration lacks ${missing.join(', ')}${path ? ` (file ${path} and environment)` : ' (environment)'}`);
  if (file.access !== undefined) {
    const access = file.access as Partial<TbaasAccessConfig> | null;
    const lacking = ACCESS_FIELDS.filter((k) => typeof access?.[k] !== 'string' || !access[k]);
    if (lacking.length) throw new LedgerError('ERR_CONFIG', `TBaaS access settings lack ${lacking.join(', ')} (file ${path})`);
    const base = dirname(path!);
    config.access = { ...(access as TbaasAccessConfig), ...Object.fromEntries(ACCESS_PATHS.map((k) => [k, resolve(base, access![k]!)])) };
  }
  return config as TbaasConfig;
}

/** InvokeFabricChaincode's and QueryFabricChaincode's Response. */
interface ChaincodeResult {
  TxId: string;
  TxStatus: string;
  TxResult: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** TBaaS's FuncParam is a list of strings: byte arguments must be UTF-8 text. */
function funcParams(args: (string | Uint8Array)[]): string[] {
  return args.map((a) => {
    if (typeof a === 'string') return a;
    try {
      return utf8.decode(a);
    } catch {
      throw new LedgerError('ERR_VALIDATION', 'TBaaS passes chaincode arguments as strings: a binary argument is not valid UTF-8');
    }
  });
}

const sleep = (ms: number, signal: { closed: boolean; wake?: () => void }) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal.wake = () => {
      clearTimeout(t);
      r();
    };
  });

/** The gRPC connection to the access address, over mutual TLS. */
function accessClient(access: TbaasAccessConfig): grpc.Client {
  const creds = grpc.credentials.createSsl(readFileSync(access.tlsCaCertPath), readFileSync(access.tlsKeyPath), readFileSync(access.tlsCertPath));
  const options: grpc.ClientOptions = { 'grpc.max_receive_message_length': -1, 'grpc.enable_channelz': 0 };
  if (access.serverName) options['grpc.ssl_target_name_override'] = access.serverName;
  return new grpc.Client(access.endpoint, creds, options);
}

/**
 * The Ledger transport over Tencent Cloud TBaaS (Fabric 2.3). Cloud API: submit =
 * InvokeFabricChaincode (synchronous, then DescribeFabricTransaction for the block height),
 * evaluate = QueryFabricChaincode, invocations = DescribeFabricBlock walked upward plus
 * DescribeFabricTransaction per transaction (the calls, not their events: TBaaS documents no
 * envelope, read/write set or event there). Blocks and chaincode events need the network's access
 * address (`access`): Deliver over mutual TLS, as a Fabric 2.3 peer serves it.
 * The caller's identity is the TBaaS account's org certificate: every call of an org arrives
 * under that one certificate, as the chaincode expects (holder authority is in signed DTOs).
 */
export class TbaasLedger implements Ledger {
  readonly api: TbaasApi;
  readonly chaincodeName: string;
  readonly channelName: string;
  /** block events through fabric-gateway, which reads them with Deliver (no Gateway service needed) */
  private readonly direct?: FabricGatewayLedger;
  private readonly directClient?: grpc.Client;
  private readonly streams = new Set<{ closed: boolean; wake?: () => void }>();

  constructor(private readonly config: TbaasConfig) {
    for (const k of ['clusterId', 'channelId', 'chaincodeName'] as const) {
      if (!config[k]) throw new LedgerError('ERR_CONFIG', `TBaaS configuration lacks ${k}`);
    }
    this.api = new TbaasApi(config);
    this.chaincodeName = config.chaincodeName;
    this.channelName = config.channelId;
    const access = config.access;
    if (access) {
      this.directClient = accessClient(access);
      const identity = { mspId: access.mspId, certPem: readFileSync(access.signCertPath), keyPem: readFileSync(access.signKeyPath) };
      this.direct = FabricGatewayLedger.connect({ endpoint: access.endpoint, channel: access.channel, chaincode: config.chaincodeName, client: this.directClient, identity });
    }
  }

  /** Whether blocks and events can be read (the access address is configured). */
  get hasDirectAccess(): boolean {
    return this.direct !== undefined;
  }

  private get target() {
    return { ClusterId: this.config.clusterId, ChannelId: this.config.channelId };
  }

  async submit(transaction: string, ...args: (string | Uint8Array)[]): Promise<SubmitResult> {
    const r = await this.api.call<ChaincodeResult>('InvokeFabricChaincode', { ...this.target, ChaincodeName: this.config.chaincodeName, FuncName: transaction, FuncParam: funcParams(args), WithAsyncResult: false }, { sideEffects: true });
    if (r.TxStatus !== 'VALID') {
      throw new LedgerError('ERR_COMMIT', `transaction ${r.TxId} failed to commit with status ${r.TxStatus}`, { transactionId: r.TxId, validationCode: r.TxStatus });
    }
    // The transaction committed; if its block cannot be looked up, say so with a code of its own so
    // that no caller takes it for a failure and sends it again.
    const tx = await this.api.call<FabricTransaction>('DescribeFabricTransaction', { ...this.target, TxId: r.TxId }).catch((e: Error) => {
      throw new LedgerError('ERR_OUTCOME_UNKNOWN', `transaction ${r.TxId} committed VALID but its block could not be read: ${e.message}`, { transactionId: r.TxId, cause: e });
    });
    return { transactionId: r.TxId, blockNumber: BigInt(tx.BlockHeight), result: Buffer.from(r.TxResult ?? '', 'utf8') };
  }

  async evaluate(transaction: string, ...args: (string | Uint8Array)[]): Promise<Uint8Array> {
    const r = await this.api.call<ChaincodeResult>('QueryFabricChaincode', { ...this.target, ChaincodeName: this.config.chaincodeName, FuncName: transaction, FuncParam: funcParams(args) });
    return Buffer.from(r.TxResult ?? '', 'utf8');
  }

  /** One block's invocations from the cloud API, checked against the block's own listing. */
  async invocationBlock(height: bigint): Promise<InvocationBlock> {
    const b = await this.api.call<FabricBlock>('DescribeFabricBlock', { ...this.target, BlockHeight: Number(height) });
    const list = [...(b.TransactionList ?? [])].sort((x, y) => x.TxIndex - y.TxIndex);
    // Concurrent lookups: the token bucket paces them, the order of the list is kept.
    const txs = await Promise.all(list.map((item) => this.api.call<FabricTransaction>('DescribeFabricTransaction', { ...this.target, TxId: item.TxId })));
    checkBlockAnswers(height, { ...b, TransactionList: list }, txs);
    const invocations = txs.map((tx, i) => invocationOf(tx, height, list[i].TxIndex)).filter((r): r is InvocationRecord => r !== undefined);
    return { number: height, txCount: b.TxCount, invocations };
  }

  /** Whether DescribeFabricBlock knows this height yet. */
  async hasBlock(height: bigint): Promise<boolean> {
    try {
      await this.api.call('DescribeFabricBlock', { ...this.target, BlockHeight: Number(height) });
      return true;
    } catch (e) {
      if (e instanceof TbaasError && e.code === 'ERR_TBAAS_NOT_FOUND') return false;
      throw e;
    }
  }

  /** The chain height (next block number), found by galloping then bisecting DescribeFabricBlock. */
  async height(): Promise<bigint> {
    let lo = 0n;
    let hi = 1n;
    while (await this.hasBlock(hi - 1n)) {
      lo = hi;
      hi *= 2n;
    }
    // Block lo - 1 exists (or lo is 0) and block hi - 1 does not.
    while (hi - lo > 1n) {
      const mid = (lo + hi) / 2n;
      if (await this.hasBlock(mid - 1n)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** Invocations block by block from the cloud API, from `startBlock` (default: new ones), polling at the head. */
  async invocations(startBlock?: bigint): Promise<EventStream<InvocationBlock>> {
    let next = startBlock ?? (await this.height());
    const state: { closed: boolean; wake?: () => void } = { closed: false };
    this.streams.add(state);
    const poll = this.config.pollIntervalMs ?? 1000;
    const close = () => {
      state.closed = true;
      state.wake?.();
      this.streams.delete(state);
    };
    const block = (height: bigint) => this.invocationBlock(height);
    return {
      close,
      async *[Symbol.asyncIterator]() {
        try {
          while (!state.closed) {
            let b: InvocationBlock;
            try {
              b = await block(next);
            } catch (e) {
              if (e instanceof TbaasError && e.code === 'ERR_TBAAS_NOT_FOUND') {
                await sleep(poll, state);
                continue;
              }
              throw e;
            }
            if (state.closed) return;
            yield b;
            next = b.number + 1n;
          }
        } finally {
          close();
        }
      },
    };
  }

  /** Blocks over Deliver from the access address; ERR_DIRECT_REQUIRED without one (the cloud API has no blocks to give). */
  async blocks(startBlock?: bigint): Promise<EventStream<ChainBlock>> {
    if (!this.direct) throw new LedgerError('ERR_DIRECT_REQUIRED', 'blocks and chaincode events need the TBaaS network\'s access address (`access` in the client file); the cloud API gives only the invocations');
    return this.direct.blocks(startBlock);
  }

  async chaincodeEvents(checkpoint?: Checkpoint): Promise<EventStream<ChainEvent>> {
    return chaincodeEventsFromBlocks(await this.blocks(checkpoint?.blockNumber), this.config.chaincodeName, checkpoint);
  }

  close(): void {
    this.api.close();
    this.direct?.close();
    this.directClient?.close();
    for (const s of [...this.streams]) {
      s.closed = true;
      s.wake?.();
    }
    this.streams.clear();
  }
}
