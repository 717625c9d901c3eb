import { common, ledger as lpb, peer } from '@hyperledger/fabric-protos';
import { MspRegistry } from '../crypto/msp';
import { Ledger, OwnEndorsements, Signer } from '../ledger/ledger';
import { computeTxId, proposalHash } from '../ledger/transaction';
import { ChaincodeLauncher } from './launcher';
import { Simulator } from './simulator';

export interface PeerIdentity {
  mspId: string;
  address: string;
  signer: Signer;
}

/** A proposal decoded once; raw header bytes are kept verbatim for hashing. */
export interface UnpackedProposal {
  signed: peer.SignedProposal;
  header: common.Header;
  channelHeader: common.ChannelHeader;
  signatureHeader: common.SignatureHeader;
  ccpp: peer.ChaincodeProposalPayload;
  chaincodeName: string;
  input: Uint8Array;
  txId: string;
  channelId: string;
}

export class UnpackError extends Error {}

/** Parses a SignedProposal down to the chaincode input (Fabric's UnpackProposal). */
export function unpackProposal(signed: peer.SignedProposal | undefined): UnpackedProposal {
  if (!signed || signed.getProposalBytes_asU8().length === 0) throw new UnpackError('a signed proposal is required');
  try {
    const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
    const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
    const ext = peer.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8());
    const chaincodeName = ext.getChaincodeId()?.getName() ?? '';
    if (!chaincodeName) throw new Error('ChaincodeHeaderExtension.ChaincodeId is nil');
    const ccpp = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
    const cis = peer.ChaincodeInvocationSpec.deserializeBinary(ccpp.getInput_asU8());
    const input = cis.getChaincodeSpec()?.getInput();
    if (!input) throw new Error('chaincode input is nil');
    return {
      signed,
      header,
      channelHeader,
      signatureHeader,
      ccpp,
      chaincodeName,
      input: input.serializeBinary(),
      txId: channelHeader.getTxId(),
      channelId: channelHeader.getChannelId(),
    };
  } catch (e) {
    throw new UnpackError(`failed to unpack transaction proposal: ${(e as Error).message}`);
  }
}

export type OrgOutcome =
  | { ok: true; peer: PeerIdentity; prpBytes: Uint8Array; action: peer.ChaincodeAction; endorsement: peer.Endorsement; response: peer.Response }
  /** status: how the gateway reports it (UNKNOWN for a chaincode error response, ABORTED for a peer-side failure); response: the chaincode's error response */
  | { ok: false; peer: PeerIdentity; status: 'UNKNOWN' | 'ABORTED' | 'FAILED_PRECONDITION'; message: string; response?: peer.Response };

export interface EndorserOptions {
  ledger: Ledger;
  msps: MspRegistry;
  launcher: ChaincodeLauncher;
  executeTimeoutMs: number;
  ownEndorsements: OwnEndorsements;
}

/** The org peers' endorsement logic: proposal checks, simulation and signing. */
export class Endorser {
  constructor(private readonly opts: EndorserOptions) {}

  /** Fabric's proposal validation: headers, tx id, creator signature, Writers ACL, duplicates. */
  validate(u: UnpackedProposal): string | undefined {
    const ch = u.channelHeader;
    const sh = u.signatureHeader;
    if (ch.getType() !== common.HeaderType.ENDORSER_TRANSACTION) return `invalid header type ${ch.getType()}`;
    if (ch.getEpoch() !== 0) return 'invalid epoch in proposal header, expected 0';
    if (sh.getNonce_asU8().length === 0 || sh.getCreator_asU8().length === 0) return 'nonce and creator are required';
    if (u.txId !== computeTxId(sh.getNonce_asU8(), sh.getCreator_asU8())) return `incorrectly computed txid [${u.txId}]`;
    let ou: string;
    try {
      ou = this.opts.msps.verify(sh.getCreator_asU8(), u.signed.getProposalBytes_asU8(), u.signed.getSignature_asU8()).ou;
    } catch {
      let mspId = '';
      try {
        mspId = this.opts.msps.deserialize(sh.getCreator_asU8()).mspId;
      } catch {
        return `error validating proposal: access denied: channel [${u.channelId}] creator org unknown, creator is malformed`;
      }
      return `error validating proposal: access denied: channel [${u.channelId}] creator org [${mspId}]`;
    }
    if (ou !== 'client' && ou !== 'admin') {
      return `error validating proposal: access denied: failed evaluating policy on signed data during check policy [/Channel/Application/Writers]: [implicit policy evaluation failed]`;
    }
    if (this.opts.ledger.txStatus(u.txId)) return `duplicate transaction found [${u.txId}]. Creator [${u.signatureHeader.getCreator_asU8().length} bytes]`;
    return undefined;
  }

