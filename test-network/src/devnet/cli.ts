#!/usr/bin/env node
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Devnet } from './network';

const USAGE = `usage:
  devnet start [--data DIR] [--host 127.0.0.1] [--port 7051] [--orgs Org1MSP,Org2MSP] [--channel tracechannel]
               [--chaincode-path DIR] [--chaincode-name NAME] [--chaincode-node NODE_BINARY] [--endorsers N]
               [--block-size N] [--block-timeout MS] [--max-message-bytes N]
  devnet reset [--data DIR]`;

const DEFAULT_DATA = resolve(__dirname, '../../../../.devnet');
/** The product chaincode of this repository. */
const DEFAULT_CHAINCODE = resolve(__dirname, '../../../../chaincode');

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      data: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      orgs: { type: 'string' },
      channel: { type: 'string' },
      'chaincode-path': { type: 'string' },
      'chaincode-name': { type: 'string' },
      'chaincode-node': { type: 'string' },
      endorsers: { type: 'string' },
      'block-size': { type: 'string' },
      'block-timeout': { type: 'string' },
      'max-message-bytes': { type: 'string' },
    },
  });
  const dataDir = resolve(values.data ?? process.env.DEVNET_DATA ?? DEFAULT_DATA);
  if (cmd === 'reset') {
    rmSync(dataDir, { recursive: true, force: true });
    console.log(`removed ${dataDir}`);
    return;
  }
  if (cmd !== 'start') {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const devnet = new Devnet({
    dataDir,
    host: values.host,
    port: int(values.port, 'port') ?? 7051,
    orgs: values.orgs?.split(',').map((s) => s.trim()).filter(Boolean),
    channel: values.channel,
    chaincode: { name: values['chaincode-name'] ?? 'trace', path: values['chaincode-path'] ?? DEFAULT_CHAINCODE, node: values['chaincode-node'] },
    endorsers: int(values.endorsers, 'endorsers'),
    batch: { maxMessages: int(values['block-size'], 'block-size'), timeoutMs: int(values['block-timeout'], 'block-timeout') },
    maxMessageBytes: int(values['max-message-bytes'], 'max-message-bytes'),
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await devnet.stop();
    process.exit();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await devnet.start();
  console.log(`devnet ready on ${devnet.endpoint}
  channel      ${JSON.parse(JSON.stringify(devnet.ledger.channelId))}
  orgs         ${devnet.orgs.join(', ')}
  chaincode    ${devnet.launcher.definition.name} (${devnet.launcher.definition.path}, run by ${devnet.launcher.definition.node ?? process.execPath})
  connection   ${devnet.connectionPath}
  identities   ${resolve(dataDir, 'crypto')}/<MSP>/users/<name>/{cert.pem,key.pem}
  data         ${dataDir}
Ctrl-C stops; starting again resumes on the same data.`);
  // Machine-readable line for scripts and tests.
  console.log(JSON.stringify({ ready: true, endpoint: devnet.endpoint, connection: devnet.connectionPath, pid: process.pid }));
}

main().catch((e: Error) => {
  console.error(`devnet: ${e.message}`);
  process.exit(1);
});
