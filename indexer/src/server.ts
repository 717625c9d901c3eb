#!/usr/bin/env node
import { Server } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino, { Logger } from 'pino';
import { ledgerFromConfig } from '@trace/client';
import { createApp } from './api';
import { checkpoint, Db, openDb } from './db';
import { Duties, DutyOptions, runDuties } from './duties';
import { startIngestThread } from './ingest-thread';
import { leaseInfo } from './lease';
import { runServeWorkers } from './serve-workers';
import { dbLocation, redactLocation } from './store';

/**
 * What a process of the indexer does: `combined` (the default, what `npm start` runs) serves the
 * API and pages and ingests in a worker thread of its own; `serve` only serves, from what an ingest
 * process writes into the shared database (any number of them).
 */
export type ServingRole = 'combined' | 'serve';

export interface IndexerOptions extends DutyOptions {
  /** a gateway connection file or a TBaaS client file (`"type": "tbaas"`) */
  connection: string;
  /** the database: a SQLite file path, or a postgres:// URL */
  db: string;
  /** combined (default) or serve */
  role?: ServingRole;
  host?: string;
  port?: number;
  msp?: string;
  user?: string;
  verifyPerMinute?: number;
  /** web app origins that may call every route (default: INDEXER_APP_ORIGINS, comma-separated) */
  appOrigins?: string[];
  /** trusted reverse proxies in front of the indexer (default: INDEXER_PROXY_HOPS, else 0) */
  proxyHops?: number;
  /** structured logger (default: pino to stderr); the ingest thread's lines are written through it */
  logger?: Logger;
}

const defaultLogger = () => pino({ base: { svc: 'indexer' } }, pino.destination(2));

/**
 * A serve process ingests nothing: it is ready as soon as it answers, at the checkpoint the ingest
 * process reached, a follower of both leases (and says who holds them).
 */
function servingOnly(db: Db): Duties {
  return {
    status: async () => ({ ready: true, next: await checkpoint(db), leases: { ingestor: await leaseInfo(db, 'ingestor', 'follower', Date.now()), scanSender: await leaseInfo(db, 'scan-sender', 'follower', Date.now()) } }),
    stop: async () => undefined,
  };
}

/**
 * Runs the indexer's HTTP API (and, combined, the ingestor beside it): follows the chain from the
 * database's checkpoint and serves the index.
 */
export async function startIndexer(opts: IndexerOptions): Promise<{ server: Server; stop: () => Promise<void>; port: number }> {
  const log = opts.logger ?? defaultLogger();
  const role = opts.role ?? 'combined';
  // the audit routes and the chaincode probe read the chain on a connection of this thread's (made
  // first: a connection file it cannot read fails the start before any thread runs)
  const ledger = ledgerFromConfig(opts.connection, { ...opts, log });
  const db = await openDb(opts.db).catch((e: Error) => {
    ledger.close();
    throw e;
  });
  const ingesting = role === 'combined' ? startIngestThread({ db: opts.db, connection: opts.connection, msp: opts.msp, user: opts.user, duties: { sendIntervalMs: opts.sendIntervalMs, follower: opts.follower, scanIdTtlMs: opts.scanIdTtlMs, leaseTtlMs: opts.leaseTtlMs } }, db, log) : undefined;
  const duties = ingesting ?? servingOnly(db);
  const app = createApp(db, () => duties.status(), {
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
  // combined, the indexer has started when its ingest thread has (it runs the duties from then on)
  try {
    await ingesting?.started;
  } catch (e) {
    ledger.close();
    server.close();
    await db.close();
    throw e;
  }
  log.info({ event: 'indexer.ready', role, url: `http://${opts.host ?? '127.0.0.1'}:${port}`, db: redactLocation(opts.db) });
  return {
    server,
    port,
    stop: async () => {
      await duties.stop();
      ledger.close();
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      await db.close();
    },
  };
}

/**
 * The ingest role alone: follows the chain into the database and sends the queued scans (each while
 * this process holds its lease), serving nothing; `serve` processes answer from what it writes.
 */
export async function startIngest(opts: Pick<IndexerOptions, 'connection' | 'db' | 'msp' | 'user' | 'logger'> & DutyOptions): Promise<Duties> {
  const log = opts.logger ?? defaultLogger();
  const db = await openDb(opts.db);
  let duties: Duties;
  try {
    duties = await runDuties(db, ledgerFromConfig(opts.connection, { ...opts, log }), log, opts);
  } catch (e) {
    await db.close();
    throw e;
  }
  log.info({ event: 'indexer.ingesting', db: redactLocation(opts.db) });
  return {
    status: () => duties.status(),
    stop: async () => {
      await duties.stop();
      await db.close();
    },
  };
}

const USAGE = 'usage: indexer [combined|ingest|serve] [--workers N (serve)] --connection <file> --db <file|postgres://…> (default: INDEXER_DB, else .devnet/indexer.sqlite) [--host, --port, --msp, --user, --send-interval, --verify-per-minute, --app-origin, --proxy-hops]';

if (require.main === module) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { connection: { type: 'string' }, db: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, msp: { type: 'string' }, user: { type: 'string' }, 'send-interval': { type: 'string' }, 'verify-per-minute': { type: 'string' }, 'app-origin': { type: 'string', multiple: true }, 'proxy-hops': { type: 'string' }, workers: { type: 'string' } },
  });
  const role = positionals[0] ?? 'combined';
  const workers = Number(values.workers ?? 1);
  const fail = (message: string) => {
    console.error(`indexer: ${message}`);
    process.exit(1);
  };
  if (!['combined', 'ingest', 'serve'].includes(role) || positionals.length > 1) fail(`[ERR_USAGE] unknown role ${positionals.join(' ')}\n${USAGE}`);
  if (!Number.isInteger(workers) || workers < 1 || (workers > 1 && role !== 'serve')) fail(`[ERR_USAGE] --workers must be a positive integer, and only serve runs several\n${USAGE}`);
  const common = {
    connection: resolve(values.connection ?? '.devnet/connection-org1.json'),
    db: dbLocation(values.db),
    msp: values.msp,
    user: values.user,
    sendIntervalMs: values['send-interval'] === undefined ? undefined : Number(values['send-interval']),
  };
  const quitOn = (stop: () => Promise<void>) => {
    const quit = () => stop().then(() => process.exit(0));
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  };
  if (role === 'ingest') {
    void startIngest(common).then(
      ({ stop }) => quitOn(stop),
      (e: Error) => fail(e.message),
    );
  } else {
    const serve = () =>
      startIndexer({
        ...common,
        role: role as ServingRole,
        host: values.host,
        port: Number(values.port ?? process.env.PORT ?? 3000),
        verifyPerMinute: values['verify-per-minute'] === undefined ? undefined : Number(values['verify-per-minute']),
        appOrigins: values['app-origin'],
        proxyHops: values['proxy-hops'] === undefined ? undefined : Number(values['proxy-hops']),
      }).then(
        ({ port, stop }) => {
          console.log(`indexer (${role}) on http://127.0.0.1:${port} (API /api/…, /openapi.json, /healthz)`);
          quitOn(stop);
        },
        (e: Error) => fail(e.message),
      );
    if (workers > 1) runServeWorkers(workers, serve, defaultLogger());
    else void serve();
  }
}
