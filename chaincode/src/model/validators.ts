import { ValidateBy, ValidationOptions } from 'class-validator';
import { parseRfc3339 } from '../rules/time';

/** A DTO property holding a real RFC 3339 date-time with an offset (no 30 February, no 25:00). */
export function IsRfc3339(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isRfc3339', validator: { validate: (v) => parseRfc3339(v) !== undefined, defaultMessage: (a) => `${a?.property} must be an RFC 3339 date-time with an offset (a real calendar date and time)` } }, options);
}
