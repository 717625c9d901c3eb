import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type Router from '@koa/router';
import type { Db } from './db';
import type { Ledger } from '@trace/client';
import type { Scope } from './keys';

/** A client mistake or an unavailable dependency: answered with its status and a stable code, never a stack trace. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One documented route; the OpenAPI document is generated from these. */
export interface RouteDoc {
  method: 'get' | 'post';
  path: string;
  summary: string;
  /** who may call it: public (no key), member or auditor (an API key of that scope or above) */
  scope: Scope;
  /** query parameters the route reads */
  query?: string[];
}

/** What route modules get: the index, and the chain for the routes that re-read it. */
export interface RouteDeps {
  db: Db;
  /** absent when the indexer serves a database without a chain (benchmarks, offline copies) */
  ledger?: Ledger;
  /** the product chaincode: statistics count its transactions apart from system and other chaincodes' (all non-system ones when absent) */
  chaincode?: string;
}

export interface RouteModule {
  routes: RouteDoc[];
  register(router: Router, deps: RouteDeps): void;
}

export const HASH = /^[0-9a-f]{64}$/;
export const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** a printed code as typed or scanned: Crockford base32 with its check character (one of *~$=U), dashes allowed */
export const CODE = /^[A-Za-z0-9*~$=-]{5,64}$/;
export const REGION = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;

export function page(q: Record<string, unknown>): { limit: number; offset: number } {
  const limit = q.limit === undefined ? 50 : Number(q.limit);
  const offset = q.offset === undefined ? 0 : Number(q.offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ApiError(400, 'ERR_VALIDATION', 'limit must be an integer from 1 to 500');
  if (!Number.isInteger(offset) || offset < 0) throw new ApiError(400, 'ERR_VALIDATION', 'offset must be a non-negative integer');
  return { limit, offset };
}

export function param(value: string | undefined, pattern: RegExp, name: string): string {
  if (!value || !pattern.test(value)) throw new ApiError(400, 'ERR_VALIDATION', `${name} is malformed`);
  return value;
}

/** An optional query value that must be one of a few words. */
export function oneOf(value: unknown, allowed: readonly string[], name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value)) throw new ApiError(400, 'ERR_VALIDATION', `${name} must be one of ${allowed.join(', ')}`);
  return value;
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export const parseJson = <T>(text: string | null | undefined): T | undefined => (text ? (JSON.parse(text) as T) : undefined);

const MAX_BODY = 16 * 1024;

/**
 * The JSON object a request carries. Only `application/json` is read: any other type (text/plain,
 * a form) is what a foreign page can send without a CORS preflight, so it is refused unread.
 */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'the body must be sent as Content-Type: application/json');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'ERR_VALIDATION', `body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error();
    return body as Record<string, unknown>;
  } catch {
    throw new ApiError(400, 'ERR_VALIDATION', 'body must be a JSON object');
  }
}
