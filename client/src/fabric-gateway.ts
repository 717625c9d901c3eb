import * as grpc from '@grpc/grpc-js';
import { connect, Contract, Gateway, hash, Network, Status } from '@hyperledger/fabric-gateway';
import { CommitWatcher } from './commit-watcher';
import { parseBlock } from './blocks';
import { LedgerError, toLedgerError } from './errors';
import { codeName } from './blocks';
import { PeerTarget } from './connection-profile';
import { GatewayIdentity } from './identities';
import { ChainBlock, ChainEvent, Checkpoint, EventStream, Ledger, SubmitResult, SystemChaincode } from './ledger';
import { nodeSigner } from './signer';

export interface GatewayLedgerOptions {
  /** host:port of a Fabric Gateway peer (or the devnet) */
  endpoint: string;
  channel: string;
  chaincode: string;
  /** contract name inside the chaincode, when it has several */
  contract?: string;
  identity: GatewayIdentity;
  /** TLS root certificate (PEM); plaintext when absent (unless tls is set) */
  tlsRootCert?: string | Buffer;
  /** TLS with the system's roots when there is no tlsRootCert */
  tls?: boolean;
  /** override of the TLS server name (e.g. peer0.org1.example.com) */
  serverNameOverride?: string;
  /** client certificate and key (PEM) for peers that require mutual TLS */
  tlsClientCert?: string | Buffer;
  tlsClientKey?: string | Buffer;
  /** the org's other peers, tried in order while the first call gets UNAVAILABLE */
  fallbackPeers?: PeerTarget[];
  /** name of the endpoint's peer in errors (e.g. peer0.org1.example.com) */
  peerName?: string;
  /** orgs that must endorse, when the caller chooses them */
  endorsingOrganizations?: string[];
  /** per-call deadlines in ms */
  timeouts?: { evaluate?: number; endorse?: number; submit?: number; commitStatus?: number };
  /** reuse one gRPC connection across ledgers of several identities */
  client?: grpc.Client;
}

/** A gRPC connection to one peer: plaintext, TLS, or mutual TLS with a client certificate. */
export function grpcClient(peer: string | Omit<PeerTarget, 'name'>, tlsClient?: { cert: string | Buffer; key: string | Buffer }): grpc.Client {
  const p = typeof peer === 'string' ? { endpoint: peer, tls: false } : peer;
  const creds =
    p.tls || p.tlsRootCert
      ? grpc.credentials.createSsl(p.tlsRootCert ?? null, tlsClient ? Buffer.from(tlsClient.key) : null, tlsClient ? Buffer.from(tlsClient.cert) : null)
      : grpc.credentials.createInsecure();
  const options: grpc.ClientOptions = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1, 'grpc.enable_channelz': 0 };
  if (p.serverNameOverride) options['grpc.ssl_target_name_override'] = p.serverNameOverride;
  return new grpc.Client(p.endpoint, creds, options);
}

const TLS_FAILURE = /certificate|ssl|tls|altnames|handshake|alert|self.signed/i;

/**
 * Names the peer in a connection failure and tells TLS failures (ERR_TLS) from an unreachable peer
 * (ERR_UNAVAILABLE). A TLS 1.3 server that refuses a client certificate just closes the connection,
 * which the client cannot tell from a peer going away: with a client certificate the message says so.
 */
