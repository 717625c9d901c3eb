import './fabric-sdk-log';
import type { Client } from '@grpc/grpc-js';
import { CommitError, CommitEvent, Gateway, Network, Wallets, X509Identity } from 'fabric-network';
import { chaincodeEventsFromBlocks } from './blocks';
import { chaincodeMessage, LedgerError, parseChaincodeError } from './errors';
import { FabricGatewayLedger, grpcClient } from './fabric-gateway';
import { GatewayIdentity } from './identities';
import { ChainBlock, ChainEvent, Checkpoint, EventStream, Ledger, SubmitResult } from './ledger';

/** A peer or orderer endpoint of a Fabric network. */
export interface FabricEndpoint {
  /** host:port */
  endpoint: string;
  /** TLS CA certificate (PEM) that signed the node's TLS certificate; plaintext (grpc://) when absent */
  tlsCACert?: string | Buffer;
  /** the name in the node's TLS certificate, when it differs from the host (e.g. peer0.org1.example.com) */
  serverName?: string;
  /** the node's name in the connection profile (default peer<i>.<MSP> or orderer<i>) */
  name?: string;
}

export interface FabricNetworkLedgerOptions {
  channel: string;
  chaincode: string;
  /** contract name inside the chaincode, when it has several */
  contract?: string;
  /** the signing identity (kept in an in-memory wallet) */
  identity: GatewayIdentity;
  /** each org's peers: they endorse, answer queries and deliver blocks */
  peers: Record<string, FabricEndpoint[]>;
  orderers: FabricEndpoint[];
  /** client certificate and key for mutual TLS (a TBaaS user TLS certificate) */
  clientTls?: { certPem: string | Buffer; keyPem: string | Buffer };
  /** orgs whose peers endorse a submit (default: every peer in `peers`) */
  endorsingOrganizations?: string[];
  /** Fabric service discovery (default off: the static profile decides) */
  discovery?: { enabled: boolean; asLocalhost?: boolean };
  /** per-call deadlines in ms */
  timeouts?: { evaluate?: number; endorse?: number; submit?: number; commit?: number };
}

const pem = (v: string | Buffer) => Buffer.from(v).toString();

/** Fabric's common connection profile (the object fabric-network reads) for one channel. */
export function connectionProfile(o: Pick<FabricNetworkLedgerOptions, 'channel' | 'peers' | 'orderers'>): Record<string, unknown> {
  const node = (e: FabricEndpoint) => ({
    url: `${e.tlsCACert ? 'grpcs' : 'grpc'}://${e.endpoint}`,
    ...(e.tlsCACert ? { tlsCACerts: { pem: pem(e.tlsCACert) } } : {}),
    grpcOptions: e.serverName ? { 'ssl-target-name-override': e.serverName, hostnameOverride: e.serverName } : {},
  });
  const organizations: Record<string, { mspid: string; peers: string[] }> = {};
  const peers: Record<string, unknown> = {};
  for (const [mspId, list] of Object.entries(o.peers)) {
    organizations[mspId] = { mspid: mspId, peers: [] };
    list.forEach((e, i) => {
      const name = e.name ?? `peer${i}.${mspId}`;
      organizations[mspId].peers.push(name);
      peers[name] = node(e);
    });
  }
  const orderers = Object.fromEntries(o.orderers.map((e, i) => [e.name ?? `orderer${i}`, node(e)]));
  const roles = { endorsingPeer: true, chaincodeQuery: true, ledgerQuery: true, eventSource: true };
  return {
    name: o.channel,
    version: '1.0.0',
    organizations,
    peers,
    orderers,
    channels: { [o.channel]: { orderers: Object.keys(orderers), peers: Object.fromEntries(Object.keys(peers).map((p) => [p, roles])) } },
  };
}

type Channel = ReturnType<Network['getChannel']>;
type Endorsement = ReturnType<Channel['newEndorsement']>;
type ProposalResponse = Awaited<ReturnType<Endorsement['send']>>;
type DiscoveryHandler = NonNullable<NonNullable<Parameters<Endorsement['send']>[0]>['handler']>;

/** fabric-common's messages for a peer or orderer that did not answer in time or at all. */
function transportCode(e: { code?: number; message?: string }): string | undefined {
  // A TLS peer that refuses the client certificate ends the call CANCELLED rather than UNAVAILABLE.
  if (e.code === 14 || e.code === 1 || /SERVICE UNAVAILABLE|not connected|failed to connect/i.test(e.message ?? '')) return 'ERR_UNAVAILABLE';
  if (e.code === 4 || /TIMEOUT/.test(e.message ?? '')) return 'ERR_TIMEOUT';
  return undefined;
}

/**
 * The endorsements a submit may send to the orderer, or the LedgerError the Gateway would give:
 * a chaincode [ERR_X] code, else ERR_ENDORSEMENT when a peer refused or the peers' results differ
 * (non-deterministic chaincode). A partial endorsement is never ordered.
 */
