import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, { ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';

/** GS1's EPCIS 2.0 JSON Schema as the indexer vendors it (one copy in the repository, read from that package). */
const SCHEMA_FILE = join(dirname(require.resolve('@trace/indexer/package.json')), 'epcis', 'EPCIS-JSON-Schema.json');

let compiled: ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Schema-level problems of a document ("/epcisBody/eventList/2/eventTime must match format …"); empty when it validates. */
export function schemaProblems(doc: unknown): string[] {
  if (!compiled) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
  }
  if (compiled(doc)) return [];
  const seen = new Set<string>();
  for (const e of compiled.errors ?? []) {
    // anyOf/oneOf branches repeat the same miss many times over; one line per place and message
    const params = e.keyword === 'additionalProperties' ? ` '${String(e.params.additionalProperty)}'` : e.keyword === 'enum' ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : '';
    seen.add(`${e.instancePath || '/'} ${e.message ?? e.keyword}${params}`);
  }
  return [...seen].slice(0, 50);
}
