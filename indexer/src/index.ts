export { openDb, checkpoint, Db } from './db';
export { applyBlock, applyBlocks, INGEST_BATCH, Ingestor } from './ingest';
export { ChainSource, GatewaySource } from './source';
export { applyInvocations, CLOUD_ONLY, InvocationFollower, invocationCheckpoint, TbaasSource } from './tbaas-source';
export { createApp, openApi, ROUTES } from './api';
export { ApiError } from './http';
export { startIndexer } from './server';
export { PROJECTIONS } from './projections';
export { ScanSender } from './scan-sender';
