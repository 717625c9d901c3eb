import { common, msp, peer } from '@hyperledger/fabric-protos';
import { headerHash } from '../ledger/blockhash';
import { Ledger } from '../ledger/ledger';

/** The committed definition of the devnet's one chaincode, as `_lifecycle` reports it. */
export interface ChaincodeDefinition {
  name: string;
  version: string;
  /** the devnet commits its chaincode once, at start: sequence 1 */
  sequence: number;
  /** the application orgs, and how many distinct ones must endorse */
  orgs: string[];
  endorsementsRequired: number;
}

/** A system chaincode's refusal, worded as the peer's (the gateway reports it like a chaincode error). */
export class SystemChaincodeError extends Error {}

export const SYSTEM_CHAINCODES = ['qscc', 'cscc', '_lifecycle'] as const;

export function isSystemChaincode(name: string): boolean {
  return (SYSTEM_CHAINCODES as readonly string[]).includes(name);
}

/**
 * The read-only queries of Fabric's system chaincodes that a client evaluates through the gateway:
 * qscc GetChainInfo / GetBlockByNumber, cscc GetChannelConfig, _lifecycle QueryChaincodeDefinition.
 * Answers are the same protobuf messages a Fabric 2.5 peer returns.
 */
export function evaluateSystemChaincode(ledger: Ledger, definition: ChaincodeDefinition, chaincode: string, inputBytes: Uint8Array): Uint8Array {
  const args = peer.ChaincodeInput.deserializeBinary(inputBytes).getArgsList_asU8();
  const fn = Buffer.from(args[0] ?? []).toString('utf8');
  const arg = (i: number) => Buffer.from(args[i] ?? []).toString('utf8');
  const channel = () => {
    if (arg(1) !== ledger.channelId) throw new SystemChaincodeError(`invalid channel ID: '${arg(1)}' is not joined`);
  };
  if (chaincode === 'qscc' && fn === 'GetChainInfo') {
    channel();
    return chainInfo(ledger).serializeBinary();
  }
  if (chaincode === 'qscc' && fn === 'GetBlockByNumber') {
    channel();
    const n = Number(arg(2));
    if (!/^\d+$/.test(arg(2)) || n >= ledger.height) throw new SystemChaincodeError(`Failed to get block number ${arg(2)}, error entry not found in index`);
    return ledger.blockBytes(n);
  }
  if (chaincode === 'cscc' && fn === 'GetChannelConfig') {
    channel();
    return channelConfig(ledger).serializeBinary();
  }
  if (chaincode === '_lifecycle' && fn === 'QueryChaincodeDefinition') {
    const name = peer.lifecycle.QueryChaincodeDefinitionArgs.deserializeBinary(args[1] ?? new Uint8Array()).getName();
    if (name !== definition.name) throw new SystemChaincodeError(`namespace ${name} is not defined`);
    return chaincodeDefinition(definition).serializeBinary();
  }
  throw new SystemChaincodeError(`${chaincode}: unknown or unsupported function ${fn}`);
}

function chainInfo(ledger: Ledger): common.BlockchainInfo {
  const last = ledger.block(ledger.height - 1).getHeader()!;
  const info = new common.BlockchainInfo();
  info.setHeight(ledger.height);
  info.setCurrentblockhash(headerHash(last));
  info.setPreviousblockhash(last.getPreviousHash_asU8());
  return info;
}

/** The channel's config: the devnet never updates it, so it is the genesis block's. */
function channelConfig(ledger: Ledger): common.Config {
  const env = common.Envelope.deserializeBinary(ledger.block(0).getData()!.getDataList_asU8()[0]);
  const payload = common.Payload.deserializeBinary(env.getPayload_asU8());
  return common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig()!;
}

/** The definition with its endorsement policy: any `endorsementsRequired` of the orgs' members sign. */
function chaincodeDefinition(d: ChaincodeDefinition): peer.lifecycle.QueryChaincodeDefinitionResult {
  const envelope = new common.SignaturePolicyEnvelope();
  const outOf = new common.SignaturePolicy.NOutOf();
  outOf.setN(d.endorsementsRequired);
  outOf.setRulesList(
    d.orgs.map((_, i) => {
      const rule = new common.SignaturePolicy();
      rule.setSignedBy(i);
      return rule;
    }),
  );
  const rule = new common.SignaturePolicy();
  rule.setNOutOf(outOf);
  envelope.setRule(rule);
  envelope.setIdentitiesList(
    d.orgs.map((mspId) => {
      const role = new msp.MSPRole();
      role.setMspIdentifier(mspId);
      role.setRole(msp.MSPRole.MSPRoleType.MEMBER);
      const principal = new msp.MSPPrincipal();
      principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
      principal.setPrincipal(role.serializeBinary());
      return principal;
    }),
  );
  const policy = new peer.ApplicationPolicy();
  policy.setSignaturePolicy(envelope);
  const result = new peer.lifecycle.QueryChaincodeDefinitionResult();
  result.setSequence(d.sequence);
  result.setVersion(d.version);
  result.setEndorsementPlugin('escc');
  result.setValidationPlugin('vscc');
  result.setValidationParameter(policy.serializeBinary());
  result.setInitRequired(false);
  return result;
}
