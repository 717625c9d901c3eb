import { createCipheriv, createDecipheriv, createECDH, createHash, createPublicKey, hkdfSync, KeyObject, randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';

/**
 * Client-side privacy for stage data (明文 / 哈希 / 密文): only a salted SHA-256, or a ciphertext
 * readable by chosen orgs, reaches the chain.
 */

/** SHA-256 over salt and the UTF-8 value, hex: what a `hash` item carries. Keep the salt off chain. */
export function saltedHash(value: string, salt: Buffer = randomBytes(16)): { hash: string; salt: string } {
  const hash = createHash('sha256').update(salt).update(value, 'utf8').digest('hex');
  return { hash, salt: salt.toString('hex') };
}

export function verifySaltedHash(value: string, saltHex: string, hash: string): boolean {
  return saltedHash(value, Buffer.from(saltHex, 'hex')).hash === hash;
}

interface WrappedKey {
  /** ephemeral P-256 public key, uncompressed point, base64 */
  epk: string;
  iv: string;
  tag: string;
  /** the AES-256 data key, encrypted */
  key: string;
}

interface Envelope {
  v: 1;
  iv: string;
  tag: string;
  ct: string;
  /** mspId → wrapped data key */
  keys: Record<string, WrappedKey>;
}

const b64 = (b: Buffer) => b.toString('base64');

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new Error('recipient keys must be EC P-256');
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

function kek(shared: Buffer, mspId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), `trace-chain data key for ${mspId}`, 32));
}

/** A recipient's P-256 public key from a PEM certificate or public key. */
export function recipientKey(pem: string | Buffer): KeyObject {
  const text = pem.toString();
  return text.includes('BEGIN CERTIFICATE') ? new X509Certificate(text).publicKey : createPublicKey(text);
}

/**
 * Encrypts value with a fresh AES-256-GCM data key, and wraps that key for each org (ECDH with an
 * ephemeral P-256 key, HKDF-SHA256, AES-256-GCM). Returns the base64 a `cipher` item carries.
 */
export function encryptForOrgs(value: string, recipients: Record<string, KeyObject>): string {
  if (Object.keys(recipients).length === 0) throw new Error('at least one recipient org is needed');
  const dataKey = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  const envelope: Envelope = { v: 1, iv: b64(iv), tag: b64(cipher.getAuthTag()), ct: b64(ct), keys: {} };
  for (const [mspId, pub] of Object.entries(recipients)) {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const shared = ecdh.computeSecret(rawPublicKey(pub));
    const wiv = randomBytes(12);
    const w = createCipheriv('aes-256-gcm', kek(shared, mspId), wiv);
    const wrapped = Buffer.concat([w.update(dataKey), w.final()]);
    envelope.keys[mspId] = { epk: b64(ecdh.getPublicKey()), iv: b64(wiv), tag: b64(w.getAuthTag()), key: b64(wrapped) };
  }
  return Buffer.from(JSON.stringify(envelope)).toString('base64');
}

/** The orgs a `cipher` item value is encrypted for (its wrapped keys' MSP ids); [] for a value that is not an envelope. */
export function cipherRecipients(cipherB64: string): string[] {
  try {
    const envelope = JSON.parse(Buffer.from(cipherB64, 'base64').toString('utf8')) as Partial<Envelope>;
    return envelope.v === 1 && envelope.keys && typeof envelope.keys === 'object' ? Object.keys(envelope.keys).sort() : [];
  } catch {
    return [];
  }
}

/** Decrypts a `cipher` item value as org mspId with its P-256 private key (PEM). */
export function decryptForOrg(cipherB64: string, mspId: string, privateKeyPem: string | Buffer): string {
  const envelope = JSON.parse(Buffer.from(cipherB64, 'base64').toString('utf8')) as Envelope;
  const wrapped = envelope.keys?.[mspId];
  if (envelope.v !== 1 || !wrapped) throw new Error(`the value is not encrypted for ${mspId}`);
  const priv = createPrivateKey(privateKeyPem).export({ format: 'jwk' });
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(priv.d!, 'base64url'));
  const shared = ecdh.computeSecret(Buffer.from(wrapped.epk, 'base64'));
  const w = createDecipheriv('aes-256-gcm', kek(shared, mspId), Buffer.from(wrapped.iv, 'base64'));
  w.setAuthTag(Buffer.from(wrapped.tag, 'base64'));
  const dataKey = Buffer.concat([w.update(Buffer.from(wrapped.key, 'base64')), w.final()]);
  const d = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(envelope.iv, 'base64'));
  d.setAuthTag(Buffer.from(envelope.tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(envelope.ct, 'base64')), d.final()]).toString('utf8');
}
