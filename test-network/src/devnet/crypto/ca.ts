import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, randomBytes } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Fabric CA's attribute extension: raw JSON {"attrs":{...}} as the extension value. */
export const ATTRS_OID = '1.2.3.4.5.6.7.8.1';
export type NodeOU = 'client' | 'peer' | 'admin' | 'orderer';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface IdentityFiles {
  mspId: string;
  /** the identity's MSP directory (signcerts/, keystore/, cacerts/), as cryptogen and Fabric CA write it */
  mspDir: string;
  certPath: string;
  keyPath: string;
}

export interface TlsFiles {
  certPath: string;
  keyPath: string;
  /** the issuing TLS CA's certificate */
  caPath: string;
}

/** Which of an org's two CAs: the signing CA (identities) or the TLS CA (TLS certificates), as in Fabric. */
export type CaKind = 'ca' | 'tlsca';

export interface IssueOptions {
  ou?: NodeOU;
  attrs?: Record<string, string>;
}

function pkcs8Pem(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']) as Promise<CryptoKey>;
}

async function writeKeyPair(certPath: string, keyPath: string, cert: x509.X509Certificate, key: CryptoKey): Promise<void> {
  writeFileSync(certPath, cert.toString('pem') + '\n');
  writeFileSync(keyPath, pkcs8Pem(await webcrypto.subtle.exportKey('pkcs8', key)), { mode: 0o600 });
}

export interface TlsPair {
  certPem: string;
  keyPem: string;
}

/** One organisation's certificate authority, kept as files under dir/<kind> (ca.pem, ca.key). */
export class CertificateAuthority {
  private constructor(
    readonly mspId: string,
    readonly dir: string,
    readonly domain: string,
    private readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
  ) {}

  get certPem(): string {
    return this.cert.toString('pem') + '\n';
  }

  /** Opens the CA in dir/<kind>, creating it (self-signed, with a Subject Key Identifier) when absent. */
  static async open(dir: string, mspId: string, domain: string, kind: CaKind = 'ca'): Promise<CertificateAuthority> {
    const certPath = join(dir, kind, 'ca.pem');
    const keyPath = join(dir, kind, 'ca.key');
    if (existsSync(certPath)) {
      const cert = new x509.X509Certificate(readFileSync(certPath, 'utf8'));
      return new CertificateAuthority(mspId, dir, domain, cert, await importKey(readFileSync(keyPath, 'utf8')));
    }
    const keys = await generateKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `C=CN, O=${domain}, CN=${kind}.${domain}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + TEN_YEARS_MS),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    mkdirSync(join(dir, kind), { recursive: true });
    await writeKeyPair(certPath, keyPath, cert, keys.privateKey);
    return new CertificateAuthority(mspId, dir, domain, cert, keys.privateKey);
  }

  /**
   * Issues (or returns the existing) identity `name` as an MSP directory under users/<name>/msp: a
   * leaf certificate without EKU, carrying exactly one NodeOU and, optionally, Fabric CA attributes.
   */
  async issue(name: string, opts: IssueOptions = {}): Promise<IdentityFiles> {
    const mspDir = join(this.dir, 'users', name, 'msp');
    const files = { mspId: this.mspId, mspDir, certPath: join(mspDir, 'signcerts', 'cert.pem'), keyPath: join(mspDir, 'keystore', 'priv_sk') };
    if (existsSync(files.certPath)) return files;
    const ou = opts.ou ?? 'client';
    const extra: x509.Extension[] = [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)];
    if (opts.attrs && Object.keys(opts.attrs).length > 0) {
      extra.push(new x509.Extension(ATTRS_OID, false, Buffer.from(JSON.stringify({ attrs: opts.attrs }))));
    }
    const { cert, keys } = await this.leaf(`C=CN, O=${this.domain}, OU=${ou}, CN=${name}`, extra);
    for (const sub of ['signcerts', 'keystore', 'cacerts']) mkdirSync(join(mspDir, sub), { recursive: true });
    writeFileSync(join(mspDir, 'cacerts', 'ca.pem'), this.certPem);
    await writeKeyPair(files.certPath, files.keyPath, cert, keys.privateKey);
    return files;
  }

  /**
   * Issues (or returns the existing) TLS certificate in dir: server.crt/.key with the given DNS
   * names and IP addresses as SANs, or client.crt/.key (clientAuth) when hosts is absent; ca.crt beside.
   */
  /** issueTls, read back as PEM text (certificate and key). */
  async issueTlsPem(dir: string, name: string, hosts?: string[]): Promise<TlsPair> {
    const files = await this.issueTls(dir, name, hosts);
    return { certPem: readFileSync(files.certPath, 'utf8'), keyPem: readFileSync(files.keyPath, 'utf8') };
  }

  async issueTls(dir: string, name: string, hosts?: string[]): Promise<TlsFiles> {
    const base = hosts ? 'server' : 'client';
    const files = { certPath: join(dir, `${base}.crt`), keyPath: join(dir, `${base}.key`), caPath: join(dir, 'ca.crt') };
    if (existsSync(files.certPath)) return files;
    const extra: x509.Extension[] = [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(hosts ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.clientAuth]),
    ];
    if (hosts) {
      const names = hosts.map((h) => ({ type: /^[\d.]+$|:/.test(h) ? ('ip' as const) : ('dns' as const), value: h }));
      extra.push(new x509.SubjectAlternativeNameExtension(names));
    }
    const { cert, keys } = await this.leaf(`C=CN, O=${this.domain}, CN=${name}`, extra);
    mkdirSync(dir, { recursive: true });
    writeFileSync(files.caPath, this.certPem);
    await writeKeyPair(files.certPath, files.keyPath, cert, keys.privateKey);
    return files;
  }

  private async leaf(subject: string, extensions: x509.Extension[]): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
    const keys = await generateKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: this.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + TEN_YEARS_MS),
      publicKey: keys.publicKey,
      signingKey: this.key,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        ...extensions,
      ],
    });
    return { cert, keys };
  }
}
