import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import pino, { Logger } from 'pino';
import { channelOrgs, Ledger, ledgerFromConfig, loadTbaasConfig, readConfigFile, resolveConnection, TraceChainClient } from '@trace/client';
import { createConsoleApp } from './app';
import { CodeJobs } from './code-jobs';
import { OrgChain } from './chain';
import { openConsoleDb } from './db';
import { CaptureJobs } from './epcis/capture-jobs';
import { IndexerClient } from './indexer-client';
import { LoginThrottle } from './login-throttle';
import { OrgKeys, profileCertificates } from './cipher/org-keys';
import { fabricSource } from './network/fabric-source';
import { tbaasSource } from './network/tbaas-source';
import { NetworkSource } from './network/view';

export interface ConsoleOptions {
  /** the org's Fabric common connection profile or TBaaS client file */
  connection: string;
  /** the org (MSP id) and identity in a connection profile; a TBaaS file needs msp */
  msp?: string;
  user?: string;
  /** the console's SQLite file (users, sessions, audit log) */
  db: string;
  indexerUrl: string;
  /** a member-scoped indexer API key of this org */
  indexerKey: string;
  port?: number;
  host?: string;
  /** behind a reverse proxy: trust X-Forwarded-For / -Proto (Secure cookies over TLS) */
  proxy?: boolean;
  /** the resolver domain of the GS1 Digital Links printed on issued codes (default id.example.com, as the CLI's) */
  linkDomain?: string;
  /** the deploy command's JSON lines record of this org's deployments (npm run deploy -- --record) */
  deployments?: string;
  log?: Logger;
}

export interface RunningConsole {
  url: string;
  org: string;
  stop(): Promise<void>;
}

function orgOf(opts: ConsoleOptions): string {
  if ((readConfigFile(opts.connection) as { type?: string } | null)?.type === 'tbaas') {
    if (!opts.msp) throw new Error('a TBaaS client file needs --msp (the org this console serves)');
    return opts.msp;
  }
  return resolveConnection(opts.connection, { msp: opts.msp, user: opts.user }).mspId;
}

/** 区块链管理's source and the keys of encrypted items, from the org's connection file. */
function networkAndKeys(opts: ConsoleOptions, org: string, ledger: Ledger, chain: OrgChain): { networkSource: NetworkSource; orgKeys: OrgKeys } {
  const memberNames = async () => new Map((await chain.client.consortium.listMembers()).items.map((m) => [m.mspId, m.name]));
  if ((readConfigFile(opts.connection) as { type?: string } | null)?.type === 'tbaas') {
    return { networkSource: tbaasSource(loadTbaasConfig(opts.connection), org, memberNames), orgKeys: new OrgKeys(org, {}, undefined, undefined) };
  }
  const resolved = resolveConnection(opts.connection, { msp: opts.msp, user: opts.user });
  // the legacy protocol's transport (fabric-network) has no system chaincode queries: the keys are then taken as listed
  const channel = ledger.querySystem ? () => channelOrgs(ledger) : undefined;
  return { networkSource: fabricSource(ledger, resolved, memberNames), orgKeys: new OrgKeys(org, profileCertificates(opts.connection), resolved.identity, channel) };
}

/** One org's console: its chain identity stays in this process; browsers get only a session. */
export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const log = opts.log ?? pino({ base: { svc: 'console' } }, pino.destination(2));
  const org = orgOf(opts);
  const ledger = ledgerFromConfig(opts.connection, { msp: opts.msp, user: opts.user, log });
  const db = openConsoleDb(opts.db);
  const chain = new OrgChain(new TraceChainClient(ledger), org);
  const indexer = new IndexerClient(opts.indexerUrl, opts.indexerKey);
  // each issuing job's print file sits next to the console's database
  const codeJobs = new CodeJobs(db, chain, join(dirname(opts.db), `${basename(opts.db, extname(opts.db))}-codes`), opts.linkDomain ?? 'id.example.com', log);
  const capture = new CaptureJobs({ db, chain, indexer, log });
  const app = createConsoleApp({ db, chain, indexer, throttle: new LoginThrottle(), log, codeJobs, capture, ...networkAndKeys(opts, org, ledger, chain), deploymentsFile: opts.deployments }, { proxy: opts.proxy });
  const server = app.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  await new Promise<void>((r, j) => server.once('listening', r).once('error', j));
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  log.info({ evt: 'console.started', org, url });
  return {
    url,
    org,
    stop: async () => {
      // no new event is submitted once stopping; the one in flight finishes
      const captureStopped = capture.close();
      await new Promise<void>((r) => server.close(() => r()));
      await codeJobs.stop();
      await captureStopped;
      ledger.close();
      db.close();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { connection: { type: 'string' }, msp: { type: 'string' }, user: { type: 'string' }, db: { type: 'string' }, indexer: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, proxy: { type: 'boolean' }, 'link-domain': { type: 'string' }, deployments: { type: 'string' } },
  });
  const key = process.env.CONSOLE_INDEXER_KEY;
  if (!values.connection || !values.db || !values.indexer || !key) {
    console.error('usage: CONSOLE_INDEXER_KEY=<member key> node console/dist/src/server.js --connection <profile|tbaas.json> --db console.sqlite --indexer http://127.0.0.1:3000 [--msp Org1MSP] [--user User1] [--port 4000] [--host 127.0.0.1] [--proxy] [--link-domain id.example.com] [--deployments deployments.jsonl]');
    process.exit(2);
  }
  const c = await startConsole({ connection: values.connection, msp: values.msp, user: values.user, db: values.db, indexerUrl: values.indexer, indexerKey: key, port: Number(values.port ?? 4000), host: values.host, proxy: values.proxy, linkDomain: values['link-domain'], deployments: values.deployments });
  console.log(`console of ${c.org}: ${c.url}`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(`console: ${e.message}`);
    process.exit(1);
  });
}
