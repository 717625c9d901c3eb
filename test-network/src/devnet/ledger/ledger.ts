import { EventEmitter } from 'node:events';
import { common, ledger as lpb, msp, peer } from '@hyperledger/fabric-protos';
import { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb';
import { randomBytes } from 'node:crypto';
import { MspRegistry } from '../crypto/msp';
import { sha256 } from '../crypto/ecdsa';
import { BlockFile } from './blockstore';
import { dataHash, headerDer, headerHash } from './blockhash';
import { KeyWrite, StateDB, StateView, compareKeys } from './statedb';
import { NsRwset, ParsedTx, TxCode, TxCodeValue, computeTxId, parseEnvelope } from './transaction';

export interface TxStatus {
  code: TxCodeValue;
  block: number;
}

/** An envelope to order; `creatorVerified` when Submit already checked the creator signature. */
export interface Submission {
  bytes: Uint8Array;
  creatorVerified: boolean;
}

/** What event streams need from one transaction of a block. */
export interface TxSummary {
  txId: string;
  type: number;
  code: TxCodeValue;
  event?: peer.ChaincodeEvent;
}

export interface Signer {
  serialized: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/**
 * Endorsements this process signed itself, by signature: checking one at commit needs only a hash
 * of the signed bytes, not an ECDSA verification. Bounded; entries are dropped once used.
 */
export class OwnEndorsements {
  private readonly signed = new Map<string, Buffer>();
  constructor(private readonly limit = 200_000) {}

  add(signature: Uint8Array, signedMessage: Uint8Array): void {
    if (this.signed.size >= this.limit) this.signed.delete(this.signed.keys().next().value as string);
    this.signed.set(Buffer.from(signature).toString('base64'), sha256(signedMessage));
  }

  /** True when this exact signature was produced here over exactly this message. */
  take(signature: Uint8Array, signedMessage: Uint8Array): boolean {
    const key = Buffer.from(signature).toString('base64');
    const digest = this.signed.get(key);
    if (!digest) return false;
    this.signed.delete(key);
    return digest.equals(sha256(signedMessage));
  }
}

export interface LedgerOptions {
  path: string;
  channelId: string;
  msps: MspRegistry;
  /** orderer identity that signs block metadata */
  orderer: Signer;
  /** how many distinct application orgs must endorse */
  endorsementsRequired: number;
  /** endorsements signed by this process's peers */
  ownEndorsements?: OwnEndorsements;
  /** the genesis config: application orgs and their root CA certificates */
  orgs: { mspId: string; caPem: string }[];
}

/**
 * The channel ledger: append-only blocks on disk, with state, history and the tx-id index
 * derived from them (rebuilt by replay on open). commit() validates like Fabric's committer.
 */
export class Ledger extends EventEmitter {
  readonly state = new StateDB();
  private readonly blocks: BlockFile;
  private readonly txIndex = new Map<string, TxStatus>();
  private readonly txWaiters = new Map<string, Set<(s: TxStatus) => void>>();
  private lastHash: Buffer = Buffer.alloc(0);
  private readonly summaries = new Map<number, TxSummary[]>();
  private static readonly SUMMARY_BLOCKS = 1024;

  constructor(private readonly opts: LedgerOptions) {
    super();
    this.setMaxListeners(0);
    this.blocks = new BlockFile(opts.path);
    if (this.blocks.height === 0) this.appendBlock(this.genesisBlock());
    else this.replay();
  }

  get height(): number {
    return this.blocks.height;
  }

  get channelId(): string {
    return this.opts.channelId;
  }

  blockBytes(n: number): Buffer {
    return this.blocks.read(n);
  }

  block(n: number): common.Block {
    return common.Block.deserializeBinary(this.blocks.read(n));
  }

  /** Transactions of block n with their validation codes and chaincode events. */
  summary(n: number): TxSummary[] {
    const hit = this.summaries.get(n);
    if (hit) return hit;
    const block = this.block(n);
    const filter = block.getMetadata()!.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
    const out = block
      .getData()!
      .getDataList_asU8()
      .map((env, i) => summarize(parseEnvelope(env).tx, filter[i] as TxCodeValue));
    this.remember(n, out);
    return out;
  }

  private remember(n: number, summary: TxSummary[]): void {
    this.summaries.set(n, summary);
    if (this.summaries.size > Ledger.SUMMARY_BLOCKS) this.summaries.delete(this.summaries.keys().next().value as number);
  }

  txStatus(txId: string): TxStatus | undefined {
    return this.txIndex.get(txId);
  }

  snapshot(): StateView {
    return this.state.snapshot();
  }

  /** Resolves when txId is in the ledger (first occurrence); cancel() drops the wait. */
  waitForTx(txId: string): { promise: Promise<TxStatus>; cancel: () => void } {
    const known = this.txIndex.get(txId);
    if (known) return { promise: Promise.resolve(known), cancel: () => undefined };
    let resolver!: (s: TxStatus) => void;
    const promise = new Promise<TxStatus>((resolve) => (resolver = resolve));
    let set = this.txWaiters.get(txId);
    if (!set) this.txWaiters.set(txId, (set = new Set()));
    set.add(resolver);
    return {
      promise,
      cancel: () => {
        set!.delete(resolver);
        if (set!.size === 0) this.txWaiters.delete(txId);
      },
    };
  }

  /** Resolves once block n exists. */
  waitForBlock(n: number): Promise<void> {
    if (n < this.height) return Promise.resolve();
    return new Promise((resolve) => {
      const onBlock = (h: number) => {
        if (n < h) {
          this.off('height', onBlock);
          resolve();
        }
      };
      this.on('height', onBlock);
    });
  }

  close(): void {
    this.blocks.close();
  }

  // ---- commit -------------------------------------------------------------------------------

  /** Validates a batch cut by the orderer, writes it as the next block and applies valid writes. */
  async commit(batch: Submission[]): Promise<{ number: number; codes: TxCodeValue[] }> {
    const number = this.height;
    const codes: TxCodeValue[] = [];
    const parsed: (ParsedTx | undefined)[] = [];
    for (const sub of batch) {
      const r = parseEnvelope(sub.bytes);
      let code = r.code;
      if (code === TxCode.VALID) code = this.checkTx(r.tx!, sub.creatorVerified);
      codes.push(code);
      parsed.push(r.tx);
    }
    // Sequential phase: in-block duplicates, MVCC and phantoms against state + earlier valid txs.
    const pending = new Map<string, Set<string>>();
    const seen = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      if (codes[i] !== TxCode.VALID) continue;
      const tx = parsed[i]!;
      if (seen.has(tx.txId)) {
        codes[i] = TxCode.DUPLICATE_TXID;
        continue;
      }
      const conflict = this.checkReads(tx.endorser!.rwsets, pending);
      if (conflict !== TxCode.VALID) {
        codes[i] = conflict;
        continue;
      }
      seen.add(tx.txId);
      for (const rw of tx.endorser!.rwsets) {
        let keys = pending.get(rw.namespace);
        if (!keys) pending.set(rw.namespace, (keys = new Set()));
        for (const w of rw.kv.getWritesList()) keys.add(w.getKey());
        for (const w of rw.kv.getMetadataWritesList()) keys.add(w.getKey());
      }
    }
    const block = this.buildBlock(number, batch.map((b) => b.bytes), codes);
    // The fsync runs off the event loop; nothing else commits meanwhile (the orderer serializes).
    await this.blocks.appendAsync(block.serializeBinary());
    this.index(block, parsed, codes);
    return { number, codes };
  }

  /** Per-transaction checks that need the MSPs and the ledger: creator, channel, duplicates, policy. */
  private checkTx(tx: ParsedTx, creatorVerified: boolean): TxCodeValue {
    if (tx.channelId !== this.opts.channelId) return TxCode.TARGET_CHAIN_NOT_FOUND;
    if (!creatorVerified) {
      try {
        const id = this.opts.msps.verify(tx.creator, tx.payloadBytes, tx.signature);
        if (id.ou !== 'client' && id.ou !== 'admin') return TxCode.BAD_CREATOR_SIGNATURE;
      } catch {
        return TxCode.BAD_CREATOR_SIGNATURE;
      }
    }
    if (this.txIndex.has(tx.txId)) return TxCode.DUPLICATE_TXID;
    return this.checkEndorsements(tx);
  }

  private checkEndorsements(tx: ParsedTx): TxCodeValue {
    const e = tx.endorser!;
    const orgs = new Set<string>();
    for (const endorsement of e.endorsements) {
      try {
        const endorser = endorsement.getEndorser_asU8();
        const id = this.opts.msps.deserialize(endorser);
        if (id.ou !== 'peer') continue;
        const signed = Buffer.concat([e.prpBytes, endorser]);
        const signature = endorsement.getSignature_asU8();
        if (!this.opts.ownEndorsements?.take(signature, signed)) this.opts.msps.verify(endorser, signed, signature);
        orgs.add(id.mspId);
      } catch {
        // Fabric drops invalid endorsements silently and evaluates the policy over the rest.
      }
    }
    return orgs.size >= this.opts.endorsementsRequired ? TxCode.VALID : TxCode.ENDORSEMENT_POLICY_FAILURE;
  }

  private checkReads(rwsets: NsRwset[], pending: Map<string, Set<string>>): TxCodeValue {
    const state = this.state;
    for (const rw of rwsets) {
      const ns = rw.namespace;
      const written = pending.get(ns);
      for (const read of rw.kv.getReadsList()) {
        const key = read.getKey();
        if (written?.has(key)) return TxCode.MVCC_READ_CONFLICT;
        const cur = state.get(ns, key);
        const v = read.getVersion();
        if (!v) {
          if (cur) return TxCode.MVCC_READ_CONFLICT;
        } else if (!cur || cur.version.block !== v.getBlockNum() || cur.version.tx !== v.getTxNum()) {
          return TxCode.MVCC_READ_CONFLICT;
        }
      }
      for (const rq of rw.kv.getRangeQueriesInfoList()) {
        const start = rq.getStartKey();
        const end = rq.getEndKey();
        const inclusive = !rq.getItrExhausted();
        if (written) {
          for (const k of written) {
            if (compareKeys(k, start) >= 0 && (end === '' || compareKeys(k, end) < (inclusive ? 1 : 0))) {
              return TxCode.PHANTOM_READ_CONFLICT;
            }
          }
        }
        const raw = rq.getRawReads();
        if (!raw) return TxCode.PHANTOM_READ_CONFLICT; // the devnet never produces merkle summaries
        const expected = raw.getKvReadsList();
        const actual = state.range(ns, start, end, expected.length + 1, inclusive);
        if (actual.length !== expected.length) return TxCode.PHANTOM_READ_CONFLICT;
        for (let i = 0; i < expected.length; i++) {
          const [k, v] = actual[i];
          const ev = expected[i].getVersion();
          if (k !== expected[i].getKey() || !ev || ev.getBlockNum() !== v.version.block || ev.getTxNum() !== v.version.tx) {
            return TxCode.PHANTOM_READ_CONFLICT;
          }
        }
      }
    }
    return TxCode.VALID;
  }

  private buildBlock(number: number, envelopes: Uint8Array[], codes: number[]): common.Block {
    const header = new common.BlockHeader();
    header.setNumber(number);
    header.setPreviousHash(this.lastHash);
    header.setDataHash(dataHash(envelopes));
    const data = new common.BlockData();
    data.setDataList(envelopes);
    const block = new common.Block();
    block.setHeader(header);
    block.setData(data);
    block.setMetadata(this.metadata(header, codes));
    return block;
  }

  private metadata(header: common.BlockHeader, codes: number[]): common.BlockMetadata {
    const lastConfig = new common.LastConfig();
    lastConfig.setIndex(0);
    const obm = new common.OrdererBlockMetadata();
    obm.setLastConfig(lastConfig);
    const value = obm.serializeBinary();
    const sigHeader = new common.SignatureHeader();
    sigHeader.setCreator(this.opts.orderer.serialized);
    sigHeader.setNonce(randomBytes(24));
    const shBytes = sigHeader.serializeBinary();
    const ms = new common.MetadataSignature();
    ms.setSignatureHeader(shBytes);
    const hdr = headerDer(header.getNumber(), header.getPreviousHash_asU8(), header.getDataHash_asU8());
    ms.setSignature(this.opts.orderer.sign(Buffer.concat([value, shBytes, hdr])));
    const sigs = new common.Metadata();
    sigs.setValue(value);
    sigs.setSignaturesList([ms]);
    const lc = new common.Metadata();
    lc.setValue(lastConfig.serializeBinary());
    const md = new common.BlockMetadata();
    md.setMetadataList([sigs.serializeBinary(), lc.serializeBinary(), Uint8Array.from(codes), new Uint8Array(0), new Uint8Array(0)]);
    return md;
  }

  private genesisBlock(): common.Block {
    const application = new common.ConfigGroup();
    for (const org of this.opts.orgs) {
      const fmsp = new msp.FabricMSPConfig();
      fmsp.setName(org.mspId);
      fmsp.setRootCertsList([Buffer.from(org.caPem)]);
      const mspConfig = new msp.MSPConfig();
      mspConfig.setType(0);
      mspConfig.setConfig(fmsp.serializeBinary());
      const value = new common.ConfigValue();
      value.setValue(mspConfig.serializeBinary());
      value.setModPolicy('Admins');
      const group = new common.ConfigGroup();
      group.getValuesMap().set('MSP', value);
      group.setModPolicy('Admins');
      application.getGroupsMap().set(org.mspId, group);
    }
    application.setModPolicy('Admins');
    const channelGroup = new common.ConfigGroup();
    channelGroup.getGroupsMap().set('Application', application);
    const config = new common.Config();
    config.setSequence(0);
    config.setChannelGroup(channelGroup);
    const configEnvelope = new common.ConfigEnvelope();
    configEnvelope.setConfig(config);

    const nonce = randomBytes(24);
    const ch = new common.ChannelHeader();
    ch.setType(common.HeaderType.CONFIG);
    ch.setVersion(1);
    ch.setChannelId(this.opts.channelId);
    ch.setTxId(computeTxId(nonce, new Uint8Array(0)));
    ch.setEpoch(0);
    ch.setTimestamp(Timestamp.fromDate(new Date()));
    const sh = new common.SignatureHeader();
    sh.setNonce(nonce);
    const header = new common.Header();
    header.setChannelHeader(ch.serializeBinary());
    header.setSignatureHeader(sh.serializeBinary());
    const payload = new common.Payload();
    payload.setHeader(header);
    payload.setData(configEnvelope.serializeBinary());
    const env = new common.Envelope();
    env.setPayload(payload.serializeBinary());
    return this.buildBlock(0, [env.serializeBinary()], [TxCode.VALID]);
  }

  /** Writes the block (synced), then applies its valid writes and wakes waiters. */
  private appendBlock(block: common.Block, parsed?: (ParsedTx | undefined)[], codes?: number[]): void {
    this.blocks.append(block.serializeBinary());
    this.index(block, parsed, codes);
  }

  private index(block: common.Block, parsed?: (ParsedTx | undefined)[], codes?: number[]): void {
    const header = block.getHeader()!;
    const number = header.getNumber();
    const envelopes = block.getData()!.getDataList_asU8();
    const filter = codes ?? Array.from(block.getMetadata()!.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER]);
    const woken: [string, TxStatus][] = [];
    const summary: TxSummary[] = [];
    for (let i = 0; i < envelopes.length; i++) {
      const tx = parsed ? parsed[i] : parseEnvelope(envelopes[i]).tx;
      const code = filter[i] as TxCodeValue;
      if (parsed) summary.push(summarize(tx, code));
      if (!tx || !tx.txId) continue;
      if (!this.txIndex.has(tx.txId)) {
        const status = { code, block: number };
        this.txIndex.set(tx.txId, status);
        woken.push([tx.txId, status]);
      }
      if (code !== TxCode.VALID || !tx.endorser) continue;
      for (const rw of tx.endorser.rwsets) this.state.apply(rw.namespace, keyWrites(rw.kv), { block: number, tx: i }, tx.txId, tx.seconds, tx.nanos);
    }
    if (parsed) this.remember(number, summary);
    this.lastHash = headerHash(header);
    this.state.setHeight(number + 1);
    for (const [txId, status] of woken) {
      const set = this.txWaiters.get(txId);
      if (!set) continue;
      this.txWaiters.delete(txId);
      for (const resolve of set) resolve(status);
    }
    this.emit('height', number + 1);
  }

  /** Rebuilds state, history and the tx index from the block file, checking the hash chain. */
  private replay(): void {
    let prev: Buffer = Buffer.alloc(0);
    for (let n = 0; n < this.blocks.height; n++) {
      const block = common.Block.deserializeBinary(this.blocks.read(n));
      const header = block.getHeader();
      if (!header || header.getNumber() !== n) throw new Error(`ledger corrupt: block ${n} has a bad header`);
      if (!prev.equals(header.getPreviousHash_asU8())) throw new Error(`ledger corrupt: block ${n} previous_hash mismatch`);
      if (!dataHash(block.getData()!.getDataList_asU8()).equals(header.getDataHash_asU8())) {
        throw new Error(`ledger corrupt: block ${n} data_hash mismatch`);
      }
      this.index(block);
      prev = this.lastHash;
    }
  }
}

export function summarize(tx: ParsedTx | undefined, code: TxCodeValue): TxSummary {
  return { txId: tx?.txId ?? '', type: tx?.type ?? -1, code, event: tx?.endorser?.event };
}

/** A namespace's write set as state updates: value writes (empty value = delete) then metadata writes. */
function keyWrites(kv: lpb.rwset.kvrwset.KVRWSet): KeyWrite[] {
  const out: KeyWrite[] = [];
  for (const w of kv.getWritesList()) {
    const value = Buffer.from(w.getValue_asU8());
    out.push({ key: w.getKey(), isDelete: w.getIsDelete() || value.length === 0, value });
  }
  for (const m of kv.getMetadataWritesList()) {
    const metadata = new Map<string, Buffer>();
    for (const e of m.getEntriesList()) metadata.set(e.getName(), Buffer.from(e.getValue_asU8()));
    out.push({ key: m.getKey(), isDelete: false, metadata });
  }
  return out;
}

