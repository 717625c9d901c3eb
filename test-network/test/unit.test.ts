import { expect } from 'chai';
import { generateKeyPairSync, sign } from 'node:crypto';
import { headerDer } from '../src/devnet/ledger/blockhash';
import { compareKeys } from '../src/devnet/ledger/statedb';
import { isLowS, parseDerSignature, signMessage, toHighS, toLowS, verifyMessage } from '../src/devnet/crypto/ecdsa';
import { testClock } from '../src/test-clock';

describe('devnet pure functions', () => {
  describe('compareKeys', () => {
    it('orders as UTF-8 bytes, not UTF-16 code units', () => {
      const astral = '\u{1F600}'; // UTF-16 surrogates D83D DE00, UTF-8 F0 9F 98 80
      const bmpHigh = '\uFF01'; // UTF-8 EF BC 81
      expect(astral < bmpHigh).to.equal(true); // JS order
      expect(compareKeys(astral, bmpHigh)).to.be.greaterThan(0); // byte order
      expect(Buffer.compare(Buffer.from(astral), Buffer.from(bmpHigh))).to.equal(1);
    });

    it('sorts composite keys and prefixes like LevelDB', () => {
      const keys = ['b', 'a\u0000x', 'a', '\u0000obj\u0000k\u0000', 'ab', '\u{10FFFF}', 'a\u0001'];
      const sorted = [...keys].sort(compareKeys);
      const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(sorted).to.deep.equal(byBytes);
      expect(compareKeys('same', 'same')).to.equal(0);
    });
  });

  describe('testClock', () => {
    it('gives past times on a whole-hour origin, in order, and refuses offsets past its now', () => {
      const now = Date.UTC(2031, 0, 15, 10, 42, 7, 123); // a fixed read: the clock itself is under test
      const clock = testClock(48, now);
      expect([clock.at(0), clock.at(1.5), clock.at(47), clock.day(47)]).to.deep.equal(['2031-01-13T10:00:00.000Z', '2031-01-13T11:30:00.000Z', '2031-01-15T09:00:00.000Z', '2031-01-15']);
      expect(() => clock.at(48.72)).to.throw(RangeError, /in the future/);
      expect(Date.parse(testClock().at(24 * 60 - 1))).to.be.below(Date.now());
    });
  });

  describe('ECDSA low-S', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const msg = Buffer.from('hello fabric');

    it('signs low-S and verifies', () => {
      for (let i = 0; i < 20; i++) {
        const sig = signMessage(privateKey, msg);
        expect(isLowS(sig)).to.equal(true);
        expect(() => verifyMessage(publicKey, msg, sig)).not.to.throw();
      }
    });

    it('rejects the high-S twin that OpenSSL alone would accept', () => {
      const high = toHighS(signMessage(privateKey, msg));
      expect(isLowS(high)).to.equal(false);
      expect(() => verifyMessage(publicKey, msg, high)).to.throw(/Invalid S/);
      expect(toLowS(high).equals(toLowS(toLowS(high)))).to.equal(true);
      expect(() => verifyMessage(publicKey, msg, toLowS(high))).not.to.throw();
    });

    it('rejects malformed and empty signatures and other messages', () => {
      const sig = sign('sha256', msg, { key: privateKey, dsaEncoding: 'der' });
      expect(() => verifyMessage(publicKey, msg, Buffer.alloc(0))).to.throw(/empty/);
      expect(() => verifyMessage(publicKey, msg, Buffer.from([0x30, 0x02, 0x02, 0x00]))).to.throw(/DER/);
      expect(() => parseDerSignature(Buffer.concat([sig, Buffer.from([0])]))).to.throw(/DER/);
      expect(() => verifyMessage(publicKey, Buffer.from('other'), toLowS(sig))).to.throw(/not valid/);
    });
  });

  describe('block header DER', () => {
    it('encodes numbers as minimal two-complement integers and empty hashes as 04 00', () => {
      expect(headerDer(0, Buffer.alloc(0), Buffer.alloc(0)).toString('hex')).to.equal('3007020100040004' + '00');
      expect(headerDer(128, Buffer.alloc(0), Buffer.alloc(0)).toString('hex')).to.equal('300802020080' + '0400' + '0400');
      const h = Buffer.alloc(32, 1);
      const der = headerDer(1, h, h);
      expect(der.length).to.equal(2 + 3 + 34 + 34);
      expect(der.subarray(0, 2).toString('hex')).to.equal('3047');
    });
  });
});
