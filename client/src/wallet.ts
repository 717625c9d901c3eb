import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { holderMessage, HolderScope, MAX_REQUEST_LIFETIME_MS } from '@trace/chaincode/dist/src/rules/assets';
import { canonicalJson } from '@trace/chaincode/dist/src/rules/canonical-json';

/** Fields the assets contract expects on every holder-signed request. */
export interface HolderSignature {
  nonce: string;
  signedAt: string;
  expiresAt: string;
  publicKeyPem: string;
  signature: string;
}

/**
 * A holder's wallet: an ECDSA P-256 key pair. The account is the SHA-256 of the public key, so the
 * chain needs no account registry, and any org's gateway can submit the holder's signed requests.
 */
export class Wallet {
  readonly publicKeyPem: string;
  readonly account: string;

  constructor(private readonly privateKey: KeyObject) {
    const pub = createPublicKey(privateKey);
    this.publicKeyPem = pub.export({ type: 'spki', format: 'pem' }).toString();
    this.account = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
  }

  static generate(): Wallet {
    return new Wallet(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  }

  /** Loads the wallet kept in a PEM file, creating it (mode 0600) on first use. */
  static file(path: string): Wallet {
    if (!existsSync(path)) writeFileSync(path, Wallet.generate().privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return new Wallet(createPrivateKey(readFileSync(path)));
  }

  /**
   * Signs a debit request for one transaction of one deployment (TraceChainClient.holderScope):
   * adds a fresh nonce, the signing time, an expiry (default and at most five minutes later) and
   * the public key, then the signature over the canonical JSON of the scope and all of it.
   */
  sign<T extends object>(scope: HolderScope, request: T, ttlMs = MAX_REQUEST_LIFETIME_MS, now = Date.now()): T & HolderSignature {
    const unsigned = { ...request, nonce: randomBytes(12).toString('hex'), signedAt: new Date(now).toISOString(), expiresAt: new Date(now + ttlMs).toISOString(), publicKeyPem: this.publicKeyPem };
    const signature = sign('sha256', Buffer.from(canonicalJson(holderMessage(scope, unsigned))), { key: this.privateKey, dsaEncoding: 'der' }).toString('base64');
    return { ...unsigned, signature };
  }
}
