import { Server, ServerCredentials } from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import type { Logger } from 'pino';
import { MspRegistry } from '../devnet/crypto/msp';
import { deliverService, DeliverLedger } from '../devnet/services/deliver';
import { TlsPair } from '../devnet/crypto/ca';

export interface AccessAddressOptions {
  chain: DeliverLedger;
  msps: MspRegistry;
  /** the network's TLS CA: a client must present a certificate it issued */
  tlsCaPem: string;
  server: TlsPair;
  log: Logger;
  host?: string;
  port?: number;
}

/**
 * A TBaaS network's access address as a Fabric 2.3 peer presents it: gRPC over TLS with a required
 * client certificate from the network's TLS CA, serving protos.Deliver for the channel. Fabric 2.3
 * has no Gateway service, so it is not registered and grpc-js answers its calls UNIMPLEMENTED.
 */
export async function startAccessAddress(o: AccessAddressOptions): Promise<{ endpoint: string; stop(): void }> {
  const server = new Server({ 'grpc.max_send_message_length': -1, 'grpc.enable_channelz': 0 });
  server.addService(peer.DeliverService, deliverService(o.chain, o.msps, o.log));
  const credentials = ServerCredentials.createSsl(Buffer.from(o.tlsCaPem), [{ private_key: Buffer.from(o.server.keyPem), cert_chain: Buffer.from(o.server.certPem) }], true);
  const host = o.host ?? '127.0.0.1';
  const port = await new Promise<number>((res, rej) => server.bindAsync(`${host}:${o.port ?? 0}`, credentials, (err, p) => (err ? rej(err) : res(p))));
  return { endpoint: `${host}:${port}`, stop: () => server.forceShutdown() };
}
