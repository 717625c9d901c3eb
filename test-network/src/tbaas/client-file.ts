import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmulatorAccount, TbaasEmulator } from './emulator';

/**
 * Writes an account's client file tbaas-<name>.json (cloud settings plus `access`) and, under
 * tbaas-<name>/, the certificates its access settings name, relative to the file.
 */
export async function writeClientFile(dir: string, account: EmulatorAccount, emulator: TbaasEmulator, cloud: object = {}, name = account.mspId): Promise<EmulatorAccount & { file: string }> {
  const certs = `tbaas-${name}`;
  mkdirSync(join(dir, certs), { recursive: true, mode: 0o700 });
  const user = await emulator.userCredentials(account.secretId);
  const pems = { 'tls-ca.pem': emulator.access.tlsCaPem, 'sign-cert.pem': user.sign.certPem, 'sign-key.pem': user.sign.keyPem, 'tls-cert.pem': user.tls.certPem, 'tls-key.pem': user.tls.keyPem };
  for (const [name, pem] of Object.entries(pems)) writeFileSync(join(dir, certs, name), pem, { mode: name.endsWith('key.pem') ? 0o600 : 0o644 });
  const { endpoint, serverName, channel } = emulator.access;
  const access = { endpoint, serverName, channel, mspId: user.mspId, tlsCaCertPath: `${certs}/tls-ca.pem`, signCertPath: `${certs}/sign-cert.pem`, signKeyPath: `${certs}/sign-key.pem`, tlsCertPath: `${certs}/tls-cert.pem`, tlsKeyPath: `${certs}/tls-key.pem` };
  const file = join(dir, `${certs}.json`);
  writeFileSync(file, JSON.stringify({ ...cloud, access }, null, 2) + '\n', { mode: 0o600 });
  return { ...account, file };
}
