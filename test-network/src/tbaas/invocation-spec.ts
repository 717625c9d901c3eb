import { common, peer } from '@hyperledger/fabric-protos';

const specTypes = new Map<number, string>(Object.entries(peer.ChaincodeSpec.Type).map(([k, v]) => [v as number, k]));

/** The ChaincodeInvocationSpec of an endorser transaction's payload (undefined for other kinds). */
export function invocationSpec(payloadBytes: Uint8Array): peer.ChaincodeInvocationSpec | undefined {
  try {
    const payload = common.Payload.deserializeBinary(payloadBytes);
    const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0];
    if (!action) return undefined;
    const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const ccpp = peer.ChaincodeProposalPayload.deserializeBinary(cap.getChaincodeProposalPayload_asU8());
    return peer.ChaincodeInvocationSpec.deserializeBinary(ccpp.getInput_asU8());
  } catch {
    return undefined;
  }
}

/**
 * The proto3 JSON form of a ChaincodeInvocationSpec with the original proto field names, as
 * TBaaS's DescribeFabricTransaction documents TransactionData (its example decodes to
 * {"chaincode_spec":{"timeout":0,"type":"UNDEFINED"}}): scalars always written, absent messages
 * left out, bytes as base64. A config transaction has no spec: `{}`.
 */
export function invocationSpecJson(spec: peer.ChaincodeInvocationSpec | undefined): object {
  const cs = spec?.getChaincodeSpec();
  if (!cs) return {};
  const out: Record<string, unknown> = { type: specTypes.get(cs.getType()) ?? String(cs.getType()) };
  const id = cs.getChaincodeId();
  if (id) out.chaincode_id = Object.fromEntries(Object.entries({ path: id.getPath(), name: id.getName(), version: id.getVersion() }).filter(([, v]) => v));
  const input = cs.getInput();
  if (input) {
    out.input = {
      args: input.getArgsList_asU8().map((a) => Buffer.from(a).toString('base64')),
      decorations: Object.fromEntries(input.getDecorationsMap().toArray().map(([k, v]) => [k, Buffer.from(v as Uint8Array).toString('base64')])),
      is_init: input.getIsInit(),
    };
  }
  out.timeout = cs.getTimeout();
  return { chaincode_spec: out };
}
