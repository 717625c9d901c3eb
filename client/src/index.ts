export * from './ledger';
export * from './errors';
export { parseBlock, blockHash } from './blocks';
export { nodeSigner, lowS } from './signer';
export { FabricGatewayLedger, GatewayIdentity, GatewayLedgerOptions, grpcClient, identityFromFiles } from './fabric-gateway';
