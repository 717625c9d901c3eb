import { sendUnaryData, ServerUnaryCall, status, UntypedServiceImplementation } from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import type { Logger } from 'pino';
import { Ledger } from '../ledger/ledger';
import { Endorser, PeerIdentity, UnpackedProposal, UnpackError, unpackProposal } from '../peer/endorser';

/** The peer's own response to a proposal it could not endorse (Fabric sends status 500 with the reason). */
function failure(message: string, response?: peer.Response): peer.ProposalResponse {
  const res = new peer.ProposalResponse();
  res.setVersion(1);
  if (response) res.setResponse(response);
  else {
    const r = new peer.Response();
    r.setStatus(500);
    r.setMessage(message);
    res.setResponse(r);
  }
  return res;
}

/**
 * protos.Endorser/ProcessProposal for one org's peer, the pre-2.4 way to endorse (fabric-network,
 * Fabric 2.3 peers): the same checks and simulation as the Gateway, one org per call. As in Fabric,
 * a proposal that fails validation is a gRPC error, a chaincode or simulation failure a
 * ProposalResponse with status 500 and no endorsement.
 */
export function endorserService(d: { ledger: Ledger; endorser: Endorser; peer: PeerIdentity; chaincodeName: string; log: Logger }): UntypedServiceImplementation {
  async function processProposal(signed: peer.SignedProposal): Promise<peer.ProposalResponse> {
    let u: UnpackedProposal;
    try {
      u = unpackProposal(signed);
    } catch (e) {
      throw { code: status.UNKNOWN, details: e instanceof UnpackError ? e.message : String(e) };
    }
    if (u.channelId !== d.ledger.channelId) throw { code: status.UNKNOWN, details: `access denied: channel [${u.channelId}] not found` };
    const invalid = d.endorser.validate(u);
    if (invalid) throw { code: status.UNKNOWN, details: invalid };
    if (u.chaincodeName !== d.chaincodeName) return failure(`make sure the chaincode ${u.chaincodeName} has been successfully defined on channel ${u.channelId} and try again: chaincode ${u.chaincodeName} not found`);
    const out = await d.endorser.simulate(u, d.peer);
    if (!out.ok) return failure(out.message, out.response);
    const res = new peer.ProposalResponse();
    res.setVersion(1);
    res.setResponse(out.response);
    res.setPayload(out.prpBytes);
    res.setEndorsement(out.endorsement);
    return res;
  }

  return {
    processProposal: (call: ServerUnaryCall<peer.SignedProposal, peer.ProposalResponse>, cb: sendUnaryData<peer.ProposalResponse>) => {
      processProposal(call.request).then(
        (res) => cb(null, res),
        (e: unknown) => {
          if (e && typeof e === 'object' && 'code' in e && 'details' in e) return cb(e as { code: status; details: string });
          d.log.error({ event: 'endorser.internal_error', peer: d.peer.mspId, err: (e as Error).message });
          cb({ code: status.INTERNAL, details: `internal error: ${(e as Error).message}` });
        },
      );
    },
  };
}
