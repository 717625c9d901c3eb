import { ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';
import { parseRfc3339 } from '../rules/time';

/** A DTO property holding a real RFC 3339 date-time with an offset (no 30 February, no 25:00). */
export function IsRfc3339(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isRfc3339', validator: { validate: (v) => parseRfc3339(v) !== undefined, defaultMessage: (a) => `${a?.property} must be an RFC 3339 date-time with an offset (a real calendar date and time)` } }, options);
}

/**
 * Names a member may not use as a key of any map (stage data, assignments, spec, thresholds,
 * metrics, public views): the members of Object.prototype, which a plain object already "has",
 * so `map[name]` would read or overwrite a prototype member instead of the member's value.
 * A fixed list, not read from the runtime, so every peer's Node decides alike.
 */
export const RESERVED_KEYS = [
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'toString', 'valueOf',
  '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
];
const RESERVED = new Set(RESERVED_KEYS);
export const isReservedKey = (k: string): boolean => RESERVED.has(k);

/** Ids of items, forms, stages, templates, tasks, devices, classes: letters, digits, _ and -. */
export const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** An object id (ID) that is no reserved name: ids become keys of maps (assignments, stage data, template stages). */
export function IsId(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isId', validator: { validate: (v) => typeof v === 'string' && ID.test(v) && !RESERVED.has(v), defaultMessage: (a) => `${a?.property} must be an id of letters, digits, _ and - (at most 64), not a reserved name` } }, options);
}

/**
 * The member's own user who did a write (a console login, a system account): the org vouches for it,
 * as for everything its identity signs, and the chain keeps it so it says who, not only which org.
 */
export const ACTOR = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * The optional `actor` of every org-signed write DTO. Absent is allowed; null or anything else not
 * matching ACTOR is refused (null would otherwise be written as "actor":null).
 */
export function IsActor(): PropertyDecorator {
  const present = ValidateIf((o: Record<string, unknown>, v: unknown) => v !== undefined);
  const valid = ValidateBy({ name: 'isActor', validator: { validate: (v) => typeof v === 'string' && ACTOR.test(v), defaultMessage: (a) => `${a?.property} must be a user name of 1 to 64 letters, digits, _ . @ or -` } });
  return (target, key) => {
    present(target, key);
    valid(target, key);
  };
}
