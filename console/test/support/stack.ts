import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { createApiKey, openDb, startIndexer } from '@trace/indexer';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { ConsoleOptions, createUser, openConsoleDb, Role, RunningConsole, startConsole } from '../../src';
import { PASSWORD } from './pages';

const CHAINCODE = resolve(__dirname, '../../../../chaincode');

export type Users = [username: string, roles: Role[]][];

/** What a console test runs on: a devnet with the product chaincode, one client per org and an indexer following it. */
export interface ConsoleStack {
  devnet: RunningDevnet;
  /** mspId → a client of that org */
  clients: Record<string, TraceChainClient>;
  indexerUrl: string;
  /** the indexer's database file (tests read projections from it) */
  indexerDb: string;
  /** mspId → a member-scoped indexer key of that org */
  indexerKeys: Record<string, string>;
  /** a fresh folder for this stack's files */
  dir: string;
  /** GET on the indexer with msp's member key */
  indexed(path: string, msp: string): Promise<Response>;
  /** The options of msp's console on a database file holding users (created on first use). */
  consoleOptions(msp: string, users: Users, file?: string): Promise<ConsoleOptions>;
  /** Starts msp's console for users; stopped with the stack. */
  startConsole(msp: string, users: Users, file?: string): Promise<RunningConsole>;
  stop(): Promise<void>;
}

/**
 * Starts a devnet of orgs (the first is the brand and founding operator), runs seed with a client
 * per org, then starts an indexer; every console a test starts through the stack is stopped with it.
 */
export async function startStack(opts: { orgs?: string[]; seed?: (clients: Record<string, TraceChainClient>) => Promise<void> } = {}): Promise<ConsoleStack> {
  const orgs = opts.orgs ?? ['Org1MSP', 'Org2MSP'];
  const dir = mkdtempSync(join(tmpdir(), 'console-stack-'));
  const devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1', '--orgs', orgs.join(',')]);
  const ledgers: Ledger[] = [];
  const consoles: RunningConsole[] = [];
  let indexer: Awaited<ReturnType<typeof startIndexer>> | undefined;
  const stop = async () => {
    await Promise.all(consoles.map((c) => c.stop()));
    await indexer?.stop();
    ledgers.forEach((l) => l.close());
    await devnet.stop();
  };
  try {
    const clients: Record<string, TraceChainClient> = {};
    for (const msp of orgs) {
      const ledger = ledgerFromConfig(devnet.connection, { msp });
      ledgers.push(ledger);
      clients[msp] = new TraceChainClient(ledger);
    }
    await opts.seed?.(clients);
    const indexerDb = join(dir, 'indexer.sqlite');
    const idb = await openDb(indexerDb);
    const indexerKeys: Record<string, string> = {};
    for (const org of orgs) indexerKeys[org] = (await createApiKey(idb, { org, scope: 'member', label: 'console' })).key;
    await idb.close();
    indexer = await startIndexer({ connection: devnet.connection, db: indexerDb, port: 0, logger: pino({ level: 'warn' }, pino.destination(2)) });
    const indexerUrl = `http://127.0.0.1:${indexer.port}`;
    const consoleOptions = async (msp: string, users: Users, file = join(dir, `console-${msp}.sqlite`)): Promise<ConsoleOptions> => {
      const db = openConsoleDb(file);
      try {
        for (const [username, roles] of users) await createUser(db, { username, password: PASSWORD, roles });
      } finally {
        db.close();
      }
      return { connection: devnet.connection, msp, db: file, indexerUrl, indexerKey: indexerKeys[msp], port: 0, log: pino({ level: 'warn' }, pino.destination(2)) };
    };
    return {
      devnet,
      clients,
      indexerUrl,
      indexerDb,
      indexerKeys,
      dir,
      indexed: (path, msp) => fetch(`${indexerUrl}${path}`, { headers: { authorization: `Bearer ${indexerKeys[msp]}` } }),
      consoleOptions,
      startConsole: async (msp, users, file) => {
        const app = await startConsole(await consoleOptions(msp, users, file));
        consoles.push(app);
        return app;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
