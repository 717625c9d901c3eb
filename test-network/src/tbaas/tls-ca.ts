import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface TlsPair {
  certPem: string;
  keyPem: string;
}

const serial = () => {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
};
const keyPem = (key: webcrypto.CryptoKey) => KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
const generate = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;

/**
 * A TLS certificate authority held in memory, as a TBaaS network has one for its access address:
 * it issues the server certificate (names in subjectAltName, serverAuth) and the users' TLS client
 * certificates (clientAuth) that a console's 证书管理 hands out.
 */
export class TlsCa {
  private constructor(
    private readonly cert: x509.X509Certificate,
    private readonly key: webcrypto.CryptoKey,
  ) {}

  static async create(name: string): Promise<TlsCa> {
    const keys = await generate();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `C=CN, O=${name}, CN=tlsca.${name}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 10 * YEAR_MS),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new TlsCa(cert, keys.privateKey);
  }

  get certPem(): string {
    return this.cert.toString('pem') + '\n';
  }

  /** A server certificate for these host names and IP addresses (the first is its CN). */
  server(names: string[]): Promise<TlsPair> {
    const altNames = names.map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n }));
    return this.issue(names[0], x509.ExtendedKeyUsage.serverAuth, [new x509.SubjectAlternativeNameExtension(altNames)]);
  }

  /** A TLS client certificate for a user. */
  client(name: string): Promise<TlsPair> {
    return this.issue(name, x509.ExtendedKeyUsage.clientAuth, []);
  }

  private async issue(cn: string, usage: string, extra: x509.Extension[]): Promise<TlsPair> {
    const keys = await generate();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `C=CN, CN=${cn}`,
      issuer: this.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + YEAR_MS),
      publicKey: keys.publicKey,
      signingKey: this.key,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        ...extra,
      ],
    });
    return { certPem: cert.toString('pem') + '\n', keyPem: keyPem(keys.privateKey) };
  }
}
