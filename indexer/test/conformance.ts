import { expect } from 'chai';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
}

/**
 * Checks real answers against the served OpenAPI document: a status the route does not document
 * fails, and a body must validate against the schema documented for its status and media type.
 */
export function openApiConformance(doc: OpenApiDoc): (route: { method: string; path: string }, res: Response, label: string) => Promise<void> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<object, ValidateFunction>();
  return async (route, res, label) => {
    const responses = doc.paths[route.path]?.[route.method]?.responses;
    expect(responses, `${label}: ${route.method} ${route.path} is not in the document`).to.not.equal(undefined);
    const documented = responses![String(res.status)];
    expect(documented, `${label}: status ${res.status} is not documented (only ${Object.keys(responses!).join(', ')})`).to.not.equal(undefined);
    if (!documented.content) return;
    const media = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    expect(Object.keys(documented.content), `${label}: ${res.status} as ${media}`).to.include(media);
    if (media !== 'application/json') return;
    const schema = documented.content[media].schema;
    let validate = validators.get(schema);
    if (!validate) validators.set(schema, (validate = ajv.compile(schema)));
    const body: unknown = await res.json();
    expect(validate(body), `${label}: ${res.status} body: ${ajv.errorsText(validate.errors)}`).to.equal(true);
  };
}
