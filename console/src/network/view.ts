import type { BlockSummary, DeploymentRecord } from '@trace/client';

/**
 * The network as this org sees it, the same shape whatever the source (Fabric's system chaincodes and connection
 * profile, or a TBaaS client file): what a source cannot tell is null, and `silent` says which parts and why.
 */
export interface NetworkView {
  source: 'fabric' | 'tbaas';
  channel: string;
  /** this console's org */
  org: string;
  chaincode: { name: string; version: string | null; sequence: number | null; endorsementPolicy: string | null };
  /** the channel's member orgs (the channel config's, else the consortium's) with their names on chain */
  orgs: NetworkOrg[];
  orderers: Endpoint[];
  height: number | null;
  /** TBaaS's cluster and region */
  cloud?: { region: string; clusterId: string; endpoint: string };
  silent: string[];
}

export interface NetworkOrg {
  mspId: string;
  name: string | null;
  /** subjects of the MSP's root CAs (channel config) */
  rootCas: string[];
  peers: Endpoint[];
}

export interface Endpoint {
  name: string;
  endpoint: string;
  tls: boolean;
}

export interface BlockPage {
  height: number;
  page: number;
  pageSize: number;
  /** newest first */
  blocks: BlockSummary[];
}

/** One source of the page: the view, and the recent blocks where the source can read them. */
export interface NetworkSource {
  view(): Promise<NetworkView>;
  /** undefined where the source cannot read blocks by number */
  blocks?(page: number, pageSize: number): Promise<BlockPage>;
}

export type { DeploymentRecord };
