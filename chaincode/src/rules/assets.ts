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

/**
 * Where a holder's signature is valid: the channel, the chaincode and the transaction
 * ('contract:function'). Signed into every request, so a signature made for one deployment or
 * one transaction verifies nowhere else.
 */
export interface HolderScope {
  channel: string;
  chaincode: string;
  transaction: string;
}

/** What a holder signs (as canonical JSON): the scope and the DTO without its signature. */
export function holderMessage<T extends object>(scope: HolderScope, dto: T): { scope: HolderScope; request: Omit<T, 'signature'> } {
  const { signature: _, ...request } = dto as T & { signature?: unknown };
  return { scope, request };
}

/** A signed request is valid from signedAt until expiresAt, a window of at most five minutes. */
export const MAX_REQUEST_LIFETIME_MS = 5 * 60_000;
/** How far the holder's clock may run ahead of the transaction time. */
export const MAX_CLOCK_SKEW_MS = 60_000;

/** Why a signed request's validity window is refused at txTimeMs, or undefined when it is valid. */
export function checkExpiry(signedAtIso: string, expiresAtIso: string, txTimeMs: number): string | undefined {
  const signedAt = parseRfc3339(signedAtIso);
  const expiresAt = parseRfc3339(expiresAtIso);
  if (signedAt === undefined) return `signedAt ${signedAtIso} is not a date-time`;
  if (expiresAt === undefined) return `expiresAt ${expiresAtIso} is not a date-time`;
  if (expiresAt <= signedAt) return 'expiresAt is not after signedAt';
  if (expiresAt - signedAt > MAX_REQUEST_LIFETIME_MS) return `the request is valid for more than ${MAX_REQUEST_LIFETIME_MS / 60_000} minutes`;
  if (signedAt > txTimeMs + MAX_CLOCK_SKEW_MS) return `signedAt ${signedAtIso} is ahead of the transaction time`;
  if (expiresAt < txTimeMs) return `the request expired at ${expiresAtIso}`;
  return undefined;
}

/** Age of stored goods in whole days, from the storage start to the transaction time. */
export function ageDays(sinceIso: string, txTimeMs: number): number {
  return Math.max(0, Math.floor((txTimeMs - msOf(sinceIso)) / 86_400_000));
}
