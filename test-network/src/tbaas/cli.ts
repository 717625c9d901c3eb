#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { devnetAccess } from '../devnet/layout';
import { writeClientFile } from './client-file';
import { EmulatorAccount, TbaasEmulator } from './emulator';

const USAGE = `usage: tbaas-emulator [--data .devnet] [--port 0] [--access-port 0] [--region ap-guangzhou]
  Serves the TBaaS cloud API (InvokeFabricChaincode, QueryFabricChaincode, DescribeFabricBlock,
  DescribeFabricTransaction) on 127.0.0.1 over the running devnet of that data directory (npm start,
  with or without TLS), and the network's
  access address (mutual TLS, Deliver only, as a Fabric 2.3 peer). Each org of the devnet gets a
  fresh SecretId/SecretKey and the user certificates a console's 证书管理 issues; a client file per
  org is written in the data directory (tbaas-<MSP>.json, mode 0600, certificates under
  tbaas-<MSP>/) for \`trace … --connection .devnet/tbaas-Org1MSP.json\`. Drop its "access" object
  to run the indexer on the cloud API alone.`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string' }, port: { type: 'string' }, 'access-port': { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const dataDir = resolve(values.data ?? '.devnet');
  const devnet = devnetAccess(dataDir);
  const region = values.region ?? 'ap-guangzhou';
  const accounts: EmulatorAccount[] = devnet.orgs.map((mspId) => ({
    mspId,
    secretId: `AKID${randomBytes(16).toString('hex')}`,
    secretKey: randomBytes(24).toString('base64url'),
  }));
  const logger = pino({ base: { svc: 'tbaas-emulator' } }, pino.destination(2));
  const emulator = new TbaasEmulator({ devnet, accounts, regions: [region], logger, accessPort: Number(values['access-port'] ?? 0) });
  const endpoint = await emulator.start(Number(values.port ?? 0));
  const { access } = emulator;
  const files = await Promise.all(accounts.map((a) => writeClientFile(dataDir, a, emulator, { type: 'tbaas', secretId: a.secretId, secretKey: a.secretKey, region, clusterId: emulator.clusterId, channelId: emulator.channelId, chaincodeName: devnet.chaincode, endpoint, protocol: 'http://' })));
  console.log(`TBaaS emulator on http://${endpoint} over the devnet in ${dataDir}
  access       ${access.endpoint} (mutual TLS, server name ${access.serverName}, channel ${access.channel})
  endpoint     ${endpoint} (protocol http://; the SDK signs for the service '${endpoint.split('.')[0]}', the host's first label)
  region       ${region}
  ClusterId    ${emulator.clusterId}
  ChannelId    ${emulator.channelId}
  chaincode    ${devnet.chaincode}
${files.map((f) => `  ${f.mspId.padEnd(12)} SecretId ${f.secretId}  SecretKey ${f.secretKey}\n               client file ${f.file}`).join('\n')}
e.g. node client/dist/src/cli.js evaluate consortium:listMembers --json '{}' --connection ${files[0]?.file}
Ctrl-C stops.`);
  const stop = () => void emulator.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: Error) => {
  console.error(`tbaas-emulator: ${e.message}`);
  process.exit(1);
});
