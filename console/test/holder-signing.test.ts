import { expect } from 'chai';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { holderMessage, HolderScope } from '@trace/chaincode/dist/src/rules/assets';
import { canonicalJson } from '@trace/chaincode/dist/src/rules/canonical-json';
import { accountOf, p256Key, verifies } from '@trace/chaincode/dist/src/ledger/signatures';
import { createHolderKey, HolderKeyBackup, parseBackup, restoreHolderKey } from '../src/holder-key-backup';
import { HolderKeyError, p1363ToDer, signHolderRequest } from '../src/holder-signing';
import { privateKeyOfBackup } from './support/holder-backup';

const SCOPE: HolderScope = { channel: 'mychannel', chaincode: 'trace', transaction: 'assets:transfer' };
const PASS = 'a long enough passphrase';
/** fewer rounds than the default keep the suite quick; the format records the count */
const ROUNDS = 100_000;

/** What the chaincode's authorizeHolder checks of a signed DTO: the account's key, and the signature over the scope and request. */
function chainAccepts(dto: { publicKeyPem: string; signature: string; from: string }, scope = SCOPE): boolean {
  const key = p256Key(dto.publicKeyPem);
  return accountOf(key) === dto.from && verifies(key, Buffer.from(canonicalJson(holderMessage(scope, dto))), dto.signature);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e: unknown) => (e instanceof HolderKeyError ? e.code : String(e)),
  );
}

describe('holder keys in the browser: WebCrypto signatures the chaincode verifies, and the encrypted backup', function () {
  this.timeout(60_000);
  let holder: Awaited<ReturnType<typeof createHolderKey>>['holder'];
  let backup: HolderKeyBackup;

  before(async () => {
    ({ holder, backup } = await createHolderKey(PASS, ROUNDS));
  });

  it('p1363ToDer gives the DER Node writes: leading zeros dropped, a 0x00 before a set top bit', () => {
    const r = Buffer.alloc(32, 0);
    r[31] = 1;
    const s = Buffer.alloc(32, 0xff);
    const der = Buffer.from(p1363ToDer(Buffer.concat([r, s])));
    expect(der.toString('hex')).to.equal(`3026020101022100${'ff'.repeat(32)}`);
    expect(() => p1363ToDer(new Uint8Array(63))).to.throw(HolderKeyError);
  });

  it("converts Node's P1363 signatures into DER that verifies, including r or s with leading zeros or the top bit set", () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const seen = { zero: false, high: false };
    for (let i = 0; i < 5000 && !(seen.zero && seen.high); i++) {
      const msg = Buffer.from(`message ${i}`);
      const p1363 = sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const halves = [p1363[0], p1363[32]];
      seen.zero ||= halves.includes(0);
      seen.high ||= halves.some((b) => b >= 0x80);
      expect(verify('sha256', msg, { key: publicKey, dsaEncoding: 'der' }, p1363ToDer(p1363)), `signature ${i}`).to.equal(true);
    }
    expect(seen).to.deep.equal({ zero: true, high: true });
  });

  it('a transfer signed with WebCrypto verifies with the chaincode verifier; any changed field or another scope does not', async () => {
    const to = 'b'.repeat(64);
    for (let i = 0; i < 20; i++) {
      const dto = await signHolderRequest(holder, SCOPE, { classId: 'tea-1', from: holder.account, to, quantity: 30 + i });
      expect(chainAccepts(dto)).to.equal(true);
      expect(chainAccepts({ ...dto, quantity: dto.quantity + 1 } as typeof dto)).to.equal(false);
      expect(chainAccepts(dto, { ...SCOPE, transaction: 'assets:redeem' })).to.equal(false);
    }
    expect(holder.account).to.equal(accountOf(createPublicKey(holder.publicKeyPem)));
  });

  it('keeps the signing key non-extractable: WebCrypto refuses to export it', async () => {
    expect(holder.key.extractable).to.equal(false);
    expect(await codeOf(crypto.subtle.exportKey('pkcs8', holder.key))).to.match(/InvalidAccessError|not extractable/);
  });

  it('the backup holds the private key only under the passphrase; restored, the key is non-extractable and signs for the same account', async () => {
    const { key } = privateKeyOfBackup(backup, PASS);
    expect(accountOf(createPublicKey(key))).to.equal(holder.account);
    expect(await codeOf(restoreHolderKey(backup, 'the wrong passphrase'))).to.equal('ERR_PASSPHRASE');
    expect(await codeOf(restoreHolderKey(backup, 'short'))).to.equal('ERR_PASSPHRASE');
    const restored = await restoreHolderKey(parseBackup(JSON.stringify(backup)), PASS);
    expect(restored.key.extractable).to.equal(false);
    expect(restored.account).to.equal(holder.account);
    expect(chainAccepts(await signHolderRequest(restored, SCOPE, { classId: 'tea-1', from: holder.account, to: 'c'.repeat(64), quantity: 1 }))).to.equal(true);
  });

  it("refuses a backup whose account or public key was swapped, and files that are not backups", async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(await codeOf(restoreHolderKey({ ...backup, account: 'a'.repeat(64) }, PASS))).to.equal('ERR_BACKUP');
    expect(await codeOf(restoreHolderKey({ ...backup, publicKeyPem: other.export({ type: 'spki', format: 'pem' }).toString(), account: accountOf(other) }, PASS))).to.equal('ERR_BACKUP');
    expect(() => parseBackup('{"format":"x"}')).to.throw(HolderKeyError, /backup/);
    expect(() => parseBackup('not json')).to.throw(HolderKeyError, /JSON/);
    expect(() => parseBackup(JSON.stringify({ ...backup, kdf: { ...backup.kdf, iterations: 1 } }))).to.throw(HolderKeyError);
  });
});
