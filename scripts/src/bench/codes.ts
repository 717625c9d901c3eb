import { randomBytes } from 'node:crypto';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { runProductBench } from './product-devnet';
import { runCalls } from './run-workers';
import { nullable, round, rssMb } from './stats';

/**
 * bench:codes — issues code hashes in calls of 1,000 through the devnet (product chaincode,
 * default MAJORITY-of-2 policy), then two scanning orgs record scans of the same codes at the same
 * time in batches of 1,000 (each org's batch i holds the codes of the other's batch i), so the
 * figure includes any MVCC conflict between concurrent batches sharing codes; conflicts are
 * reported per scan (the scans in invalidated batches, which the indexer's sender resends).
 * Usage: node scripts/dist/src/bench/codes.js [codes=1000000] [scans=50000] [--connection profile …]
 */

const PER_CALL = 1000;
const SCANS_PER_CALL = 1000;
/** calls in flight: each spends its time in sequential shim round trips (1,000 reads and writes), so several overlap */
const INFLIGHT = Number(process.env.INFLIGHT ?? 8);
const CONFLICTS = ['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT'];

runProductBench(async ({ target, client: c, args }) => {
  const [own, second] = target.orgs;
  const count = Number(args[0] ?? 1_000_000);
  const scanCount = Number(args[1] ?? 50_000);
  console.log('setup: consortium, product, tea template, one task');
  await c.consortium.bootstrap({ consortium: 'bench', name: 'brand', roles: ['brand', 'retailer'] });
  await c.consortium.addMember({ mspId: second, name: 'partner', roles: ['producer', 'processor', 'warehouse', 'logistics', 'inspector', 'scanner'] });
  await c.catalog.defineProduct({ gtin: '06901234567892', name: 'bench tea', category: 'tea', brand: 'bench' });
  await loadTemplatePackage(c, tea);
  const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, s.stage === 'receiving' ? own : second]));
  await c.trace.createTask({ taskId: 'bench', template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: 'bench tea' }, lot: 'B1', plannedQuantity: count, unit: 'cake', assignments });

  const hashes = Array.from({ length: count }, () => randomBytes(32).toString('hex'));
  const calls = [];
  for (let i = 0; i < count; i += PER_CALL) calls.push({ tx: 'codes:issueCodes', args: [JSON.stringify({ taskId: 'bench', level: 'item', codeHashes: hashes.slice(i, i + PER_CALL) })] });
  console.log(`issuing ${count} code hashes in ${calls.length} calls of ${PER_CALL}, ${INFLIGHT} in flight`);
  const issued = await runCalls(target, calls, INFLIGHT, 2);
  const issueSeconds = issued.seconds;
  const codesPerSecond = ((calls.length - issued.failures) * PER_CALL) / issueSeconds;
  console.log(`  ${round(issueSeconds, 1)} s  (${round(codesPerSecond)} codes/s, p50 ${round(issued.p50)} ms per call, failures ${issued.failures})`);
  if (issued.firstError) console.log(`  first failure: ${issued.firstError}`);

  const perOrg: { tx: string; args: string[] }[] = [];
  const at = new Date(Date.now() - 60_000).toISOString();
  for (let i = 0; i < scanCount / 2; i += SCANS_PER_CALL) {
    const scans = hashes.slice(i % count, (i % count) + SCANS_PER_CALL).map((codeHash) => ({ codeHash, channel: 'consumer', region: 'CN-53', at }));
    perOrg.push({ tx: 'codes:recordScans', args: [JSON.stringify({ scans })] });
  }
  console.log(`recording ${perOrg.length * 2} calls of ${SCANS_PER_CALL} scans: ${own} and ${second} scan the same codes at once, ${INFLIGHT} calls in flight`);
  const t0 = performance.now();
  const phases = await Promise.all([own, second].map((msp) => runCalls(target, perOrg, INFLIGHT / 2, 1, msp)));
  const seconds = (performance.now() - t0) / 1000;
  const failures = phases.reduce((n, p) => n + p.failures, 0);
  const scansPerSecond = ((perOrg.length * 2 - failures) * SCANS_PER_CALL) / seconds;
  const failuresBy: Record<string, number> = {};
  for (const [why, n] of phases.flatMap((p) => Object.entries(p.failureCauses))) failuresBy[why] = (failuresBy[why] ?? 0) + n;
  // the slower org's phase
  const scanP50 = Math.max(...phases.map((p) => p.p50));
  console.log(`  ${round(scansPerSecond)} scans/s  (p50 ${round(scanP50)} ms per call, failures ${failures}: ${JSON.stringify(failuresBy)})`);
  // causes read ERR_COMMIT/<validation code>
  const conflicted = Object.entries(failuresBy).reduce((n, [cause, count]) => n + (CONFLICTS.includes(cause.split('/')[1]) ? count : 0), 0);
  console.log(`  scans in batches lost to MVCC conflicts (resent by the indexer's sender): ${conflicted * SCANS_PER_CALL}`);
  const firstError = phases.find((p) => p.firstError)?.firstError;
  if (firstError) console.log(`  first failure: ${firstError}`);
  const out: Record<string, number | string | null> = {
    bench: 'codes',
    codes: count,
    issue_s: round(issueSeconds, 1),
    codes_per_s: round(codesPerSecond),
    scans: perOrg.length * 2 * SCANS_PER_CALL,
    scans_per_s: round(scansPerSecond),
    scan_conflicts: conflicted * SCANS_PER_CALL,
    // per call of issueCodes (scans run in two overlapping phases, which cannot split the chaincode's CPU)
    issue_chaincode_cpu_ms_per_exec: nullable(issued.chaincodeCpuMsPerExec),
    issue_client_cpu_ms_per_call: nullable(issued.clientCpuMsPerTx),
    issue_p50_ms: round(issued.p50, 1),
    issue_p99_ms: round(issued.p99, 1),
    scan_p50_ms: round(scanP50, 1),
    scan_p99_ms: round(Math.max(...phases.map((p) => p.p99)), 1),
    failures: issued.failures + failures,
    rss_mb: target.pid === undefined ? null : round(rssMb(target.pid)),
  };
  if (count === 1_000_000) out.issue_1m_s = out.issue_s;
  console.log(JSON.stringify(out));
});
