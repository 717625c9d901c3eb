import { common } from '@hyperledger/fabric-protos';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { blockHash, chaincodeEventsFromBlocks, parseTransaction } from './blocks';
import { LedgerError } from './errors';
import { ChainBlock, ChainEvent, ChainTransaction, Checkpoint, EventStream, Ledger, SubmitResult } from './ledger';
import { TbaasApi, TbaasApiOptions, TbaasError } from './tbaas-api';

/** Where one TBaaS member reaches its chaincode: account credentials, region, network, channel, chaincode. */
export interface TbaasConfig extends TbaasApiOptions {
  /** the Fabric network (e.g. fabric-65z42qi150) */
  clusterId: string;
  /** the channel (e.g. channel-9xej4d) */
  channelId: string;
  chaincodeName: string;
  /** how often blocks() asks for the next block once it has caught up (default 1000 ms) */
  pollIntervalMs?: number;
}

/** The JSON file form of TbaasConfig: `"type": "tbaas"` tells it from a gateway connection file. */
export interface TbaasConfigFile extends Partial<TbaasConfig> {
  type: 'tbaas';
}

/**
 * Reads a TBaaS client configuration from a JSON file (optional) and the environment, which wins:
 * TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_REGION, TBAAS_CLUSTER_ID,
 * TBAAS_CHANNEL_ID, TBAAS_CHAINCODE_NAME, TBAAS_ENDPOINT (host[:port]) and TBAAS_PROTOCOL.
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
  return config as TbaasConfig;
}

/** DescribeFabricBlock's Response. */
interface FabricBlock {
  BlockHeight: number;
  BlockHash: string;
  PreBlockHash: string;
  TxCount: number;
  TransactionList: { TxId: string; ChaincodeName: string; Sender: string; CreateTime: string; BlockHeight: number; TxIndex: number }[];
  CreateTimestamp: string;
  ProposerOrg: string;
}

/** DescribeFabricTransaction's Response. */
interface FabricTransaction {
  TxId: string;
  TxHash: string;
  TxStatus: string;
  JoinOrgList: string[];
  Sender: string;
  CreateTime: string;
  BlockHeight: number;
  ChaincodeName: string;
  /** base64 of a JSON document; we read it as the proto3 JSON form of the common.Envelope */
  TransactionData: string;
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

/** The envelope bytes from TransactionData (base64 of `{"payload": b64, "signature": b64}`). */
function envelopeBytes(tx: FabricTransaction): Uint8Array {
  try {
    const json = JSON.parse(Buffer.from(tx.TransactionData, 'base64').toString('utf8')) as { payload?: string; signature?: string };
    if (typeof json.payload !== 'string') throw new Error('no payload');
    const env = new common.Envelope();
    env.setPayload(Buffer.from(json.payload, 'base64'));
    env.setSignature(Buffer.from(json.signature ?? '', 'base64'));
    return env.serializeBinary();
  } catch {
    throw new LedgerError('ERR_TBAAS_FORMAT', `TransactionData of ${tx.TxId} is not the JSON form of a Fabric envelope`);
  }
}

const sleep = (ms: number, signal: { closed: boolean; wake?: () => void }) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal.wake = () => {
      clearTimeout(t);
      r();
    };
  });

/**
 * The Ledger transport over Tencent Cloud TBaaS (Fabric 2.3): submit = InvokeFabricChaincode
 * (synchronous, then DescribeFabricTransaction for the block height), evaluate =
 * QueryFabricChaincode, blocks = DescribeFabricBlock walked upward plus DescribeFabricTransaction
 * per transaction, polling once caught up; chaincode events are read from those blocks.
 * The caller's identity is the TBaaS account's org certificate: every call of an org arrives
 * under that one certificate, as the chaincode expects (holder authority is in signed DTOs).
 */
export class TbaasLedger implements Ledger {
  readonly api: TbaasApi;
  readonly chaincodeName: string;
  private readonly streams = new Set<{ closed: boolean; wake?: () => void }>();

  constructor(private readonly config: TbaasConfig) {
    for (const k of ['clusterId', 'channelId', 'chaincodeName'] as const) {
      if (!config[k]) throw new LedgerError('ERR_CONFIG', `TBaaS configuration lacks ${k}`);
    }
    this.api = new TbaasApi(config);
    this.chaincodeName = config.chaincodeName;
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

  /**
   * One block rebuilt from the API: every transaction's envelope from TransactionData, the data
   * hash recomputed from them and the header hash checked against BlockHash, so a block that
   * reaches the indexer is exactly the chain's.
   */
  async block(height: bigint): Promise<ChainBlock> {
    const b = await this.api.call<FabricBlock>('DescribeFabricBlock', { ...this.target, BlockHeight: Number(height) });
    const list = [...(b.TransactionList ?? [])].sort((x, y) => x.TxIndex - y.TxIndex);
    // Concurrent lookups: the token bucket paces them, the order of the list is kept.
    const txs = await Promise.all(list.map((item) => this.api.call<FabricTransaction>('DescribeFabricTransaction', { ...this.target, TxId: item.TxId })));
    const envelopes = txs.map(envelopeBytes);
    const transactions = envelopes.map((env, i) => parseTransaction(env, txs[i].TxStatus)).filter((t): t is ChainTransaction => t !== undefined);
    const dataHash = createHash('sha256').update(Buffer.concat(envelopes)).digest();
    const header = new common.BlockHeader();
    header.setNumber(Number(height));
    header.setPreviousHash(Buffer.from(b.PreBlockHash ?? '', 'hex'));
    header.setDataHash(dataHash);
    const hash = blockHash(header);
    if (hash !== b.BlockHash || list.length !== b.TxCount) {
      throw new LedgerError('ERR_INTEGRITY', `block ${height}: the transactions TBaaS returned do not hash to BlockHash ${b.BlockHash}`);
    }
    return { number: height, hash, previousHash: b.PreBlockHash ?? '', dataHash: dataHash.toString('hex'), transactions };
  }

  /** Whether DescribeFabricBlock knows this height yet. */
  private async exists(height: bigint): Promise<boolean> {
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
    while (await this.exists(hi - 1n)) {
      lo = hi;
      hi *= 2n;
    }
    // Block lo - 1 exists (or lo is 0) and block hi - 1 does not.
    while (hi - lo > 1n) {
      const mid = (lo + hi) / 2n;
      if (await this.exists(mid - 1n)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  async blocks(startBlock?: bigint): Promise<EventStream<ChainBlock>> {
    let next = startBlock ?? (await this.height());
    const state: { closed: boolean; wake?: () => void } = { closed: false };
    this.streams.add(state);
    const poll = this.config.pollIntervalMs ?? 1000;
    const close = () => {
      state.closed = true;
      state.wake?.();
      this.streams.delete(state);
    };
    const block = (height: bigint) => this.block(height);
    return {
      close,
      async *[Symbol.asyncIterator]() {
        try {
          while (!state.closed) {
            let b: ChainBlock;
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

  async chaincodeEvents(checkpoint?: Checkpoint): Promise<EventStream<ChainEvent>> {
    return chaincodeEventsFromBlocks(await this.blocks(checkpoint?.blockNumber), this.config.chaincodeName, checkpoint);
  }

  close(): void {
    this.api.close();
    for (const s of [...this.streams]) {
      s.closed = true;
      s.wake?.();
    }
    this.streams.clear();
  }
}
