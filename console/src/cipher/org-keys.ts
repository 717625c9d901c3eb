import { KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ChannelOrg, cipherRecipients, ConnectionProfile, decryptForOrg, GatewayIdentity, readConfigFile } from '@trace/client';
import { ConsoleError } from '../errors';

/**
 * Whose keys `cipher` items are encrypted with, and this org's key to read them. An org's encryption key is the
 * certificate of the identity its console holds (`organizations.<org>.signedCert` of the connection profile the
 * consortium hands out, as Fabric's common connection profile names it): the matching private key is already on the
 * recipient's console, so decrypting needs no further secret. A certificate is used only once the org's root CA in
 * the channel config (cscc) is found to have issued it, so a profile cannot slip in another party's key.
 */
export class OrgKeys {
  private trusted?: Promise<Map<string, KeyObject>>;

  constructor(
    readonly org: string,
    /** mspId → PEM certificate, as the profile lists them */
    private readonly certs: Record<string, string>,
    /** this org's identity (decryption); absent on transports that hold no identity here (TBaaS's cloud API) */
    private readonly own: GatewayIdentity | undefined,
    /** the channel's orgs and their root CAs; undefined where the console cannot read the channel config */
    private readonly channelOrgs: (() => Promise<ChannelOrg[]>) | undefined,
  ) {}

  /** The orgs whose certificate is known and issued by their channel MSP. */
  async known(): Promise<string[]> {
    return [...(await this.keys()).keys()].sort();
  }

  /** The recipients' public keys; an org without a trusted certificate is refused on the recipients field. */
  async recipients(mspIds: string[]): Promise<Record<string, KeyObject>> {
    const keys = await this.keys();
    const missing = mspIds.filter((m) => !keys.has(m));
    if (missing.length > 0) throw new ConsoleError(422, 'ERR_NO_ORG_KEY', `no trusted encryption certificate for ${missing.join(', ')} in the connection profile`, { recipients: `no key for ${missing.join(', ')}` });
    return Object.fromEntries(mspIds.map((m) => [m, keys.get(m) as KeyObject]));
  }

  /** The plain value when this org is a recipient, else the orgs it is encrypted for. */
  reveal(cipherB64: string): { value: string } | { encryptedFor: string[] } {
    const encryptedFor = cipherRecipients(cipherB64);
    if (!this.own || !encryptedFor.includes(this.org)) return { encryptedFor };
    return { value: decryptForOrg(cipherB64, this.org, this.own.keyPem) };
  }

  private keys(): Promise<Map<string, KeyObject>> {
    if (!this.trusted) {
      this.trusted = this.verify();
      this.trusted.catch(() => (this.trusted = undefined));
    }
    return this.trusted;
  }

  private async verify(): Promise<Map<string, KeyObject>> {
    const roots = this.channelOrgs ? new Map((await this.channelOrgs()).map((o) => [o.mspId, o.rootCertPems.map((p) => new X509Certificate(p))])) : undefined;
    const keys = new Map<string, KeyObject>();
    for (const [mspId, pem] of Object.entries(this.certs)) {
      const cert = new X509Certificate(pem);
      // without a channel config (TBaaS) the profile is taken as it is
      const issued = !roots || (roots.get(mspId) ?? []).some((root) => cert.checkIssued(root) && cert.verify(root.publicKey));
      if (issued) keys.set(mspId, cert.publicKey);
    }
    return keys;
  }
}

/** mspId → the PEM certificate of each org listed with a signedCert ({pem} or {path}, relative to the profile). */
export function profileCertificates(connectionPath: string): Record<string, string> {
  const profile = readConfigFile(connectionPath) as ConnectionProfile & { organizations?: Record<string, { mspid?: string; signedCert?: { pem?: string; path?: string } }> };
  const certs: Record<string, string> = {};
  for (const [key, org] of Object.entries(profile.organizations ?? {})) {
    const signed = org.signedCert;
    if (!signed) continue;
    const path = signed.path && (isAbsolute(signed.path) ? signed.path : resolve(dirname(connectionPath), signed.path));
    if (path && !existsSync(path)) throw new ConsoleError(500, 'ERR_CONFIG', `${connectionPath}: organizations.${key}.signedCert.path ${path} does not exist`);
    const pem = signed.pem ?? (path ? readFileSync(path, 'utf8') : undefined);
    if (pem) certs[org.mspid ?? key] = pem;
  }
  return certs;
}
