import { common } from '@hyperledger/fabric-protos';
import { MspRegistry } from '../crypto/msp';

/** Why the orderer turns an envelope away: the common.Status name and Fabric's info text. */
export interface Refusal {
  status: 'BAD_REQUEST' | 'NOT_FOUND' | 'FORBIDDEN';
  info: string;
}

/**
 * The orderer's checks on a broadcast envelope (well formed, known channel, signed by a channel
 * Writer), shared by the Gateway's Submit and AtomicBroadcast/Broadcast. undefined: admitted.
 */
export function admitEnvelope(env: common.Envelope, channelId: string, msps: MspRegistry): Refusal | undefined {
  let creator: Uint8Array;
  let envChannel: string;
  try {
    const payload = common.Payload.deserializeBinary(env.getPayload_asU8());
    const header = payload.getHeader()!;
    envChannel = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getChannelId();
    creator = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()).getCreator_asU8();
  } catch {
    return { status: 'BAD_REQUEST', info: 'envelope payload or header is malformed' };
  }
  if (envChannel !== channelId) return { status: 'NOT_FOUND', info: `channel ${envChannel} not found` };
  try {
    const id = msps.verify(creator, env.getPayload_asU8(), env.getSignature_asU8());
    if (id.ou !== 'client' && id.ou !== 'admin') throw new Error('not a writer');
  } catch (e) {
    return {
      status: 'FORBIDDEN',
      info: `implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied (${(e as Error).message})`,
    };
  }
  return undefined;
}
