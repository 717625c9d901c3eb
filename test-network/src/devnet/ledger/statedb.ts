import BTree from 'sorted-btree';

export interface Version {
  block: number;
  tx: number;
}

export interface VersionedValue {
  value: Buffer;
  version: Version;
  metadata?: Map<string, Buffer>;
}

export interface HistoryEntry {
  txId: string;
  block: number;
  isDelete: boolean;
  value: Buffer;
  seconds: number;
  nanos: number;
}

/** One key's change, as a valid transaction's write set carries it. */
export interface KeyWrite {
  key: string;
  isDelete: boolean;
  value?: Buffer;
  /** metadata-only write (KVMetadataWrite) */
  metadata?: Map<string, Buffer>;
}

/**
 * Orders keys as UTF-8 byte strings, as Fabric's LevelDB does. JS compares UTF-16 code units,
 * which differs only where surrogates (U+D800..DFFF) meet U+E000..FFFF: shift those so code
 * points compare in order.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

const historyKey = (ns: string, key: string) => ns + '\u0000' + key;

/** A read-only view of world state and history as of a block height. */
export class StateView {
  constructor(
    readonly height: number,
    private readonly trees: Map<string, BTree<string, VersionedValue>>,
    private readonly history: Map<string, HistoryEntry[]>,
  ) {}

  get(ns: string, key: string): VersionedValue | undefined {
    return this.trees.get(ns)?.get(key);
  }

  /** Keys in [start, end) (end '' = unbounded), or [start, end] when endInclusive, in byte order; at most limit. */
  range(ns: string, start: string, end: string, limit: number, endInclusive = false): [string, VersionedValue][] {
    const out: [string, VersionedValue][] = [];
    const t = this.trees.get(ns);
    if (!t) return out;
    for (const [k, v] of t.entries(start)) {
      if (end !== '') {
        const c = compareKeys(k, end);
        if (c > 0 || (c === 0 && !endInclusive)) break;
      }
      out.push([k, v]);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Newest first, only entries committed below this view's height. */
  getHistory(ns: string, key: string): HistoryEntry[] {
    const all = this.history.get(historyKey(ns, key)) ?? [];
    const out: HistoryEntry[] = [];
    for (let i = all.length - 1; i >= 0; i--) if (all[i].block < this.height) out.push(all[i]);
    return out;
  }
}

/**
 * World state (per chaincode namespace) and key history, derived from committed blocks.
 * Simulations read from snapshots: a copy-on-write clone of the B+ trees taken at most once per
 * block, so a commit never waits for simulations and a simulation never sees half a block.
 */
export class StateDB extends StateView {
  private readonly live: Map<string, BTree<string, VersionedValue>>;
  private readonly hist: Map<string, HistoryEntry[]>;
  private snap?: StateView;
  private committedHeight = 0;

  constructor() {
    const trees = new Map<string, BTree<string, VersionedValue>>();
    const history = new Map<string, HistoryEntry[]>();
    super(Number.MAX_SAFE_INTEGER, trees, history);
    this.live = trees;
    this.hist = history;
  }

  /** Marks every block below height as applied (the height snapshots report). */
  setHeight(height: number): void {
    this.committedHeight = height;
    this.snap = undefined;
  }

  snapshot(): StateView {
    if (!this.snap) {
      const trees = new Map<string, BTree<string, VersionedValue>>();
      for (const [ns, t] of this.live) trees.set(ns, t.clone());
      this.snap = new StateView(this.committedHeight, trees, this.hist);
    }
    return this.snap;
  }

  private tree(ns: string): BTree<string, VersionedValue> {
    let t = this.live.get(ns);
    if (!t) {
      t = new BTree<string, VersionedValue>(undefined, compareKeys);
      this.live.set(ns, t);
    }
    return t;
  }

  /** Applies one valid transaction's writes with version (block, tx). */
  apply(ns: string, writes: KeyWrite[], version: Version, txId: string, seconds: number, nanos: number): void {
    const t = this.tree(ns);
    for (const w of writes) {
      const current = t.get(w.key);
      if (w.metadata && w.value === undefined && !w.isDelete) {
        if (current) t.set(w.key, { ...current, version, metadata: w.metadata });
        continue;
      }
      const hk = historyKey(ns, w.key);
      let h = this.hist.get(hk);
      if (!h) {
        h = [];
        this.hist.set(hk, h);
      }
      const block = version.block;
      if (w.isDelete) {
        t.delete(w.key);
        h.push({ txId, block, isDelete: true, value: Buffer.alloc(0), seconds, nanos });
      } else {
        const value = w.value ?? Buffer.alloc(0);
        t.set(w.key, { value, version, metadata: w.metadata ?? current?.metadata });
        h.push({ txId, block, isDelete: false, value, seconds, nanos });
      }
    }
  }

  /** Canonical dump for tests: namespace → key → {value(hex), version}. */
  dump(): Record<string, Record<string, { value: string; block: number; tx: number }>> {
    const out: Record<string, Record<string, { value: string; block: number; tx: number }>> = {};
    for (const [ns, t] of this.live) {
      const o: Record<string, { value: string; block: number; tx: number }> = {};
      t.forEachPair((k, v) => {
        o[k] = { value: v.value.toString('hex'), block: v.version.block, tx: v.version.tx };
      });
      out[ns] = o;
    }
    return out;
  }
}
