import { randomBytes } from 'node:crypto';
import { Wallet } from '@trace/client';
import { runProductBench } from './product-devnet';
import { PhaseResult, runCalls } from './run-workers';
import { nullable, round, rssMb } from './stats';
import { cpuText } from './target';

/**
 * bench:assets — holder-signed transfers among 1,000 accounts at concurrency 32, through the devnet
 * (product chaincode, default MAJORITY-of-2 policy), first alone, then while issuance and valuation
 * of the same class commit all the time (one at a time each, from both orgs). Transfers read only
 * the class status key, which neither writes, so the second phase should lose no transfer to a
 * conflict that the first did not have. Transfers are ordered in rounds of disjoint account pairs
 * so that concurrent ones rarely touch the same balance; failures are reported per cause.
 * Usage: node scripts/dist/src/bench/assets.js [transfers=3000] [accounts=1000] [--connection profile …]
 */

const causes = (r: PhaseResult) => (Object.keys(r.failureCauses).length ? Object.entries(r.failureCauses).map(([c, n]) => `${c} ${n}`).join(', ') : 'none');

runProductBench(async ({ target, client: c, partner, args }) => {
  const [own, second] = target.orgs;
  const transfers = Number(args[0] ?? 3000);
  const accounts = Number(args[1] ?? 1000);
  console.log('setup: members, a one-stage audited lot, an active asset class');
  await c.consortium.bootstrap({ consortium: 'bench', name: 'brand', roles: ['brand', 'issuer', 'producer', 'warehouse', 'auditor'] });
  await c.consortium.addMember({ mspId: second, name: 'partner', roles: ['inspector', 'appraiser'] });
  await c.catalog.defineProduct({ gtin: '06901234567892', name: 'bench tea', category: 'tea', brand: 'bench' });
  await c.catalog.defineLocation({ id: '6901234000030', name: 'warehouse', type: 'warehouse', geo: { lat: 22, lon: 100 }, region: 'CN-53' });
  await c.process.defineItem({ id: 'bench_units', name: 'units', type: 'integer', required: true, min: 0, privacy: 'plain' });
  await c.process.defineForm({ id: 'bench_store_form', name: 'store', items: ['bench_units'] });
  await c.process.defineStage({ id: 'bench_store', name: 'store', forms: ['bench_store_form'], role: 'warehouse', requiresAudit: false, bizStep: 'storing' });
  await c.process.defineTemplate({ id: 'bench_lot', version: 1, name: 'bench', category: 'tea', stages: [{ stage: 'bench_store', after: [] }], rules: [], scanAlertThreshold: 10, publicView: {}, assetQuantity: 'bench_store.bench_units' });
  await c.trace.createTask({ taskId: 'lot', template: 'bench_lot', version: 1, product: { gtin: '06901234567892', name: 'bench tea' }, lot: 'L', plannedQuantity: 1e6, unit: 'cake', assignments: { bench_store: own } });
  await c.trace.recordStage({ taskId: 'lot', stage: 'bench_store', eventTime: new Date(Date.now() - 3_600_000).toISOString(), data: { bench_units: 1_000_000 } });
  await c.trace.auditTask({ taskId: 'lot', verdict: 'approved', comment: 'bench' });
  await c.assets.proposeClass({ classId: 'tea', symbol: 'TEA', kind: 'tea', taskId: 'lot', unit: 'cake', certifiedQuantity: 1_000_000, storage: { warehouse: own, location: '6901234000030', since: '2026-01-01T00:00:00Z' }, confirmations: ['inspector'], evidence: [] });
  await partner.assets.confirmClass({ classId: 'tea', role: 'inspector' });

  const wallets = Array.from({ length: accounts }, () => Wallet.generate());
  // Issuance updates the class's supply (checked against the certified quantity), so it runs serially.
  const issued = await runCalls(target, wallets.map((w) => ({ tx: 'assets:issue', args: [JSON.stringify({ classId: 'tea', to: w.account, quantity: 100 })] })), 1, 1);
  console.log(`  issued 100 units to each of ${accounts} accounts at ${round(issued.tps)} tx/s (failures ${issued.failures})`);

  const scope = c.holderScope('assets:transfer');
  /** Signed just before each phase: a holder signature is valid for five minutes. */
  const transferCalls = () => {
    const calls = [];
    while (calls.length < transfers) {
      const order = wallets.map((w) => [Math.random(), w] as const).sort((a, b) => a[0] - b[0]).map(([, w]) => w);
      for (let i = 0; i + 1 < order.length && calls.length < transfers; i += 2) {
        calls.push({ tx: 'assets:transfer', args: [JSON.stringify(order[i].sign(scope, { classId: 'tea', from: order[i].account, to: order[i + 1].account, quantity: 1 }))] });
      }
    }
    return calls;
  };
  const report = (label: string, r: PhaseResult) => {
    console.log(`  ${label}: ${round(r.tps)} tx/s  p50 ${round(r.p50, 1)} ms  p99 ${round(r.p99, 1)} ms  devnet ${cpuText(r.devnetCpuMsPerTx)} CPU-ms/tx  chaincode ${cpuText(r.chaincodeCpuMsPerExec)} CPU-ms/exec  client ${cpuText(r.clientCpuMsPerTx)} CPU-ms/tx  failures ${r.failures} (${causes(r)})`);
    if (r.firstError) console.log(`    first failure: ${r.firstError}`);
  };

  console.log(`transferring alone: ${transfers} holder-signed transfers among ${accounts} accounts, concurrency 32`);
  const alone = await runCalls(target, transferCalls(), 32, 2);
  report('transfers', alone);

  // Issuance credits accounts outside the transfer set, so it shares nothing with transfers but the class.
  const supply = Math.max(1, Math.floor(transfers / 10));
  const issueCalls = Array.from({ length: supply }, () => ({ tx: 'assets:issue', args: [JSON.stringify({ classId: 'tea', to: randomBytes(32).toString('hex'), quantity: 1 })] }));
  const valuationCalls = Array.from({ length: supply }, (_, i) => ({ tx: 'assets:setValuation', args: [JSON.stringify({ classId: 'tea', pricePerUnit: 1000 + i, currency: 'CNY', date: '2026-11-01' })] }));
  console.log(`transferring again while ${supply} issuances (${own}) and ${supply} valuations (${second}) commit on the same class, one at a time each`);
  const [during, issuance, valuation] = await Promise.all([runCalls(target, transferCalls(), 32, 2), runCalls(target, issueCalls, 1, 1), runCalls(target, valuationCalls, 1, 1, second)]);
  report('transfers', during);
  report('issuance', issuance);
  report('valuation', valuation);
  const phase = (r: PhaseResult) => ({ tps: round(r.tps), p50_ms: round(r.p50, 1), p99_ms: round(r.p99, 1), failures: r.failures, failure_causes: r.failureCauses });
  console.log(
    JSON.stringify({
      bench: 'assets',
      transfers,
      accounts,
      tps: round(alone.tps),
      p50_ms: round(alone.p50, 1),
      p99_ms: round(alone.p99, 1),
      cpu_ms_per_tx: nullable(alone.devnetCpuMsPerTx),
      chaincode_cpu_ms_per_exec: nullable(alone.chaincodeCpuMsPerExec),
      client_cpu_ms_per_tx: nullable(alone.clientCpuMsPerTx),
      failures: alone.failures,
      failure_causes: alone.failureCauses,
      with_issuance_and_valuation: { transfers: phase(during), issuance: phase(issuance), valuation: phase(valuation) },
      rss_mb: target.pid === undefined ? null : round(rssMb(target.pid)),
    }),
  );
});
