import { createHash, randomBytes } from 'node:crypto';
import QRCode from 'qrcode';

/**
 * Item codes (一物一码): 100 random bits as 20 Crockford base32 characters plus a mod-37 check
 * character. Only their SHA-256 goes on chain; the plain code is printed on the item.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Crockford's check symbols: the 32 digits, then * ~ $ = U for values 32–36 */
const CHECK = ALPHABET + '*~$=U';
const PAYLOAD_CHARS = 20;

function valueOf(payload: string): bigint {
  let v = 0n;
  for (const ch of payload) v = v * 32n + BigInt(ALPHABET.indexOf(ch));
  return v;
}

function checkChar(payload: string): string {
  return CHECK[Number(valueOf(payload) % 37n)];
}

/** A new random code (cryptographic randomness, 100 bits). */
export function generateCode(): string {
  const bytes = randomBytes(13);
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  v >>= 4n; // 104 → 100 bits
  let payload = '';
  for (let i = 0; i < PAYLOAD_CHARS; i++) {
    payload = ALPHABET[Number(v & 31n)] + payload;
    v >>= 5n;
  }
  return payload + checkChar(payload);
}

/** Canonical form of a typed or scanned code: upper case, no separators, O→0, I/L→1. */
export function normalizeCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** True when the code is well formed and its check character matches (catches any single typo). */
export function isValidCode(input: string): boolean {
  const code = normalizeCode(input);
  if (code.length !== PAYLOAD_CHARS + 1) return false;
  const payload = code.slice(0, PAYLOAD_CHARS);
  if ([...payload].some((c) => !ALPHABET.includes(c))) return false;
  return checkChar(payload) === code[PAYLOAD_CHARS];
}

/** The on-chain identity of a code: SHA-256 of its canonical form, hex. */
export function codeHash(code: string): string {
  return createHash('sha256').update(normalizeCode(code), 'utf8').digest('hex');
}

/** GS1 Digital Link URI: https://{domain}/01/{gtin14}/10/{lot}/21/{serial}. */
export function digitalLink(domain: string, gtin: string, lot: string, serial: string): string {
  if (!/^\d{8,14}$/.test(gtin)) throw new Error(`gtin ${gtin} must be 8 to 14 digits`);
  return `https://${domain}/01/${gtin.padStart(14, '0')}/10/${encodeURIComponent(lot)}/21/${encodeURIComponent(serial)}`;
}

/** QR code of text as a PNG image. */
export function qrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 });
}

/** QR code of text as an SVG document. */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
