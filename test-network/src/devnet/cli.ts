#!/usr/bin/env node
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Devnet } from './network';

const USAGE = `usage:
  devnet start [--data DIR] [--host 127.0.0.1] [--port 7051] [--orgs Org1MSP,Org2MSP] [--channel tracechannel]
               [--chaincode-path DIR] [--chaincode-name NAME] [--chaincode-node NODE_BINARY] [--chaincode-env KEY=VALUE ...]
               [--endorsers N]
               [--block-size N] [--block-timeout MS] [--max-message-bytes N] [--tls | --mtls] [--no-gateway]
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

/** KEY=VALUE pairs for the chaincode processes, e.g. TRACE_FOUNDER_MSP=Org2MSP */
function chaincodeEnv(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((p) => {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(p);
      if (!m) throw new Error(`--chaincode-env ${p}: expected KEY=VALUE`);
      return [m[1], m[2]];
    }),
  );
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
      'chaincode-env': { type: 'string', multiple: true },
      endorsers: { type: 'string' },
      'block-size': { type: 'string' },
      'block-timeout': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'no-gateway': { type: 'boolean' },
      tls: { type: 'boolean' },
      mtls: { type: 'boolean' },
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
    chaincode: { name: values['chaincode-name'] ?? 'trace', path: values['chaincode-path'] ?? DEFAULT_CHAINCODE, node: values['chaincode-node'], env: chaincodeEnv(values['chaincode-env'] ?? []) },
    endorsers: int(values.endorsers, 'endorsers'),
    batch: { maxMessages: int(values['block-size'], 'block-size'), timeoutMs: int(values['block-timeout'], 'block-timeout') },
    maxMessageBytes: int(values['max-message-bytes'], 'max-message-bytes'),
    tls: values.mtls ? 'mtls' : values.tls ? 'tls' : 'none',
    gateway: !values['no-gateway'],
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
  console.log(`devnet ready on ${devnet.endpoint}${values['no-gateway'] ? ' (no Gateway service: a Fabric 2.3 peer)' : ''}
  org peers    ${Object.entries(devnet.peerEndpoints).map(([m, e]) => `${m} ${e}`).join(', ')}
  channel      ${JSON.parse(JSON.stringify(devnet.ledger.channelId))}
  orgs         ${devnet.orgs.join(', ')}
  chaincode    ${devnet.launcher.definition.name} (${devnet.launcher.definition.path}, run by ${devnet.launcher.definition.node ?? process.execPath})
  tls          ${devnet.tls === 'none' ? 'off' : devnet.tls === 'mtls' ? 'mutual TLS (client certificates required)' : 'on'}
  profiles     ${Object.values(devnet.connectionProfiles).join('\n               ')}
  identities   ${resolve(dataDir, 'crypto')}/<MSP>/users/<name>/msp (signcerts/, keystore/) and tls/client.{crt,key}
  data         ${dataDir}
Ctrl-C stops; starting again resumes on the same data.`);
  // Machine-readable line for scripts and tests.
  console.log(JSON.stringify({ ready: true, endpoint: devnet.endpoint, peers: devnet.peerEndpoints, orderer: devnet.ordererEndpoint, connection: devnet.connectionPath, profiles: devnet.connectionProfiles, pid: process.pid }));
}

main().catch((e: Error) => {
  console.error(`devnet: ${e.message}`);
  process.exit(1);
});
