import type { TbaasConfig } from '@trace/client';
import { NetworkSource, NetworkView } from './view';

/**
 * TBaaS through its cloud API: the client file names the region, cluster, channel and chaincode; the members come
 * from the consortium on chain. TBaaS's documented Fabric actions (Invoke/QueryFabricChaincode,
 * DescribeFabricBlock/Transaction) tell neither the height, the channel config nor the chaincode's definition.
 */
export function tbaasSource(config: TbaasConfig, org: string, memberNames: () => Promise<Map<string, string>>): NetworkSource {
  return {
    async view(): Promise<NetworkView> {
      const names = await memberNames();
      return {
        source: 'tbaas',
        channel: config.channelId,
        org,
        chaincode: { name: config.chaincodeName, version: null, sequence: null, endorsementPolicy: null },
        orgs: [...names].map(([mspId, name]) => ({ mspId, name, rootCas: [], peers: [] })),
        orderers: [],
        height: null,
        // the region and endpoint, never the API key
        cloud: { region: config.region, clusterId: config.clusterId, endpoint: config.endpoint ?? 'tbaas.tencentcloudapi.com' },
        silent: ['height', 'blocks', 'chaincodeDefinition', 'channelConfig', 'peers', 'orderers'],
      };
    },
  };
}
