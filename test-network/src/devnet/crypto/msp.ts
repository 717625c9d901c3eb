import { X509Certificate, KeyObject } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import { NodeOU } from './ca';
import { SignatureError, verifyMessage } from './ecdsa';

export interface Identity {
  mspId: string;
  ou: NodeOU;
  publicKey: KeyObject;
  /** bytes(SerializedIdentity) exactly as received */
  serialized: Uint8Array;
}

export class IdentityError extends Error {}

const NODE_OUS: ReadonlySet<string> = new Set(['client', 'peer', 'admin', 'orderer']);
const CACHE_LIMIT = 10_000;

/**
 * The channel's MSPs: one root CA per org. Deserializes creators as Fabric does (known MSP,
 * PEM X.509 chained to that MSP's root, not a CA, exactly one NodeOU) and verifies signatures.
 */
export class MspRegistry {
  private readonly roots = new Map<string, X509Certificate>();
  private readonly cache = new Map<string, Identity>();

  addOrg(mspId: string, caPem: string): void {
    this.roots.set(mspId, new X509Certificate(caPem));
  }

  get mspIds(): string[] {
    return [...this.roots.keys()];
  }

  has(mspId: string): boolean {
    return this.roots.has(mspId);
  }

  deserialize(serialized: Uint8Array): Identity {
    const cacheKey = Buffer.from(serialized).toString('base64');
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const identity = this.validate(serialized);
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(cacheKey, identity);
    return identity;
  }

  private validate(serialized: Uint8Array): Identity {
    let sid: msp.SerializedIdentity;
    try {
      sid = msp.SerializedIdentity.deserializeBinary(serialized);
    } catch {
      throw new IdentityError('creator is malformed');
    }
    const mspId = sid.getMspid();
    const root = this.roots.get(mspId);
    if (!root) throw new IdentityError(`creator org unknown, creator is malformed (msp ${JSON.stringify(mspId)})`);
    let cert: X509Certificate;
    try {
      const pem = Buffer.from(sid.getIdBytes_asU8()).toString('utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('not PEM');
      cert = new X509Certificate(pem);
    } catch {
      throw new IdentityError(`could not deserialize a certificate for msp ${mspId}`);
    }
    if (cert.ca) throw new IdentityError('identity certificate is a CA certificate');
    if (!cert.checkIssued(root) || !cert.verify(root.publicKey)) {
      throw new IdentityError(`certificate is not issued by the ${mspId} CA`);
    }
    const ous = cert.subject
      .split('\n')
      .filter((l) => l.startsWith('OU='))
      .map((l) => l.slice(3))
      .filter((ou) => NODE_OUS.has(ou));
    if (ous.length !== 1) throw new IdentityError('identity must carry exactly one NodeOU');
    return { mspId, ou: ous[0] as NodeOU, publicKey: cert.publicKey, serialized };
  }

  /** Deserializes creator and checks its signature over message; throws IdentityError / SignatureError. */
  verify(creator: Uint8Array, message: Uint8Array, signature: Uint8Array): Identity {
    const identity = this.deserialize(creator);
    verifyMessage(identity.publicKey, message, signature);
    return identity;
  }
}

export { SignatureError };
