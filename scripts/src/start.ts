import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { DEMO_PASSWORD, DEMO_USERS, DemoConsole, startDemoConsoles } from '@trace/console';
import { dbLocation, startIndexer } from '@trace/indexer';
import { Devnet } from '@trace/test-network';
import { demoUrls, ensureDemo, issueDemoKeys } from './demo/run';
import { DEMO_ORGS } from './demo/seed';

/**
 * npm start: the embedded devnet (four orgs) with the product chaincode, and the indexer with its
 * API and pages, on 127.0.0.1. `--demo` seeds a tea lot and a liquor lot once. Data lives in
 * .devnet/ and survives restarts; Ctrl-C stops everything. `--tls` / `--mtls` serve the devnet over
 * TLS / mutual TLS; the indexer and demo reach it through the common connection profiles either way.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string' }, port: { type: 'string' }, 'devnet-port': { type: 'string' }, demo: { type: 'boolean' }, tls: { type: 'boolean' }, mtls: { type: 'boolean' } } });
  const root = resolve(__dirname, '../../..');
  const dataDir = resolve(values.data ?? process.env.DEVNET_DATA ?? resolve(root, '.devnet'));
  const devnet = new Devnet({
    dataDir,
    port: Number(values['devnet-port'] ?? 7051),
    orgs: Object.values(DEMO_ORGS),
    // two of four orgs endorse: fewer chaincode executions per transaction on a small machine
    endorsers: 2,
    chaincode: { name: 'trace', path: resolve(root, 'chaincode') },
    tls: values.mtls ? 'mtls' : values.tls ? 'tls' : 'none',
    logger: pino({ base: { svc: 'devnet' }, level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2)),
  });
  await devnet.start();
  // the devnet's own file, unless INDEXER_DB names another database (a postgres:// URL)
  const indexerDb = dbLocation(process.env.INDEXER_DB ?? resolve(dataDir, 'indexer.sqlite'));
  const indexer = await startIndexer({ connection: devnet.connectionPath, db: indexerDb, port: Number(values.port ?? process.env.PORT ?? 3000) });
  let stopping: Promise<void> | undefined;
  let consoles: DemoConsole[] = [];
  const stop = (code: number) =>
    (stopping ??= (async () => {
      await Promise.all(consoles.map((c) => c.stop()));
      await indexer.stop();
      await devnet.stop();
      process.exit(code);
    })());
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  const base = `http://127.0.0.1:${indexer.port}`;
  let demo;
  try {
    demo = values.demo ? await ensureDemo(devnet.connectionPath, dataDir, (line) => console.log(line)) : undefined;
  } catch (e) {
    // a Ctrl-C during the seed is a stop, not a failure; else report and stop everything before exiting
    if (!stopping) console.error(`start: the demo seed failed: ${(e as Error).message}`);
    await stop(stopping ? 0 : 1);
    return;
  }
  console.log(`trace-chain is running
  dashboard    ${base}/dashboard
  API          ${base}/api/stats   (OpenAPI: /openapi.json, health: /healthz)
  gateway      ${devnet.endpoint}  (channel ${devnet.ledger.channelId}, chaincode trace)
  profiles     ${Object.values(devnet.connectionProfiles).join('\n               ')}
  identities   ${resolve(dataDir, 'crypto')}/<MSP>/users/<name>/msp (signcerts/, keystore/), tls/client.{crt,key}
  data         ${dataDir}`);
  if (demo) {
    console.log(`demo pages:\n${demoUrls(base, demo).map((u) => `  ${u}`).join('\n')}`);
    // shown once (stored hashed); new ones on each start
    const keys = await issueDemoKeys(indexerDb);
    console.log(`demo API keys (Authorization: Bearer <key>; new ones on each start):
  member key   ${keys.member.org} ${keys.member.key}
  auditor key  ${keys.auditor.org} ${keys.auditor.key}
  dashboard with the member key: ${base}/dashboard#key=${keys.member.key}`);
    // a member console per demo org (the brand, the farm, the factory, the retailer and regulator), next to the indexer's port
    const requested = Number(values.port ?? process.env.PORT ?? 3000);
    consoles = await startDemoConsoles({ connection: devnet.connectionPath, dataDir, indexerDb, indexerUrl: base, orgs: DEMO_ORGS, basePort: requested === 0 ? 0 : indexer.port + 1, log: pino({ base: { svc: 'console' }, level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2)) });
    console.log(`member consoles (every demo user's password: ${DEMO_PASSWORD}; users ${DEMO_USERS.map((u) => `${u.username} = ${u.roles.join(', ')}`).join(', ')}):
${consoles.map((c) => `  ${c.name.padEnd(7)} ${c.org}  ${c.url}/login`).join('\n')}`);
  }
  console.log('Ctrl-C stops; starting again resumes on the same data.');
}

main().catch((e: Error) => {
  console.error(`start: ${e.message}`);
  process.exit(1);
});
