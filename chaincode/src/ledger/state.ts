import { createHash } from 'crypto';
import { Context } from 'fabric-contract-api';
import { DEFAULT_PAGE_SIZE, Page, PageDto } from '../model/page';
import { canonicalJson } from '../rules/canonical-json';
import { fail } from './errors';
import { KeyTypeName } from './keys';

/** Most objects a transaction reads under one partial key in one go; lists beyond that are paged. */
export const MAX_LIST = 10_000;

const parse = <T>(bytes: Uint8Array): T => JSON.parse(Buffer.from(bytes).toString('utf8')) as T;

/** The bytes each key read so far in a transaction (contract-api makes one context per transaction). */
const readsOf = new WeakMap<Context, Map<string, Uint8Array>>();

/**
 * Reads a key once per transaction. Fabric answers every read in a transaction from the committed
 * state (a transaction never reads its own writes), so a second read of a key returns the same bytes
 * and adds nothing to the read set: it need not cost another round trip to the peer (a stage record
 * reads its predecessor for the stage order and again for the cross-validation rules).
 */
async function readState(ctx: Context, key: string): Promise<Uint8Array> {
  let reads = readsOf.get(ctx);
  if (!reads) readsOf.set(ctx, (reads = new Map()));
  let bytes = reads.get(key);
  if (bytes === undefined) {
    bytes = await ctx.stub.getState(key);
    reads.set(key, bytes);
  }
  return bytes;
}

/** Reads a JSON state object; undefined when absent. */
export async function getJson<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await readState(ctx, key);
  if (!bytes || bytes.length === 0) return undefined;
  return parse<T>(bytes);
}

/** Distinct immutable objects kept parsed; the map starts over when full. */
export const MAX_PARSED_IMMUTABLE = 256;
const parsedImmutable = new Map<string, unknown>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads a state object that is never rewritten once committed (a published template version:
 * ~10 KB parsed by every stage record), parsed once per process. The state is still read, so the
 * read set is the same; the parsed object is remembered under the SHA-256 of the bytes read, so it
 * is always the parse of what the ledger holds now, never a stale copy, and every peer gets what a
 * fresh parse would give: this per-process state cannot make endorsers disagree. The object is
 * deep-frozen and shared: a transaction that tried to change it would fail, not leak into the next.
 */
export async function getImmutableJson<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await readState(ctx, key);
  if (!bytes || bytes.length === 0) return undefined;
  const hash = createHash('sha256').update(bytes).digest('base64');
  let value = parsedImmutable.get(hash);
  if (value === undefined) {
    value = deepFreeze(parse<T>(bytes));
    if (parsedImmutable.size >= MAX_PARSED_IMMUTABLE) parsedImmutable.clear();
    parsedImmutable.set(hash, value);
  }
  return value as T;
}

/** Writes a state object as canonical JSON, so every endorser writes identical bytes. */
export async function putJson(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.stub.putState(key, Buffer.from(canonicalJson(value)));
}

/**
 * Every object of a type under a partial key, in key order, for rules that need all of them (a
 * task's records and audits, a case's contents). Fails rather than answer with part of the set.
 */
export async function listJson<T>(ctx: Context, type: KeyTypeName, attrs: string[]): Promise<T[]> {
  const out: T[] = [];
  for await (const kv of ctx.stub.getStateByPartialCompositeKey(type, attrs)) {
    if (out.length === MAX_LIST) fail('ERR_STATE', `more than ${MAX_LIST} ${type} objects under one key: ask for them page by page`);
    out.push(parse<T>(kv.value));
  }
  return out;
}

/** The first object of a type under a partial key, in key order. */
export async function firstJson<T>(ctx: Context, type: KeyTypeName, attrs: string[]): Promise<T | undefined> {
  for await (const kv of ctx.stub.getStateByPartialCompositeKey(type, attrs)) return parse<T>(kv.value);
  return undefined;
}

/**
 * One page of the objects under a partial key (a read-only query: Fabric refuses writes after a
 * paginated query). `more` needs a full page and a bookmark, so a state database whose bookmark
 * never runs dry (CouchDB) ends with one empty page instead of an endless list.
 */
export async function pageJson<T>(ctx: Context, type: KeyTypeName, attrs: string[], page: PageDto): Promise<Page<T>> {
  const bookmark = page.bookmark ?? '';
  // A bookmark is a key: one outside this list's range would read other objects.
  if (bookmark && !bookmark.startsWith(ctx.stub.createCompositeKey(type, attrs))) fail('ERR_VALIDATION', 'bookmark does not belong to this list');
  const pageSize = page.pageSize ?? DEFAULT_PAGE_SIZE;
  const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(type, attrs, pageSize, bookmark);
  const items: T[] = [];
  try {
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) items.push(parse<T>(r.value.value));
  } finally {
    await iterator.close();
  }
  const next = metadata?.bookmark ?? '';
  const more = items.length === pageSize && next !== '';
  return { items, more, bookmark: more ? next : '' };
}
