import { X509Certificate } from 'node:crypto';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { parseBlock } from './blocks';
import { LedgerError } from './errors';
import { Ledger } from './ledger';

/**
 * The channel as Fabric's system chaincodes describe it, decoded from their protobuf answers: qscc for the height
 * and blocks, cscc for the channel config (member orgs and their MSPs), _lifecycle for the chaincode's definition.
 */
export interface ChainInfo {
  height: number;
  currentBlockHash: string;
}

export interface ChannelOrg {
  mspId: string;
  /** subjects of the MSP's root CA certificates */
  rootCas: string[];
  /** the PEM root certificates, to check that a certificate was issued by this org */
  rootCertPems: string[];
}

export interface ChaincodeDefinitionInfo {
  name: string;
  version: string;
  sequence: number;
  /** the endorsement policy, in Fabric's CLI notation: OutOf(1, 'Org1MSP.member', …) or a channel policy reference */
  endorsementPolicy: string;
}

export interface BlockSummary {
  number: number;
  hash: string;
  txCount: number;
  /** the first transaction's timestamp (ISO), null for a block without an endorser transaction */
  time: string | null;
}

function systemQueries(ledger: Ledger): NonNullable<Ledger['querySystem']> {
  if (!ledger.querySystem) throw new LedgerError('ERR_UNSUPPORTED', 'this transport cannot query Fabric system chaincodes');
  return ledger.querySystem.bind(ledger);
}

export async function chainInfo(ledger: Ledger): Promise<ChainInfo> {
  const info = common.BlockchainInfo.deserializeBinary(await systemQueries(ledger)('qscc', 'GetChainInfo', ledger.channelName));
  return { height: info.getHeight(), currentBlockHash: Buffer.from(info.getCurrentblockhash_asU8()).toString('hex') };
}

export async function blockSummary(ledger: Ledger, n: number): Promise<BlockSummary> {
  const bytes = await systemQueries(ledger)('qscc', 'GetBlockByNumber', ledger.channelName, String(n));
  const block = common.Block.deserializeBinary(bytes);
  const parsed = parseBlock(block);
  const stamped = parsed.transactions.find((t) => t.timestampMs > 0);
  return { number: n, hash: parsed.hash, txCount: block.getData()!.getDataList().length, time: stamped ? new Date(stamped.timestampMs).toISOString() : null };
}

/** The application orgs of the channel's config with their MSPs' root CAs. */
export async function channelOrgs(ledger: Ledger): Promise<ChannelOrg[]> {
  const config = common.Config.deserializeBinary(await systemQueries(ledger)('cscc', 'GetChannelConfig', ledger.channelName));
  const application = config.getChannelGroup()?.getGroupsMap().get('Application');
  const orgs: ChannelOrg[] = [];
  application?.getGroupsMap().forEach((group, name) => {
    const value = group.getValuesMap().get('MSP');
    if (!value) return;
    const fabricMsp = msp.FabricMSPConfig.deserializeBinary(msp.MSPConfig.deserializeBinary(value.getValue_asU8()).getConfig_asU8());
    const rootCertPems = fabricMsp.getRootCertsList_asU8().map((c) => Buffer.from(c).toString('utf8'));
    orgs.push({ mspId: fabricMsp.getName() || name, rootCas: rootCertPems.map((pem) => new X509Certificate(pem).subject.replace(/\n/g, ', ')), rootCertPems });
  });
  return orgs.sort((a, b) => a.mspId.localeCompare(b.mspId));
}

export async function chaincodeDefinition(ledger: Ledger): Promise<ChaincodeDefinitionInfo> {
  const args = new peer.lifecycle.QueryChaincodeDefinitionArgs();
  args.setName(ledger.chaincodeName);
  const result = peer.lifecycle.QueryChaincodeDefinitionResult.deserializeBinary(await systemQueries(ledger)('_lifecycle', 'QueryChaincodeDefinition', args.serializeBinary()));
  return { name: ledger.chaincodeName, version: result.getVersion(), sequence: result.getSequence(), endorsementPolicy: policyText(result.getValidationParameter_asU8()) };
}

function policyText(bytes: Uint8Array): string {
  const policy = peer.ApplicationPolicy.deserializeBinary(bytes);
  if (policy.hasChannelConfigPolicyReference()) return policy.getChannelConfigPolicyReference();
  const envelope = policy.getSignaturePolicy();
  if (!envelope) return '(none)';
  const principals = envelope.getIdentitiesList().map((p) => {
    if (p.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) return '(principal)';
    const role = msp.MSPRole.deserializeBinary(p.getPrincipal_asU8());
    const name = Object.entries(msp.MSPRole.MSPRoleType).find(([, v]) => v === role.getRole())?.[0] ?? String(role.getRole());
    return `'${role.getMspIdentifier()}.${name.toLowerCase()}'`;
  });
  const text = (rule: common.SignaturePolicy | undefined): string => {
    if (!rule) return '(none)';
    if (rule.hasNOutOf()) {
      const outOf = rule.getNOutOf()!;
      return `OutOf(${outOf.getN()}, ${outOf.getRulesList().map(text).join(', ')})`;
    }
    return principals[rule.getSignedBy()] ?? '(unknown)';
  };
  return text(envelope.getRule());
}
