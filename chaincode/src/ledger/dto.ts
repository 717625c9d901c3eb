import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { isReservedKey, RESERVED_KEYS } from '../model/validators';
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


/** The path of the first reserved key anywhere in a parsed JSON value. */
function reservedKey(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = reservedKey(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const k of Object.keys(value)) {
    const at = path ? `${path}.${k}` : k;
    if (isReservedKey(k)) return at;
    const found = reservedKey((value as Record<string, unknown>)[k], at);
    if (found) return found;
  }
  return undefined;
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
  const reserved = reservedKey(plain, '');
  if (reserved) fail('ERR_VALIDATION', `'${reserved}' uses a reserved name: keys may not be any of ${RESERVED_KEYS.join(', ')}`);
  const dto = plainToInstance(cls, plain);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) fail('ERR_VALIDATION', describe(errors).join('; '));
  return dto;
}
