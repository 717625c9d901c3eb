import { Context } from 'fabric-contract-api';
import { fail } from './errors';

/** The channel header as shim 2.5 (google-protobuf) and shim 2.3 (protobufjs) decode it. */
interface DecodedChannelHeader {
  getExtension_asU8?: () => Uint8Array;
  extension?: Uint8Array;
}

/** The bytes of the first length-delimited field `wanted` of a protobuf message, if present. */
function lengthDelimited(buf: Uint8Array, wanted: number): Uint8Array | undefined {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; i < buf.length; shift += 7) {
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
    return -1;
  };
  while (i < buf.length) {
    const tag = varint();
    if (tag < 0) return undefined;
    const wireType = tag % 8;
    if (wireType === 0) {
      if (varint() < 0) return undefined;
    } else if (wireType === 2) {
      const len = varint();
      if (len < 0 || i + len > buf.length) return undefined;
      if (Math.floor(tag / 8) === wanted) return buf.subarray(i, i + len);
      i += len;
    } else if (wireType === 1) i += 8;
    else if (wireType === 5) i += 4;
    else return undefined;
  }
  return undefined;
}

/**
 * The name of the chaincode the client invoked, from the signed proposal's
 * ChannelHeader.extension (ChaincodeHeaderExtension.chaincode_id.name, fields 2 and 2). Every
 * endorser reads the same proposal, so the name is deterministic, unlike the peer's
 * CORE_CHAINCODE_ID_NAME (a package id, which differs between ccaas and installed packages).
 */
export function invokedChaincodeName(ctx: Context): string {
  const sp = ctx.stub.getSignedProposal() as unknown as { proposal?: { header?: { channelHeader?: DecodedChannelHeader } } } | undefined;
  const header = sp?.proposal?.header?.channelHeader;
  const extension = header?.getExtension_asU8 ? header.getExtension_asU8() : header?.extension;
  const chaincodeId = extension && lengthDelimited(extension, 2);
  const name = chaincodeId && lengthDelimited(chaincodeId, 2);
  if (!name || name.length === 0) return fail('ERR_STATE', 'the proposal names no chaincode');
  return Buffer.from(name).toString('utf8');
}
