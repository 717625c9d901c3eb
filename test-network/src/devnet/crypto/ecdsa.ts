import { createHash, createPrivateKey, KeyObject, sign, verify } from 'node:crypto';

// P-256 group order and its half: Fabric accepts only signatures with s <= n/2 ("low-S").
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function readInt(der: Uint8Array, at: number): { value: bigint; next: number } {
  if (der[at] !== 0x02) throw new Error('bad DER signature: expected INTEGER');
  const len = der[at + 1];
  if (len === 0 || len > 33 || at + 2 + len > der.length) throw new Error('bad DER signature: INTEGER length');
  const bytes = Buffer.from(der.subarray(at + 2, at + 2 + len));
  if (bytes[0] & 0x80) throw new Error('bad DER signature: negative INTEGER');
  return { value: BigInt('0x' + bytes.toString('hex')), next: at + 2 + len };
}

/** Parses a DER ECDSA signature into (r, s); throws on anything malformed. */
export function parseDerSignature(der: Uint8Array): { r: bigint; s: bigint } {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) throw new Error('bad DER signature: SEQUENCE');
  const r = readInt(der, 2);
  const s = readInt(der, r.next);
  if (s.next !== der.length) throw new Error('bad DER signature: trailing bytes');
  if (r.value <= 0n || s.value <= 0n) throw new Error('bad DER signature: r and s must be positive');
  return { r: r.value, s: s.value };
}

function encodeInt(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}

export function encodeDerSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([encodeInt(r), encodeInt(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

export function isLowS(der: Uint8Array): boolean {
  return parseDerSignature(der).s <= HALF_N;
}

/** Turns any valid signature into its low-S twin, as Fabric's signers do. */
export function toLowS(der: Uint8Array): Buffer {
  const { r, s } = parseDerSignature(der);
  return s > HALF_N ? encodeDerSignature(r, N - s) : Buffer.from(der);
}

/** Mirror image of toLowS, used by tests to forge a high-S signature that Node would still accept. */
export function toHighS(der: Uint8Array): Buffer {
  const { r, s } = parseDerSignature(der);
  return s <= HALF_N ? encodeDerSignature(r, N - s) : Buffer.from(der);
}

export type PrivateKey = KeyObject;

export function loadPrivateKey(pem: string | Buffer): KeyObject {
  return createPrivateKey(pem);
}

/** ECDSA P-256 / SHA-256 signature over message, DER, low-S. */
export function signMessage(key: KeyObject, message: Uint8Array): Buffer {
  return toLowS(sign('sha256', message, { key, dsaEncoding: 'der' }));
}

export class SignatureError extends Error {}

/** Verifies as Fabric's software verifier does: well-formed DER, low-S, then the curve math. */
export function verifyMessage(key: KeyObject, message: Uint8Array, signature: Uint8Array): void {
  if (!signature || signature.length === 0) throw new SignatureError('empty signature');
  let lowS: boolean;
  try {
    lowS = isLowS(signature);
  } catch (e) {
    throw new SignatureError((e as Error).message);
  }
  if (!lowS) throw new SignatureError('Invalid S. Must be smaller than half the order');
  if (!verify('sha256', message, { key, dsaEncoding: 'der' }, signature)) {
    throw new SignatureError('signature is not valid');
  }
}
