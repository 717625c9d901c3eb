import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { appendDeployment, DeploymentRecord, fileSha256, Ledger, ledgerFromConfig, TBAAS_API_VERSION, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, templates } from '@trace/contract-templates';
import { deployFabric } from './deploy/fabric';
import { DeployError } from './deploy/fabric-plan';

const ROOT = resolve(__dirname, '../../..');
const USAGE = `usage: npm run deploy -- --target devnet [--connection .devnet/connection-org1.json] [--msp Org1MSP] [--user Admin] [--record deployments.jsonl]
       npm run deploy -- --target tbaas --founder MSPID [--config tbaas.json]
       npm run deploy -- --target fabric --network network.json [--package FILE | --founder MSPID [--type ccaas|node] [--label L] [--address host:port]]
                         [--name trace] [--version 1.0] [--sequence 1] [--signature-policy P | --channel-config-policy P]
  devnet: the devnet runs chaincode/ itself (npm start); this checks it answers and loads the tea and
          liquor templates once the consortium is founded.
  tbaas:  builds the Fabric 2.3 upload package, prints the console steps and the client settings; with
          --config (a TBaaS client file, credentials from the environment) it then checks the deployed
          chaincode through the cloud API and loads the templates.
  fabric: a real Fabric 2.5 network (test-network/fabric/network.sh writes network.json): builds the packages
          (npm run package:fabric) unless --package is given, installs on each org's peer, approves per org
          with the endorsement policy given (default: the channel's Endorsement policy), commits and checks the
          committed definition, through the peer CLI of FABRIC_BIN; without FABRIC_BIN it prints those commands.
  --record: the JSON lines file each deployment is appended to (time, target, chaincode, package hash …; default
          deployments.jsonl in the working directory); the member console reads it (--deployments).
  --founder: the one org allowed to bootstrap the consortium (consortium:bootstrap), fixed in the package
          (a chaincode server takes TRACE_FOUNDER_MSP instead); without it nobody can bootstrap.`;

/** The package the tbaas target builds for upload (scripts/src/package-tbaas.ts) */
const TBAAS_ZIP = join(ROOT, 'build', 'trace-chaincode-tbaas.zip');

function record(file: string | undefined, r: DeploymentRecord): void {
  const path = resolve(file ?? 'deployments.jsonl');
  appendDeployment(path, r);
  console.log(`deploy: recorded in ${relative(process.cwd(), path)}`);
}

/** Checks the chaincode answers through the ledger, then loads every template package if the consortium exists. */
async function loadTemplates(ledger: Ledger, where: string): Promise<void> {
  const client = new TraceChainClient(ledger);
  const members = (await client.consortium.listMembers()).items;
  console.log(`chaincode answers on ${where}: ${members.length} consortium member(s)`);
  if (members.length === 0) {
    console.log(`the consortium is not founded yet; found it, then run this again to load the templates:
  node client/dist/src/cli.js submit consortium:bootstrap --connection <the founding org's file> --json '{"consortium":"Tea","name":"Brand Co.","roles":["brand"]}'`);
    return;
  }
  for (const [name, pkg] of Object.entries(templates)) {
    const report = await loadTemplatePackage(client, pkg, (done, total, what) => process.stdout.write(`\r${name}: [${String(done).padStart(3)}/${total}] ${what}`.padEnd(80)));
    process.stdout.write('\n');
    console.log(`${report.template}: template ${report.published === 'defined' ? 'published' : 'was already published'}`);
  }
}

async function devnet(values: { connection?: string; msp?: string; user?: string; record?: string }): Promise<void> {
  const connection = resolve(values.connection ?? join(ROOT, '.devnet/connection-org1.json'));
  if (!existsSync(connection)) {
    console.log(`The devnet embeds the chaincode: \`npm start\` runs chaincode/ (contracts consortium, catalog, process,
trace, codes, devices, assets) as the channel's chaincode 'trace'; nothing is installed separately.
No devnet connection file at ${relative(process.cwd(), connection)}: start it with \`npm start\`, then run this again.`);
    process.exitCode = 1;
    return;
  }
  const ledger = ledgerFromConfig(connection, { msp: values.msp, user: values.user ?? 'Admin' });
  try {
    await loadTemplates(ledger, `the devnet (${relative(process.cwd(), connection)})`);
    record(values.record, { at: new Date().toISOString(), target: 'devnet', chaincode: ledger.chaincodeName, channel: ledger.channelName, orgs: values.msp ? [values.msp] : undefined });
  } finally {
    ledger.close();
  }
}

