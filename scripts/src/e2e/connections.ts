import { readFileSync } from 'node:fs';
import { Ledger, ledgerFromConfig } from '@trace/client';
import { DemoOrg } from '../demo/seed';
import { DemoRoles, UsageError } from '../demo/roles';

/**
 * The MSP ids a connection file names: a common connection profile's organizations (or the devnet's
 * own `orgs`); none for a TBaaS client file, which is one org's cloud account.
 */
export function profileMsps(path: string): string[] {
  let doc: { type?: string; orgs?: Record<string, unknown>; organizations?: Record<string, { mspid?: string }> };
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as typeof doc;
  } catch (e) {
    throw new UsageError('ERR_PROFILE', `cannot read the connection profile ${path}: ${(e as Error).message}`);
  }
  if (doc.type === 'tbaas') return [];
  if (doc.organizations) return Object.values(doc.organizations).flatMap((o) => (o.mspid ? [o.mspid] : []));
  return Object.keys(doc.orgs ?? {});
}

/** The connection file each role's org is reached through, and the MSP it acts as. */
export interface RoleConnection {
  path: string;
  msp: string;
}

/**
 * Assigns each role the first profile that names its MSP. Profiles that name no org (TBaaS client
 * files) serve, in the order given, the MSPs no other profile names. A role left without a profile
 * is refused before anything is submitted.
 */
export function assignConnections(paths: string[], roles: DemoRoles): Record<DemoOrg, RoleConnection> {
  if (!paths.length) throw new UsageError('ERR_PROFILE', 'give --connection <profile> (one per org, or one naming every org), or --devnet');
  const named = paths.map((path) => ({ path, msps: profileMsps(path) }));
  const unnamed = named.filter((p) => !p.msps.length).map((p) => p.path);
  const byMsp = new Map<string, string>();
  for (const msp of new Set(Object.values(roles))) {
    const path = named.find((p) => p.msps.includes(msp))?.path ?? unnamed.shift();
    if (!path) throw new UsageError('ERR_ROLE', `no --connection profile names ${msp} (they name ${[...new Set(named.flatMap((p) => p.msps))].join(', ') || 'no org'}); map the roles with --roles brand=…,farm=…,factory=…,retail=…`);
    byMsp.set(msp, path);
  }
  return Object.fromEntries(Object.entries(roles).map(([role, msp]) => [role, { path: byMsp.get(msp)!, msp }])) as Record<DemoOrg, RoleConnection>;
}

/** The highest block a submit through any tracked ledger committed in, and that transaction. */
export interface ChainHead {
  block: bigint;
  txId?: string;
}

/** Opens a role's ledger through the shared ledger factory and notes every commit in `head`. */
export function openTracked(c: RoleConnection, user: string | undefined, head: ChainHead): Ledger {
  const ledger = ledgerFromConfig(c.path, { msp: c.msp, user });
  const submit = ledger.submit.bind(ledger);
  ledger.submit = async (...args) => {
    const r = await submit(...args);
    if (r.blockNumber >= head.block) Object.assign(head, { block: r.blockNumber, txId: r.transactionId });
    return r;
  };
  return ledger;
}
