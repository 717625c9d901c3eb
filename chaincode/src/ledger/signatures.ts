import { createHash, createPublicKey, KeyObject, verify } from 'crypto';
import { fail } from './errors';

/** DER of OID 1.2.840.10045.3.1.7 (prime256v1), as it appears in a P-256 SubjectPublicKeyInfo */
const P256_OID = Buffer.from('06082a8648ce3d030107', 'hex');

/** Parses a PEM public key and insists on EC P-256 (works on Node 12, which lacks key details). */
export function p256Key(pem: string): KeyObject {
  let k: KeyObject;
  try {
    k = createPublicKey(pem);
  } catch {
    return fail('ERR_VALIDATION', 'publicKeyPem is not a PEM public key');
  }
  if (k.asymmetricKeyType !== 'ec' || !(k.export({ type: 'spki', format: 'der' }) as Buffer).includes(P256_OID)) {
    fail('ERR_VALIDATION', 'publicKeyPem must be an ECDSA P-256 key');
  }
  return k;
}

/** An ECDSA P-256 / SHA-256 DER signature (base64) over message; false on any malformed input. */
export function verifies(key: KeyObject, message: Buffer, signatureB64: string): boolean {
  try {
    return verify('sha256', message, { key, dsaEncoding: 'der' }, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

/** A holder account id: SHA-256 (hex) of the holder's public key in SPKI DER form. */
export function accountOf(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' }) as Buffer).digest('hex');
}
