import { sendUnaryData, ServerUnaryCall, ServerWritableStream, status, UntypedServiceImplementation } from '@grpc/grpc-js';
import { gateway, msp, orderer, peer } from '@hyperledger/fabric-protos';
import type { Logger } from 'pino';
import { MspRegistry } from '../crypto/msp';
import { Ledger } from '../ledger/ledger';
import { TxCode } from '../ledger/transaction';
import { admitEnvelope } from '../orderer/admission';
import { Orderer } from '../orderer/orderer';
import { Endorser, OrgOutcome, PeerIdentity, UnpackedProposal, UnpackError, describeMismatch, unpackProposal } from '../peer/endorser';
import { Detail, GrpcError, grpcError } from './errors';
import { cancellation, unlessCancelled, write } from './streams';
import { ChaincodeDefinition, evaluateSystemChaincode, isSystemChaincode, SystemChaincodeError } from './system-chaincodes';

export interface GatewayDeps {
  ledger: Ledger;
  msps: MspRegistry;
  endorser: Endorser;
  orderer: Orderer;
  peers: PeerIdentity[];
  chaincodeName: string;
  endorsementsRequired: number;
  /** what _lifecycle answers for the chaincode */
  definition: ChaincodeDefinition;
  log: Logger;
}

function detail(o: Exclude<OrgOutcome, { ok: true }>): Detail {
  return { address: o.peer.address, mspId: o.peer.mspId, message: o.message };
}

function creatorMsp(u: UnpackedProposal): string {
  try {
    return msp.SerializedIdentity.deserializeBinary(u.signatureHeader.getCreator_asU8()).getMspid();
  } catch {
    return '';
  }
}