async function tbaas(values: { config?: string; founder?: string; record?: string }): Promise<void> {
  execFileSync(process.execPath, [join(__dirname, 'package-tbaas.js'), ...(values.founder ? ['--founder', values.founder] : [])], { stdio: 'inherit' });
  // the upload is the org's step in TBaaS's console: what is recorded is the package built for it
  record(values.record, { at: new Date().toISOString(), target: 'tbaas', chaincode: 'trace', packageFile: TBAAS_ZIP, packageHash: fileSha256(TBAAS_ZIP) });
  console.log(`
TBaaS (Tencent Cloud, Hyperledger Fabric 2.3) — console steps:
  1. Create (or join) the Fabric 2.3 network and the channel; note its network ID (ClusterId, fabric-…)
     and channel ID (ChannelId, channel-…). Every member org joins the channel with its peers.
  2. Contract management → new contract: language Node.js, name trace, upload build/trace-chaincode-tbaas.zip
     (ES2019, fabric-contract-api / fabric-shim 2.3.0; the peer's Node 12.16 builder installs them).
  3. Install it on each org's peers, approve it per org and commit it on the channel (endorsement policy:
     MAJORITY of the member orgs, as on the devnet). No init function is needed.
  4. In CAM, create an API key (SecretId / SecretKey) for each org's account; an org's calls then run under
     its TBaaS certificate.
Client settings (a JSON file with "type": "tbaas"; the environment overrides it and should hold the keys):
  {"type": "tbaas", "region": "ap-guangzhou", "clusterId": "fabric-…", "channelId": "channel-…", "chaincodeName": "trace"}
  TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY   the org's API key (never written to logs)
  TENCENTCLOUD_REGION, TBAAS_CLUSTER_ID, TBAAS_CHANNEL_ID, TBAAS_CHAINCODE_NAME, TBAAS_ENDPOINT (default tbaas.tencentcloudapi.com)
  API version ${TBAAS_API_VERSION}, TC3-HMAC-SHA256, 20 requests/s per action (the client keeps to it).
Use it: node client/dist/src/cli.js evaluate consortium:listMembers --json '{}' --connection tbaas.json
        node indexer/dist/src/server.js --connection tbaas.json      (indexer polling DescribeFabricBlock)
Then: npm run deploy -- --target tbaas --config tbaas.json   checks the chaincode and loads the templates.`);
  if (!values.config) return;
  const ledger = ledgerFromConfig(resolve(values.config));
  try {
    await loadTemplates(ledger, `TBaaS (${values.config})`);
  } finally {
    ledger.close();
  }
}

async function main(): Promise<void> {
  const text = { type: 'string' } as const;
  const { values } = parseArgs({
    options: {
      target: text,
      connection: text,
      msp: text,
      user: text,
      config: text,
      founder: text,
      record: text,
      // --target fabric
      network: text,
      package: text,
      type: text,
      label: text,
      address: text,
      name: text,
      version: text,
      sequence: text,
      'signature-policy': text,
      'channel-config-policy': text,
    },
  });
  if (values.target === 'devnet') return devnet(values);
  if (values.target === 'tbaas') return tbaas(values);
  if (values.target === 'fabric') {
    const done = deployFabric(values, process.env, (line) => console.log(line));
    if (done) record(values.record, done);
    console.log('Then load the templates once the consortium is founded: node contract-templates/dist/src/cli.js load all --connection <connection-org1.json>');
    return;
  }
  console.error(USAGE);
  process.exitCode = 2;
}

main().catch((e: Error & { code?: string }) => {
  console.error(`deploy: ${e.message}`);
  // bad arguments (ours or node:util parseArgs's) exit 2, failures on the network 1
  const usage = (e instanceof DeployError && ['ERR_ARGS', 'ERR_NETWORK', 'ERR_PACKAGE'].includes(e.code)) || e.code?.startsWith('ERR_PARSE_ARGS') === true;
  if (usage) console.error(USAGE);
  process.exit(usage ? 2 : 1);
});
