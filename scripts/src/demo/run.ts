import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectionProfile, ledgerFromConfig, readConfigFile, TraceChainClient } from '@trace/client';
import { openDb, reissueLabelledKeys } from '@trace/indexer';
import { DEMO_ORGS, DemoOrg, DemoSummary, seedDemo } from './seed';

/** The pages worth opening after the demo seed, on the indexer at base. */
export function demoUrls(base: string, d: DemoSummary): string[] {
  return [
    `${base}/dashboard                                   operations dashboard`,
    `${base}/c/${d.codes.genuine}          genuine tea cake`,
    `${base}/c/${d.codes.cloned}          cloned label (clone alert)`,
    `${base}/01/${d.gtin.liquor}/10/${d.lots.liquor}/21/${d.codes.diverted}   diverted bottle (GS1 Digital Link)`,
    `${base}/01/${d.gtin.tea}/10/${d.lots.tea}                    the tea lot`,
  ];
}

/** The demo's API keys: a member key of the brand (it owns the demo lots) and an auditor key of the regulator. */
export interface DemoKeys {
  member: { org: string; key: string };
  auditor: { org: string; key: string };
}

/**
 * Issues the demo keys into the indexer's database. Keys are stored hashed and shown once, so each
 * start issues new ones and revokes the previous start's.
 */
export async function issueDemoKeys(indexerDb: string): Promise<DemoKeys> {
  const db = await openDb(indexerDb);
  try {
    const [member, auditor] = await reissueLabelledKeys(db, DEMO_KEY_LABEL, [
      { org: DEMO_ORGS.brand, scope: 'member' },
      { org: DEMO_ORGS.retail, scope: 'auditor' },
    ]);
    return { member: { org: DEMO_ORGS.brand, key: member }, auditor: { org: DEMO_ORGS.retail, key: auditor } };
  } finally {
    await db.close();
  }
}
const DEMO_KEY_LABEL = 'demo';

/**
 * Seeds the demo once per data directory (the summary is kept in demo.json next to the chain), with
 * a progress line per step; on later starts it only reads the summary back.
 */
export async function ensureDemo(connectionPath: string, dataDir: string, log: (line: string) => void): Promise<DemoSummary> {
  const file = join(dataDir, 'demo.json');
  const started = join(dataDir, 'demo.started');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoSummary;
  // The seed is a sequence of transactions, not one: after an interrupted run the chain holds part
  // of it and the next run would trip over what is there.
  if (existsSync(started)) throw new Error(`an earlier demo seed in ${dataDir} was interrupted; start over with a new --data directory (or \`node test-network/dist/src/devnet/cli.js reset --data ${dataDir}\`)`);
  const profile = readConfigFile(connectionPath) as ConnectionProfile;
  const mspIds = Object.values(profile.organizations ?? {}).map((o) => o.mspid);
  const missing = Object.values(DEMO_ORGS).filter((m) => !mspIds.includes(m));
  if (missing.length) throw new Error(`the demo needs the orgs ${Object.values(DEMO_ORGS).join(', ')}; this devnet lacks ${missing.join(', ')} (start on a new --data directory)`);
  writeFileSync(started, new Date().toISOString());
  const ledgers = Object.fromEntries((Object.keys(DEMO_ORGS) as DemoOrg[]).map((o) => [o, ledgerFromConfig(connectionPath, { msp: DEMO_ORGS[o] })]));
  try {
    const clients = Object.fromEntries(Object.entries(ledgers).map(([o, l]) => [o, new TraceChainClient(l)])) as Record<DemoOrg, TraceChainClient>;
    const t0 = Date.now();
    const summary = await seedDemo(clients, join(dataDir, 'demo-keys'), (i, n, what) => log(`demo [${i}/${n}] ${what}`));
    writeFileSync(file, JSON.stringify(summary, null, 2));
    rmSync(started);
    log(`demo seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return summary;
  } finally {
    Object.values(ledgers).forEach((l) => l.close());
  }
}
