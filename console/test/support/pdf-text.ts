import { inflateSync } from 'node:zlib';

/**
 * The strings a PDF shows, one per text-showing operator (Tj, or TJ with its pieces joined), from its content streams,
 * inflated when compressed. Enough for the label sheet's single-byte standard fonts; not a general PDF text extractor.
 */
export function pdfStrings(pdf: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    // a stream's data starts after its dictionary's `>>` and the keyword, and ends before `endstream`
    const start = pdf.indexOf('>>\nstream\n', at);
    if (start < 0) break;
    const end = pdf.indexOf('\nendstream', start);
    if (end < 0) break;
    const raw = pdf.subarray(start + '>>\nstream\n'.length, end);
    at = end + '\nendstream'.length;
    let content: string;
    try {
      content = inflateSync(raw).toString('latin1');
    } catch {
      content = raw.toString('latin1');
    }
    for (const m of content.matchAll(/\[((?:\s*(?:<[0-9a-fA-F]*>|\([^)]*\)|-?[\d.]+))*)\s*\]\s*TJ|(<[0-9a-fA-F]*>|\([^)]*\))\s*Tj/g)) {
      const pieces = (m[1] ?? m[2]).match(/<[0-9a-fA-F]*>|\([^)]*\)/g) ?? [];
      out.push(pieces.map((p) => (p.startsWith('<') ? Buffer.from(p.slice(1, -1), 'hex').toString('latin1') : p.slice(1, -1))).join(''));
    }
  }
  return out;
}
