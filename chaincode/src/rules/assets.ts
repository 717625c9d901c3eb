import { msOf, parseRfc3339 } from './time';

/**
 * 茶花 / 酒花 digital assets: pure checks for supply, amounts and the holder signatures that
 * authorize every debit.
 */

/** Units are whole numbers (currency in its smallest unit), within JavaScript's exact range. */
export function isAmount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

/** Issuing q more keeps issued ≤ certified (redeemed units stay counted as issued). */
export function canIssue(issued: number, certified: number, q: number): boolean {
  return issued + q <= certified;
}

/** What a holder signs: the DTO without its signature, as canonical JSON. */
export function holderMessage<T extends { signature: string }>(dto: T): Omit<T, 'signature'> {
  const { signature: _, ...rest } = dto;
  return rest;
}

/** A request carrying a holder signature is valid from its creation until expiresAt, at most a day ahead. */
export const MAX_REQUEST_LIFETIME_MS = 24 * 3_600_000;

export function checkExpiry(expiresAtIso: string, txTimeMs: number): string | undefined {
  const t = parseRfc3339(expiresAtIso);
  if (t === undefined) return `expiresAt ${expiresAtIso} is not a date-time`;
  if (t < txTimeMs) return `the request expired at ${expiresAtIso}`;
  if (t > txTimeMs + MAX_REQUEST_LIFETIME_MS) return 'expiresAt is more than a day ahead';
  return undefined;
}

/** Age of stored goods in whole days, from the storage start to the transaction time. */
export function ageDays(sinceIso: string, txTimeMs: number): number {
  return Math.max(0, Math.floor((txTimeMs - msOf(sinceIso)) / 86_400_000));
}
