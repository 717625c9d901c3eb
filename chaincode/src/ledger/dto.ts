import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { fail } from './errors';

/** Largest JSON argument a transaction accepts. */
export const MAX_ARG_BYTES = 256 * 1024;

function describe(errors: ValidationError[], path = ''): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const at = path ? `${path}.${e.property}` : e.property;
    for (const msg of Object.values(e.constraints ?? {})) out.push(msg.startsWith(e.property) ? `${at}${msg.slice(e.property.length)}` : `${at}: ${msg}`);
    out.push(...describe(e.children ?? [], at));
  }
  return out;
}

/**
 * Parses the transaction's one JSON argument into a validated DTO: unknown fields, wrong types,
 * oversized strings and arrays are ERR_VALIDATION, with every problem named.
 */
export function parseDto<T extends object>(cls: new () => T, json: string): T {
  if (typeof json !== 'string') fail('ERR_VALIDATION', 'expected one JSON argument');
  if (Buffer.byteLength(json) > MAX_ARG_BYTES) fail('ERR_VALIDATION', `argument is larger than ${MAX_ARG_BYTES} bytes`);
  let plain: unknown;
  try {
    plain = JSON.parse(json);
  } catch {
    fail('ERR_VALIDATION', 'argument is not valid JSON');
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) fail('ERR_VALIDATION', 'argument must be a JSON object');
  const dto = plainToInstance(cls, plain);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) fail('ERR_VALIDATION', describe(errors).join('; '));
  return dto;
}