/** gateway.Gateway: Evaluate, Endorse, Submit, CommitStatus, ChaincodeEvents. */
export function gatewayService(d: GatewayDeps): UntypedServiceImplementation {
  const peerOf = (mspId: string) => d.peers.find((p) => p.mspId === mspId);
  /** The gateway's own org peer: the client's org when it has a peer, else the first org. */
  const localPeer = (u: UnpackedProposal) => peerOf(creatorMsp(u)) ?? d.peers[0];

  const unary =
    <Req, Res>(name: string, fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
      fn(call.request, call).then(
        (res) => cb(null, res),
        (e: unknown) => {
          if (e && typeof e === 'object' && 'code' in e && 'details' in e) return cb(e as GrpcError);
          d.log.error({ event: 'gateway.internal_error', rpc: name, err: (e as Error).message });
          cb({ code: status.INTERNAL, details: `internal error: ${(e as Error).message}` });
        },
      );
    };

  /** system chaincodes (qscc, cscc, _lifecycle) answer evaluations only, as through a Fabric gateway */
  function unpack(signed: peer.SignedProposal | undefined, verb: string, system = false): UnpackedProposal {
    let u: UnpackedProposal;
    try {
      u = unpackProposal(signed);
    } catch (e) {
      throw grpcError(status.INVALID_ARGUMENT, e instanceof UnpackError ? e.message : String(e));
    }
    if (system && isSystemChaincode(u.chaincodeName) && u.channelId === d.ledger.channelId) return u;
    if (u.channelId !== d.ledger.channelId || u.chaincodeName !== d.chaincodeName) {
      throw grpcError(status.FAILED_PRECONDITION, `no peers available to ${verb} chaincode ${u.chaincodeName} in channel ${u.channelId}`);
    }
    return u;
  }

  const evaluate = async (req: gateway.EvaluateRequest): Promise<gateway.EvaluateResponse> => {
    const u = unpack(req.getProposedTransaction(), 'evaluate', true);
    const targets = req.getTargetOrganizationsList();
    const target = targets.length > 0 ? peerOf(targets[0]) : localPeer(u);
    if (!target) throw grpcError(status.UNAVAILABLE, `failed to find any endorsing peers for org(s): ${targets.join(', ')}`);
    const invalid = d.endorser.validate(u);
    if (invalid) {
      throw grpcError(status.FAILED_PRECONDITION, `evaluate call to endorser returned error: ${invalid}`, [
        { address: target.address, mspId: target.mspId, message: invalid },
      ]);
    }
    if (isSystemChaincode(u.chaincodeName)) return evaluateSystem(u, target);
    const out = await d.endorser.simulate(u, target, d.ledger.snapshot(), false);
    if (!out.ok) {
      if (out.status === 'UNKNOWN') throw grpcError(status.UNKNOWN, `evaluate call to endorser returned error: ${out.message}`, [detail(out)]);
      throw grpcError(status.ABORTED, 'failed to evaluate transaction, see attached details for more info', [detail(out)]);
    }
    const res = new gateway.EvaluateResponse();
    res.setResult(out.response);
    return res;
  };

  const evaluateSystem = (u: UnpackedProposal, target: PeerIdentity): gateway.EvaluateResponse => {
    const response = new peer.Response();
    try {
      response.setStatus(200);
      response.setPayload(evaluateSystemChaincode(d.ledger, d.definition, u.chaincodeName, u.input));
    } catch (e) {
      if (!(e instanceof SystemChaincodeError)) throw e;
      throw grpcError(status.UNKNOWN, `evaluate call to endorser returned error: ${e.message}`, [{ address: target.address, mspId: target.mspId, message: e.message }]);
    }
    const res = new gateway.EvaluateResponse();
    res.setResult(response);
    return res;
  };

  const endorse = async (req: gateway.EndorseRequest): Promise<gateway.EndorseResponse> => {
    const u = unpack(req.getProposedTransaction(), 'endorse');
    const requested = req.getEndorsingOrganizationsList();
    let plan: PeerIdentity[];
    if (requested.length > 0) {
      const missing = requested.filter((m) => !peerOf(m));
      if (missing.length > 0) throw grpcError(status.UNAVAILABLE, `failed to find any endorsing peers for org(s): ${missing.join(', ')}`);
      plan = [...new Set(requested)].map((m) => peerOf(m)!);
    } else {
      const local = localPeer(u);
      plan = [local, ...d.peers.filter((p) => p !== local)].slice(0, d.endorsementsRequired);
    }
    const invalid = d.endorser.validate(u);
    if (invalid) {
      throw grpcError(status.ABORTED, 'failed to endorse transaction, see attached details for more info', [
        { address: plan[0].address, mspId: plan[0].mspId, message: invalid },
      ]);
    }
    const view = d.ledger.snapshot();
    const outcomes = await Promise.all(plan.map((p) => d.endorser.simulate(u, p, view)));
    const first = outcomes[0];
    if (!first.ok) {
      const msg = requested.length > 0 ? 'failed to collect enough transaction endorsements, see attached details for more info' : 'failed to endorse transaction, see attached details for more info';
      throw grpcError(status.ABORTED, msg, [detail(first)]);
    }
    const failures: Detail[] = [];
    for (const o of outcomes.slice(1)) {
      if (!o.ok) failures.push(detail(o));
      else if (!Buffer.from(o.prpBytes).equals(Buffer.from(first.prpBytes))) {
        failures.push({
          address: o.peer.address,
          mspId: o.peer.mspId,
          message: `ProposalResponsePayloads do not match (${first.peer.mspId} vs ${o.peer.mspId}): ${describeMismatch(first.action, o.action)}`,
        });
      }
    }
    if (failures.length > 0) {
      throw grpcError(status.ABORTED, 'failed to collect enough transaction endorsements, see attached details for more info', failures);
    }
    const endorsements = outcomes.map((o) => (o as Extract<OrgOutcome, { ok: true }>).endorsement);
    const res = new gateway.EndorseResponse();
    res.setPreparedTransaction(Endorser.prepareTransaction(u, first.prpBytes, endorsements));
    return res;
  };

  const submit = async (req: gateway.SubmitRequest): Promise<gateway.SubmitResponse> => {
    const env = req.getPreparedTransaction();
    if (!env || env.getPayload_asU8().length === 0) throw grpcError(status.INVALID_ARGUMENT, 'a prepared transaction is required');
    if (env.getSignature_asU8().length === 0) throw grpcError(status.INVALID_ARGUMENT, 'prepared transaction must be signed');
    const refused = admitEnvelope(env, d.ledger.channelId, d.msps);
    if (refused) throw grpcError(status.ABORTED, `received unsuccessful response from orderer: status=${refused.status}, info=${refused.info}`);
    d.orderer.broadcast({ bytes: env.serializeBinary(), creatorVerified: true });
    return new gateway.SubmitResponse();
  };

  /** Checks a signed request against the channel Readers policy (any valid identity of a channel org). */
  function checkReader(identity: Uint8Array, request: Uint8Array, signature: Uint8Array): void {
    try {
      d.msps.verify(identity, request, signature);
    } catch (e) {
      throw grpcError(status.PERMISSION_DENIED, `failed evaluating policy on signed data during check policy [/Channel/Application/Readers]: ${(e as Error).message}`);
    }
  }

  const commitStatus = async (req: gateway.SignedCommitStatusRequest, call: ServerUnaryCall<gateway.SignedCommitStatusRequest, gateway.CommitStatusResponse>) => {
    let r: gateway.CommitStatusRequest;
    try {
      r = gateway.CommitStatusRequest.deserializeBinary(req.getRequest_asU8());
    } catch (e) {
      throw grpcError(status.INVALID_ARGUMENT, `invalid status request: ${(e as Error).message}`);
    }
    checkReader(r.getIdentity_asU8(), req.getRequest_asU8(), req.getSignature_asU8());
    if (r.getChannelId() !== d.ledger.channelId) throw grpcError(status.NOT_FOUND, `channel ${r.getChannelId()} not found`);
    const wait = d.ledger.waitForTx(r.getTransactionId());
    call.on('cancelled', wait.cancel);
    const st = await wait.promise;
    const res = new gateway.CommitStatusResponse();
    res.setResult(st.code);
    res.setBlockNumber(st.block);
    return res;
  };

  async function chaincodeEvents(call: ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>): Promise<void> {
    const signed = call.request;
    let r: gateway.ChaincodeEventsRequest;
    try {
      r = gateway.ChaincodeEventsRequest.deserializeBinary(signed.getRequest_asU8());
    } catch (e) {
      throw grpcError(status.INVALID_ARGUMENT, `invalid chaincode events request: ${(e as Error).message}`);
    }
    checkReader(r.getIdentity_asU8(), signed.getRequest_asU8(), signed.getSignature_asU8());
    if (r.getChannelId() !== d.ledger.channelId) throw grpcError(status.NOT_FOUND, `channel ${r.getChannelId()} not found`);
    let next: number;
    const after = r.getAfterTransactionId();
    const afterStatus = after ? d.ledger.txStatus(after) : undefined;
    const pos = r.getStartPosition();
    if (afterStatus) next = afterStatus.block;
    else if (!pos || pos.getTypeCase() === orderer.SeekPosition.TypeCase.NEXT_COMMIT || pos.getTypeCase() === orderer.SeekPosition.TypeCase.TYPE_NOT_SET) next = d.ledger.height;
    else if (pos.getTypeCase() === orderer.SeekPosition.TypeCase.SPECIFIED) next = pos.getSpecified()!.getNumber();
    else throw grpcError(status.INVALID_ARGUMENT, `invalid start position type: ${pos.getTypeCase()}`);
    let skipping = !!after;
    const cc = r.getChaincodeId();
    const c = cancellation(call);
    while (c.isOpen()) {
      if (!(await unlessCancelled(d.ledger.waitForBlock(next), c.promise))) return;
      const events: peer.ChaincodeEvent[] = [];
      for (const tx of d.ledger.summary(next)) {
        const ev = tx.event;
        if (tx.code !== TxCode.VALID || !ev || !ev.getChaincodeId() || !ev.getEventName() || !ev.getTxId()) continue;
        if (skipping) {
          if (ev.getTxId() === after) skipping = false;
          continue;
        }
        if (ev.getChaincodeId() === cc) events.push(ev);
      }
      if (events.length > 0) {
        const res = new gateway.ChaincodeEventsResponse();
        res.setEventsList(events);
        res.setBlockNumber(next);
        if (!(await write(call, res, c.isOpen))) return;
      }
      next++;
    }
  }

  return {
    evaluate: unary('Evaluate', evaluate),
    endorse: unary('Endorse', endorse),
    submit: unary('Submit', submit),
    commitStatus: unary('CommitStatus', commitStatus),
    chaincodeEvents: (call: ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>) => {
      chaincodeEvents(call).then(
        () => call.end(),
        (e: unknown) => {
          if (e && typeof e === 'object' && 'code' in e) call.emit('error', e);
          else {
            d.log.error({ event: 'gateway.internal_error', rpc: 'ChaincodeEvents', err: (e as Error).message });
            call.emit('error', { code: status.INTERNAL, details: 'internal error' });
          }
        },
      );
    },
  };
}