function checkEndorsements(res: ProposalResponse, transactionId: string): void {
  const failures: { text: string; code?: string }[] = [
    ...res.errors.map((e) => ({ text: e.message, code: transportCode(e as { code?: number; message: string }) })),
    ...res.responses.filter((r) => r.response.status >= 400 || !r.endorsement).map((r) => ({ text: r.response.message })),
  ];
  for (const f of failures) {
    const parsed = parseChaincodeError(f.text);
    if (parsed) throw new LedgerError(parsed.code, parsed.message, { transactionId });
  }
  if (failures.length > 0) {
    if (failures.every((f) => f.code)) {
      const hint = res.errors.some((e) => (e as { code?: number }).code === 1) ? ' (a TLS peer refuses a client without its TLS client certificate this way)' : '';
      throw new LedgerError(failures[0].code!, `no peer endorsed: ${failures.map((f) => f.text).join('; ')}${hint}`, { transactionId });
    }
    throw new LedgerError('ERR_ENDORSEMENT', chaincodeMessage(failures.find((f) => !f.code)?.text ?? failures[0].text), { transactionId });
  }
  if (res.responses.length === 0) throw new LedgerError('ERR_ENDORSEMENT', 'no endorsing peers', { transactionId });
  const [first, ...rest] = res.responses;
  const differing = rest.find((r) => !Buffer.from(r.payload).equals(Buffer.from(first.payload)));
  if (differing) {
    throw new LedgerError('ERR_ENDORSEMENT', `ProposalResponsePayloads do not match (${first.connection.name} vs ${differing.connection.name})`, { transactionId });
  }
}

/** fabric-common accepts arguments as strings or Buffers (a Uint8Array would be stringified). */
const toArgs = (args: (string | Uint8Array)[]) => args.map((a) => (typeof a === 'string' ? a : Buffer.from(a)));

/**
 * The Ledger transport for Fabric networks without the Gateway service (Fabric 2.3, e.g. TBaaS's
 * access address): fabric-network 2.2 with a static connection profile endorses through each
 * org peer's ProcessProposal, orders through the orderer's Broadcast and waits for the commit
 * over the own org's Deliver; blocks and chaincode events come from that peer's Deliver.
 */
export class FabricNetworkLedger implements Ledger {
  readonly chaincodeName: string;
  readonly channelName: string;

  private constructor(
    private readonly gateway: Gateway,
    private readonly network: Network,
    private readonly deliver: FabricGatewayLedger,
    private readonly deliverClient: Client,
    private readonly opts: FabricNetworkLedgerOptions,
  ) {
    this.chaincodeName = opts.chaincode;
    this.channelName = opts.channel;
  }

  static async connect(opts: FabricNetworkLedgerOptions): Promise<FabricNetworkLedger> {
    const own = opts.peers[opts.identity.mspId]?.[0];
    if (!own) throw new LedgerError('ERR_CONFIG', `no peer of ${opts.identity.mspId} in the peers option: queries, commit status and blocks use the own org's peer`);
    const wallet = await Wallets.newInMemoryWallet();
    const identity: X509Identity = {
      type: 'X.509',
      mspId: opts.identity.mspId,
      credentials: { certificate: pem(opts.identity.certPem), privateKey: pem(opts.identity.keyPem) },
    };
    await wallet.put('user', identity);
    const t = opts.timeouts ?? {};
    const gateway = new Gateway();
    await gateway.connect(connectionProfile(opts), {
      wallet,
      identity: 'user',
      discovery: opts.discovery ?? { enabled: false },
      ...(opts.clientTls ? { tlsInfo: { certificate: pem(opts.clientTls.certPem), key: pem(opts.clientTls.keyPem) } } : {}),
      queryHandlerOptions: { timeout: (t.evaluate ?? 30_000) / 1000 },
    });
    try {
      const network = await gateway.getNetwork(opts.channel);
      const client = grpcClient(
        { endpoint: own.endpoint, tls: own.tlsCACert !== undefined, tlsRootCert: own.tlsCACert === undefined ? undefined : Buffer.from(own.tlsCACert), serverNameOverride: own.serverName },
        opts.clientTls && { cert: opts.clientTls.certPem, key: opts.clientTls.keyPem },
      );
      const deliver = FabricGatewayLedger.connect({ endpoint: own.endpoint, channel: opts.channel, chaincode: opts.chaincode, identity: opts.identity, client });
      return new FabricNetworkLedger(gateway, network, deliver, client, opts);
    } catch (e) {
      gateway.disconnect();
      throw e;
    }
  }

  private qualified(transaction: string): string {
    return this.opts.contract ? `${this.opts.contract}:${transaction}` : transaction;
  }

  async submit(transaction: string, ...args: (string | Uint8Array)[]): Promise<SubmitResult> {
    try {
      return await this.endorseAndCommit(transaction, args);
    } catch (e) {
      if (e instanceof LedgerError) throw e;
      throw new LedgerError(transportCode(e as Error) ?? 'ERR_LEDGER', (e as Error).message ?? String(e), { cause: e });
    }
  }

