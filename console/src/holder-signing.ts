/**
 * Holder signatures made with WebCrypto, in the holder's browser (and in Node ≥ 20, which has the same API): the bytes
 * signed are the chaincode's own (canonical JSON of holderMessage), and the signature is converted to the DER the
 * chaincode verifies. Nothing here reaches for Node modules, so the front end bundles this file as it is.
 */
import type { HolderSignature } from '@trace/client/dist/src/wallet';
import { holderMessage, HolderScope, MAX_REQUEST_LIFETIME_MS } from '@trace/chaincode/dist/src/rules/assets';
import { canonicalJson } from '@trace/chaincode/dist/src/rules/canonical-json';

/** A WebCrypto key (named through the API so that this file compiles against both the DOM's and Node's types). */
export type HolderCryptoKey = Parameters<typeof crypto.subtle.sign>[1];

/** A holder as the desk uses it: the signing key (non-extractable) and what the chain knows of it. */
export interface Holder {
  key: HolderCryptoKey;
  publicKeyPem: string;
  /** SHA-256 (hex) of the public key's SPKI DER: the chain's account id */
  account: string;
}

export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export class HolderKeyError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const toBase64 = (bytes: Uint8Array): string => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
export const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** One DER INTEGER of an unsigned big-endian value: leading zeros dropped, a 0x00 added when the top bit is set. */
function derInteger(value: Uint8Array): number[] {
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  const v = Array.from(value.subarray(i));
  if (v[0] & 0x80) v.unshift(0);
  return [0x02, v.length, ...v];
}

/**
 * WebCrypto's ECDSA signatures are IEEE P1363 (r ‖ s, 32 bytes each on P-256); the chaincode verifies DER
 * (SEQUENCE { INTEGER r, INTEGER s }), the form Node's signer writes. At most 72 bytes, so lengths are short-form.
 */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  if (signature.length !== 64) throw new HolderKeyError('ERR_SIGNATURE_FORMAT', `a P-256 P1363 signature has 64 bytes, not ${signature.length}`);
  const body = [...derInteger(signature.subarray(0, 32)), ...derInteger(signature.subarray(32))];
  return Uint8Array.from([0x30, body.length, ...body]);
}

export function spkiPem(spki: Uint8Array): string {
  const lines = toBase64(spki).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

export function pemSpki(pem: string): Uint8Array {
  const body = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!body) throw new HolderKeyError('ERR_BACKUP', 'the public key is not a PEM public key');
  return fromBase64(body[1].replace(/\s+/g, ''));
}

/** The chain's account id of a public key: SHA-256 (hex) of its SPKI DER, as the chaincode's accountOf. */
export async function accountOf(spki: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', spki as Uint8Array<ArrayBuffer>)));
}

/**
 * Signs a holder request for one transaction of one deployment, as the client's Wallet.sign does: a fresh nonce, the
 * signing time, an expiry (at most five minutes later) and the public key are added, then the signature over the
 * canonical JSON of {scope, request}.
 */
export async function signHolderRequest<T extends object>(holder: Pick<Holder, 'key' | 'publicKeyPem'>, scope: HolderScope, request: T, now = Date.now(), ttlMs = MAX_REQUEST_LIFETIME_MS): Promise<T & HolderSignature> {
  const unsigned = { ...request, nonce: hex(crypto.getRandomValues(new Uint8Array(12))), signedAt: new Date(now).toISOString(), expiresAt: new Date(now + ttlMs).toISOString(), publicKeyPem: holder.publicKeyPem };
  const message = new TextEncoder().encode(canonicalJson(holderMessage(scope, unsigned)));
  const p1363 = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, holder.key, message));
  return { ...unsigned, signature: toBase64(p1363ToDer(p1363)) };
}
