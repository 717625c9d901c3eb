import { z } from 'zod';
import { RouteDoc } from './http';
import { ErrorBody } from './schemas';
import { MAX_BODY } from './validation';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...s } = z.toJSONSchema(schema, { target: 'openapi-3.0', io }) as Record<string, unknown>;
  return s;
};

const ERROR_CONTENT = { 'application/json': { schema: jsonSchema(ErrorBody, 'output') } };
const error = (description: string) => ({ description, content: ERROR_CONTENT });

const ERRORS = {
  400: 'invalid input (ERR_VALIDATION)',
  404: 'not found (ERR_NOT_FOUND)',
  409: 'conflicts with an earlier request (ERR_CONFLICT)',
  503: 'a dependency is not available: the chain, or the indexer is not following it yet (ERR_UNAVAILABLE)',
};

/** path and query parameters, one per field, with their types and patterns */
function parameters(r: RouteDoc): object[] {
  const fields = (schema: z.ZodObject | undefined, where: 'path' | 'query') =>
    Object.entries(schema?.shape ?? {}).map(([name, field]) => {
      const s = jsonSchema(field as z.ZodType, 'input');
      const { description, ...rest } = s;
      return { name, in: where, required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success, ...(description ? { description } : {}), schema: rest };
    });
  return [...fields(r.params, 'path'), ...fields(r.query, 'query')];
}

/** Every status a route can answer, from what it declares. */
function responses(r: RouteDoc): Record<string, object> {
  const ok = r.response;
  const media = ok.media ?? ['application/json'];
  const out: Record<string, object> = {
    [ok.status ?? 200]: { description: ok.description, ...(ok.schema ? { content: Object.fromEntries(media.map((m) => [m, { schema: jsonSchema(ok.schema!, 'output') }])) } : {}) },
  };
  if (r.params || r.query || r.body) out[400] = error(ERRORS[400]);
  // a key that is unknown or revoked is refused on every route; a missing one where the scope needs it
  out[401] = error(r.scope === 'public' ? 'an API key was sent but is unknown or revoked (ERR_UNAUTHORIZED)' : 'no API key, or an unknown or revoked one (ERR_UNAUTHORIZED)');
  const forbidden = [r.scope !== 'public' && "the key's scope is below the route's (ERR_FORBIDDEN)", r.method === 'post' && 'posted from a web origin that is not an app origin (ERR_FORBIDDEN_ORIGIN)'].filter(Boolean);
  if (forbidden.length) out[403] = error(forbidden.join('; '));
  if (r.body) {
    out[413] = error(`body larger than ${MAX_BODY} bytes (ERR_VALIDATION)`);
    out[415] = error('not Content-Type: application/json (ERR_UNSUPPORTED_MEDIA_TYPE)');
  }
  if (r.rateLimit) out[429] = error(`too many requests from this client (ERR_RATE_LIMITED, with Retry-After)${r.rateLimit.keyedExempt ? '; requests with an API key are not limited' : ''}`);
  for (const s of r.errors ?? []) out[s] = error(ERRORS[s]);
  return out;
}

/** The OpenAPI 3.0 document of the route table. */
export function openApi(routes: RouteDoc[]): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    // public routes need no key (an optional one is still checked); the others name their scope
    const security = r.scope === 'public' ? [] : [{ apiKey: [r.scope] }];
    const operation = {
      summary: r.summary,
      'x-scope': r.scope,
      security,
      parameters: parameters(r),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
      responses: responses(r),
    };
    paths[r.path] = { ...paths[r.path], [r.method]: operation };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'trace-chain indexer', version: '0.1.0' },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key bound to an org and a scope (member or auditor), from `node indexer/dist/src/keys.js create`' } } },
    paths,
  };
}
