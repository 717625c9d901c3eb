import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connect, Contract, Gateway, hash, Network } from '@hyperledger/fabric-gateway';
import { RunningDevnet } from '../../src/devnet/spawn';
import { loadPrivateKey, signMessage } from '../../src/devnet/crypto/ecdsa';

export interface Client {
  gateway: Gateway;
  network: Network;
  contract: Contract;
  client: grpc.Client;
  close(): void;
}

export type SignerFn = (message: Uint8Array) => Promise<Uint8Array>;

/** A signer over the whole message with Node's crypto (use with hash.none), low-S like Fabric's. */
export function fileSigner(keyPath: string): SignerFn {
  const key = loadPrivateKey(readFileSync(keyPath));
  return async (m) => signMessage(key, m);
}

/** An official fabric-gateway client for one of the devnet's identities (or explicit cert/signer). */
export function gatewayClient(
  devnet: RunningDevnet,
  opts: { mspId?: string; user?: string; certPem?: Buffer | string; signer?: SignerFn; chaincode?: string; channel?: string } = {},
): Client {
  const mspId = opts.mspId ?? 'Org1MSP';
  const files = devnet.user(mspId, opts.user ?? 'User1');
  const client = new grpc.Client(devnet.endpoint, grpc.credentials.createInsecure());
  const gateway = connect({
    client,
    identity: { mspId, credentials: Buffer.from(opts.certPem ?? readFileSync(files.certPath)) },
    signer: opts.signer ?? fileSigner(files.keyPath),
    hash: hash.none,
  });
  const network = gateway.getNetwork(opts.channel ?? devnet.channel);
  const contract = network.getContract(opts.chaincode ?? devnet.chaincode);
  return {
    gateway,
    network,
    contract,
    client,
    close: () => {
      gateway.close();
      client.close();
    },
  };
}

export const utf8 = (b: Uint8Array) => Buffer.from(b).toString('utf8');

export async function waitFor<T>(fn: () => Promise<T>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}


export { findPids, RunningDevnet, startDevnet } from '../../src/devnet/spawn';
