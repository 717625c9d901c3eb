import { common } from '@hyperledger/fabric-protos';
import { sha256 } from '../crypto/ecdsa';

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derTlv(tag: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

/** Minimal two's-complement big-endian encoding of a non-negative integer (0 → 00, 128 → 00 80). */
function derUint(n: number): Buffer {
  let hex = BigInt(n).toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return derTlv(0x02, b);
}

/** DER SEQUENCE{INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash}: what Fabric hashes. */
export function headerDer(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  return derTlv(0x30, Buffer.concat([derUint(number), derTlv(0x04, previousHash), derTlv(0x04, dataHash)]));
}

export function headerHash(header: common.BlockHeader): Buffer {
  return sha256(headerDer(header.getNumber(), header.getPreviousHash_asU8(), header.getDataHash_asU8()));
}

export function dataHash(envelopes: Uint8Array[]): Buffer {
  return sha256(...envelopes);
}
