import type { Context, Next } from 'koa';
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import { ApiError, FieldsSchema, RouteDoc } from './http';

/** the largest body a route reads (a verify request is well under 1 KB) */
export const MAX_BODY = 16 * 1024;

const parseJsonBody = bodyParser({
  enableTypes: ['json'],
  jsonLimit: MAX_BODY,
  jsonStrict: true,
  onError(err: Error & { status?: number }) {
    if (err.status === 413) throw new ApiError(413, 'ERR_VALIDATION', `body larger than ${MAX_BODY} bytes`);
    if (err.status === 415) throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', err.message);
    throw new ApiError(400, 'ERR_VALIDATION', 'body must be a JSON object');
  },
});

/**
 * Reads a JSON body. Only `application/json` is read: any other type (text/plain, a form) is what a
 * foreign page can send without a CORS preflight, so it is refused unread.
 */
async function jsonBody(ctx: Context, next: Next): Promise<void> {
  if (ctx.request.type.trim().toLowerCase() !== 'application/json') throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'the body must be sent as Content-Type: application/json');
  await parseJsonBody(ctx, next);
}

/** Validates one part of a request against its schema; a mismatch is a 400 naming the field. */
function validate<S extends FieldsSchema>(schema: S, value: unknown, part: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : part;
  throw new ApiError(400, 'ERR_VALIDATION', `${field} is malformed: ${issue.message}`);
}

const NONE = z.object({});

export interface Input<P extends FieldsSchema, Q extends FieldsSchema, B extends FieldsSchema> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

/**
 * Registers a route's handler behind its declared schemas: the handler gets its path parameters,
 * query and body validated and typed, or the caller a 400 (415/413 for a body of the wrong type or size).
 */
export function handle<P extends FieldsSchema, Q extends FieldsSchema, B extends FieldsSchema>(
  router: Router,
  r: RouteDoc<P, Q, B>,
  handler: (ctx: Context, input: Input<P, Q, B>) => unknown,
): void {
  const path = r.path.replace(/\{(\w+)\}/g, ':$1');
  const run = async (ctx: Context) => {
    const input = {
      params: validate(r.params ?? NONE, ctx.params, 'path'),
      query: validate(r.query ?? NONE, ctx.query, 'query'),
      body: r.body ? validate(r.body, ctx.request.body, 'body') : {},
    } as Input<P, Q, B>;
    await handler(ctx, input);
  };
  if (r.body) router[r.method](path, jsonBody, run);
  else router[r.method](path, run);
}
