import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';

/** A4 in points, 3 × 8 labels of 70 × 37 mm (a common sticker sheet). */
const PAGE = { width: 595.28, height: 841.89 };
const MM = 72 / 25.4;
const COLS = 3;
const ROWS = 8;
const LABEL = { width: 70 * MM, height: 37 * MM };
const MARGIN = { x: (PAGE.width - COLS * LABEL.width) / 2, y: (PAGE.height - ROWS * LABEL.height) / 2 };
const QR_SIZE = 26 * MM;
const PAD = 3 * MM;

export interface Label {
  code: string;
  url: string;
}

/** Draws a QR code of text as vector modules (crisp at any printer resolution), one rectangle per run of dark modules. */
function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, size: number): void {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const cell = size / modules.size;
  for (let r = 0; r < modules.size; r++) {
    for (let c = 0; c < modules.size; c++) {
      if (!modules.get(r, c)) continue;
      const start = c;
      while (c + 1 < modules.size && modules.get(r, c + 1)) c++;
      doc.rect(x + start * cell, y + r * cell, (c - start + 1) * cell, cell);
    }
  }
  doc.fill('#000');
}

/**
 * A printable sheet of QR labels: each label holds the QR code of the code's GS1 Digital Link and, beside it, the code
 * as text (consumers can type it; the label stays readable when the QR is scratched) and the product's GTIN and lot.
 */
export async function labelSheet(labels: Label[], info: { title: string; gtin: string; lot: string }): Promise<Buffer> {
  const doc = new PDFDocument({ size: [PAGE.width, PAGE.height], margin: 0, autoFirstPage: false, info: { Title: info.title, Creator: 'trace-chain console' } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  for (const [i, label] of labels.entries()) {
    const slot = i % (COLS * ROWS);
    if (slot === 0) {
      // a sheet of thousands of labels takes seconds: let the server answer other requests between pages
      if (i > 0) await new Promise((r) => setImmediate(r));
      doc.addPage();
    }
    const x = MARGIN.x + (slot % COLS) * LABEL.width;
    const y = MARGIN.y + Math.floor(slot / COLS) * LABEL.height;
    drawQr(doc, label.url, x + PAD, y + (LABEL.height - QR_SIZE) / 2, QR_SIZE);
    const textX = x + PAD + QR_SIZE + PAD;
    const width = LABEL.width - (textX - x) - PAD;
    doc.font('Courier-Bold').fontSize(7.5).fillColor('#000').text(label.code, textX, y + 8 * MM, { width, lineBreak: false });
    doc.font('Helvetica').fontSize(6.5).text(`GTIN ${info.gtin}`, textX, y + 16 * MM, { width, lineBreak: false });
    doc.text(`LOT ${info.lot}`, textX, y + 20 * MM, { width, lineBreak: false });
  }
  doc.end();
  return done;
}
