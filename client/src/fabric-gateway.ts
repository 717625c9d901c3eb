import * as grpc from '@grpc/grpc-js';
import { connect, Contract, Gateway, hash, Network } from '@hyperledger/fabric-gateway';
import { readFileSync } from 'node:fs';
import { parseBlock } from './blocks';
import { LedgerError, toLedgerError } from './errors';
import { codeName } from './blocks';
import { ChainBlock, ChainEvent, Checkpoint, EventStream, Ledger, SubmitResult } from './ledger';
import { nodeSigner } from './signer';

export interface GatewayIdentity {
  mspId: string;
  certPem: string | Buffer;
  keyPem: string | Buffer;
}

export interface GatewayLedgerOptions {
  /** host:port of a Fabric Gateway peer (or the devnet) */
  endpoint: string;
  channel: string;
  chaincode: string;
  /** contract name inside the chaincode, when it has several */
  contract?: string;
  identity: GatewayIdentity;
  /** TLS root certificate (PEM); plaintext when absent */
  tlsRootCert?: string | Buffer;
  /** override of the TLS server name (e.g. peer0.org1.example.com) */
  serverNameOverride?: string;
  /** orgs that must endorse, when the caller chooses them */
  endorsingOrganizations?: string[];
  /** per-call deadlines in ms */
  timeouts?: { evaluate?: number; endorse?: number; submit?: number; commitStatus?: number };
  /** reuse one gRPC connection across ledgers of several identities */
  client?: grpc.Client;
}

/** The connection file the devnet writes (and a real network's operator can write the same way). */
export interface ConnectionProfile {
  channel: string;
  chaincode: string;
  gatewayEndpoint: string;
  orgs: Record<string, { users: Record<string, { certPath: string; keyPath: string }> }>;
}

/** A ledger for one identity of a connection file: org (default the first) and user (default User1). */
export function ledgerFromProfile(path: string, opts: { msp?: string; user?: string } = {}): FabricGatewayLedger {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as ConnectionProfile;
  const mspId = opts.msp ?? Object.keys(profile.orgs)[0];
  const user = profile.orgs[mspId]?.users[opts.user ?? 'User1'];
  if (!user) throw new Error(`no identity ${opts.user ?? 'User1'} for ${mspId} in ${path}`);
  return FabricGatewayLedger.connect({ endpoint: profile.gatewayEndpoint, channel: profile.channel, chaincode: profile.chaincode, identity: identityFromFiles(mspId, user.certPath, user.keyPath) });
}

/** Loads an identity from PEM files (as the devnet writes them). */
export function identityFromFiles(mspId: string, certPath: string, keyPath: string): GatewayIdentity {
  return { mspId, certPem: readFileSync(certPath), keyPem: readFileSync(keyPath) };
}

/** A gRPC client: plaintext without tlsRootCert; clientTls adds a client certificate (mutual TLS). */
export function grpcClient(endpoint: string, tlsRootCert?: string | Buffer, serverNameOverride?: string, clientTls?: { certPem: string | Buffer; keyPem: string | Buffer }): grpc.Client {
  const creds = tlsRootCert
    ? grpc.credentials.createSsl(Buffer.from(tlsRootCert), clientTls && Buffer.from(clientTls.keyPem), clientTls && Buffer.from(clientTls.certPem))
    : grpc.credentials.createInsecure();
  const options: grpc.ClientOptions = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1, 'grpc.enable_channelz': 0 };
  if (serverNameOverride) options['grpc.ssl_target_name_override'] = serverNameOverride;
  return new grpc.Client(endpoint, creds, options);
}

/** Async iterable wrapper that maps items and exposes close(). */
function mapStream<A, B>(source: AsyncIterable<A> & { close(): void }, fn: (a: A) => B): EventStream<B> {
  return {
    close: () => source.close(),
    async *[Symbol.asyncIterator]() {
      for await (const item of source) yield fn(item);
    },
  };
}

/** The Ledger transport over the official Fabric Gateway client (devnet and any Fabric 2.4+ network). */
export class FabricGatewayLedger implements Ledger {
  readonly chaincodeName: string;

  private constructor(
    private readonly gateway: Gateway,
    private readonly network: Network,
    private readonly contract: Contract,
    private readonly opts: GatewayLedgerOptions,
    private readonly ownClient?: grpc.Client,
  ) {
    this.chaincodeName = opts.chaincode;
  }

  static connect(opts: GatewayLedgerOptions): FabricGatewayLedger {
    const ownClient = opts.client ? undefined : grpcClient(opts.endpoint, opts.tlsRootCert, opts.serverNameOverride);
    const client = opts.client ?? ownClient!;
    const t = opts.timeouts ?? {};
    const gateway = connect({
      client,
      identity: { mspId: opts.identity.mspId, credentials: Buffer.from(opts.identity.certPem) },
      signer: nodeSigner(opts.identity.keyPem),
      hash: hash.none,
      evaluateOptions: () => ({ deadline: Date.now() + (t.evaluate ?? 30_000) }),
      endorseOptions: () => ({ deadline: Date.now() + (t.endorse ?? 30_000) }),
      submitOptions: () => ({ deadline: Date.now() + (t.submit ?? 30_000) }),
      commitStatusOptions: () => ({ deadline: Date.now() + (t.commitStatus ?? 60_000) }),
    });
    const network = gateway.getNetwork(opts.channel);
    const contract = network.getContract(opts.chaincode, opts.contract);
    return new FabricGatewayLedger(gateway, network, contract, opts, ownClient);
  }

  async submit(transaction: string, ...args: (string | Uint8Array)[]): Promise<SubmitResult> {
    try {
      const proposal = this.contract.newProposal(transaction, { arguments: args, endorsingOrganizations: this.opts.endorsingOrganizations });
      const tx = await proposal.endorse();
      const commit = await tx.submit();
      const status = await commit.getStatus();
      if (!status.successful) {
        const name = codeName(status.code);
        throw new LedgerError('ERR_COMMIT', `transaction ${status.transactionId} failed to commit with status ${name}`, {
          transactionId: status.transactionId,
          validationCode: name,
        });
      }
      return { transactionId: tx.getTransactionId(), blockNumber: status.blockNumber, result: tx.getResult() };
    } catch (e) {
      throw toLedgerError(e);
    }
  }

  async evaluate(transaction: string, ...args: (string | Uint8Array)[]): Promise<Uint8Array> {
    try {
      return await this.contract.evaluate(transaction, { arguments: args });
    } catch (e) {
      throw toLedgerError(e);
    }
  }

  async chaincodeEvents(checkpoint?: Checkpoint): Promise<EventStream<ChainEvent>> {
    const options = checkpoint
      ? {
          checkpoint: {
            getBlockNumber: () => checkpoint.blockNumber,
            getTransactionId: () => checkpoint.transactionId,
          },
        }
      : {};
    const events = await this.network.getChaincodeEvents(this.opts.chaincode, options);
    return mapStream(events, (e) => ({ blockNumber: e.blockNumber, transactionId: e.transactionId, eventName: e.eventName, payload: e.payload }));
  }

  async blocks(startBlock?: bigint): Promise<EventStream<ChainBlock>> {
    const events = await this.network.getBlockEvents(startBlock === undefined ? {} : { startBlock });
    return mapStream(events, parseBlock);
  }

  close(): void {
    this.gateway.close();
    this.ownClient?.close();
  }
}
