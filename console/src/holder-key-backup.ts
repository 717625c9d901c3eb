/**
 * A holder's key pair, made in the holder's browser so that no server ever holds the private key. The signing key is
 * non-extractable; the only way out is the encrypted backup made at generation: the private key wrapped (AES-256-GCM)
 * under a key derived from the holder's passphrase (PBKDF2-SHA-256), which the holder downloads and can restore.
 */
import { accountOf, ECDSA_P256, fromBase64, Holder, HolderKeyError, pemSpki, spkiPem, toBase64 } from './holder-signing';

export const BACKUP_FORMAT = 'trace-chain-holder-key/1';
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA-256 */
export const PBKDF2_ITERATIONS = 600_000;
export const MIN_PASSPHRASE = 10;

/** The backup file (JSON): enough to restore the key with the passphrase, and nothing usable without it. */
export interface HolderKeyBackup {
  format: typeof BACKUP_FORMAT;
  account: string;
  publicKeyPem: string;
  kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
  wrap: { name: 'AES-GCM'; iv: string };
  /** base64 of the PKCS #8 private key encrypted with AES-256-GCM (its tag appended) */
  wrappedKey: string;
}

type Bytes = Uint8Array<ArrayBuffer>;
const random = (n: number): Bytes => crypto.getRandomValues(new Uint8Array(n));

async function wrappingKey(passphrase: string, salt: Uint8Array, iterations: number) {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as Bytes, iterations }, material, { name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
}

function checkPassphrase(passphrase: string): void {
  if (passphrase.length < MIN_PASSPHRASE) throw new HolderKeyError('ERR_PASSPHRASE', `the passphrase needs at least ${MIN_PASSPHRASE} characters`);
}

/**
 * Unwraps the backup's key as non-extractable, and proves it is the backup's public key's by a test signature: a
 * backup whose account or public key was altered is refused rather than signing for an account it cannot move.
 */
async function unwrap(backup: HolderKeyBackup, wrapKey: Awaited<ReturnType<typeof wrappingKey>>): Promise<Holder> {
  let key;
  try {
    key = await crypto.subtle.unwrapKey('pkcs8', fromBase64(backup.wrappedKey) as Bytes, wrapKey, { name: 'AES-GCM', iv: fromBase64(backup.wrap.iv) as Bytes }, ECDSA_P256, false, ['sign']);
  } catch {
    throw new HolderKeyError('ERR_PASSPHRASE', 'wrong passphrase, or the backup is damaged');
  }
  const spki = pemSpki(backup.publicKeyPem);
  const publicKey = await crypto.subtle.importKey('spki', spki as Bytes, ECDSA_P256, false, ['verify']);
  const probe = random(32);
  const alg = { name: 'ECDSA', hash: 'SHA-256' };
  const matches = await crypto.subtle.verify(alg, publicKey, await crypto.subtle.sign(alg, key, probe), probe);
  if (!matches || (await accountOf(spki)) !== backup.account) throw new HolderKeyError('ERR_BACKUP', 'the backup\'s key does not match its public key and account');
  return { key, publicKeyPem: backup.publicKeyPem, account: backup.account };
}

/**
 * A new holder key. It is generated extractable only so that it can be wrapped into the backup; the key kept for
 * signing is then unwrapped from that backup as non-extractable, and the extractable pair is dropped.
 */
export async function createHolderKey(passphrase: string, iterations = PBKDF2_ITERATIONS): Promise<{ holder: Holder; backup: HolderKeyBackup }> {
  checkPassphrase(passphrase);
  const pair = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const salt = random(16);
  const iv = random(12);
  const wrapKey = await wrappingKey(passphrase, salt, iterations);
  const wrapped = new Uint8Array(await crypto.subtle.wrapKey('pkcs8', pair.privateKey, wrapKey, { name: 'AES-GCM', iv }));
  const backup: HolderKeyBackup = {
    format: BACKUP_FORMAT,
    account: await accountOf(spki),
    publicKeyPem: spkiPem(spki),
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations, salt: toBase64(salt) },
    wrap: { name: 'AES-GCM', iv: toBase64(iv) },
    wrappedKey: toBase64(wrapped),
  };
  return { holder: await unwrap(backup, wrapKey), backup };
}

/** The backup file's content, checked for its shape before any key is derived. */
export function parseBackup(text: string): HolderKeyBackup {
  let b: Partial<HolderKeyBackup>;
  try {
    b = JSON.parse(text) as Partial<HolderKeyBackup>;
  } catch {
    throw new HolderKeyError('ERR_BACKUP', 'the backup file is not JSON');
  }
  const ok = b.format === BACKUP_FORMAT && typeof b.account === 'string' && typeof b.publicKeyPem === 'string' && typeof b.wrappedKey === 'string' && typeof b.wrap?.iv === 'string' && typeof b.kdf?.salt === 'string' && Number.isInteger(b.kdf?.iterations) && (b.kdf?.iterations ?? 0) >= 100_000;
  if (!ok) throw new HolderKeyError('ERR_BACKUP', `not a ${BACKUP_FORMAT} backup`);
  return b as HolderKeyBackup;
}

/** The holder key from its backup and passphrase, non-extractable again. */
export async function restoreHolderKey(backup: HolderKeyBackup, passphrase: string): Promise<Holder> {
  checkPassphrase(passphrase);
  return unwrap(backup, await wrappingKey(passphrase, fromBase64(backup.kdf.salt), backup.kdf.iterations));
}
