import { createPrivateKey, KeyObject, sign } from 'node:crypto';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;
const HALF_N_BYTES = Buffer.from(HALF_N.toString(16).padStart(64, '0'), 'hex');

/** s ≤ N/2, compared as big-endian bytes (DER may add a leading zero): half of all signatures need no BigInt. */
function isLowS(s: Buffer): boolean {
  let i = 0;
  while (i < s.length - 1 && s[i] === 0) i++;
  const digits = s.subarray(i);
  return digits.length < 32 || (digits.length === 32 && Buffer.compare(digits, HALF_N_BYTES) <= 0);
}

function derInt(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}

/** Rewrites a DER ECDSA P-256 signature to low-S, the only form Fabric accepts. */
export function lowS(der: Buffer): Buffer {
  const rLen = der[3];
  const r = der.subarray(4, 4 + rLen);
  const sLen = der[5 + rLen];
  const sBytes = der.subarray(6 + rLen, 6 + rLen + sLen);
  if (isLowS(sBytes)) return der;
  const s = BigInt('0x' + sBytes.toString('hex'));
  const body = Buffer.concat([Buffer.from([0x02, r.length]), r, derInt(N - s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/**
 * A fabric-gateway Signer backed by Node's OpenSSL ECDSA (several times faster than the pure-JS
 * default). Use with `hash: hash.none`: the gateway then passes the message, which is hashed here.
 */
export function nodeSigner(privateKeyPem: string | Buffer | KeyObject): (message: Uint8Array) => Promise<Uint8Array> {
  const key = privateKeyPem instanceof KeyObject ? privateKeyPem : createPrivateKey(privateKeyPem);
  return async (message) => lowS(sign('sha256', message, { key, dsaEncoding: 'der' }));
}
