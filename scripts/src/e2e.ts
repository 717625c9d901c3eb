import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Ledger, TraceChainClient } from '@trace/client';
import { createApiKey, openDb, startIndexer } from '@trace/indexer';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { DemoRoles, parseRoles, UsageError } from './demo/roles';
import { DemoOrg, seedDemo } from './demo/seed';
import { assignConnections, ChainHead, openTracked } from './e2e/connections';
import { checkDemo, formatTable } from './e2e/checks';

const USAGE = `usage: npm run e2e -- --connection <profile> [--connection <profile> …] [--roles brand=Org1MSP,farm=Org2MSP,factory=Org3MSP,retail=Org4MSP] [--user User1]
       npm run e2e -- --devnet [--tls | --mtls]
  Runs the demo scenario on the network (a freshly deployed chaincode: the demo founds the consortium),
  starts the indexer on it, waits until it has caught up and checks the index against the chain.
  --connection  a common connection profile (one per org, or one naming every org) or a TBaaS client file
  --roles       which MSP plays each demo role (default the devnet's Org1MSP…Org4MSP)
  --devnet      starts its own devnet with the product chaincode (--tls / --mtls pass through to it)
  Prints a PASS/FAIL table; exits 1 when a check fails, 2 on bad arguments.`;

const ROOT = resolve(__dirname, '../../..');
const CATCH_UP_MS = 180_000;

/** The devnet's connection profiles, one per org. */
const devnetProfiles = (devnet: RunningDevnet): string[] => Object.values(devnet.profiles);

async function waitCaughtUp(base: string, head: ChainHead): Promise<boolean> {
  const until = Date.now() + CATCH_UP_MS;
  while (Date.now() < until) {
    const health = (await (await fetch(`${base}/healthz`)).json()) as { nextBlock?: number };
    if (health.nextBlock !== undefined && BigInt(health.nextBlock) > head.block) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Seeds the demo through each role's org, indexes the chain and checks the index; true when every check passed. */
async function run(paths: string[], roles: DemoRoles, user: string | undefined, log: (line: string) => void): Promise<boolean> {
  const conns = assignConnections(paths, roles);
  const work = mkdtempSync(join(tmpdir(), 'e2e-'));
  const head: ChainHead = { block: 0n };
  const ledgers: Ledger[] = [];
  let indexer: Awaited<ReturnType<typeof startIndexer>> | undefined;
  try {
    const clients = Object.fromEntries(
      Object.entries(conns).map(([role, c]) => {
        const ledger = openTracked(c, user, head);
        ledgers.push(ledger);
        return [role, new TraceChainClient(ledger)];
      }),
    ) as Record<DemoOrg, TraceChainClient>;
    for (const [role, c] of Object.entries(conns)) log(`e2e: ${role.padEnd(8)} ${c.msp} through ${c.path}`);
    const demo = await seedDemo(clients, join(work, 'demo-keys'), (i, n, what) => log(`e2e: demo [${i}/${n}] ${what}`), Date.now(), roles);
    log(`e2e: demo seeded up to block ${head.block}; starting the indexer`);
    // the checks read full records and the audit routes: an auditor's key, issued into the new index
    const keyDb = await openDb(join(work, 'indexer.sqlite'));
    const auditor = { authorization: `Bearer ${(await createApiKey(keyDb, { org: conns.brand.msp, scope: 'auditor', label: 'e2e' })).key}` };
    await keyDb.close();
    indexer = await startIndexer({ connection: conns.brand.path, msp: conns.brand.msp, user, db: join(work, 'indexer.sqlite'), port: 0 });
    const base = `http://127.0.0.1:${indexer.port}`;
    const caughtUp = await waitCaughtUp(base, head);
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(base + path, { headers: auditor });
      const body = (await res.json()) as T & { error?: { code: string; message: string } };
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${body.error?.code ?? ''}`);
      return body;
    };
    const results = [
      { name: 'indexer caught up with the chain', ok: caughtUp, expected: `past block ${head.block}`, actual: caughtUp ? `past block ${head.block}` : `not within ${CATCH_UP_MS / 1000} s` },
      ...(caughtUp ? await checkDemo(get, demo, roles, head.txId) : []),
    ];
    console.log(formatTable(results));
    const failed = results.filter((r) => !r.ok).length;
    console.log(failed ? `e2e: ${failed} of ${results.length} checks FAILED` : `e2e: all ${results.length} checks passed`);
    return failed === 0;
  } finally {
    await indexer?.stop();
    ledgers.forEach((l) => l.close());
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { connection: { type: 'string', multiple: true }, roles: { type: 'string' }, user: { type: 'string' }, devnet: { type: 'boolean' }, tls: { type: 'boolean' }, mtls: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const roles = parseRoles(values.roles);
  const log = (line: string) => console.error(line);
  if (values.devnet) {
    if (values.connection?.length) throw new UsageError('ERR_ARGS', '--devnet starts its own network: give either --devnet or --connection');
    const transport = values.mtls ? ['--mtls'] : values.tls ? ['--tls'] : [];
    const orgs = [...new Set(Object.values(roles))].join(',');
    const devnet = await startDevnet(['--chaincode-path', join(ROOT, 'chaincode'), '--chaincode-name', 'trace', '--orgs', orgs, '--endorsers', '2', ...transport]);
    log(`e2e: devnet on ${devnet.endpoint} (${devnet.dataDir})`);
    try {
      return (await run(devnetProfiles(devnet), roles, values.user, log)) ? 0 : 1;
    } finally {
      await devnet.stop();
      rmSync(devnet.dataDir, { recursive: true, force: true });
    }
  }
  if (values.tls || values.mtls) throw new UsageError('ERR_ARGS', '--tls and --mtls are for --devnet; a profile says how to reach its peers');
  return (await run(values.connection ?? [], roles, values.user, log)) ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error & { code?: string }) => {
    // node:util parseArgs refuses unknown options with ERR_PARSE_ARGS_*: bad arguments, like ours
    const usage = e instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS') === true;
    console.error(`e2e: ${e.message}`);
    if (usage) console.error(USAGE);
    process.exitCode = usage ? 2 : 1;
  },
);
