import type { Context } from 'koa';
import { checkpoints, Db, Store } from './db';
import { sha256 } from './http';

/** entries kept at most (the first filed go first): a trace is a few KiB, so this bounds the cache near 100 MiB */
export const TRACE_CACHE_MAX = 20_000;

/** the PostgreSQL channel an ingestor's commits are announced on */
const INDEXED_CHANNEL = 'trace_index';


/**
 * Tells every process sharing a PostgreSQL database that the index moved to `height` (in the
 * transaction that moves it: PostgreSQL delivers the message when it commits). On SQLite, readers
 * compare the height themselves.
 */
export async function announceIndexed(tx: Db, height: bigint): Promise<void> {
  if (tx.engine === 'postgres') await tx.run(`SELECT pg_notify('${INDEXED_CHANNEL}', ?)`, height.toString());
}

/** A response body as sent, and its entity tag (a digest of the body). */
export interface CachedBody {
  body: string;
  etag: string;
}

/** PostgreSQL: how often a serve process reads the height besides hearing announcements, and retries a LISTEN that failed */
export const HEIGHT_CHECK_MS = 1000;

/**
 * Public trace responses (per code, per lot) kept in memory while the index has not moved since they
 * were computed (by this process or another). On SQLite, each request reads the index height: the
 * first after an ingestor commit finds it moved and drops every entry, so no trace is served stale
 * once the block that changed it is indexed. On PostgreSQL, whose database may be on another
 * machine, the ingestor's commits are announced (NOTIFY, delivered a moment after the commit) and
 * each announcement drops every entry, so no request waits on a height read; as a safety net under a
 * connection that died without a word, the height is also read at most once per HEIGHT_CHECK_MS, and
 * while the LISTEN connection is down nothing is served from the cache. An entry is filed under the
 * generation read before its body was computed, so it is never older than that. The ETag digests the
 * body: a phone revalidating a trace that no block changed gets a 304 even after the cache was refilled.
 */
export class TraceCache {
  private readonly entries = new Map<string, CachedBody>();
  /** what the entries were computed under: the height (SQLite), or the count of moves seen (PostgreSQL) */
  private generation = '';
  private moves = 0;
  private listening?: Promise<boolean>;
  /** PostgreSQL: when the height was last read or a LISTEN last tried, and the height read */
  private checkedAt = 0;
  private height = '';

  constructor(
    private readonly db: Db & Partial<Pick<Store, 'listen'>>,
    private readonly max = TRACE_CACHE_MAX,
  ) {}

  /** where the index is now: false while announcements may be missed (nothing is cached then) */
  private async current(): Promise<string | false> {
    if (this.db.engine === 'sqlite') return checkpoints(this.db);
    const now = Date.now();
    if (!this.listening) {
      // a LISTEN that failed is tried again after a while, not by every request
      if (now - this.checkedAt < HEIGHT_CHECK_MS) return false;
      this.checkedAt = now;
      this.listening = this.db.listen!(INDEXED_CHANNEL, () => this.moves++, (up) => {
        this.moves++;
        this.listening = Promise.resolve(up);
      }).then(
        () => true,
        () => {
          this.listening = undefined;
          return false;
        },
      );
    }
    if (!(await this.listening)) return false;
    if (now - this.checkedAt >= HEIGHT_CHECK_MS) {
      this.checkedAt = now;
      const height = await checkpoints(this.db);
      if (height !== this.height) {
        this.height = height;
        this.moves++;
      }
    }
    return String(this.moves);
  }

  /** The cached response for `key`, or `compute`'s (which may throw, e.g. a 404: nothing is cached then). */
  async get(key: string, compute: () => Promise<unknown>): Promise<CachedBody> {
    const generation = await this.current();
    if (generation !== this.generation) {
      this.entries.clear();
      if (generation !== false) this.generation = generation;
    }
    let entry = generation === false ? undefined : this.entries.get(key);
    if (!entry) {
      const body = JSON.stringify(await compute());
      entry = { body, etag: `"${sha256(body).slice(0, 32)}"` };
      if (generation !== false && generation === this.generation) {
        if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
        this.entries.set(key, entry);
      }
    }
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Whether an If-None-Match header names the tag (weakly compared, as RFC 9110 asks for GET), or is `*`. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

/**
 * Answers with a cached body: 304 without it when the request's If-None-Match names its ETag.
 * no-cache: a client (or proxy) keeps the trace but asks again each time, as the next block may change it.
 * The origin answers the condition itself (Koa's ctx.fresh does not when the request says
 * Cache-Control: no-cache, which fetch() adds to every conditional request).
 */
export function sendCached(ctx: Context, cached: CachedBody): void {
  ctx.set('ETag', cached.etag);
  ctx.set('Cache-Control', 'no-cache');
  if (matchesIfNoneMatch(ctx.get('If-None-Match'), cached.etag)) {
    ctx.status = 304;
    return;
  }
  ctx.type = 'application/json';
  ctx.body = cached.body;
}
