import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startIndexer } from '@trace/indexer';
import { Devnet } from '@trace/test-network';

/**
 * npm start: the embedded devnet with the product chaincode, and the indexer following it, on
 * 127.0.0.1. Data lives in .devnet/ and survives restarts; Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string' }, port: { type: 'string' }, 'devnet-port': { type: 'string' } } });
  const root = resolve(__dirname, '../../..');
  const dataDir = resolve(values.data ?? process.env.DEVNET_DATA ?? resolve(root, '.devnet'));
  const devnet = new Devnet({
    dataDir,
    port: Number(values['devnet-port'] ?? 7051),
    chaincode: { name: 'trace', path: resolve(root, 'chaincode') },
    logger: pino({ base: { svc: 'devnet' }, level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2)),
  });
  await devnet.start();
  const indexer = await startIndexer({ connection: devnet.connectionPath, db: resolve(dataDir, 'indexer.sqlite'), port: Number(values.port ?? process.env.PORT ?? 3000) });
  console.log(`trace-chain is running
  API          http://127.0.0.1:${indexer.port}/api/stats   (OpenAPI: /openapi.json, health: /healthz)
  gateway      ${devnet.endpoint}  (channel ${devnet.ledger.channelId}, chaincode trace)
  connection   ${devnet.connectionPath}
  identities   ${resolve(dataDir, 'crypto')}/<MSP>/users/<name>/
  data         ${dataDir}
Ctrl-C stops; starting again resumes on the same data.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await indexer.stop();
    await devnet.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: Error) => {
  console.error(`start: ${e.message}`);
  process.exit(1);
});
