import { join } from 'node:path';
import type { Logger } from 'pino';
import { openDb, reissueLabelledKeys } from '@trace/indexer';
import { openConsoleDb } from './db';
import { Role } from './roles';
import { RunningConsole, startConsole } from './server';
import { createUser, findUser } from './user-store';

/** The demo's console logins: one user per role, same (printed) password; a demo on 127.0.0.1 only. */
export const DEMO_PASSWORD = 'trace-demo-2026';
export const DEMO_USERS: { username: string; roles: Role[] }[] = [
  { username: 'admin', roles: ['admin'] },
  { username: 'clerk', roles: ['data_entry'] },
  { username: 'qa', roles: ['qa'] },
  { username: 'codes', roles: ['code_manager'] },
  { username: 'assets', roles: ['asset_manager'] },
];
const KEY_LABEL = 'demo-console';

export interface DemoConsole extends RunningConsole {
  /** the demo's name for the org (brand, farm …) */
  name: string;
}

/**
 * One console per named org on consecutive ports from basePort (any free ones for 0), each with its own SQLite file in
 * dataDir (demo users created once) and a fresh member key of its org in the indexer's database
 * (the previous start's revoked: keys are shown once and stored hashed).
 */
export async function startDemoConsoles(opts: { connection: string; dataDir: string; indexerDb: string; indexerUrl: string; orgs: Record<string, string>; basePort: number; log?: Logger }): Promise<DemoConsole[]> {
  const idb = await openDb(opts.indexerDb);
  const keys: Record<string, string> = {};
  try {
    const orgs = Object.values(opts.orgs);
    const issued = await reissueLabelledKeys(idb, KEY_LABEL, orgs.map((org) => ({ org, scope: 'member' })));
    orgs.forEach((msp, i) => (keys[msp] = issued[i]));
  } finally {
    await idb.close();
  }
  const running: DemoConsole[] = [];
  try {
    for (const [i, [name, msp]] of Object.entries(opts.orgs).entries()) {
      const dbPath = join(opts.dataDir, `console-${msp}.sqlite`);
      const db = openConsoleDb(dbPath);
      try {
        for (const u of DEMO_USERS) if (!findUser(db, u.username)) await createUser(db, { ...u, password: DEMO_PASSWORD }, 'demo');
      } finally {
        db.close();
      }
      const c = await startConsole({ connection: opts.connection, msp, db: dbPath, indexerUrl: opts.indexerUrl, indexerKey: keys[msp], port: opts.basePort === 0 ? 0 : opts.basePort + i, log: opts.log });
      running.push({ ...c, name });
    }
  } catch (e) {
    await Promise.all(running.map((c) => c.stop()));
    throw e;
  }
  return running;
}
