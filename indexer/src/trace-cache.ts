import type { Context } from 'koa';
import { checkpoint, Db } from './db';
import { sha256 } from './http';
import { invocationCheckpoint } from './tbaas-source';

/** entries kept at most (the first filed go first): a trace is a few KiB, so this bounds the cache near 100 MiB */
export const TRACE_CACHE_MAX = 20_000;

/**
 * How far the index has followed the chain: the block checkpoint and, on TBaaS without its access
 * address, the invocation checkpoint. Every projection commits with one of them, in any process
 * sharing the database, so an unchanged height means an unchanged projection.
 */
export function indexHeight(db: Db): string {
  return `${checkpoint(db)}/${invocationCheckpoint(db)}`;
}

/** A response body as sent, and its entity tag (a digest of the body). */
export interface CachedBody {
  body: string;
  etag: string;
}

/**
 * Public trace responses (per code, per lot) kept in memory while the index height they were
 * computed at is still the database's: the first request after an ingestor commit (of this process
 * or another) finds the height moved and drops every entry, so no trace is served stale once the
 * block that changed it is indexed. The height is read before the body is computed, so an entry is
 * never older than the height it is filed under. The ETag digests the body: a phone revalidating a
 * trace that no block changed gets a 304 even after the cache was refilled.
 */
export class TraceCache {
  private readonly entries = new Map<string, CachedBody>();
  private height = '';

  constructor(
    private readonly db: Db,
    private readonly max = TRACE_CACHE_MAX,
  ) {}

  /** The cached response for `key`, or `compute`'s (which may throw, e.g. a 404: nothing is cached then). */
  get(key: string, compute: () => unknown): CachedBody {
    const height = indexHeight(this.db);
    if (height !== this.height) {
      this.entries.clear();
      this.height = height;
    }
    let entry = this.entries.get(key);
    if (!entry) {
      const body = JSON.stringify(compute());
      entry = { body, etag: `"${sha256(body).slice(0, 32)}"` };
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, entry);
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
