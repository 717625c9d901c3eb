#!/usr/bin/env node
import { Server } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino, { Logger } from 'pino';
import { Ledger, ledgerFromConfig, TbaasLedger } from '@trace/client';
import { createApp, IndexerStatus } from './api';
import { checkpoint, Db, openDb } from './db';
import { Ingestor } from './ingest';
import { GatewaySource } from './source';
import { CLOUD_ONLY, FollowerOptions, InvocationFollower, TbaasSource } from './tbaas-source';
import { expireScanIds, SCAN_ID_TTL_MS } from './scan-durability';
import { ScanSender } from './scan-sender';
import { Lease, LEASE_TTL_MS, leaseHolderId } from './lease';

/**
 * What the indexer follows: blocks (gateway, or TBaaS's access address) into every table, or, on
 * TBaaS with only the cloud API configured, the invocation records, reported degraded.
 */
function follow(db: Db, ledger: Ledger, log: Logger, follower: FollowerOptions | undefined, fence: () => void): { running: Promise<void>; stop(): void; status(): IndexerStatus } {
  if (ledger instanceof TbaasLedger && !ledger.hasDirectAccess) {
    const invocations = new InvocationFollower(db, ledger, log, follower);
    log.warn({ event: 'indexer.degraded', ...CLOUD_ONLY });
    return { running: invocations.run(), stop: () => invocations.stop(), status: () => ({ ready: invocations.connected, next: invocations.next, degraded: CLOUD_ONLY }) };
  }
  const ingestor = new Ingestor(db, ledger instanceof TbaasLedger ? new TbaasSource(ledger) : new GatewaySource(ledger), log, ledger.chaincodeName, fence);
  return { running: ingestor.run(), stop: () => ingestor.stop(), status: () => ({ ready: ingestor.connected, next: ingestor.next }) };
}

/**
 * Runs the indexer: follows the chain from the database's checkpoint and serves the HTTP API.
 * `connection` is a gateway connection file or a TBaaS client file (`"type": "tbaas"`).
 */
