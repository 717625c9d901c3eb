import { createHash } from 'node:crypto';
import type Router from '@koa/router';
import type { z } from 'zod';
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

/** The shapes of path parameters, query strings and bodies: objects of named fields. */
export type FieldsSchema = z.ZodObject;

/** A rate-limit budget of the app's (`AppOptions.perClientPerMinute`). */
export type RateBudget = 'verify' | 'audit';

/** Statuses a route answers besides 200 that no other declaration implies (400, 401/403, 413/415 and 429 are derived). */
export type ErrorStatus = 404 | 409 | 503;

export interface ResponseDoc {
  description: string;
  /** the success status (default 200) */
  status?: 200 | 302;
  /** media types (default application/json) */
  media?: string[];
  /** the body's shape (none for a redirect) */
  schema?: z.ZodType;
}

/**
 * One route, described once: its scope, the schemas its input is validated with and its answers.
 * The OpenAPI document, the scope and rate-limit checks and the input validation all read this.
 */
export interface RouteDoc<P extends FieldsSchema = FieldsSchema, Q extends FieldsSchema = FieldsSchema, B extends FieldsSchema = FieldsSchema> {
  method: 'get' | 'post';
  /** OpenAPI style: /api/tasks/{taskId} */
  path: string;
  summary: string;
  /** who may call it: public (no key), member or auditor (an API key of that scope or above) */
  scope: Scope;
  /** one field per {name} in the path */
  params?: P;
  query?: Q;
  /** a JSON object body (Content-Type: application/json only) */
  body?: B;
  response: ResponseDoc;
  errors?: readonly ErrorStatus[];
  /** per-client budget; `keyedExempt`: callers with an API key are not counted */
  rateLimit?: { budget: RateBudget; keyedExempt?: boolean };
}

/** Declares a route, keeping the types of its schemas for its handler. */
export const route = <P extends FieldsSchema, Q extends FieldsSchema, B extends FieldsSchema>(r: RouteDoc<P, Q, B>): RouteDoc<P, Q, B> => r;

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

/** The declared route a request is for (HEAD as GET), before the router runs: for the scope and rate-limit checks. */
export function routeMatcher(routes: RouteDoc[]): (method: string, path: string) => RouteDoc | undefined {
  const table = routes.map((r) => ({ r, method: r.method.toUpperCase(), re: new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`) }));
  return (method, path) => {
    const m = method === 'HEAD' ? 'GET' : method;
    return table.find((t) => t.method === m && t.re.test(path))?.r;
  };
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export const parseJson = <T>(text: string | null | undefined): T | undefined => (text ? (JSON.parse(text) as T) : undefined);
