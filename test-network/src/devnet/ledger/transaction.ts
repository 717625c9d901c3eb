import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { sha256 } from '../crypto/ecdsa';

export const TxCode = peer.TxValidationCode;
export type TxCodeValue = peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap];

export function codeName(code: number): string {
  for (const [name, value] of Object.entries(TxCode)) if (value === code) return name;
  return String(code);
}

export interface NsRwset {
  namespace: string;
  kv: ledger.rwset.kvrwset.KVRWSet;
}

/** Everything the committer needs from one envelope, decoded once. */
export interface ParsedTx {
  txId: string;
  channelId: string;
  type: number;
  creator: Uint8Array;
  seconds: number;
  nanos: number;
  payloadBytes: Uint8Array;
  signature: Uint8Array;
  /** present for well-formed endorser transactions */
  endorser?: {
    chaincodeName: string;
    prpBytes: Uint8Array;
    endorsements: peer.Endorsement[];
    action: peer.ChaincodeAction;
    rwsets: NsRwset[];
    event?: peer.ChaincodeEvent;
  };
}

export type ParseResult = { code: TxCodeValue; tx?: ParsedTx; txId: string };

export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return sha256(nonce, creator).toString('hex');
}

/** proposal_hash = H(channel_header || signature_header || ChaincodeProposalPayload without TransientMap). */
export function proposalHash(channelHeader: Uint8Array, signatureHeader: Uint8Array, ccpp: peer.ChaincodeProposalPayload): Buffer {
  const stripped = new peer.ChaincodeProposalPayload();
  stripped.setInput(ccpp.getInput_asU8());
  return sha256(channelHeader, signatureHeader, stripped.serializeBinary());
}

/**
 * Structural checks of §4.2 step 1 that need no ledger or MSP: envelope, headers, tx id,
 * the single action, its proposal hash, response payload and read-write set.
 */
export function parseEnvelope(bytes: Uint8Array): ParseResult {
  let env: common.Envelope;
  let payload: common.Payload;
  try {
    env = common.Envelope.deserializeBinary(bytes);
    payload = common.Payload.deserializeBinary(env.getPayload_asU8());
  } catch {
    return { code: TxCode.BAD_PAYLOAD, txId: '' };
  }
  const header = payload.getHeader();
  if (!header) return { code: TxCode.BAD_COMMON_HEADER, txId: '' };
  let ch: common.ChannelHeader;
  let sh: common.SignatureHeader;
  try {
    ch = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    sh = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  } catch {
    return { code: TxCode.BAD_COMMON_HEADER, txId: '' };
  }
  const txId = ch.getTxId();
  const type = ch.getType();
  if (type !== common.HeaderType.ENDORSER_TRANSACTION && type !== common.HeaderType.CONFIG) {
    return { code: TxCode.BAD_COMMON_HEADER, txId };
  }
  if (ch.getEpoch() !== 0 || sh.getNonce_asU8().length === 0 || sh.getCreator_asU8().length === 0) {
    return { code: TxCode.BAD_COMMON_HEADER, txId };
  }
  const ts = ch.getTimestamp();
  const tx: ParsedTx = {
    txId,
    channelId: ch.getChannelId(),
    type,
    creator: sh.getCreator_asU8(),
    seconds: ts?.getSeconds() ?? 0,
    nanos: ts?.getNanos() ?? 0,
    payloadBytes: env.getPayload_asU8(),
    signature: env.getSignature_asU8(),
  };
  if (txId !== computeTxId(sh.getNonce_asU8(), sh.getCreator_asU8())) return { code: TxCode.BAD_PROPOSAL_TXID, txId, tx };
  if (type !== common.HeaderType.ENDORSER_TRANSACTION) return { code: TxCode.UNSUPPORTED_TX_PAYLOAD, txId, tx };

  let ext: peer.ChaincodeHeaderExtension;
  try {
    ext = peer.ChaincodeHeaderExtension.deserializeBinary(ch.getExtension_asU8());
  } catch {
    return { code: TxCode.BAD_HEADER_EXTENSION, txId, tx };
  }
  let action: peer.TransactionAction;
  let cap: peer.ChaincodeActionPayload;
  let ccpp: peer.ChaincodeProposalPayload;
  try {
    const t = peer.Transaction.deserializeBinary(payload.getData_asU8());
    if (t.getActionsList().length !== 1) return { code: TxCode.INVALID_ENDORSER_TRANSACTION, txId, tx };
    action = t.getActionsList()[0];
    const ash = common.SignatureHeader.deserializeBinary(action.getHeader_asU8());
    if (ash.getNonce_asU8().length === 0 || ash.getCreator_asU8().length === 0) {
      return { code: TxCode.INVALID_ENDORSER_TRANSACTION, txId, tx };
    }
    cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    ccpp = peer.ChaincodeProposalPayload.deserializeBinary(cap.getChaincodeProposalPayload_asU8());
  } catch {
    return { code: TxCode.INVALID_ENDORSER_TRANSACTION, txId, tx };
  }
  const endorsed = cap.getAction();
  if (!endorsed) return { code: TxCode.NIL_TXACTION, txId, tx };
  let prp: peer.ProposalResponsePayload;
  let ccAction: peer.ChaincodeAction;
  try {
    prp = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
    ccAction = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  } catch {
    return { code: TxCode.BAD_RESPONSE_PAYLOAD, txId, tx };
  }
  const expected = proposalHash(header.getChannelHeader_asU8(), action.getHeader_asU8(), ccpp);
  if (!expected.equals(prp.getProposalHash_asU8())) return { code: TxCode.INVALID_ENDORSER_TRANSACTION, txId, tx };

  const rwsets: NsRwset[] = [];
  try {
    const trw = ledger.rwset.TxReadWriteSet.deserializeBinary(ccAction.getResults_asU8());
    for (const ns of trw.getNsRwsetList()) {
      rwsets.push({ namespace: ns.getNamespace(), kv: ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8()) });
    }
  } catch {
    return { code: TxCode.BAD_RWSET, txId, tx };
  }
  const names = new Set(rwsets.map((r) => r.namespace));
  if (names.size !== rwsets.length) return { code: TxCode.ILLEGAL_WRITESET, txId, tx };

  const chaincodeName = ext.getChaincodeId()?.getName() ?? '';
  const ccId = ccAction.getChaincodeId();
  if (!chaincodeName || !ccId || ccId.getName() !== chaincodeName || !ccId.getVersion()) {
    return { code: TxCode.INVALID_CHAINCODE, txId, tx };
  }
  let event: peer.ChaincodeEvent | undefined;
  if (ccAction.getEvents_asU8().length > 0) {
    try {
      event = peer.ChaincodeEvent.deserializeBinary(ccAction.getEvents_asU8());
    } catch {
      return { code: TxCode.INVALID_OTHER_REASON, txId, tx };
    }
    if (event.getChaincodeId() !== chaincodeName) return { code: TxCode.INVALID_OTHER_REASON, txId, tx };
  }
  tx.endorser = {
    chaincodeName,
    prpBytes: endorsed.getProposalResponsePayload_asU8(),
    endorsements: endorsed.getEndorsementsList(),
    action: ccAction,
    rwsets,
    event,
  };
  return { code: TxCode.VALID, txId, tx };
}
