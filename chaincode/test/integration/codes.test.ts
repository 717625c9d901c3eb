import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { codeHash, generateCode, LedgerError, TraceChainClient } from '@trace/client';
import { testClock } from '@trace/test-network';
import { createTeaTask, ORGS, rejectsWith, startConsortium, TEA_GTIN, TestConsortium } from './consortium';

const clock = testClock();

const TRACE_CLI = resolve(__dirname, '../../../../client/dist/src/cli.js');
const hashes = (n: number) => Array.from({ length: n }, () => codeHash(generateCode()));
const scan = (codeHash: string, region = 'CN-53') => ({ codeHash, channel: 'consumer' as const, region, at: clock.at(500) });

describe('codes: one item, one code (devnet)', function () {
  this.timeout(180_000);
  let net: TestConsortium;
  let brand: TraceChainClient;
  let farm: TraceChainClient;
  let factory: TraceChainClient;
  let retail: TraceChainClient;

  const task = (taskId: string) => createTeaTask(brand, taskId);

  before(async () => {
    net = await startConsortium();
    ({ brand, farm, factory, retail } = net.clients);
    await task('codes-a');
    await task('codes-b');
  });

  after(async () => {
    await net?.close();
  });

  describe('issuance', () => {
    it('issues hashes for a task, by the brand or the org assigned to packing', async () => {
      const batch = hashes(3);
      expect(await brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: batch })).to.deep.equal({ taskId: 'codes-a', level: 'item', issued: 3 });
      await factory.codes.issueCodes({ taskId: 'codes-a', level: 'case', codeHashes: hashes(1) }); // Org3 packs tea
      const v = await retail.codes.verifyCode(batch[0]);
      expect(v.genuine && v.verdict).to.equal('genuine');
      expect(v.genuine && v.code).to.include({ taskId: 'codes-a', level: 'item', status: 'issued', gtin: TEA_GTIN, lot: 'codes-a' });
    });

    it('rejects a duplicate within the call, across calls and across tasks, issuing nothing', async () => {
      const [x, y, z] = hashes(3);
      await rejectsWith(brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: [x, y, x] }), 'ERR_CONFLICT', /appears twice/);
      expect((await brand.codes.verifyCode(x)).genuine).to.equal(false);
      await brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: [x] });
      await rejectsWith(brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: [y, x] }), 'ERR_CONFLICT', /already issued \(task codes-a\)/);
      await rejectsWith(brand.codes.issueCodes({ taskId: 'codes-b', level: 'item', codeHashes: [z, x] }), 'ERR_CONFLICT', /already issued/);
      expect((await brand.codes.verifyCode(y)).genuine).to.equal(false);
      expect((await brand.codes.verifyCode(z)).genuine).to.equal(false);
    });

    it('rejects 1,001 codes in one call, malformed hashes, and an org with no part in packing', async () => {
      const many = hashes(1001);
      await rejectsWith(brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: many }), 'ERR_VALIDATION', /codeHashes must contain no more than 1000/);
      expect((await brand.codes.verifyCode(many[0])).genuine).to.equal(false);
      await rejectsWith(brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: ['ABC'] }), 'ERR_VALIDATION', /64 lowercase hex/);
      const h = hashes(1);
      await rejectsWith(farm.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: h }), 'ERR_FORBIDDEN', /packing stage/);
      expect((await brand.codes.verifyCode(h[0])).genuine).to.equal(false);
    });

    it('moves codes through issued → active → sold → void and refuses other transitions', async () => {
      const [c] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: [c] });
      await rejectsWith(retail.codes.setCodeStatus({ codeHashes: [c], status: 'sold' }), 'ERR_STATE', /from issued to sold/);
      await brand.codes.setCodeStatus({ codeHashes: [c], status: 'active' });
      await rejectsWith(farm.codes.setCodeStatus({ codeHashes: [c], status: 'void' }), 'ERR_FORBIDDEN');
      await retail.codes.setCodeStatus({ codeHashes: [c], status: 'sold' });
      await rejectsWith(brand.codes.setCodeStatus({ codeHashes: [c], status: 'active' }), 'ERR_STATE');
      const v = await brand.codes.verifyCode(c);
      expect(v.genuine && v.code.status).to.equal('sold');
    });
  });

  describe('aggregation', () => {
    it('packs items into a case and cases onto a pallet, one parent per child, levels ordered', async () => {
      const items = hashes(4);
      const [caseA, caseB] = hashes(2);
      const [pallet] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: items });
      await brand.codes.issueCodes({ taskId: 'codes-a', level: 'case', codeHashes: [caseA, caseB] });
      await brand.codes.issueCodes({ taskId: 'codes-a', level: 'pallet', codeHashes: [pallet] });
      await factory.codes.aggregate({ parent: caseA, children: items.slice(0, 3) });
      await rejectsWith(factory.codes.aggregate({ parent: caseB, children: [items[2], items[3]] }), 'ERR_CONFLICT', /already packed/);
      await rejectsWith(factory.codes.aggregate({ parent: items[3], children: [caseB] }), 'ERR_VALIDATION', /item cannot contain a case/);
      await rejectsWith(factory.codes.aggregate({ parent: caseB, children: [caseA] }), 'ERR_VALIDATION', /case cannot contain a case/);
      await rejectsWith(retail.codes.aggregate({ parent: caseB, children: [items[3]] }), 'ERR_FORBIDDEN');
      expect((await brand.codes.listChildren(caseB)).items).to.deep.equal([]);
      await factory.codes.aggregate({ parent: pallet, children: [caseA] });
      expect((await brand.codes.listChildren(caseA)).items).to.have.members(items.slice(0, 3));
      await factory.codes.disaggregate({ parent: caseA, children: [items[2]] });
      await factory.codes.aggregate({ parent: caseB, children: [items[2], items[3]] });
      expect((await brand.codes.listChildren(caseA)).items).to.have.members(items.slice(0, 2));
      const v = await brand.codes.verifyCode(items[2]);
      expect(v.genuine && v.code.parent).to.equal(caseB);
    });
  });

  describe('scans', () => {
    it('marks a code suspect on the scan that passes the threshold, once', async () => {
      const [c] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-b', level: 'item', codeHashes: [c] });
      const threshold = (await brand.process.getTemplate('puer_tea', 1)).scanAlertThreshold;
      expect(threshold).to.equal(10);
      const r1 = await retail.codes.recordScans({ scans: Array.from({ length: threshold - 1 }, () => scan(c)) });
      expect(r1).to.deep.equal({ recorded: threshold - 1, alerts: [], outcomes: Array.from({ length: threshold - 1 }, () => ({ status: 'recorded' })) });
      expect((await retail.codes.recordScans({ scans: [scan(c)] })).alerts).to.deep.equal([]);
      let v = await brand.codes.verifyCode(c);
      expect(v.genuine && [v.verdict, v.scanCount]).to.deep.equal(['genuine', threshold]);
      const crossing = await retail.codes.recordScans({ scans: [scan(c)] });
      expect(crossing.alerts).to.deep.equal([{ type: 'clone', codeHash: c, taskId: 'codes-b', count: threshold + 1, threshold, scannedBy: ORGS.retail }]);
      expect((await retail.codes.recordScans({ scans: [scan(c)] })).alerts).to.deep.equal([]);
      v = await brand.codes.verifyCode(c);
      expect(v.genuine && [v.verdict, v.scanCount]).to.deep.equal(['suspect', threshold + 2]);
    });

    it('counts a batch sent again under its batch id once, answering with the first transaction and its refusals', async () => {
      const [c] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-b', level: 'item', codeHashes: [c] });
      const batch = { batchId: 'sender-0001', scans: [scan(c), { ...scan(c), channel: 'logistics' as const }] };
      const first = await retail.ledger.submit('codes:recordScans', JSON.stringify(batch));
      const firstResult = JSON.parse(Buffer.from(first.result).toString()) as { recorded: number; outcomes: { status: string; code?: string }[] };
      expect([firstResult.recorded, firstResult.outcomes.map((o) => o.code ?? o.status)]).to.deep.equal([1, ['recorded', 'ERR_FORBIDDEN']]);
      // The sender crashed before it could forget the batch, and sends it again.
      const again = await retail.codes.recordScans(batch);
      expect(again).to.deep.equal({ recorded: 0, alerts: [], outcomes: firstResult.outcomes, alreadyRecorded: { txId: first.transactionId } });
      let v = await brand.codes.verifyCode(c);
      expect(v.genuine && v.scanCount).to.equal(1);
      // Another batch id counts again; a malformed one is refused whole.
      expect((await retail.codes.recordScans({ batchId: 'sender-0002', scans: [scan(c)] })).recorded).to.equal(1);
      await rejectsWith(retail.codes.recordScans({ batchId: 'no', scans: [scan(c)] }), 'ERR_VALIDATION', /batchId/);
      v = await brand.codes.verifyCode(c);
      expect(v.genuine && v.scanCount).to.equal(2);
    });

    it('raises a diversion alert for a scan outside the task’s regions, and uses the shipping destination once shipped', async () => {
      const [c] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-b', level: 'item', codeHashes: [c] });
      const r = await retail.codes.recordScans({ scans: [scan(c, 'CN-44'), scan(c, 'US')] });
      expect(r.alerts).to.deep.equal([{ type: 'diversion', codeHash: c, taskId: 'codes-b', region: 'US', authorizedRegions: ['CN-53', 'CN-44', 'CN-11'] }]);
      const v = await brand.codes.verifyCode(c);
      expect(v.genuine && v.code.divertedSince).to.be.a('string');

      // A lot shipped to CN-53 may only be sold there.
      await brand.process.defineTemplate({ id: 'ship_only', version: 1, name: 'shipping only', category: 'tea', stages: [{ stage: 'shipping', after: [] }], rules: [], scanAlertThreshold: 5, publicView: {} });
      await brand.trace.createTask({ taskId: 'shipped', template: 'ship_only', version: 1, product: { gtin: TEA_GTIN, name: 't' }, lot: 'S1', plannedQuantity: 1, unit: 'cake', assignments: { shipping: ORGS.factory } });
      await factory.trace.recordStage({ taskId: 'shipped', stage: 'shipping', eventTime: clock.at(1), data: { shipped_units: 1, carrier: 'SF', tracking_no: 'SF00000001', dest_region: 'CN-53' } });
      const [s] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'shipped', level: 'item', codeHashes: [s] });
      const r2 = await retail.codes.recordScans({ scans: [scan(s, 'CN-53'), scan(s, 'CN-44')] });
      expect(r2.alerts.map((a) => [a.type, a.region, a.authorizedRegions])).to.deep.equal([['diversion', 'CN-44', ['CN-53']]]);
      // A scan that does not know where it was made, or only the country, proves no diversion.
      const [q] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'shipped', level: 'item', codeHashes: [q] });
      const { region: _r, ...unplaced } = scan(q, 'CN-53');
      const r3 = await retail.codes.recordScans({ scans: [unplaced, scan(q, 'CN')] });
      expect([r3.recorded, r3.alerts]).to.deep.equal([2, []]);
      const v3 = await brand.codes.verifyCode(q);
      expect(v3.genuine && [v3.scanCount, v3.code.divertedSince]).to.deep.equal([2, undefined]);
    });

    it('reports an unknown code: verify says not genuine, a scan raises an unknown alert and records nothing', async () => {
      const [u] = hashes(1);
      const v = await brand.codes.verifyCode(u);
      expect(v).to.deep.equal({ genuine: false, verdict: 'unknown', codeHash: u });
      const r = await retail.codes.recordScans({ scans: [scan(u)] });
      expect(r).to.deep.equal({ recorded: 0, alerts: [{ type: 'unknown', codeHash: u, taskId: '' }], outcomes: [{ status: 'unknown' }] });
    });

    it('refuses scans from a member without a scanning role, and channels the scanning org does not hold, changing no count', async () => {
      const [c] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-b', level: 'item', codeHashes: [c] });
      // farm (producer, warehouse) pumps scans to brand the code a clone and a diversion
      await rejectsWith(farm.codes.recordScans({ scans: Array.from({ length: 20 }, () => scan(c, 'US')) }), 'ERR_FORBIDDEN', /needs one of the roles retailer, scanner/);
      await rejectsWith(factory.codes.recordScans({ scans: [scan(c, 'US')] }), 'ERR_FORBIDDEN');
      let v = await brand.codes.verifyCode(c);
      expect(v.genuine && [v.verdict, v.scanCount, v.scansByOrg, v.code.divertedSince]).to.deep.equal(['genuine', 0, {}, undefined]);
      // the retailer may not pass its scans off as a logistics or regulator channel: those scans alone are refused
      const r = await retail.codes.recordScans({ scans: [{ ...scan(c), channel: 'logistics' }, scan(c), { ...scan(c), channel: 'retailer' }] });
      expect(r.recorded).to.equal(2);
      expect(r.outcomes.map((o) => (o.status === 'refused' ? o.code : o.status))).to.deep.equal(['ERR_FORBIDDEN', 'recorded', 'recorded']);
      // the brand scans its own codes (its consumer verification service), but not as a retailer
      const b = await brand.codes.recordScans({ scans: [scan(c), { ...scan(c), channel: 'retailer' }] });
      expect(b.outcomes.map((o) => o.status)).to.deep.equal(['recorded', 'refused']);
      v = await brand.codes.verifyCode(c);
      expect(v.genuine && [v.scanCount, v.scansByOrg]).to.deep.equal([3, { [ORGS.brand]: 1, [ORGS.retail]: 2 }]);
    });

    it('counts per scanning org: one org’s scans never raise another’s count, and concurrent orgs do not conflict', async () => {
      const [c] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-b', level: 'item', codeHashes: [c] });
      const threshold = (await brand.process.getTemplate('puer_tea', 1)).scanAlertThreshold;
      const many = () => ({ scans: Array.from({ length: threshold }, () => scan(c)) });
      // two orgs' batches on one code at once: disjoint keys, both commit
      const [a, b] = await Promise.all([retail.codes.recordScans(many()), brand.codes.recordScans(many())]);
      expect([a.alerts, b.alerts]).to.deep.equal([[], []]);
      let v = await brand.codes.verifyCode(c);
      expect(v.genuine && [v.verdict, v.scanCount, v.scansByOrg]).to.deep.equal(['genuine', 2 * threshold, { [ORGS.brand]: threshold, [ORGS.retail]: threshold }]);
      const crossing = await retail.codes.recordScans({ scans: [scan(c)] });
      expect(crossing.alerts).to.deep.equal([{ type: 'clone', codeHash: c, taskId: 'codes-b', count: threshold + 1, threshold, scannedBy: ORGS.retail }]);
      v = await brand.codes.verifyCode(c);
      expect(v.genuine && v.verdict).to.equal('suspect');
    });

    it('a batch invalidated by MVCC (same org, same code, at once) counts none of its scans, and resending it counts them once', async () => {
      const [shared, ...own] = hashes(7);
      await brand.codes.issueCodes({ taskId: 'codes-b', level: 'item', codeHashes: [shared, ...own] });
      const batches = own.map((u) => ({ scans: [scan(shared), scan(u)] }));
      const settled = await Promise.allSettled(batches.map((b) => retail.codes.recordScans(b)));
      const failed = batches.filter((_, i) => settled[i].status === 'rejected');
      for (const r of settled) if (r.status === 'rejected') expect([(r.reason as LedgerError).code, (r.reason as LedgerError).details.validationCode]).to.deep.equal(['ERR_COMMIT', 'MVCC_READ_CONFLICT']);
      const counts = async () => Promise.all([shared, ...own].map(async (h) => { const v = await brand.codes.verifyCode(h); return v.genuine ? v.scanCount : -1; }));
      expect(await counts()).to.deep.equal([batches.length - failed.length, ...settled.map((r) => (r.status === 'fulfilled' ? 1 : 0))]);
      for (const b of failed) await retail.codes.recordScans(b);
      expect(await counts()).to.deep.equal([batches.length, ...own.map(() => 1)]);
    });

    it('lets only the task owner clear an alert, with a reason kept in history; the threshold guards the code again', async () => {
      const [c] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-b', level: 'item', codeHashes: [c] });
      const threshold = (await brand.process.getTemplate('puer_tea', 1)).scanAlertThreshold;
      await retail.codes.recordScans({ scans: [...Array.from({ length: threshold + 1 }, () => scan(c)), scan(c, 'US')] });
      const raised = await brand.codes.verifyCode(c);
      if (!raised.genuine) throw new Error('expected an issued code');
      expect(raised.verdict).to.equal('suspect');
      const { suspectSince, divertedSince } = raised.code;
      for (const who of [retail, factory]) {
        await rejectsWith(who.codes.clearAlert({ codeHash: c, type: 'clone', reason: 'looks fine to us' }), 'ERR_FORBIDDEN', /only Org1MSP \(the owner of task codes-b\)/);
      }
      await rejectsWith(brand.codes.clearAlert({ codeHash: c, type: 'clone', reason: '' }), 'ERR_VALIDATION', /reason/);
      expect(await brand.codes.verifyCode(c)).to.deep.equal(raised);
      const cleared = await brand.codes.clearAlert({ codeHash: c, type: 'clone', reason: 'store display unit scanned by staff' });
      expect(cleared.suspectSince).to.equal(undefined);
      expect(cleared.divertedSince).to.equal(divertedSince);
      expect(cleared.clearedAlerts?.map((a) => [a.type, a.since, a.reason, a.clearedBy])).to.deep.equal([['clone', suspectSince, 'store display unit scanned by staff', ORGS.brand]]);
      let v = await brand.codes.verifyCode(c);
      expect(v.genuine && [v.verdict, v.scanCount, v.scansByOrg]).to.deep.equal(['genuine', threshold + 2, { [ORGS.retail]: 0 }]);
      await rejectsWith(brand.codes.clearAlert({ codeHash: c, type: 'clone', reason: 'again' }), 'ERR_STATE', /no open clone alert/);
      await brand.codes.clearAlert({ codeHash: c, type: 'diversion', reason: 'export sample, approved' });
      v = await brand.codes.verifyCode(c);
      expect(v.genuine && [v.code.divertedSince, v.code.clearedAlerts?.map((a) => a.type)]).to.deep.equal([undefined, ['clone', 'diversion']]);
      // the per-org count restarted: the threshold alerts again
      const again = await retail.codes.recordScans({ scans: Array.from({ length: threshold + 1 }, () => scan(c)) });
      expect(again.alerts.map((a) => [a.type, a.count])).to.deep.equal([['clone', threshold + 1]]);
    });

    it('caps the scan threshold at what a real peer lets one query see', async () => {
      const tpl = (scanAlertThreshold: number) => ({ id: 'cap_tpl', version: 1, name: 'cap', category: 'tea', stages: [{ stage: 'shipping', after: [] }], rules: [], scanAlertThreshold, publicView: {} });
      await rejectsWith(brand.process.defineTemplate(tpl(100_001)), 'ERR_VALIDATION', /scanAlertThreshold must not be greater than 100000/);
      await rejectsWith(brand.process.getTemplate('cap_tpl', 1), 'ERR_NOT_FOUND');
      expect((await brand.process.defineTemplate(tpl(100_000))).scanAlertThreshold).to.equal(100_000);
    });

    it('finds the destination by the template: the stage with bizStep shipping, the item marked as the destination region', async () => {
      await rejectsWith(brand.process.defineItem({ id: 'dest_count', name: 'n', type: 'integer', destinationRegion: true, privacy: 'plain' }), 'ERR_VALIDATION', /destination region is a plain string or enum item/);
      await brand.process.defineItem({ id: 'ship_to', name: 'ship to', type: 'string', pattern: '[A-Z]{2}(-[A-Z0-9]{1,3})?', destinationRegion: true, privacy: 'plain' });
      await brand.process.defineItem({ id: 'ship_note', name: 'note', type: 'string', privacy: 'plain' });
      await brand.process.defineForm({ id: 'dispatch_form', name: 'dispatch', items: ['ship_note', 'ship_to'] });
      await brand.process.defineStage({ id: 'dispatch', name: 'dispatch', forms: ['dispatch_form'], role: 'logistics', requiresAudit: false, bizStep: 'shipping' });
      await brand.process.defineTemplate({ id: 'dispatch_tpl', version: 1, name: 'dispatch', category: 'tea', stages: [{ stage: 'dispatch', after: [] }], rules: [], scanAlertThreshold: 5, publicView: {}, authorizedRegions: ['CN'] });
      await brand.trace.createTask({ taskId: 'dispatched', template: 'dispatch_tpl', version: 1, product: { gtin: TEA_GTIN, name: 't' }, lot: 'DSP1', plannedQuantity: 1, unit: 'cake', assignments: { dispatch: ORGS.factory } });
      const [before, after] = hashes(2);
      await brand.codes.issueCodes({ taskId: 'dispatched', level: 'item', codeHashes: [before, after] });
      // not shipped yet: the task's regions (all of CN)
      expect((await retail.codes.recordScans({ scans: [scan(before, 'CN-44')] })).alerts).to.deep.equal([]);
      await factory.trace.recordStage({ taskId: 'dispatched', stage: 'dispatch', eventTime: clock.at(1), data: { ship_note: 'CN-44 warehouse closed', ship_to: 'CN-11' } });
      const r = await retail.codes.recordScans({ scans: [scan(after, 'CN-11'), scan(after, 'CN-44')] });
      expect(r.alerts).to.deep.equal([{ type: 'diversion', codeHash: after, taskId: 'dispatched', region: 'CN-44', authorizedRegions: ['CN-11'] }]);
    });

    it('shows product, lot and key stages to a verifier', async () => {
      await net.clients.farm.trace.recordStage({ taskId: 'codes-a', stage: 'tea_plantation', eventTime: clock.at(0), data: { tea_garden: 'Jingmai' } });
      const [c] = hashes(1);
      await brand.codes.issueCodes({ taskId: 'codes-a', level: 'item', codeHashes: [c] });
      const v = await retail.codes.verifyCode(c);
      if (!v.genuine) throw new Error('expected genuine');
      expect(v.product).to.deep.equal({ gtin: TEA_GTIN, name: '景迈古树普洱 357g' });
      expect(v.stages.map((s) => [s.stage, s.recordedBy])).to.deep.equal([['tea_plantation', ORGS.farm]]);
    });
  });

  describe('trace codes issue (CLI)', () => {
    const run = (args: string[]): ChildProcess => spawn(process.execPath, [TRACE_CLI, 'codes', 'issue', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

    it('issues N codes in batches, and resumes after being killed without issuing a code twice', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'codes-'));
      const out = join(dir, 'codes.csv');
      const args = ['--task', 'codes-b', '--count', '2500', '--batch', '500', '--out', out, '--connection', net.devnet.connection, '--msp', ORGS.brand];
      const first = run(args);
      // Kill it once at least one batch is on chain.
      await new Promise<void>((res) => {
        const timer = setInterval(() => {
          const j = existsSync(`${out}.journal.json`) ? JSON.parse(readFileSync(`${out}.journal.json`, 'utf8')) : { batches: [] };
          if (j.batches.some((b: { state: string }) => b.state === 'issued')) {
            clearInterval(timer);
            first.kill('SIGKILL');
            res();
          }
        }, 20);
      });
      await new Promise((r) => first.once('exit', r));
      const second = run(args);
      let stdout = '';
      second.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      const code = await new Promise((r) => second.once('exit', r));
      expect(code).to.equal(0);
      const summary = JSON.parse(stdout.trim().split('\n').pop()!) as { issued: number; batches: number };
      expect(summary.issued).to.equal(2500);
      const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
      expect(rows).to.have.length(2500);
      expect(new Set(rows.map((r) => r[0])).size).to.equal(2500);
      expect(rows.every((r) => codeHash(r[0]) === r[1] && r[2].startsWith('https://id.example.com/01/06901234567892/10/codes-b/21/'))).to.equal(true);
      // Every printed code is on chain, for this task.
      for (let i = 0; i < rows.length; i += 50) {
        const checks = await Promise.all(rows.slice(i, i + 50).map((r) => brand.codes.verifyCode(r[1])));
        expect(checks.every((v) => v.genuine && v.code.taskId === 'codes-b')).to.equal(true);
      }
    });
  });
});
