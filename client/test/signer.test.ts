import { expect } from 'chai';
import { generateKeyPairSync, verify } from 'node:crypto';
import { lowS, nodeSigner } from '../src';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;

/** A DER signature with the given r and s, each as DER INTEGER content (leading zero when the top bit is set). */
function der(r: bigint, s: bigint): Buffer {
  const int = (v: bigint) => {
    let b = Buffer.from(v.toString(16).padStart(2, '0').replace(/^(.(..)*)$/, '0$1'), 'hex');
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

const sOf = (sig: Buffer) => BigInt('0x' + sig.subarray(6 + sig[3], 6 + sig[3] + sig[5 + sig[3]]).toString('hex'));

describe('low-S ECDSA signatures', () => {
  it('keeps S up to N/2 and rewrites a higher S to N - S, at the boundary too', () => {
    expect(lowS(der(5n, HALF_N))).to.deep.equal(der(5n, HALF_N));
    expect(lowS(der(5n, 1n))).to.deep.equal(der(5n, 1n));
    expect(lowS(der(5n, HALF_N + 1n))).to.deep.equal(der(5n, N - HALF_N - 1n));
    expect(lowS(der(5n, N - 1n))).to.deep.equal(der(5n, 1n));
  });

  it('signs with Node crypto: every signature verifies and has S ≤ N/2', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sign = nodeSigner(privateKey);
    for (let i = 0; i < 64; i++) {
      const message = Buffer.from(`message ${i}`);
      const sig = Buffer.from(await sign(message));
      expect(sOf(sig) <= HALF_N).to.equal(true);
      expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, sig)).to.equal(true);
    }
  });
});
