import { createDecipheriv, createPrivateKey, KeyObject, pbkdf2Sync } from 'node:crypto';
import type { HolderKeyBackup } from '../../src/holder-key-backup';

/**
 * The private key inside a holder's backup file, decrypted with Node's own crypto (PBKDF2-SHA-256 → AES-256-GCM over
 * PKCS #8, the tag last): an independent reading of the format the browser writes.
 */
export function privateKeyOfBackup(backup: HolderKeyBackup, passphrase: string): { key: KeyObject; pkcs8: Buffer } {
  const aes = pbkdf2Sync(passphrase, Buffer.from(backup.kdf.salt, 'base64'), backup.kdf.iterations, 32, 'sha256');
  const sealed = Buffer.from(backup.wrappedKey, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', aes, Buffer.from(backup.wrap.iv, 'base64'));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const pkcs8 = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  return { key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), pkcs8 };
}
