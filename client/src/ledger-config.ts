import { PeerTarget, ProfileOptions, readConfigFile, ResolvedConnection, resolveConnection } from './connection-profile';
import { FabricGatewayLedger } from './fabric-gateway';
import { FabricEndpoint, FabricNetworkLedger, FabricNetworkLedgerOptions } from './fabric-network';
import { lazyLedger } from './lazy-ledger';
import { Ledger } from './ledger';
import { loadTbaasConfig, TbaasLedger } from './tbaas';

export interface LedgerConfigOptions extends ProfileOptions {
  /** receives the TBaaS transport's retries */
  log?: { warn(obj: object): void };
}

/** A gateway ledger on the org's first peer, with its other peers as fallbacks. */
export function gatewayLedger(c: ResolvedConnection): FabricGatewayLedger {
  const [first, ...fallbackPeers] = c.peers;
  return FabricGatewayLedger.connect({
    endpoint: first.endpoint,
    peerName: first.name,
    tls: first.tls,
    tlsRootCert: first.tlsRootCert,
    serverNameOverride: first.serverNameOverride,
    fallbackPeers,
    tlsClientCert: c.tlsClient?.cert,
    tlsClientKey: c.tlsClient?.key,
    channel: c.channel,
    chaincode: c.chaincode,
    identity: c.identity,
  });
}

const endpoint = (p: PeerTarget): FabricEndpoint => ({ endpoint: p.endpoint, name: p.name, tlsCACert: p.tls ? p.tlsRootCert : undefined, serverName: p.serverNameOverride });

/** FabricNetworkLedger settings for the older protocol: every org's peers (the own org's first) and the orderers. */
export function legacyOptions(c: ResolvedConnection): FabricNetworkLedgerOptions {
  const peers = Object.fromEntries(Object.entries(c.network.peers).map(([mspId, list]) => [mspId, list.map(endpoint)]));
  return {
    channel: c.channel,
    chaincode: c.chaincode,
    identity: c.identity,
    peers,
    orderers: c.network.orderers.map(endpoint),
    clientTls: c.tlsClient && { certPem: c.tlsClient.cert, keyPem: c.tlsClient.key },
  };
}

/**
 * A ledger from a configuration file: a TBaaS client file (`"type": "tbaas"`, credentials may come
 * from the environment) gives a TbaasLedger; any other file is Fabric's common connection profile
 * (JSON or YAML), where msp and user choose the org and identity (see ProfileOptions), submitting
 * through the Fabric Gateway, or with protocol `legacy` through FabricNetworkLedger (Fabric 2.3 peers).
 */
export function ledgerFromConfig(path: string, opts: LedgerConfigOptions = {}): Ledger {
  const kind = (readConfigFile(path) as { type?: string } | null)?.type;
  if (kind === 'tbaas') return new TbaasLedger({ ...loadTbaasConfig(path), log: opts.log });
  const c = resolveConnection(path, opts);
  return c.protocol === 'legacy' ? lazyLedger(c.chaincode, c.channel, () => FabricNetworkLedger.connect(legacyOptions(c))) : gatewayLedger(c);
}
