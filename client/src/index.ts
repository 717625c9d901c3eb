export * from './ledger';
export * from './errors';
export { parseBlock, blockHash } from './blocks';
export { nodeSigner, lowS } from './signer';
export { FabricGatewayLedger, GatewayIdentity, GatewayLedgerOptions, grpcClient, identityFromFiles } from './fabric-gateway';
export { TraceChainClient, TaskStatus, TraceView, Input } from './contracts';
export { saltedHash, verifySaltedHash, encryptForOrgs, decryptForOrg, recipientKey } from './privacy';