  /**
   * Simulates the proposal on one org's peer and, for an endorsement, signs a successful result
   * (Evaluate skips the signature: only the response goes back).
   */
  async simulate(u: UnpackedProposal, p: PeerIdentity, view = this.opts.ledger.snapshot(), endorse = true): Promise<OrgOutcome> {
    const launcher = this.opts.launcher;
    const conn = launcher.connection(p.mspId);
    const name = launcher.definition.name;
    if (!conn) {
      return { ok: false, peer: p, status: 'ABORTED', message: `error in simulation: failed to execute transaction ${u.txId}: chaincode ${name} is not running on ${p.mspId} (restarting)` };
    }
    const sim = new Simulator(view, name);
    const r = await conn.execute(u.channelId, u.txId, u.input, u.signed, sim, this.opts.executeTimeoutMs);
    if (r.kind === 'failed') {
      return { ok: false, peer: p, status: 'ABORTED', message: `error in simulation: transaction returned with failure: ${r.message}` };
    }
    const response = r.response;
    const status = response.getStatus();
    if (status >= 400) {
      return { ok: false, peer: p, status: 'UNKNOWN', message: `chaincode response ${status}, ${response.getMessage()}`, response };
    }
    const action = new peer.ChaincodeAction();
    action.setResults(sim.results());
    if (r.event && r.event.getEventName()) {
      const ev = new peer.ChaincodeEvent();
      ev.setChaincodeId(name);
      ev.setTxId(u.txId);
      ev.setEventName(r.event.getEventName());
      ev.setPayload(r.event.getPayload_asU8());
      action.setEvents(ev.serializeBinary());
    }
    action.setResponse(response);
    const ccId = new peer.ChaincodeID();
    ccId.setName(name);
    ccId.setVersion(launcher.definition.version);
    action.setChaincodeId(ccId);
    const prp = new peer.ProposalResponsePayload();
    prp.setProposalHash(proposalHash(u.header.getChannelHeader_asU8(), u.header.getSignatureHeader_asU8(), u.ccpp));
    prp.setExtension$(action.serializeBinary());
    const prpBytes = prp.serializeBinary();
    const endorsement = new peer.Endorsement();
    endorsement.setEndorser(p.signer.serialized);
    if (endorse) {
      const signed = Buffer.concat([prpBytes, p.signer.serialized]);
      const signature = p.signer.sign(signed);
      endorsement.setSignature(signature);
      this.opts.ownEndorsements.add(signature, signed);
    }
    return { ok: true, peer: p, prpBytes, action, endorsement, response };
  }

  /** The unsigned transaction envelope built from the proposal and its matching endorsements. */
  static prepareTransaction(u: UnpackedProposal, prpBytes: Uint8Array, endorsements: peer.Endorsement[]): common.Envelope {
    const stripped = new peer.ChaincodeProposalPayload();
    stripped.setInput(u.ccpp.getInput_asU8());
    const endorsed = new peer.ChaincodeEndorsedAction();
    endorsed.setProposalResponsePayload(prpBytes);
    endorsed.setEndorsementsList(endorsements);
    const cap = new peer.ChaincodeActionPayload();
    cap.setChaincodeProposalPayload(stripped.serializeBinary());
    cap.setAction(endorsed);
    const action = new peer.TransactionAction();
    action.setHeader(u.header.getSignatureHeader_asU8());
    action.setPayload(cap.serializeBinary());
    const tx = new peer.Transaction();
    tx.setActionsList([action]);
    const payload = new common.Payload();
    payload.setHeader(u.header);
    payload.setData(tx.serializeBinary());
    const env = new common.Envelope();
    env.setPayload(payload.serializeBinary());
    return env;
  }
}

/** Names what differs between two endorsements of the same proposal (non-deterministic chaincode). */
export function describeMismatch(a: peer.ChaincodeAction, b: peer.ChaincodeAction): string {
  const ra = a.getResponse();
  const rb = b.getResponse();
  if (ra?.getStatus() !== rb?.getStatus() || ra?.getMessage() !== rb?.getMessage()) return 'chaincode response status or message differs';
  if (!Buffer.from(ra?.getPayload_asU8() ?? []).equals(Buffer.from(rb?.getPayload_asU8() ?? []))) return 'chaincode response payload differs';
  const ka = flatten(a.getResults_asU8());
  const kb = flatten(b.getResults_asU8());
  for (const [what, map] of [['write', 'writes'], ['read', 'reads'], ['range query', 'ranges']] as const) {
    const keys = new Set([...ka[map].keys(), ...kb[map].keys()]);
    for (const k of keys) if (ka[map].get(k) !== kb[map].get(k)) return `${what} of key ${JSON.stringify(k)} differs`;
  }
  if (!Buffer.from(a.getEvents_asU8()).equals(Buffer.from(b.getEvents_asU8()))) return 'chaincode event differs';
  return 'read-write set differs';
}

function flatten(results: Uint8Array): { writes: Map<string, string>; reads: Map<string, string>; ranges: Map<string, string> } {
  const out = { writes: new Map<string, string>(), reads: new Map<string, string>(), ranges: new Map<string, string>() };
  const trw = lpb.rwset.TxReadWriteSet.deserializeBinary(results);
  for (const ns of trw.getNsRwsetList()) {
    const kvs = lpb.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
    for (const w of kvs.getWritesList()) out.writes.set(w.getKey(), Buffer.from(w.serializeBinary()).toString('hex'));
    for (const w of kvs.getMetadataWritesList()) out.writes.set(w.getKey() + ' (metadata)', Buffer.from(w.serializeBinary()).toString('hex'));
    for (const r of kvs.getReadsList()) out.reads.set(r.getKey(), Buffer.from(r.serializeBinary()).toString('hex'));
    for (const q of kvs.getRangeQueriesInfoList()) out.ranges.set(q.getStartKey(), Buffer.from(q.serializeBinary()).toString('hex'));
  }
  return out;
}
