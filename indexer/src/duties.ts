import type { Logger } from 'pino';
import { Ledger, TbaasLedger } from '@trace/client';
import type { IndexerStatus } from './api';
import { checkpoint, Db } from './db';
import { Ingestor } from './ingest';
import { Lease, LEASE_TTL_MS, leaseHolderId } from './lease';
import { expireScanIds, SCAN_ID_TTL_MS } from './scan-durability';
import { ScanSender } from './scan-sender';
import { GatewaySource } from './source';
import { CLOUD_ONLY, FollowerOptions, InvocationFollower, TbaasSource } from './tbaas-source';

/** What an ingesting process is tuned with (plain data: a worker thread receives it as is). */
export interface DutyOptions {
  sendIntervalMs?: number;
  /** backoff of the TBaaS cloud-only follower */
  follower?: FollowerOptions;
  /** how long a client's scanId is remembered after its scan (default: INDEXER_SCAN_ID_TTL_HOURS, else 7 days) */
  scanIdTtlMs?: number;
  /** how long the ingestor's and the scan sender's leases last unrenewed (default: INDEXER_LEASE_TTL_MS, else 15 s) */
  leaseTtlMs?: number;
}

/** The duties a process runs beside (or instead of) serving, and how they stand. */
export interface Duties {
  status(): Promise<IndexerStatus>;
  stop(): Promise<void>;
}

/**
 * What the indexer follows: blocks (gateway, or TBaaS's access address) into every table, or, on
 * TBaaS with only the cloud API configured, the invocation records, reported degraded.
 */
function follow(db: Db, ledger: Ledger, log: Logger, follower: FollowerOptions | undefined, fence: (tx: Db) => Promise<void>): { running: Promise<void>; stop(): void; status(): IndexerStatus } {
  if (ledger instanceof TbaasLedger && !ledger.hasDirectAccess) {
    const invocations = new InvocationFollower(db, ledger, log, follower);
    log.warn({ event: 'indexer.degraded', ...CLOUD_ONLY });
    return { running: invocations.run(), stop: () => invocations.stop(), status: () => ({ ready: invocations.connected, next: invocations.next, degraded: CLOUD_ONLY }) };
  }
  const ingestor = new Ingestor(db, ledger instanceof TbaasLedger ? new TbaasSource(ledger) : new GatewaySource(ledger), log, ledger.chaincodeName, fence);
  return { running: ingestor.run(), stop: () => ingestor.stop(), status: () => ({ ready: ingestor.connected, next: ingestor.next }) };
}

/**
 * The ingest role: follows the chain into the database and sends the queued scans, each while this
 * process holds its lease (several processes may share the database: the others wait and take the
 * duty over when the lease lapses), and forgets expired scan ids. Owns `ledger` and closes it on stop.
 */
export async function runDuties(db: Db, ledger: Ledger, log: Logger, opts: DutyOptions): Promise<Duties> {
  const scanIdTtlMs = opts.scanIdTtlMs ?? (process.env.INDEXER_SCAN_ID_TTL_HOURS ? Number(process.env.INDEXER_SCAN_ID_TTL_HOURS) * 3_600_000 : SCAN_ID_TTL_MS);
  const expire = async () => {
    const expired = await expireScanIds(db, scanIdTtlMs, Date.now());
    if (expired > 0) log.info({ event: 'indexer.scan_ids_expired', count: expired });
  };
  // first, before any duty runs: a database that refuses it fails the start (and the ledger is closed)
  await expire().catch((e: Error) => {
    ledger.close();
    throw e;
  });
  const expiry = setInterval(() => void expire().catch((e: Error) => log.warn({ event: 'indexer.scan_ids_expiry_failed', err: e.message })), 3_600_000);
  expiry.unref();
  const ttlMs = opts.leaseTtlMs ?? Number(process.env.INDEXER_LEASE_TTL_MS ?? LEASE_TTL_MS);
  const holder = leaseHolderId();
  const ingestLease = new Lease(db, 'ingestor', { holder, ttlMs, log });
  const sendLease = new Lease(db, 'scan-sender', { holder, ttlMs, log });
  let following: ReturnType<typeof follow> | undefined;
  const running = ingestLease.run(() => (following = follow(db, ledger, log, opts.follower, (tx) => ingestLease.fence(tx))));
  const sending = sendLease.run(() => {
    const sender = new ScanSender(db, ledger, log, opts.sendIntervalMs, undefined, () => sendLease.fresh());
    return { running: sender.run(), stop: () => sender.stop() };
  });
  return {
    // a follower serves the index its leader keeps: ready, at the leader's checkpoint
    status: async () => ({
      ...(ingestLease.role === 'leader' && following ? following.status() : { ready: true, next: await checkpoint(db) }),
      leases: { ingestor: await ingestLease.info(), scanSender: await sendLease.info() },
    }),
    stop: async () => {
      // stopping a lease stops its work and releases it, so a follower takes over at its next poll
      const released = Promise.all([ingestLease.stop(), sendLease.stop()]);
      clearInterval(expiry);
      // a batch being submitted gets a few seconds to commit and leave the queue (else it is sent
      // again after restart); then closing the transport ends whatever is still in flight
      await Promise.race([released, new Promise((r) => setTimeout(r, 5000))]);
      ledger.close();
      await Promise.all([released, running, sending]);
    },
  };
}
