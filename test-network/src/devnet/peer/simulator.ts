import { randomUUID } from 'node:crypto';
import { ledger, peer } from '@hyperledger/fabric-protos';
import { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb';
import { StateView, Version, compareKeys } from '../ledger/statedb';

const kv = ledger.rwset.kvrwset;
const BATCH = 100;
/** ledger.state.totalQueryLimit */
const TOTAL_QUERY_LIMIT = 100_000;

export class SimulationError extends Error {}

interface RangeIterator {
  kind: 'range';
  ns: string;
  cursor: string;
  end: string;
  sent: number;
  info: ledger.rwset.kvrwset.RangeQueryInfo;
}

interface ListIterator {
  kind: 'list';
  items: peer.QueryResultBytes[];
  pos: number;
}

function versionPb(v: Version | undefined): ledger.rwset.kvrwset.Version | undefined {
  if (!v) return undefined;
  const pb = new kv.Version();
  pb.setBlockNum(v.block);
  pb.setTxNum(v.tx);
  return pb;
}

/**
 * A transaction simulator over one state snapshot: answers the chaincode's state requests and
 * records the read-write set as Fabric does (reads with committed versions, no read-your-own-
 * writes, range queries with their raw reads, sorted keys).
 */
export class Simulator {
  private readonly reads = new Map<string, Version | undefined>();
  private readonly writes = new Map<string, Buffer>();
  private readonly metadataWrites = new Map<string, Map<string, Uint8Array>>();
  private readonly ranges: ledger.rwset.kvrwset.RangeQueryInfo[] = [];
  private readonly iterators = new Map<string, RangeIterator | ListIterator>();
  private paginated = false;

  constructor(
    private readonly view: StateView,
    readonly namespace: string,
  ) {}

  getState(key: string): Buffer {
    const v = this.view.get(this.namespace, key);
    this.reads.set(key, v?.version);
    return v ? v.value : Buffer.alloc(0);
  }

  putState(key: string, value: Uint8Array): void {
    this.checkWritable(key);
    this.writes.set(key, Buffer.from(value));
  }

  delState(key: string): void {
    this.checkWritable(key);
    this.writes.set(key, Buffer.alloc(0));
  }

  getStateMetadata(key: string): peer.StateMetadataResult {
    const v = this.view.get(this.namespace, key);
    this.reads.set(key, v?.version);
    const out = new peer.StateMetadataResult();
    for (const [name, value] of v?.metadata ?? []) {
      const e = new peer.StateMetadata();
      e.setMetakey(name);
      e.setValue(value);
      out.addEntries(e);
    }
    return out;
  }

  putStateMetadata(key: string, name: string, value: Uint8Array): void {
    this.checkWritable(key);
    let m = this.metadataWrites.get(key);
    if (!m) {
      // A metadata write replaces the key's whole metadata map, so start from the committed one.
      m = new Map(this.view.get(this.namespace, key)?.metadata ?? []);
      this.metadataWrites.set(key, m);
    }
    m.set(name, value);
  }

  private checkWritable(key: string): void {
    if (!key) throw new SimulationError('key must not be empty');
    if (this.paginated) throw new SimulationError('Transaction has already performed a paginated query. Writes are not allowed');
  }

  getStateByRange(start: string, end: string, metadataBytes: Uint8Array): peer.QueryResponse {
    const info = new kv.RangeQueryInfo();
    info.setStartKey(start);
    info.setRawReads(new kv.QueryReads());
    this.ranges.push(info);
    if (metadataBytes.length > 0) {
      const md = peer.QueryMetadata.deserializeBinary(metadataBytes);
      if (md.getPagesize() !== 0 || md.getBookmark() !== '') return this.page(start, end, md, info);
    }
    const it: RangeIterator = { kind: 'range', ns: this.namespace, cursor: start, end, sent: 0, info };
    const id = randomUUID();
    this.iterators.set(id, it);
    return this.nextRange(id, it);
  }

  private page(start: string, end: string, md: peer.QueryMetadata, info: ledger.rwset.kvrwset.RangeQueryInfo): peer.QueryResponse {
    if (this.writes.size > 0 || this.metadataWrites.size > 0) {
      throw new SimulationError('paginated queries are not allowed after writes in the same transaction');
    }
    this.paginated = true;
    const pageSize = Math.max(0, Math.min(md.getPagesize() || TOTAL_QUERY_LIMIT, TOTAL_QUERY_LIMIT));
    const from = md.getBookmark() !== '' ? md.getBookmark() : start;
    const rows = this.view.range(this.namespace, from, end, pageSize + 1);
    const more = rows.length > pageSize;
    const page = rows.slice(0, pageSize);
    this.recordRange(info, page, more ? page[page.length - 1]?.[0] ?? from : end, !more);
    const res = new peer.QueryResponse();
    res.setResultsList(page.map(([k, v]) => this.kvResult(k, v.value)));
    res.setHasMore(false);
    res.setId(randomUUID());
    const rmd = new peer.QueryResponseMetadata();
    rmd.setFetchedRecordsCount(page.length);
    rmd.setBookmark(more ? rows[pageSize][0] : '');
    res.setMetadata(rmd.serializeBinary());
    return res;
  }

  private recordRange(info: ledger.rwset.kvrwset.RangeQueryInfo, rows: [string, { version: Version }][], endKey: string, exhausted: boolean): void {
    const raw = info.getRawReads()!;
    for (const [k, v] of rows) {
      const r = new kv.KVRead();
      r.setKey(k);
      r.setVersion(versionPb(v.version));
      raw.addKvReads(r);
    }
    info.setEndKey(endKey);
    info.setItrExhausted(exhausted);
  }

  private kvResult(key: string, value: Uint8Array): peer.QueryResultBytes {
    const row = new ledger.queryresult.KV();
    row.setNamespace(this.namespace);
    row.setKey(key);
    row.setValue(value);
    const qrb = new peer.QueryResultBytes();
    qrb.setResultbytes(row.serializeBinary());
    return qrb;
  }

  private nextRange(id: string, it: RangeIterator): peer.QueryResponse {
    const want = Math.min(BATCH, TOTAL_QUERY_LIMIT - it.sent);
    const rows = want > 0 ? this.view.range(it.ns, it.cursor, it.end, want + 1) : [];
    const more = rows.length > want && want > 0;
    const batch = rows.slice(0, want);
    it.sent += batch.length;
    if (more) it.cursor = rows[want][0];
    const exhausted = !more;
    this.recordRange(it.info, batch, exhausted ? it.end : batch[batch.length - 1][0], exhausted);
    const res = new peer.QueryResponse();
    res.setResultsList(batch.map(([k, v]) => this.kvResult(k, v.value)));
    res.setHasMore(more);
    res.setId(id);
    if (!more) this.iterators.delete(id);
    return res;
  }

  getHistoryForKey(key: string): peer.QueryResponse {
    const items = this.view.getHistory(this.namespace, key).map((h) => {
      const km = new ledger.queryresult.KeyModification();
      km.setTxId(h.txId);
      km.setValue(h.value);
      const ts = new Timestamp();
      ts.setSeconds(h.seconds);
      ts.setNanos(h.nanos);
      km.setTimestamp(ts);
      km.setIsDelete(h.isDelete);
      const qrb = new peer.QueryResultBytes();
      qrb.setResultbytes(km.serializeBinary());
      return qrb;
    });
    const id = randomUUID();
    const it: ListIterator = { kind: 'list', items, pos: 0 };
    this.iterators.set(id, it);
    return this.nextList(id, it);
  }

  private nextList(id: string, it: ListIterator): peer.QueryResponse {
    const batch = it.items.slice(it.pos, it.pos + BATCH);
    it.pos += batch.length;
    const res = new peer.QueryResponse();
    res.setResultsList(batch);
    res.setHasMore(it.pos < it.items.length);
    res.setId(id);
    if (!res.getHasMore()) this.iterators.delete(id);
    return res;
  }

  queryNext(id: string): peer.QueryResponse {
    const it = this.iterators.get(id);
    if (!it) throw new SimulationError(`query iterator ${id} not found`);
    return it.kind === 'range' ? this.nextRange(id, it) : this.nextList(id, it);
  }

  queryClose(id: string): peer.QueryResponse {
    this.iterators.delete(id);
    const res = new peer.QueryResponse();
    res.setHasMore(false);
    res.setId(id);
    return res;
  }

  /** bytes(TxReadWriteSet) for this namespace, keys sorted in byte order. */
  results(): Uint8Array {
    const set = new kv.KVRWSet();
    for (const key of [...this.reads.keys()].sort(compareKeys)) {
      const r = new kv.KVRead();
      r.setKey(key);
      r.setVersion(versionPb(this.reads.get(key)));
      set.addReads(r);
    }
    set.setRangeQueriesInfoList(this.ranges);
    for (const key of [...this.writes.keys()].sort(compareKeys)) {
      const value = this.writes.get(key)!;
      const w = new kv.KVWrite();
      w.setKey(key);
      w.setIsDelete(value.length === 0);
      w.setValue(value);
      set.addWrites(w);
    }
    for (const key of [...this.metadataWrites.keys()].sort(compareKeys)) {
      const mw = new kv.KVMetadataWrite();
      mw.setKey(key);
      for (const [name, value] of [...this.metadataWrites.get(key)!].sort((a, b) => compareKeys(a[0], b[0]))) {
        const e = new kv.KVMetadataEntry();
        e.setName(name);
        e.setValue(value);
        mw.addEntries(e);
      }
      set.addMetadataWrites(mw);
    }
    const ns = new ledger.rwset.NsReadWriteSet();
    ns.setNamespace(this.namespace);
    ns.setRwset(set.serializeBinary());
    const trw = new ledger.rwset.TxReadWriteSet();
    trw.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
    trw.setNsRwsetList([ns]);
    return trw.serializeBinary();
  }
}
