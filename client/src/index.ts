export * from './ledger';
export * from './errors';
export { parseBlock, blockHash } from './blocks';
export { nodeSigner, lowS } from './signer';
export { FabricGatewayLedger, GatewayIdentity, GatewayLedgerOptions, grpcClient, identityFromFiles } from './fabric-gateway';
export { TraceChainClient, TaskStatus, TraceView, Input, Verification } from './contracts';
export { saltedHash, verifySaltedHash, encryptForOrgs, decryptForOrg, recipientKey } from './privacy';
export { generateCode, normalizeCode, isValidCode, codeHash, digitalLink, qrPng, qrSvg } from './codes';
export { issueCodesResumable, IssueJob, IssueProgress } from './issue-codes';
