import { blockSummary, chaincodeDefinition, chainInfo, channelOrgs, Ledger, PeerTarget, ResolvedConnection } from '@trace/client';
import { BlockPage, Endpoint, NetworkSource, NetworkView } from './view';

const endpoint = (p: PeerTarget): Endpoint => ({ name: p.name, endpoint: p.endpoint, tls: p.tls });

/**
 * A Fabric network (the devnet included) through the org's gateway: channel config (cscc), chaincode definition
 * (_lifecycle), height and blocks (qscc); peers and orderers as the org's connection profile names them.
 */
export function fabricSource(ledger: Ledger, connection: ResolvedConnection, memberNames: () => Promise<Map<string, string>>): NetworkSource {
  if (!ledger.querySystem) return profileOnly(ledger, connection, memberNames);
  return {
    async view(): Promise<NetworkView> {
      const [orgs, definition, info, names] = await Promise.all([channelOrgs(ledger), chaincodeDefinition(ledger), chainInfo(ledger), memberNames()]);
      return {
        source: 'fabric',
        channel: ledger.channelName,
        org: connection.mspId,
        chaincode: { name: definition.name, version: definition.version, sequence: definition.sequence, endorsementPolicy: definition.endorsementPolicy },
        orgs: orgs.map((o) => ({ mspId: o.mspId, name: names.get(o.mspId) ?? null, rootCas: o.rootCas, peers: (connection.network.peers[o.mspId] ?? []).map(endpoint) })),
        orderers: connection.network.orderers.map(endpoint),
        height: info.height,
        silent: [],
      };
    },
    async blocks(page: number, pageSize: number): Promise<BlockPage> {
      const { height } = await chainInfo(ledger);
      const top = height - 1 - page * pageSize;
      const numbers = Array.from({ length: Math.max(0, Math.min(pageSize, top + 1)) }, (_, i) => top - i);
      return { height, page, pageSize, blocks: await Promise.all(numbers.map((n) => blockSummary(ledger, n))) };
    },
  };
}

/** fabric-network's transport (Fabric 2.3 peers, TBaaS's access address) has no system chaincode queries here: the profile's view. */
function profileOnly(ledger: Ledger, connection: ResolvedConnection, memberNames: () => Promise<Map<string, string>>): NetworkSource {
  return {
    async view(): Promise<NetworkView> {
      const names = await memberNames();
      return {
        source: 'fabric',
        channel: ledger.channelName,
        org: connection.mspId,
        chaincode: { name: ledger.chaincodeName, version: null, sequence: null, endorsementPolicy: null },
        orgs: Object.entries(connection.network.peers).map(([mspId, peers]) => ({ mspId, name: names.get(mspId) ?? null, rootCas: [], peers: peers.map(endpoint) })),
        orderers: connection.network.orderers.map(endpoint),
        height: null,
        silent: ['height', 'blocks', 'chaincodeDefinition', 'channelConfig'],
      };
    },
  };
}
