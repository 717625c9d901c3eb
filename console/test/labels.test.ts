import { expect } from 'chai';
import { inflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import { digitalLink, generateCode } from '@trace/client';
import { labelSheet } from '../src/code-labels';
import { pdfStrings } from './support/pdf-text';

/** The first content stream of a PDF, inflated. */
function firstPage(pdf: Buffer): string {
  const start = pdf.indexOf('>>\nstream\n') + '>>\nstream\n'.length;
  return inflateSync(pdf.subarray(start, pdf.indexOf('\nendstream', start))).toString('latin1');
}

describe('label sheet: the PDF of QR labels a code job prints', () => {
  const gtin = '06901234567892';
  const labels = Array.from({ length: 25 }, () => {
    const code = generateCode();
    return { code, url: digitalLink('id.example.com', gtin, 'CON-1', code) };
  });

  it("draws the Digital Link's QR modules exactly: the rectangles of a one-label sheet, back on a grid, are the QR matrix", async () => {
    const [label] = labels;
    const rects = [...firstPage(await labelSheet([label], { title: 't', gtin, lot: 'CON-1' })).matchAll(/([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re/g)].map((m) => m.slice(1).map(Number));
    const { modules } = QRCode.create(label.url, { errorCorrectionLevel: 'M' });
    const cell = Math.min(...rects.map(([, , , h]) => h));
    const [x0, y0] = [Math.min(...rects.map(([x]) => x)), Math.min(...rects.map(([, y]) => y))];
    const drawn = new Set<string>();
    for (const [x, y, w] of rects) {
      const row = Math.round((y - y0) / cell);
      const col = Math.round((x - x0) / cell);
      for (let i = 0; i < Math.round(w / cell); i++) drawn.add(`${row},${col + i}`);
    }
    const dark = new Set<string>();
    for (let r = 0; r < modules.size; r++) for (let c = 0; c < modules.size; c++) if (modules.get(r, c)) dark.add(`${r},${c}`);
    expect(modules.size).to.be.greaterThan(21);
    expect([...drawn].sort()).to.deep.equal([...dark].sort());
  });

  it('prints each code once as text with its GTIN and lot, 24 labels a page', async () => {
    const pdf = await labelSheet(labels, { title: 't', gtin, lot: 'CON-1' });
    const strings = pdfStrings(pdf);
    expect(strings.filter((s) => labels.some((l) => l.code === s))).to.deep.equal(labels.map((l) => l.code));
    expect(strings.filter((s) => s === `GTIN ${gtin}`)).to.have.length(25);
    expect(strings.filter((s) => s === 'LOT CON-1')).to.have.length(25);
    expect(pdf.toString('latin1').match(/\/Type \/Page\b/g)).to.have.length(2);
  });
});
