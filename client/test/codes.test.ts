import { expect } from 'chai';
import { codeHash, digitalLink, generateCode, isValidCode, normalizeCode, qrPng, qrSvg } from '../src/codes';

describe('item codes', () => {
  it('generates unique 21-character codes with a valid check character', () => {
    const codes = new Set(Array.from({ length: 5000 }, () => generateCode()));
    expect(codes.size).to.equal(5000);
    for (const c of [...codes].slice(0, 200)) {
      expect(c).to.match(/^[0-9A-HJKMNP-TV-Z]{20}[0-9A-HJKMNP-TV-Z*~$=U]$/);
      expect(isValidCode(c)).to.equal(true);
    }
  });

  it('detects a single changed character and accepts lenient typing', () => {
    const c = generateCode();
    const alt = c[5] === '7' ? '8' : '7';
    expect(isValidCode(c.slice(0, 5) + alt + c.slice(6))).to.equal(false);
    expect(isValidCode(c.toLowerCase().replace(/(.{4})/g, '$1-'))).to.equal(true);
    expect(normalizeCode('o1l-i')).to.equal('0111');
    expect(isValidCode('TOO-SHORT')).to.equal(false);
  });

  it('hashes the canonical form with SHA-256', () => {
    const c = generateCode();
    expect(codeHash(c)).to.match(/^[0-9a-f]{64}$/);
    expect(codeHash(c.toLowerCase())).to.equal(codeHash(c));
  });

  it('builds GS1 Digital Link URIs with a 14-digit GTIN', () => {
    expect(digitalLink('id.example.com', '6901234567908', 'RH-2026/07', 'ABC')).to.equal('https://id.example.com/01/06901234567908/10/RH-2026%2F07/21/ABC');
    expect(() => digitalLink('x', '12ab', 'l', 's')).to.throw(/gtin/);
  });

  it('renders QR codes as PNG and SVG', async () => {
    const png = await qrPng('https://id.example.com/01/06901234567892/10/L1/21/X');
    expect(png.subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
    expect(png.length).to.be.greaterThan(200);
    const svg = await qrSvg('https://id.example.com/c/X');
    expect(svg).to.match(/^<svg[^>]*viewBox/);
    expect(svg).to.contain('<path');
  });
});
