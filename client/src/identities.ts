import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError } from './errors';

/** A Fabric client identity: the MSP it belongs to, its X.509 certificate and private key (PEM). */
export interface GatewayIdentity {
  mspId: string;
  certPem: string | Buffer;
  keyPem: string | Buffer;
}

/** Where an identity comes from; exactly one of mspDir, cert+key, wallet. */
export interface IdentitySource {
  /** an MSP directory as cryptogen or Fabric CA write it (signcerts/, keystore/) */
  mspDir?: string;
  /** PEM certificate file */
  cert?: string;
  /** PEM private key file */
  key?: string;
  /** a fabric-network-style file wallet directory; the identity is <label>.id */
  wallet?: string;
  label?: string;
}

function fail(message: string): never {
  throw new LedgerError('ERR_IDENTITY', message);
}

function readPem(path: string, what: string): Buffer {
  if (!existsSync(path)) fail(`${what} ${path} does not exist`);
  return readFileSync(path);
}

function files(dir: string): string[] {
  if (!existsSync(dir)) fail(`${dir} does not exist`);
  return readdirSync(dir)
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

function publicKeyOf(keyPem: Buffer | string): string {
  return createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Loads an identity from a PEM certificate and key file. */
export function identityFromFiles(mspId: string, certPath: string, keyPath: string): GatewayIdentity {
  return { mspId, certPem: readPem(certPath, 'certificate'), keyPem: readPem(keyPath, 'private key') };
}

/**
 * Loads an identity from an MSP directory: the certificate in signcerts/ and, among the keys in
 * keystore/ (priv_sk from cryptogen, <ski>_sk from Fabric CA), the one that matches it.
 */
export function identityFromMspDir(mspId: string, mspDir: string): GatewayIdentity {
  const certs = files(join(mspDir, 'signcerts'));
  if (certs.length === 0) fail(`no certificate in ${join(mspDir, 'signcerts')}`);
  const certPem = readFileSync(certs[0]);
  const wanted = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  for (const keyPath of files(join(mspDir, 'keystore'))) {
    const keyPem = readFileSync(keyPath);
    try {
      if (publicKeyOf(keyPem) === wanted) return { mspId, certPem, keyPem };
    } catch {
      // not a private key; keystores may hold other files
    }
  }
  return fail(`no private key in ${join(mspDir, 'keystore')} matches ${certs[0]}`);
}

interface WalletEntry {
  type?: string;
  mspId?: string;
  credentials?: { certificate?: string; privateKey?: string };
}

/** Loads `<label>.id` from a fabric-network file wallet (type X.509: credentials.certificate/privateKey, mspId). */
export function identityFromWallet(walletDir: string, label: string): GatewayIdentity {
  const path = join(walletDir, `${label}.id`);
  if (!existsSync(path)) fail(`no identity ${label} in wallet ${walletDir} (${path} is missing)`);
  let entry: WalletEntry;
  try {
    entry = JSON.parse(readFileSync(path, 'utf8')) as WalletEntry;
  } catch {
    return fail(`${path} is not JSON`);
  }
  if (entry.type !== 'X.509') fail(`${path}: identity type ${JSON.stringify(entry.type)} is not supported (X.509 only)`);
  const { certificate, privateKey } = entry.credentials ?? {};
  if (!entry.mspId || !certificate || !privateKey) fail(`${path} lacks mspId, credentials.certificate or credentials.privateKey`);
  return { mspId: entry.mspId, certPem: certificate, keyPem: privateKey };
}

/** The identity a source names; mspId applies to MSP directories and PEM files (a wallet entry carries its own). */
export function loadIdentity(mspId: string, source: IdentitySource): GatewayIdentity {
  if (source.wallet) return identityFromWallet(source.wallet, source.label ?? fail('a wallet identity needs a label'));
  if (source.mspDir) return identityFromMspDir(mspId, source.mspDir);
  if (source.cert && source.key) return identityFromFiles(mspId, source.cert, source.key);
  return fail('an identity needs mspDir, cert and key, or wallet and label');
}
