/**
 * Chaincode-as-a-service entry (Fabric 2.5 peers with the ccaas builder dial this server instead of
 * launching the chaincode): runs fabric-chaincode-node's `server` command from the environment, as
 * a container is configured. Run it from the package directory (the shim loads the contracts from
 * the working directory's package.json).
 *
 *   CHAINCODE_SERVER_ADDRESS          host:port to listen on (e.g. 0.0.0.0:9999)
 *   CHAINCODE_ID                      the package ID `peer lifecycle chaincode install` printed
 *   CHAINCODE_TLS_KEY_FILE            optional: the server's TLS key (PEM) …
 *   CHAINCODE_TLS_CERT_FILE           … and certificate (PEM); both or neither
 *   CHAINCODE_TLS_CLIENT_CACERT_FILE  optional with TLS: CA of the peers' client certificates (mutual TLS)
 */
import { existsSync } from 'fs';

function serverArgs(env: NodeJS.ProcessEnv): string[] {
  const need = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`[ERR_CONFIG] ${name} is not set`);
    return value;
  };
  const file = (name: string): string | undefined => {
    const path = env[name]?.trim();
    if (path && !existsSync(path)) throw new Error(`[ERR_CONFIG] ${name}: no such file ${path}`);
    return path || undefined;
  };
  const args = ['server', '--chaincode-address', need('CHAINCODE_SERVER_ADDRESS'), '--chaincode-id', need('CHAINCODE_ID')];
  const [key, cert, clientCa] = [file('CHAINCODE_TLS_KEY_FILE'), file('CHAINCODE_TLS_CERT_FILE'), file('CHAINCODE_TLS_CLIENT_CACERT_FILE')];
  if (!key !== !cert) throw new Error('[ERR_CONFIG] CHAINCODE_TLS_KEY_FILE and CHAINCODE_TLS_CERT_FILE go together');
  if (clientCa && !key) throw new Error('[ERR_CONFIG] CHAINCODE_TLS_CLIENT_CACERT_FILE needs TLS (CHAINCODE_TLS_KEY_FILE, CHAINCODE_TLS_CERT_FILE)');
  if (key && cert) args.push('--chaincode-tls-key-file', key, '--chaincode-tls-cert-file', cert);
  if (clientCa) args.push('--chaincode-tls-client-cacert-file', clientCa);
  return args;
}

try {
  const args = serverArgs(process.env);
  // The shim's CLI reads its command from argv: hand it over in this process, so signals reach it directly.
  process.argv = [process.argv[0], require.resolve('fabric-shim/cli'), ...args];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CLI is a script with no typings, run for its effect
  require('fabric-shim/cli');
} catch (e) {
  console.error(JSON.stringify({ level: 'error', event: 'chaincode.server.config', message: (e as Error).message }));
  process.exit(1);
}
