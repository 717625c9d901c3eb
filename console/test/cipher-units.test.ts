import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataItem } from '@trace/chaincode';
import { CertificateAuthority } from '@trace/test-network';
import { OrgKeys } from '../src/cipher/org-keys';
import { encryptCipherItems, revealCipherItems } from '../src/cipher/stage-cipher';
import { ConsoleError } from '../src/errors';

async function org(dir: string, mspId: string, domain: string) {
  const ca = await CertificateAuthority.open(join(dir, mspId), mspId, domain);
  const user = await ca.issue('User1');
  return { mspId, rootCertPems: [ca.certPem], rootCas: [], certPem: readFileSync(user.certPath, 'utf8'), keyPem: readFileSync(user.keyPath, 'utf8') };
}

async function refused(p: Promise<unknown>): Promise<ConsoleError> {
  try {
    await p;
  } catch (e) {
    return e as ConsoleError;
  }
  throw new Error('expected a refusal');
}

const ITEMS = [
  { id: 'price', name: 'price', type: 'string', privacy: 'cipher' },
  { id: 'kg', name: 'kg', type: 'number', privacy: 'plain' },
] as DataItem[];

describe('console units: encrypted items and whose keys are trusted', () => {
  it('encrypts for the chosen orgs and itself, reveals only to recipients, and trusts only certificates the channel MSP issued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cipher-units-'));
    const [farm, brand, regulator] = await Promise.all([org(dir, 'Org2MSP', 'org2.example.com'), org(dir, 'Org1MSP', 'org1.example.com'), org(dir, 'Org3MSP', 'org3.example.com')]);
    const channel = async () => [farm, brand, regulator];
    // the profile names the brand's certificate under Org3MSP too: a key its root CA did not issue is not trusted
    const certs = { Org1MSP: brand.certPem, Org2MSP: farm.certPem, Org3MSP: brand.certPem };
    const farmKeys = new OrgKeys('Org2MSP', certs, farm, channel);
    expect(await farmKeys.known()).to.deep.equal(['Org1MSP', 'Org2MSP']);
    const untrusted = await refused(encryptCipherItems(ITEMS, { price: '1280', kg: 5 }, ['Org3MSP'], farmKeys));
    expect([untrusted.status, untrusted.code, untrusted.fields]).to.deep.equal([422, 'ERR_NO_ORG_KEY', { recipients: 'no key for Org3MSP' }]);
    const badList = await refused(encryptCipherItems(ITEMS, { price: '1280' }, 'Org1MSP', farmKeys));
    expect([badList.code, badList.fields]).to.deep.equal(['ERR_VALIDATION', { recipients: 'a list of MSP ids' }]);
    const notText = await refused(encryptCipherItems(ITEMS, { price: 1280 }, ['Org1MSP'], farmKeys));
    expect([notText.code, notText.fields]).to.deep.equal(['ERR_VALIDATION', { price: 'text to encrypt' }]);

    const sealed = await encryptCipherItems(ITEMS, { price: '1280 CNY/kg', kg: 5 }, ['Org1MSP'], farmKeys);
    expect(sealed.kg).to.equal(5);
    expect(sealed.price).to.be.a('string').and.not.include('1280');
    const brandKeys = new OrgKeys('Org1MSP', certs, brand, channel);
    const regulatorKeys = new OrgKeys('Org3MSP', certs, regulator, channel);
    expect(revealCipherItems(ITEMS, sealed, brandKeys)).to.deep.equal({ data: { price: '1280 CNY/kg', kg: 5 }, encryptedFor: {} });
    expect(revealCipherItems(ITEMS, sealed, farmKeys).data.price, 'the recording org is always a recipient').to.equal('1280 CNY/kg');
    expect(revealCipherItems(ITEMS, sealed, regulatorKeys)).to.deep.equal({ data: { kg: 5 }, encryptedFor: { price: ['Org1MSP', 'Org2MSP'] } });
  });
});