export async function startIndexer(opts: {
  connection: string;
  db: string;
  host?: string;
  port?: number;
  msp?: string;
  user?: string;
  sendIntervalMs?: number;
  verifyPerMinute?: number;
  /** web app origins that may call every route (default: INDEXER_APP_ORIGINS, comma-separated) */
  appOrigins?: string[];
  /** trusted reverse proxies in front of the indexer (default: INDEXER_PROXY_HOPS, else 0) */
  proxyHops?: number;
  /** structured logger (default: pino to stderr) */
  logger?: Logger;
  /** backoff of the TBaaS cloud-only follower */
  follower?: FollowerOptions;
  /** how long a client's scanId is remembered after its scan (default: INDEXER_SCAN_ID_TTL_HOURS, else 7 days) */
  scanIdTtlMs?: number;
  /** how long the ingestor's and the scan sender's leases last unrenewed (default: INDEXER_LEASE_TTL_MS, else 15 s) */
  leaseTtlMs?: number;
}): Promise<{ server: Server; stop: () => Promise<void>; port: number }> {
  const log = opts.logger ?? pino({ base: { svc: 'indexer' } }, pino.destination(2));
  const ledger = ledgerFromConfig(opts.connection, { ...opts, log });
  const db = openDb(opts.db);
  // Several processes may share the database: the one holding a lease does its duty, the others
  // serve the API from what it writes and take the duty over when the lease lapses.
  const ttlMs = opts.leaseTtlMs ?? Number(process.env.INDEXER_LEASE_TTL_MS ?? LEASE_TTL_MS);
  const holder = leaseHolderId();
  const ingestLease = new Lease(db, 'ingestor', { holder, ttlMs, log });
  const sendLease = new Lease(db, 'scan-sender', { holder, ttlMs, log });
  let following: ReturnType<typeof follow> | undefined;
  const running = ingestLease.run(() => (following = follow(db, ledger, log, opts.follower, () => ingestLease.fence())));
  const sending = sendLease.run(() => {
    const sender = new ScanSender(db, ledger, log, opts.sendIntervalMs, undefined, () => sendLease.fresh());
    return { running: sender.run(), stop: () => sender.stop() };
  });
  // a follower serves the index its leader keeps: ready, at the leader's checkpoint
  const status = (): IndexerStatus => ({
    ...(ingestLease.role === 'leader' && following ? following.status() : { ready: true, next: checkpoint(db) }),
    leases: { ingestor: ingestLease.info(), scanSender: sendLease.info() },
  });
  const scanIdTtlMs = opts.scanIdTtlMs ?? (process.env.INDEXER_SCAN_ID_TTL_HOURS ? Number(process.env.INDEXER_SCAN_ID_TTL_HOURS) * 3_600_000 : SCAN_ID_TTL_MS);
  const expire = () => {
    const expired = expireScanIds(db, scanIdTtlMs, Date.now());
    if (expired > 0) log.info({ event: 'indexer.scan_ids_expired', count: expired });
  };
  expire();
  const expiry = setInterval(expire, 3_600_000);
  expiry.unref();
  const app = createApp(db, status, {
    ledger,
    perClientPerMinute: { verify: opts.verifyPerMinute ?? 120, audit: 600 },
    appOrigins: opts.appOrigins ?? (process.env.INDEXER_APP_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    proxyHops: opts.proxyHops ?? Number(process.env.INDEXER_PROXY_HOPS ?? 0),
  });
  app.on('error', (e: Error) => log.error({ event: 'indexer.http_error', err: e.message }));
  const server = await new Promise<Server>((res) => {
    const s = app.listen(opts.port ?? 3000, opts.host ?? '127.0.0.1', () => res(s));
  });
  const port = (server.address() as { port: number }).port;
  log.info({ event: 'indexer.ready', url: `http://${opts.host ?? '127.0.0.1'}:${port}`, db: opts.db });
  return {
    server,
    port,
    stop: async () => {
      // stopping a lease stops its work and releases it, so a follower takes over at its next poll
      const released = Promise.all([ingestLease.stop(), sendLease.stop()]);
      clearInterval(expiry);
      // a batch being submitted gets a few seconds to commit and leave the queue (else it is sent
      // again after restart); then closing the transport ends whatever is still in flight
      await Promise.race([released, new Promise((r) => setTimeout(r, 5000))]);
      ledger.close();
      await Promise.all([released, running, sending]);
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      db.close();
    },
  };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { connection: { type: 'string' }, db: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, msp: { type: 'string' }, user: { type: 'string' }, 'send-interval': { type: 'string' }, 'verify-per-minute': { type: 'string' }, 'app-origin': { type: 'string', multiple: true }, 'proxy-hops': { type: 'string' } } });
  startIndexer({
    connection: resolve(values.connection ?? '.devnet/connection-org1.json'),
    db: resolve(values.db ?? '.devnet/indexer.sqlite'),
    host: values.host,
    port: Number(values.port ?? process.env.PORT ?? 3000),
    msp: values.msp,
    user: values.user,
    sendIntervalMs: values['send-interval'] === undefined ? undefined : Number(values['send-interval']),
    verifyPerMinute: values['verify-per-minute'] === undefined ? undefined : Number(values['verify-per-minute']),
    appOrigins: values['app-origin'],
    proxyHops: values['proxy-hops'] === undefined ? undefined : Number(values['proxy-hops']),
  }).then(
    ({ port, stop }) => {
      console.log(`indexer on http://127.0.0.1:${port} (API /api/…, /openapi.json, /healthz)`);
      const quit = () => stop().then(() => process.exit(0));
      process.on('SIGINT', quit);
      process.on('SIGTERM', quit);
    },
    (e: Error) => {
      console.error(`indexer: ${e.message}`);
      process.exit(1);
    },
  );
}
