import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { cipherRecipients, decryptForOrg, encryptForOrgs, recipientKey, saltedHash, verifySaltedHash } from '../src/privacy';

const org = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { pub: recipientKey(publicKey.export({ type: 'spki', format: 'pem' })), priv: privateKey.export({ type: 'pkcs8', format: 'pem' }) };
};

describe('client privacy helpers', () => {
  it('salted hashes verify with their salt only', () => {
    const { hash, salt } = saltedHash('批次 A-17 检测报告');
    expect(hash).to.match(/^[0-9a-f]{64}$/);
    expect(verifySaltedHash('批次 A-17 检测报告', salt, hash)).to.equal(true);
    expect(verifySaltedHash('批次 A-18 检测报告', salt, hash)).to.equal(false);
    expect(saltedHash('x').hash).not.to.equal(saltedHash('x').hash);
  });

  it('encrypts to a set of orgs: each decrypts, others cannot, tampering is detected', () => {
    const a = org();
    const b = org();
    const c = org();
    const ct = encryptForOrgs('purchase price 1280 CNY/kg', { Org1MSP: a.pub, Org2MSP: b.pub });
    expect(ct).to.match(/^[A-Za-z0-9+/]+=*$/);
    expect(cipherRecipients(ct)).to.deep.equal(['Org1MSP', 'Org2MSP']);
    expect(cipherRecipients(Buffer.from('not an envelope').toString('base64'))).to.deep.equal([]);
    expect(decryptForOrg(ct, 'Org1MSP', a.priv)).to.equal('purchase price 1280 CNY/kg');
    expect(decryptForOrg(ct, 'Org2MSP', b.priv)).to.equal('purchase price 1280 CNY/kg');
    expect(() => decryptForOrg(ct, 'Org3MSP', c.priv)).to.throw(/not encrypted for Org3MSP/);
    expect(() => decryptForOrg(ct, 'Org1MSP', b.priv)).to.throw();
    const env = JSON.parse(Buffer.from(ct, 'base64').toString());
    env.ct = Buffer.from('tampered').toString('base64');
    expect(() => decryptForOrg(Buffer.from(JSON.stringify(env)).toString('base64'), 'Org1MSP', a.priv)).to.throw();
  });
});