function connectionError(e: LedgerError, peer: PeerTarget, withClientCert: boolean): LedgerError {
  if (e.code !== 'ERR_UNAVAILABLE') return e;
  const where = `${peer.name} at ${peer.tls ? 'grpcs' : 'grpc'}://${peer.endpoint}`;
  if (TLS_FAILURE.test(e.message)) return new LedgerError('ERR_TLS', `TLS connection to ${where} failed: ${e.message}`, e.details);
  const hint = peer.tls && withClientCert ? ' (or it refused the TLS client certificate)' : '';
  return new LedgerError('ERR_UNAVAILABLE', `${where} is unavailable${hint}: ${e.message}`, e.details);
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

/** The gateway, network and contract of one peer connection. */
interface PeerConnection {
  peer: PeerTarget;
  gateway: Gateway;
  network: Network;
  contract: Contract;
  /** commit outcomes from the connection's filtered-block stream */
  commits: CommitWatcher;
  ownClient?: grpc.Client;
}

/**
 * The Ledger transport over the official Fabric Gateway client (devnet and any Fabric 2.4+ network),
 * plaintext, TLS or mutual TLS, on one peer with the org's other peers as fallbacks.
 */
export class FabricGatewayLedger implements Ledger {
  readonly chaincodeName: string;
  readonly channelName: string;
  private readonly peers: PeerTarget[];
  private peerIndex = 0;
  private conn: PeerConnection;
  /** a call has succeeded: the peer is reachable and fallbacks are no longer tried */
  private settled = false;
  /** client certificate and key for mutual TLS */
  private readonly tlsClient?: { cert: string | Buffer; key: string | Buffer };

  private constructor(private readonly opts: GatewayLedgerOptions) {
    this.chaincodeName = opts.chaincode;
    this.channelName = opts.channel;
    const first: PeerTarget = {
      name: opts.peerName ?? opts.endpoint,
      endpoint: opts.endpoint,
      tls: Boolean(opts.tls || opts.tlsRootCert),
      tlsRootCert: opts.tlsRootCert === undefined ? undefined : Buffer.from(opts.tlsRootCert),
      serverNameOverride: opts.serverNameOverride,
    };
    this.peers = opts.client ? [first] : [first, ...(opts.fallbackPeers ?? [])];
    if (opts.tlsClientCert && opts.tlsClientKey) this.tlsClient = { cert: opts.tlsClientCert, key: opts.tlsClientKey };
    this.conn = this.open(first);
  }

  static connect(opts: GatewayLedgerOptions): FabricGatewayLedger {
    return new FabricGatewayLedger(opts);
  }

  private open(peer: PeerTarget): PeerConnection {
    const opts = this.opts;
    const ownClient = opts.client ? undefined : grpcClient(peer, this.tlsClient);
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
    return { peer, gateway, network, contract, commits: new CommitWatcher(network), ownClient };
  }

  /**
   * Runs fn on the current peer. Until a call has succeeded, UNAVAILABLE (nothing was sent to the
   * ledger) moves to the org's next peer and runs fn again there.
   */
  private async onPeer<T>(fn: (c: PeerConnection) => Promise<T>): Promise<T> {
    for (;;) {
      const conn = this.conn;
      try {
        const result = await fn(conn);
        this.settled = true;
        return result;
      } catch (e) {
        const err = toLedgerError(e);
        if (this.settled || err.code !== 'ERR_UNAVAILABLE') throw connectionError(err, conn.peer, this.tlsClient !== undefined);
        if (conn !== this.conn) continue;
        if (this.peerIndex + 1 >= this.peers.length) throw connectionError(err, conn.peer, this.tlsClient !== undefined);
        this.close();
        this.peerIndex += 1;
        this.conn = this.open(this.peers[this.peerIndex]);
      }
    }
  }

  async submit(transaction: string, ...args: (string | Uint8Array)[]): Promise<SubmitResult> {
    const { conn, tx } = await this.onPeer(async (c) => {
      const proposal = c.contract.newProposal(transaction, { arguments: args, endorsingOrganizations: this.opts.endorsingOrganizations });
      return { conn: c, tx: await proposal.endorse() };
    });
    const transactionId = tx.getTransactionId();
    const watched = conn.commits.expect(transactionId);
    try {
      const commit = await tx.submit();
      const status = (await this.watchedStatus(watched)) ?? (await commit.getStatus());
      if (!status.successful) {
        const name = codeName(status.code);
        throw new LedgerError('ERR_COMMIT', `transaction ${status.transactionId} failed to commit with status ${name}`, {
          transactionId: status.transactionId,
          validationCode: name,
        });
      }
      return { transactionId: tx.getTransactionId(), blockNumber: status.blockNumber, result: tx.getResult() };
    } catch (e) {
      throw connectionError(toLedgerError(e), conn.peer, this.tlsClient !== undefined);
    } finally {
      conn.commits.forget(transactionId);
    }
  }

  /** The outcome from the block stream within the commit-status deadline; undefined: ask with CommitStatus. */
  private async watchedStatus(watched: Promise<Status | undefined> | undefined): Promise<Status | undefined> {
    if (!watched) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.opts.timeouts?.commitStatus ?? 60_000)));
    try {
      return await Promise.race([watched, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async evaluate(transaction: string, ...args: (string | Uint8Array)[]): Promise<Uint8Array> {
    return this.onPeer((c) => c.contract.evaluate(transaction, { arguments: args }));
  }

  async querySystem(chaincode: SystemChaincode, fn: string, ...args: (string | Uint8Array)[]): Promise<Uint8Array> {
    return this.onPeer((c) => c.network.getContract(chaincode).evaluate(fn, { arguments: args }));
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
    const events = await this.onPeer((c) => c.network.getChaincodeEvents(this.opts.chaincode, options));
    return mapStream(events, (e) => ({ blockNumber: e.blockNumber, transactionId: e.transactionId, eventName: e.eventName, payload: e.payload }));
  }

  async blocks(startBlock?: bigint): Promise<EventStream<ChainBlock>> {
    const events = await this.onPeer((c) => c.network.getBlockEvents(startBlock === undefined ? {} : { startBlock }));
    return mapStream(events, parseBlock);
  }

  close(): void {
    this.conn.commits.close();
    this.conn.gateway.close();
    this.conn.ownClient?.close();
  }
}
