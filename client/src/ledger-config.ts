import { ProfileOptions, readConfigFile, ResolvedConnection, resolveConnection } from './connection-profile';
import { FabricGatewayLedger } from './fabric-gateway';
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

/**
 * A ledger from a configuration file: a TBaaS client file (`"type": "tbaas"`, credentials may come
 * from the environment) gives a TbaasLedger; any other file is Fabric's common connection profile
 * (JSON or YAML), where msp and user choose the org and identity (see ProfileOptions).
 */
export function ledgerFromConfig(path: string, opts: LedgerConfigOptions = {}): Ledger {
  const kind = (readConfigFile(path) as { type?: string } | null)?.type;
  return kind === 'tbaas' ? new TbaasLedger({ ...loadTbaasConfig(path), log: opts.log }) : gatewayLedger(resolveConnection(path, opts));
}