  /** Endorsement by the chosen orgs' peers, Broadcast to the orderer, then the commit status. */
  private async endorseAndCommit(transaction: string, args: (string | Uint8Array)[]): Promise<SubmitResult> {
    const t = this.opts.timeouts ?? {};
    const channel = this.network.getChannel();
    const idx = this.gateway.identityContext!.calculateTransactionId();
    const transactionId = idx.transactionId;
    const endorsement = channel.newEndorsement(this.opts.chaincode);
    endorsement.build(idx, { fcn: this.qualified(transaction), args: toArgs(args) as string[], generateTransactionId: false });
    endorsement.sign(idx);
    const orgs = this.opts.endorsingOrganizations;
    // With discovery the SDK picks peers satisfying the chaincode's policy (and orderers); else the static profile decides.
    const handler = this.opts.discovery?.enabled
      ? await (this.network.getContract(this.opts.chaincode) as unknown as { getDiscoveryHandler(): Promise<DiscoveryHandler | undefined> }).getDiscoveryHandler()
      : undefined;
    const res = handler
      ? await endorsement.send({ handler, requiredOrgs: orgs, requestTimeout: t.endorse ?? 30_000 })
      : await endorsement.send({ targets: orgs ? orgs.flatMap((m) => channel.getEndorsers(m)) : channel.getEndorsers(), requestTimeout: t.endorse ?? 30_000 });
    checkEndorsements(res, transactionId);
    const first = res.responses[0];

    const committed = this.commitStatus(transactionId, t.commit ?? 60_000);
    try {
      await committed.listening;
      const commit = endorsement.newCommit();
      commit.build(idx);
      commit.sign(idx);
      let sent: { status: string; info?: string };
      try {
        const to = handler ? { handler } : { targets: channel.getCommitters() };
        sent = (await commit.send({ ...to, requestTimeout: t.submit ?? 30_000 })) as { status: string; info?: string };
      } catch (e) {
        throw new LedgerError(transportCode(e as Error) ?? 'ERR_UNAVAILABLE', `orderer: ${(e as Error).message}`, { transactionId, cause: e });
      }
      // The Gateway reports an orderer's refusal the same way (an ABORTED Submit).
      if (sent.status !== 'SUCCESS') throw new LedgerError('ERR_ENDORSEMENT', `received unsuccessful response from orderer: status=${sent.status}, info=${sent.info ?? ''}`, { transactionId });
      const event = await committed.event;
      if (!event.isValid) {
        throw new LedgerError('ERR_COMMIT', `transaction ${transactionId} failed to commit with status ${event.status}`, { transactionId, validationCode: event.status });
      }
      return { transactionId, blockNumber: BigInt(event.getBlockEvent().blockNumber.toString()), result: first.response.payload ?? new Uint8Array(0) };
    } finally {
      committed.stop();
    }
  }

  /** Listens for the transaction's commit on the own org's peers (any one answers), before it is ordered. */
  private commitStatus(transactionId: string, timeoutMs: number): { listening: Promise<unknown>; event: Promise<CommitEvent>; stop(): void } {
    const peers = this.network.getChannel().getEndorsers(this.opts.identity.mspId);
    let timer: NodeJS.Timeout | undefined;
    let listener: ((error?: CommitError, event?: CommitEvent) => void) | undefined;
    const event = new Promise<CommitEvent>((resolve, reject) => {
      const errors: CommitError[] = [];
      listener = (error, ev) => {
        if (ev) resolve(ev);
        else if (error && errors.push(error) === peers.length) {
          reject(new LedgerError('ERR_UNAVAILABLE', `no commit status from ${transactionId}'s peers: ${error.message}`, { transactionId, cause: error }));
        }
      };
      timer = setTimeout(() => reject(new LedgerError('ERR_TIMEOUT', `no commit status for ${transactionId} within ${timeoutMs} ms`, { transactionId })), timeoutMs);
    });
    event.catch(() => undefined);
    return {
      listening: this.network.addCommitListener(listener!, peers, transactionId),
      event,
      stop: () => {
        clearTimeout(timer);
        this.network.removeCommitListener(listener!);
      },
    };
  }

  async evaluate(transaction: string, ...args: (string | Uint8Array)[]): Promise<Uint8Array> {
    try {
      const contract = this.network.getContract(this.opts.chaincode);
      return await contract.evaluateTransaction(this.qualified(transaction), ...(toArgs(args) as string[]));
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      const parsed = parseChaincodeError(message);
      if (parsed) throw new LedgerError(parsed.code, parsed.message, { cause: e });
      throw new LedgerError(transportCode(e as Error) ?? 'ERR_ENDORSEMENT', chaincodeMessage(message.replace(/^peer error response: /, '')), { cause: e });
    }
  }

  async chaincodeEvents(checkpoint?: Checkpoint): Promise<EventStream<ChainEvent>> {
    return chaincodeEventsFromBlocks(await this.blocks(checkpoint?.blockNumber), this.opts.chaincode, checkpoint);
  }

  /** Blocks from the own org's peer over Deliver (the Gateway client's block events need no Gateway service). */
  blocks(startBlock?: bigint): Promise<EventStream<ChainBlock>> {
    return this.deliver.blocks(startBlock);
  }

  close(): void {
    this.deliver.close();
    this.deliverClient.close();
    this.gateway.disconnect();
  }
}
