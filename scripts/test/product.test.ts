/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser } from 'playwright-core';
import { codeHash, generateCode, Ledger, ledgerFromConfig, TraceChainClient, Wallet } from '@trace/client';
import { codeKey, openDb, PAGE_CSP } from '@trace/indexer';
import { findPids } from '@trace/test-network';
import { DEMO_CLASS, DEMO_ORGS, DEMO_TEA_TASK, DemoOrg, DemoSummary } from '../src/demo/seed';
import { ARTIFACTS, launchChromium } from './support/browser';
import { eventually, getJson, RunningProduct, startProduct } from './support/product';

/** Every event name the chaincode emits (chaincode/src/contracts/*.ts). */
const EVENT_TYPES = [
  'consortium.Bootstrapped', 'consortium.MemberAdded', 'consortium.MemberUpdated', 'consortium.MemberStatusChanged',
  'catalog.ProductDefined', 'catalog.ProductStatusChanged', 'catalog.ProductDelegated', 'catalog.LocationDefined', 'catalog.LocationStatusChanged',
  'process.ItemDefined', 'process.FormDefined', 'process.StageDefined', 'process.TemplatePublished', 'process.TemplateRetired',
  'trace.TaskCreated', 'trace.StageRecorded', 'trace.StageAmended', 'trace.StageAudited', 'trace.TaskAudited',
  'codes.Issued', 'codes.StatusChanged', 'codes.Aggregated', 'codes.Disaggregated', 'codes.Scanned', 'codes.AlertCleared',
  'devices.Registered', 'devices.StatusChanged', 'devices.KeyRotated', 'devices.ReadingsSubmitted', 'devices.AlarmAcked',
  'assets.ClassProposed', 'assets.ClassConfirmed', 'assets.CurrencyCreated', 'assets.Issued', 'assets.Transferred', 'assets.Locked', 'assets.Unlocked',
  'assets.OfferCreated', 'assets.OfferAccepted', 'assets.OfferCancelled', 'assets.Redeemed', 'assets.RedemptionConfirmed', 'assets.ValuationSet',
].sort();

type Row = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Payload = any;

describe('npm start --demo: devnet + chaincode + indexer + pages (devnet)', function () {
  this.timeout(600_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'product-'));
  let product: RunningProduct;
  let c: Record<DemoOrg, TraceChainClient>;
  let ledgers: Ledger[] = [];
  let demo: DemoSummary;
  let db: Database.Database;
  let browser: Browser | undefined;
  /** the API as the demo's auditor reads it (everything); `anon` as the public */
  const api = <T = Row>(path: string, init: RequestInit = {}) => getJson<T>(product.base + path, { ...init, headers: { authorization: `Bearer ${product.keys.auditor}`, ...(init.headers as Record<string, string>) } });
  const anon = <T = Row>(path: string, init?: RequestInit) => getJson<T>(product.base + path, init);
  const one = <T = Row>(sql: string, ...args: unknown[]) => db.prepare(sql).get(...args) as T;
  /** waits until the indexer has the block of a transaction */
  const indexed = (txId: string) => eventually(async () => ((await api(`/api/transactions/${txId}`)).status === 200 ? true : undefined), `tx ${txId} indexed`);

  before(async () => {
    product = await startProduct(dataDir);
    const connection = join(dataDir, 'connection-org1.json');
    ledgers = (Object.keys(DEMO_ORGS) as DemoOrg[]).map((o) => ledgerFromConfig(connection, { msp: DEMO_ORGS[o] }));
    c = Object.fromEntries((Object.keys(DEMO_ORGS) as DemoOrg[]).map((o, i) => [o, new TraceChainClient(ledgers[i])])) as Record<DemoOrg, TraceChainClient>;
    demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as DemoSummary;
    db = new Database(join(dataDir, 'indexer.sqlite'), { readonly: true });
  });

  after(async () => {
    await browser?.close();
    db?.close();
    ledgers.forEach((l) => l.close());
    if (product?.proc.exitCode === null) await product.interrupt();
  });

  it('comes up healthy and prints the pages to open', async () => {
    const health = await api('/healthz');
    expect([health.status, health.body.chain, health.body.chaincode]).to.deep.equal([200, true, true]);
    // the only indexer on its database leads both duties
    const leases = health.body.leases as Record<string, { role: string }>;
    expect([leases.ingestor.role, leases.scanSender.role]).to.deep.equal(['leader', 'leader']);
    expect(product.stdout).to.match(/demo \[9\/9\]/);
    expect(product.stdout).to.include(`${product.base}/c/${demo.codes.genuine}`);
    const root = await fetch(product.base + '/', { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).to.deep.equal([302, '/dashboard']);
    // a member console per demo org, each answering its login page
    const consoles = [...product.stdout.matchAll(/^ {2}(\w+) +(Org\dMSP) +(http:\/\/127\.0\.0\.1:\d+)\/login$/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(consoles.map(([name, msp]) => [name, msp])).to.deep.equal(Object.entries(DEMO_ORGS));
    for (const [, , url] of consoles) expect((await fetch(`${url}/login`)).status).to.equal(200);
  });

  it('prints a member key (the brand) and an auditor key (the regulator) that open the member and auditor routes', async () => {
    expect(product.stdout).to.match(new RegExp(`member key +${DEMO_ORGS.brand} tck_`));
    expect(product.stdout).to.match(new RegExp(`auditor key +${DEMO_ORGS.retail} tck_`));
    const as = (key: string | undefined, path: string) => getJson<{ error?: { code: string } }>(product.base + path, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    const auditPath = `/api/audit/code/${codeHash(demo.codes.genuine)}`;
    const results = await Promise.all([
      as(undefined, '/api/stats'),
      as(undefined, `/api/trace/code/${codeHash(demo.codes.genuine)}`),
      as(product.keys.member, '/api/stats'),
      as(product.keys.member, `/api/tasks/${DEMO_TEA_TASK}`),
      as(product.keys.member, auditPath),
      as(product.keys.auditor, auditPath),
    ]);
    expect(results.map((r) => [r.status, r.body.error?.code])).to.deep.equal([[401, 'ERR_UNAUTHORIZED'], [200, undefined], [200, undefined], [200, undefined], [403, 'ERR_FORBIDDEN'], [200, undefined]]);
  });

  describe('projections, one per chaincode event type', () => {
    const alice = () => Wallet.file(join(dataDir, 'demo-keys', 'alice.pem'));
    before(async () => {
      // The rest of the lifecycle, so that every event type the chaincode emits is on chain.
      const { brand, farm, factory, retail } = c;
      await brand.consortium.updateMember({ mspId: DEMO_ORGS.retail, name: '昆明旗舰店' });
      await brand.consortium.setMemberStatus({ mspId: DEMO_ORGS.retail, status: 'suspended' });
      await brand.consortium.setMemberStatus({ mspId: DEMO_ORGS.retail, status: 'active' });
      await brand.catalog.defineProduct({ gtin: '06901234567915', name: '旧款礼盒', category: 'tea', brand: '云岭茶酒品牌' });
      await brand.catalog.setProductDelegates({ gtin: '06901234567915', delegates: [DEMO_ORGS.factory] });
      await brand.catalog.setProductStatus({ gtin: '06901234567915', status: 'retired' });
      await brand.process.defineTemplate({ id: 'old_ship', version: 1, name: '旧发运流程', category: 'tea', stages: [{ stage: 'shipping', after: [] }], rules: [], scanAlertThreshold: 5, publicView: {} });
      await brand.process.retireTemplate({ id: 'old_ship', reason: '并入新流程' });
      await farm.catalog.defineLocation({ id: '6901234000078', name: '旧仓', type: 'warehouse', geo: { lat: 22, lon: 100.5 }, region: 'CN-53' });
      await farm.catalog.setLocationStatus({ id: '6901234000078', status: 'retired' });
      await brand.trace.createTask({ taskId: 'extra-tea', template: 'puer_tea', version: 1, product: { gtin: demo.gtin.tea, name: '景迈古树普洱 357g' }, lot: 'JM-EXTRA', plannedQuantity: 10, unit: 'cake', assignments: { tea_plantation: DEMO_ORGS.farm, tea_picking: DEMO_ORGS.farm, tea_withering: DEMO_ORGS.factory, tea_rolling: DEMO_ORGS.factory, tea_drying: DEMO_ORGS.factory, tea_inspection: DEMO_ORGS.retail, tea_packing: DEMO_ORGS.factory, tea_warehousing: DEMO_ORGS.farm, shipping: DEMO_ORGS.factory, receiving: DEMO_ORGS.retail }, actor: 'admin' });
      const yesterday = new Date(Date.now() - 86_400_000).toISOString();
      await farm.trace.recordStage({ taskId: 'extra-tea', stage: 'tea_plantation', eventTime: yesterday, data: { tea_garden: '景迈' } });
      await farm.trace.amendStage({ taskId: 'extra-tea', stage: 'tea_plantation', eventTime: yesterday, data: { tea_garden: '景迈山' }, reason: '更正茶园名称' });
      const [item, box] = [codeHash(generateCode()), codeHash(generateCode())];
      await brand.codes.issueCodes({ taskId: 'extra-tea', level: 'item', codeHashes: [item] });
      await brand.codes.issueCodes({ taskId: 'extra-tea', level: 'case', codeHashes: [box], actor: 'codes' });
      await factory.codes.aggregate({ parent: box, children: [item] });
      await factory.codes.disaggregate({ parent: box });
      await brand.codes.setCodeStatus({ codeHashes: [item], status: 'active' });
      await retail.codes.recordScans({ scans: [{ codeHash: item, channel: 'retailer', region: 'US', at: yesterday }] });
      await brand.codes.clearAlert({ codeHash: item, type: 'diversion', reason: '出口样品，已批准' });
      await factory.devices.setDeviceStatus({ deviceId: 'truck-07', status: 'disabled' });
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await factory.devices.rotateDeviceKey({ deviceId: 'truck-07', publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() });
      await farm.devices.ackAlarm({ alarmId: ((await farm.devices.listAlarms('cellar-01')).items)[0].alarmId, comment: '空调已修复', actor: 'admin' });
      const a = alice();
      await retail.assets.lock({ lockId: 'court-1', classId: DEMO_CLASS, account: a.account, quantity: 5, kind: 'freeze' });
      await retail.assets.unlock({ classId: DEMO_CLASS, lockId: 'court-1' });
      await farm.assets.cancelOffer(a.sign(farm.holderScope('assets:cancelOffer'), { classId: DEMO_CLASS, offerId: 'offer-1', seller: a.account }));
      await farm.assets.redeem(a.sign(farm.holderScope('assets:redeem'), { redemptionId: 'r1', classId: DEMO_CLASS, account: a.account, quantity: 5 }));
      const last = await farm.ledger.submit('assets:confirmRedemption', JSON.stringify({ redemptionId: 'r1' }));
      await indexed(last.transactionId);
    });

    it('the chain now holds every event type the chaincode emits', () => {
      const names = (db.prepare('SELECT DISTINCT name FROM events ORDER BY name').pluck().all() as string[]).sort();
      expect(names).to.deep.equal(EVENT_TYPES);
    });

    /** For the last event of each type: the rows its projection is responsible for. */
    const CHECKS: Record<string, (p: Payload) => void> = {
      'consortium.Bootstrapped': (p) => expect(one('SELECT name FROM members WHERE msp_id = ?', p.member.mspId)).to.deep.equal({ name: p.member.name }),
      'consortium.MemberAdded': (p) => expect(one<Row>('SELECT joined_at FROM members WHERE msp_id = ?', p.member.mspId).joined_at).to.equal(p.member.joinedAt),
      'consortium.MemberUpdated': (p) => expect(one<Row>('SELECT name FROM members WHERE msp_id = ?', p.member.mspId).name).to.equal('昆明旗舰店'),
      'consortium.MemberStatusChanged': (p) => expect([p.member.status, one<Row>('SELECT status FROM members WHERE msp_id = ?', p.member.mspId).status]).to.deep.equal(['active', 'active']),
      'catalog.ProductDefined': (p) => expect(one<Row>('SELECT name FROM products WHERE gtin = ?', p.product.gtin).name).to.equal(p.product.name),
      'catalog.ProductDelegated': (p) => expect(JSON.parse(one<Row>('SELECT json FROM products WHERE gtin = ?', p.product.gtin).json as string).delegates).to.deep.equal([DEMO_ORGS.factory]),
      'catalog.ProductStatusChanged': (p) => expect(one<Row>('SELECT status FROM products WHERE gtin = ?', p.product.gtin).status).to.equal('retired'),
      'catalog.LocationDefined': (p) => expect(one<Row>('SELECT lat, lon FROM locations WHERE id = ?', p.location.id)).to.deep.equal({ lat: p.location.geo.lat, lon: p.location.geo.lon }),
      'catalog.LocationStatusChanged': (p) => expect(one<Row>('SELECT status FROM locations WHERE id = ?', p.location.id).status).to.equal('retired'),
      'process.ItemDefined': (p) => expect(one<Row>('SELECT name, type FROM items WHERE id = ?', p.item.id)).to.deep.equal({ name: p.item.name, type: p.item.type }),
      'process.FormDefined': (p) => expect(JSON.parse(one<Row>("SELECT json FROM definitions WHERE kind = 'form' AND id = ?", p.form.id).json as string)).to.deep.equal(p.form),
      'process.StageDefined': (p) => expect(JSON.parse(one<Row>("SELECT json FROM definitions WHERE kind = 'stage' AND id = ?", p.stage.id).json as string)).to.deep.equal(p.stage),
      'process.TemplateRetired': (p) => expect(JSON.parse(one<Row>('SELECT json FROM templates WHERE id = ?', p.retirement.id).json as string).retired).to.deep.equal(p.retirement),
      'process.TemplatePublished': (p) => {
        // the last template published is old_ship, retired since: its row carries the retirement beside the template
        const { retired, ...row } = JSON.parse(one<Row>('SELECT json FROM templates WHERE id = ? AND version = ?', p.template.id, p.template.version).json as string) as Record<string, unknown>;
        expect([row, (retired as { id?: string } | undefined)?.id]).to.deep.equal([p.template, 'old_ship']);
      },
      'trace.TaskCreated': (p) => {
        expect(one<Row>('SELECT gtin, lot FROM tasks WHERE task_id = ?', p.task.taskId)).to.deep.equal({ gtin: p.task.product.gtin, lot: p.task.lot });
        expect([p.task.actor, JSON.parse(one<Row>('SELECT json FROM tasks WHERE task_id = ?', p.task.taskId).json as string).actor]).to.deep.equal(['admin', 'admin']);
      },
      'trace.StageRecorded': (p) => expect(JSON.parse(one<Row>('SELECT data FROM stage_records WHERE task_id = ? AND stage = ? AND version = ?', p.record.taskId, p.record.stage, p.record.version).data as string)).to.deep.equal(p.record.data),
      'trace.StageAmended': (p) => {
        expect(one<Row>('SELECT reason, data FROM stage_records WHERE task_id = ? AND stage = ? AND version = 2', p.record.taskId, p.record.stage)).to.deep.equal({ reason: '更正茶园名称', data: JSON.stringify({ tea_garden: '景迈山' }) });
        expect(one<Row>('SELECT count(*) AS n FROM stage_records WHERE task_id = ? AND stage = ?', p.record.taskId, p.record.stage).n).to.equal(2);
      },
      'trace.StageAudited': (p) => expect(one<Row>('SELECT verdict FROM audits WHERE task_id = ? AND stage = ? AND tx_id = ?', p.audit.taskId, p.audit.stage, p.audit.txId).verdict).to.equal(p.audit.verdict),
      'trace.TaskAudited': (p) => expect(JSON.parse(one<Row>('SELECT audit FROM tasks WHERE task_id = ?', p.audit.taskId).audit as string).verdict).to.equal('approved'),
      'codes.Issued': (p) => {
        const inList = `hash IN (${p.codeHashes.map(() => '?').join(',')})`;
        expect(one<Row>(`SELECT count(*) AS n FROM codes WHERE task_id = ? AND level = ? AND ${inList}`, p.taskId, p.level, ...p.codeHashes.map(codeKey)).n).to.equal(p.codeHashes.length);
        // the issuing org's user, as the event names it
        expect([p.actor, one<Row>(`SELECT group_concat(DISTINCT issued_actor) AS a FROM codes WHERE ${inList}`, ...p.codeHashes.map(codeKey)).a]).to.deep.equal(['codes', 'codes']);
      },
      'codes.StatusChanged': (p) => expect(one<Row>('SELECT status FROM codes WHERE hash = ?', codeKey(p.codeHashes[0])).status).to.equal('active'),
      // the first aggregation (the demo's case of 12 cakes) still stands; the later one was undone
      'codes.Aggregated': (p) => expect(one<Row>('SELECT count(*) AS n FROM codes WHERE parent = ?', codeKey(p.parent)).n).to.equal(p.children.length).and.to.equal(12),
      'codes.Disaggregated': (p) => expect(one<Row>('SELECT parent FROM codes WHERE hash = ?', codeKey(p.children[0])).parent).to.equal(null),
      'codes.AlertCleared': (p) => expect([p.type, p.reason, one<Row>('SELECT diverted_since FROM codes WHERE hash = ?', codeKey(p.codeHash)).diverted_since]).to.deep.equal(['diversion', '出口样品，已批准', null]),
      'codes.Scanned': (p) => expect(one<Row>('SELECT count(*) AS n FROM scans WHERE tx_id = ?', p.txId).n).to.equal(p.scans.length),
      'devices.Registered': (p) => expect(one<Row>('SELECT type, owner_msp FROM devices WHERE device_id = ?', p.device.deviceId)).to.deep.equal({ type: p.device.type, owner_msp: p.device.ownerMsp }),
      'devices.StatusChanged': (p) => expect(one<Row>('SELECT status FROM devices WHERE device_id = ?', p.deviceId).status).to.equal('disabled'),
      'devices.KeyRotated': (p) => expect(one<Row>('SELECT key_version FROM devices WHERE device_id = ?', p.deviceId).key_version).to.equal(p.keyVersion),
      'devices.ReadingsSubmitted': (p) => {
        expect(one<Row>('SELECT digest, count FROM readings WHERE device_id = ? AND seq = ?', p.batch.deviceId, p.batch.seq)).to.deep.equal({ digest: p.batch.digest, count: p.batch.count });
        expect(one<Row>('SELECT count(*) AS n FROM code_sightings WHERE tx_id = ?', p.txId).n).to.equal(p.codeLinks.length);
      },
      'devices.AlarmAcked': (p) => expect(one<Row>('SELECT acked_by, acked_actor FROM alarms WHERE alarm_id = ?', p.alarm.alarmId)).to.deep.equal({ acked_by: DEMO_ORGS.farm, acked_actor: 'admin' }),
      'assets.ClassProposed': (p) => expect(one<Row>('SELECT symbol, kind FROM asset_classes WHERE class_id = ?', p.assetClass.classId)).to.deep.equal({ symbol: 'JMTEA', kind: 'tea' }),
      'assets.ClassConfirmed': (p) => expect(JSON.parse(one<Row>('SELECT json FROM asset_classes WHERE class_id = ?', p.classId).json as string).confirmations[p.role].mspId).to.equal(p.by),
      'assets.CurrencyCreated': (p) => expect(one<Row>('SELECT kind FROM asset_classes WHERE class_id = ?', p.assetClass.classId).kind).to.equal('currency'),
      'assets.Issued': (p) => expect(JSON.parse(one<Row>('SELECT json FROM asset_classes WHERE class_id = ?', p.classId).json as string).issued).to.equal(p.issued),
      'assets.Transferred': (p) => expect(one<Row>("SELECT count(*) AS n FROM asset_events WHERE name = 'assets.Transferred' AND tx_id = ?", p.txId).n).to.equal(1),
      'assets.Locked': (p) => expect(one<Row>("SELECT json_extract(detail, '$.lock.quantity') AS q FROM asset_events WHERE tx_id = ?", p.txId).q).to.equal(5),
      'assets.Unlocked': (p) => expect(one<Row>('SELECT count(*) AS n FROM locks WHERE class_id = ? AND lock_id = ?', p.lock.classId, p.lock.lockId).n).to.equal(0),
      'assets.OfferCreated': (p) => expect(one<Row>('SELECT seller, price FROM offers WHERE class_id = ? AND offer_id = ?', p.offer.classId, p.offer.offerId)).to.deep.equal({ seller: p.offer.seller, price: p.offer.price }),
      'assets.OfferAccepted': (p) => expect(one<Row>('SELECT amount FROM balances WHERE class_id = ? AND account = ?', p.offer.currencyClass, p.offer.seller).amount).to.equal(p.cost),
      'assets.OfferCancelled': (p) => expect(one<Row>('SELECT status, quantity FROM offers WHERE class_id = ? AND offer_id = ?', p.offer.classId, p.offer.offerId)).to.deep.equal({ status: 'cancelled', quantity: p.offer.quantity }),
      'assets.Redeemed': (p) => expect(JSON.parse(one<Row>('SELECT json FROM asset_classes WHERE class_id = ?', p.redemption.classId).json as string).redeemed).to.equal(p.redeemed),
      'assets.RedemptionConfirmed': (p) => expect(JSON.parse(one<Row>('SELECT json FROM asset_classes WHERE class_id = ?', p.redemption.classId).json as string).reserve).to.equal(p.reserve),
      'assets.ValuationSet': (p) => expect(JSON.parse(one<Row>('SELECT json FROM asset_classes WHERE class_id = ?', p.classId).json as string).valuation).to.deep.equal(p.valuation),
    };

    for (const name of EVENT_TYPES) {
      it(`projects ${name}`, () => {
        const order = name === 'codes.Aggregated' ? 'ASC' : 'DESC';
        const last = db.prepare(`SELECT payload FROM events WHERE name = ? ORDER BY block ${order}, idx ${order} LIMIT 1`).pluck().get(name) as string;
        expect(CHECKS[name], `a check for ${name}`).to.be.a('function');
        CHECKS[name](JSON.parse(last));
      });
    }

    it('an index made before schema version 3 gets the tables added since filled from its events on upgrade', async () => {
      const copy = join(dataDir, 'upgrade.sqlite');
      db.prepare('VACUUM INTO ?').run(copy);
      const added = ['items', 'code_sightings', 'asset_events', 'definitions'];
      const dump = (d: Database.Database) => Object.fromEntries(added.map((t) => [t, d.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all()]));
      const expected = dump(db);
      // the columns schema version 13 added, filled from the events too
      const actors = (d: Database.Database) => [d.prepare('SELECT hash, issued_actor FROM codes ORDER BY hash').all(), d.prepare('SELECT alarm_id, acked_actor FROM alarms ORDER BY alarm_id').all()];
      const expectedActors = actors(db);
      expect(expectedActors.flat().filter((r) => Object.values(r as Row)[1] !== null)).to.have.length.greaterThan(12);
      expect(expected.code_sightings).to.have.length(1);
      expect(expected.asset_events.length).to.be.greaterThan(10);
      const old = new Database(copy);
      // back to what schema version 2 had: none of the later tables and indexes
      for (const t of [...added, 'scan_ids', 'scan_rejects', 'invocations', 'api_keys', 'scan_clients', 'local_secrets', 'dead_letters', 'leases']) old.exec(`DROP TABLE ${t}`);
      old.exec('DROP INDEX scan_queue_batch');
      old.exec('ALTER TABLE scan_queue DROP COLUMN batch_id');
      old.exec('ALTER TABLE stage_records DROP COLUMN actor');
      old.exec('ALTER TABLE audits DROP COLUMN actor');
      old.exec('ALTER TABLE codes DROP COLUMN issued_actor');
      old.exec('ALTER TABLE alarms DROP COLUMN acked_actor');
      for (const i of ['alarms_task', 'alarms_device', 'offers_status', 'audits_stage_at', 'readings_task', 'transactions_chaincode']) old.exec(`DROP INDEX ${i}`);
      // and code hashes as the hex text they were before schema version 14 (which rebuilds these tables as it converts them)
      old.pragma('ignore_check_constraints = ON');
      old.exec(`UPDATE codes SET hash = lower(hex(hash)), parent = iif(parent IS NULL, NULL, lower(hex(parent)));
        UPDATE scans SET code_hash = lower(hex(code_hash));
        UPDATE alerts SET code_hash = iif(code_hash IS NULL, NULL, lower(hex(code_hash)));
        UPDATE scan_queue SET code_hash = lower(hex(code_hash));`);
      old.exec('UPDATE schema_version SET version = 2');
      old.close();
      // openDb upgrades the file; what it made is read back as the index is read above
      await (await openDb(copy)).close();
      const upgraded = new Database(copy, { readonly: true });
      expect(dump(upgraded)).to.deep.equal(expected);
      expect(actors(upgraded)).to.deep.equal(expectedActors);
      upgraded.close();
    });

    it('keeps asset balances consistent with the supply: holders + offers + locks + redeemed = issued', async () => {
      const cls = (await api<Row & { issued: number; redeemed: number }>(`/api/assets/classes/${DEMO_CLASS}`)).body;
      const held = (await api<{ amount: number }[]>(`/api/assets/classes/${DEMO_CLASS}/holders`)).body.reduce((s, h) => s + h.amount, 0);
      const offered = (await api<{ quantity: number }[]>(`/api/assets/classes/${DEMO_CLASS}/offers?status=open`)).body.reduce((s, o) => s + o.quantity, 0);
      const locked = (cls.locks as { quantity: number }[]).reduce((s, l) => s + l.quantity, 0);
      expect(held + offered + locked + cls.redeemed).to.equal(cls.issued);
      expect([cls.issued, cls.redeemed]).to.deep.equal([300, 5]);
      const bob = Wallet.file(join(dataDir, 'demo-keys', 'bob.pem'));
      expect((await c.brand.assets.getBalance(DEMO_CLASS, bob.account)).amount).to.equal((await api<{ class_id: string; amount: number }[]>(`/api/assets/accounts/${bob.account}`)).body.find((h) => h.class_id === DEMO_CLASS)!.amount);
      const history = (await api<{ name: string }[]>(`/api/assets/classes/${DEMO_CLASS}/history`)).body.map((h) => h.name);
      expect(history.slice(0, 4)).to.deep.equal(['assets.ClassProposed', 'assets.ClassConfirmed', 'assets.ClassConfirmed', 'assets.Issued']);
      expect(history).to.include.members(['assets.OfferAccepted', 'assets.Locked', 'assets.Unlocked', 'assets.RedemptionConfirmed']);
    });
  });
  describe('API over the demo', () => {
    it('serves lots by stage, scan regions, alerts per type, devices and sensor series', async () => {
      const lots = (await api<{ template: string; stage: string; lots: number }[]>('/api/stats/lots')).body;
      expect(lots).to.deep.include.members([
        { template: 'baijiu', stage: 'audited', lots: 1 },
        { template: 'puer_tea', stage: 'audited', lots: 1 },
        { template: 'puer_tea', stage: 'tea_plantation', lots: 1 },
      ]);
      const regions = (await api<{ region: string; diversions: number }[]>('/api/stats/regions')).body;
      expect(regions.find((r) => r.region === 'CN-44')!.diversions).to.equal(1);
      const byType = (await api<{ byType: { type: string; n: number }[] }>('/api/stats/alerts')).body.byType;
      expect(byType).to.deep.equal([
        { type: 'clone', n: 1 },
        // the demo's bottle, and the lifecycle's export sample (whose alert the brand cleared: the row stays as history)
        { type: 'diversion', n: 2 },
        { type: 'sensor', n: 1 },
      ]);
      const devices = (await api<{ device_id: string; open_alarms: number }[]>('/api/devices')).body;
      expect(devices.map((d) => [d.device_id, d.open_alarms])).to.deep.equal([['cellar-01', 0], ['rfid-kunming', 0], ['truck-07', 0]]);
      const cellar = (await api<{ alarms: { acked_by: string }[]; readings: unknown[] }>('/api/devices/cellar-01')).body;
      expect([cellar.readings.length, cellar.alarms.map((a) => a.acked_by)]).to.deep.equal([6, [DEMO_ORGS.farm]]);
      const sensors = (await api<{ metrics: Record<string, { max: number }[]> }>(`/api/stats/sensors?taskId=${DEMO_TEA_TASK}`)).body.metrics;
      expect(Math.max(...sensors.storage_temp_c.map((p) => p.max))).to.equal(31.5);
      const tp = (await api<{ series: { valid: number }[] }>('/api/stats/throughput?minutes=30')).body.series;
      expect(tp).to.have.length(30);
      expect(tp.reduce((s, m) => s + m.valid, 0)).to.be.greaterThan(0);
      const tasks = (await api<{ task_id: string; audited: boolean }[]>('/api/tasks?template=puer_tea')).body;
      expect(tasks.map((t) => [t.task_id, t.audited]).sort()).to.deep.equal([[DEMO_TEA_TASK, true], ['extra-tea', false]]);
      for (const bad of ['/api/stats/throughput?minutes=0', '/api/stats/sensors', '/api/devices?status=broken', '/api/tasks?audited=maybe', '/api/assets/classes?kind=gold']) {
        const r = await api<{ error: { code: string } }>(bad);
        expect([r.status, r.body.error.code], bad).to.deep.equal([400, 'ERR_VALIDATION']);
      }
      expect((await api(`/api/assets/classes/nope/holders`)).status).to.equal(404);
    });

    it('audits: the indexed record, code and transaction match the chain, and a tampered row is reported', async () => {
      const record = (await api<{ matches: boolean; differences: string[] }>(`/api/audit/record/${DEMO_TEA_TASK}/tea_picking`)).body;
      expect([record.matches, record.differences]).to.deep.equal([true, []]);
      const code = (await api<{ matches: boolean }>(`/api/audit/code/${codeHash(demo.codes.cloned)}`)).body;
      expect(code.matches).to.equal(true);
      const txId = one<{ tx_id: string }>("SELECT tx_id FROM transactions WHERE event_name = 'assets.Issued' LIMIT 1").tx_id;
      const tx = (await api<{ matches: boolean; chain: { eventSha256: string; validationCode: string } }>(`/api/audit/tx/${txId}`)).body;
      expect([tx.matches, tx.chain.validationCode]).to.deep.equal([true, 'VALID']);
      expect(tx.chain.eventSha256).to.match(/^[0-9a-f]{64}$/);
      const task = (await api<{ matches: boolean; stages: { stage: string; matches: boolean }[] }>(`/api/audit/task/${DEMO_TEA_TASK}`)).body;
      expect([task.matches, task.stages.length]).to.deep.equal([true, 10]);

      const rw = new Database(join(dataDir, 'indexer.sqlite'));
      rw.pragma('busy_timeout = 5000');
      const original = rw.prepare("SELECT data FROM stage_records WHERE task_id = ? AND stage = 'tea_picking'").pluck().get(DEMO_TEA_TASK) as string;
      try {
        rw.prepare("UPDATE stage_records SET data = ? WHERE task_id = ? AND stage = 'tea_picking'").run(JSON.stringify({ tea_fresh_leaf_kg: 5000, tea_pick_grade: 'bud' }), DEMO_TEA_TASK);
        rw.prepare("UPDATE codes SET status = 'void' WHERE hash = ?").run(codeKey(codeHash(demo.codes.cloned)));
        const tampered = (await api<{ matches: boolean; differences: string[] }>(`/api/audit/record/${DEMO_TEA_TASK}/tea_picking`)).body;
        expect([tampered.matches, tampered.differences]).to.deep.equal([false, ['data']]);
        const code2 = (await api<{ matches: boolean; differences: string[] }>(`/api/audit/code/${codeHash(demo.codes.cloned)}`)).body;
        expect([code2.matches, code2.differences]).to.deep.equal([false, ['status']]);
        const task2 = (await api<{ matches: boolean; stages: { stage: string; matches: boolean }[] }>(`/api/audit/task/${DEMO_TEA_TASK}`)).body;
        expect([task2.matches, task2.stages.filter((x) => !x.matches).map((x) => x.stage)]).to.deep.equal([false, ['tea_picking']]);
      } finally {
        rw.prepare("UPDATE stage_records SET data = ? WHERE task_id = ? AND stage = 'tea_picking'").run(original, DEMO_TEA_TASK);
        rw.prepare("UPDATE codes SET status = 'issued' WHERE hash = ?").run(codeKey(codeHash(demo.codes.cloned)));
        rw.close();
      }
      expect((await api<{ matches: boolean }>(`/api/audit/record/${DEMO_TEA_TASK}/tea_picking`)).body.matches).to.equal(true);
      const missing = await api<{ error: { code: string } }>(`/api/audit/record/${DEMO_TEA_TASK}/no_such_stage`);
      expect([missing.status, missing.body.error.code]).to.deep.equal([404, 'ERR_NOT_FOUND']);
    });

    it('verify: a retried scanId is counted once, a reused one is a 409, codeHash needs an app key, a scan without a region is recorded without one', async () => {
      const post = (body: object) => anon<Row & { scans: { pending: number; total: number }; replayed: boolean; error: { code: string } }>('/api/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const code = demo.codes.fresh;
      const queued = () => one<{ n: number }>('SELECT count(*) AS n FROM scan_ids WHERE scan_id = ?', 'retry-1').n;
      const diversions = () => one<{ n: number }>("SELECT count(*) AS n FROM alerts WHERE type = 'diversion'").n;
      const diversionsBefore = diversions();
      const first = await post({ code, region: 'CN-53', scanId: 'retry-1' });
      expect([first.status, first.body.replayed, first.body.verdict]).to.deep.equal([200, false, 'genuine']);
      const again = await post({ code, region: 'CN-53', scanId: 'retry-1' });
      expect([again.status, again.body.replayed, again.body.scans.total]).to.deep.equal([200, true, first.body.scans.total]);
      const reused = await post({ code: demo.codes.genuine, region: 'CN-53', scanId: 'retry-1' });
      expect([reused.status, reused.body.error.code, queued()]).to.deep.equal([409, 'ERR_CONFLICT', 1]);
      const byHash = await post({ codeHash: codeHash(code), region: 'CN-53' });
      expect([byHash.status, byHash.body.error.code]).to.deep.equal([401, 'ERR_UNAUTHORIZED']);
      // a retailer's till verifies by codeHash with a member key
      const app = await anon<{ verdict: string }>('/api/verify', { method: 'POST', headers: { authorization: `Bearer ${product.keys.member}`, 'content-type': 'application/json' }, body: JSON.stringify({ codeHash: codeHash(code), region: 'CN-53', scanId: 'till-1' }) });
      expect([app.status, app.body.verdict]).to.deep.equal([200, 'genuine']);
      const future = await post({ code, region: 'CN-53', at: new Date(Date.now() + 3_600_000).toISOString() });
      expect([future.status, future.body.error.code]).to.deep.equal([400, 'ERR_VALIDATION']);
      // the same client's next anonymous scan of the code is answered but not counted again; a till (member key) always counts
      const repeated = await post({ code, region: 'CN-53' });
      expect([repeated.status, repeated.body.counted]).to.deep.equal([200, false]);
      const noRegion = await anon<{ counted: boolean }>('/api/verify', { method: 'POST', headers: { authorization: `Bearer ${product.keys.member}`, 'content-type': 'application/json' }, body: JSON.stringify({ code, scanId: 'no-region-1' }) });
      expect(noRegion.body.counted).to.equal(true);
      expect(noRegion.status).to.equal(200);
      expect(one<{ region: string | null }>('SELECT region FROM scan_ids WHERE scan_id = ?', 'no-region-1').region).to.equal(null);
      // both scans reach the chain through the indexer's sender; a scan without a region is no diversion
      await eventually(async () => ((await api<{ scans: number }>(`/api/codes/${codeHash(code)}`)).body.scans === 3 ? true : undefined), 'scans sent to the chain');
      expect((await c.brand.codes.verifyCode(codeHash(code))) as { scanCount?: number }).to.include({ scanCount: 3 });
      expect(diversions()).to.equal(diversionsBefore);
    });

    it('a queued scan the chaincode refuses moves to scan_rejects and does not hold back the scans behind it, nor the rest of its batch', async () => {
      const good = codeHash(demo.codes.genuine);
      const before = (await api<{ scans: number }>(`/api/codes/${good}`)).body.scans;
      const rw = new Database(join(dataDir, 'indexer.sqlite'));
      rw.pragma('busy_timeout = 5000');
      const now = new Date().toISOString();
      // a row no API call can produce (the region is lower case), as an older indexer version might have queued
      const insert2 = (d: Database.Database) => d.prepare('INSERT INTO scan_queue (code_hash, channel, region, at, received_at) VALUES (?, ?, ?, ?, ?)');
      const insert = insert2(rw);
      const bad = Number(rw.transaction(() => {
        const id = insert.run(codeKey(good), 'consumer', 'cn-53', now, now).lastInsertRowid;
        insert.run(codeKey(good), 'consumer', 'CN-53', now, now);
        return id;
      })());
      rw.close();
      await eventually(async () => ((await api<{ scans: number }>(`/api/codes/${good}`)).body.scans === before + 1 ? true : undefined), 'the good scan on chain');
      const reject = one<{ region: string; error: string }>('SELECT region, error FROM scan_rejects WHERE id = ?', bad);
      expect(reject.region).to.equal('cn-53');
      expect(reject.error).to.match(/region/);
      await eventually(async () => (one<{ n: number }>('SELECT count(*) AS n FROM scan_queue').n === 0 ? true : undefined), 'an empty queue');
      // one batch: the chaincode refuses one scan (the indexer's org holds no retailer role) and records the other
      const rw2 = new Database(join(dataDir, 'indexer.sqlite'));
      rw2.pragma('busy_timeout = 5000');
      const forbidden = Number(rw2.transaction(() => {
        const id = insert2(rw2).run(codeKey(good), 'retailer', 'CN-53', now, now).lastInsertRowid;
        insert2(rw2).run(codeKey(good), 'consumer', 'CN-53', now, now);
        return id;
      })());
      rw2.close();
      await eventually(async () => ((await api<{ scans: number }>(`/api/codes/${good}`)).body.scans === before + 2 ? true : undefined), 'the other scan of the batch on chain');
      expect(one<{ error: string }>('SELECT error FROM scan_rejects WHERE id = ?', forbidden).error).to.match(/^\[ERR_FORBIDDEN\] .*may not declare a retailer scan/);
      expect(one<{ n: number }>('SELECT count(*) AS n FROM scan_queue').n).to.equal(0);
    });

    it('answers CORS preflights of the configured app origin (with Authorization), not of other pages', async () => {
      const preflight = (origin: string) => fetch(`${product.base}/api/verify`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
      const app = await preflight('https://shop.example');
      expect([app.status, app.headers.get('access-control-allow-origin'), app.headers.get('access-control-allow-methods'), app.headers.get('access-control-allow-headers')]).to.deep.equal([204, 'https://shop.example', 'GET, POST, OPTIONS', 'Content-Type, Authorization']);
      const other = await preflight('https://elsewhere.example');
      expect([other.status, other.headers.get('access-control-allow-origin')]).to.deep.equal([204, null]);
    });
  });

  describe('pages in headless Chromium', () => {
    before(async () => {
      browser = await launchChromium();
    });

    const open = async (path: string, shot: string, viewport = { width: 390, height: 844 }) => {
      const page = await browser!.newPage({ viewport });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      const response = await page.goto(product.base + path);
      // every page: scripts and styles from the indexer only, never framed, no Referer; a violation would show in `errors`
      const headers = response!.headers();
      expect([headers['content-security-policy'], headers['x-content-type-options'], headers['referrer-policy']], path).to.deep.equal([PAGE_CSP, 'nosniff', 'no-referrer']);
      await page.waitForSelector('#app[data-ready]', { timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`), fullPage: true });
      // a page that gave up (data-ready="error") is a failure here, whatever else it shows
      expect(await page.getAttribute('#app', 'data-ready'), `${path}: ${await page.textContent('#app')}`).to.equal('true');
      return { page, errors };
    };

    it('consumer page of a genuine code (phone): verdict, ten stages verified on chain, map, sensors', async () => {
      const { page, errors } = await open(`/c/${demo.codes.genuine}`, 'consumer-genuine');
      expect(await page.getAttribute('#verdict', 'data-verdict')).to.equal('genuine');
      expect(await page.locator('#timeline li').count()).to.equal(10);
      await page.waitForFunction(() => [...document.querySelectorAll('.chain-mark')].every((b) => (b as HTMLElement).dataset.verified));
      expect(await page.$$eval('.chain-mark', (bs) => bs.map((b) => (b as HTMLElement).dataset.verified))).to.deep.equal(Array(10).fill('true'));
      expect(await page.locator('#map canvas').count()).to.be.greaterThan(0);
      expect(await page.textContent('#sensors')).to.include('31.5');
      expect(await page.textContent('#timeline')).to.include('景迈山古茶园');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, 'no horizontal scrolling on a phone').to.be.at.most(390);
      expect(errors).to.deep.equal([]);
      await page.close();
    });

    it('a cloned code reads suspect, a diverted bottle carries the warning, a wrong label and an unknown code are flagged', async () => {
      const clone = await open(`/c/${demo.codes.cloned}`, 'consumer-clone');
      expect(await clone.page.getAttribute('#verdict', 'data-verdict')).to.equal('suspect');
      const diverted = await open(`/01/${demo.gtin.liquor}/10/${demo.lots.liquor}/21/${demo.codes.diverted}`, 'consumer-diverted-gs1');
      expect(await diverted.page.getAttribute('#verdict', 'data-verdict')).to.equal('genuine');
      expect(await diverted.page.textContent('#diversion')).to.include('窜货');
      const mislabelled = await open(`/01/${demo.gtin.liquor}/10/${demo.lots.liquor}/21/${demo.codes.genuine}`, 'consumer-mislabelled');
      expect(await mislabelled.page.getAttribute('#verdict', 'data-verdict')).to.equal('suspect');
      const unknown = await open(`/c/${generateCode()}`, 'consumer-unknown');
      expect(await unknown.page.getAttribute('#verdict', 'data-verdict')).to.equal('unknown');
      const lot = await open(`/01/${demo.gtin.tea}/10/${demo.lots.tea}`, 'consumer-lot');
      expect([await lot.page.getAttribute('#verdict', 'data-verdict'), await lot.page.locator('#timeline li').count()]).to.deep.equal(['lot', 10]);
      for (const p of [clone, diverted, mislabelled, unknown, lot]) {
        expect(p.errors).to.deep.equal([]);
        await p.page.close();
      }
    });

    it('a page visit records one scan, and a reload in the same session does not count again', async () => {
      const fresh = generateCode();
      await c.brand.codes.issueCodes({ taskId: 'extra-tea', level: 'item', codeHashes: [codeHash(fresh)] });
      await eventually(async () => ((await api(`/api/codes/${codeHash(fresh)}`)).status === 200 ? true : undefined), 'code indexed');
      const { page } = await open(`/c/${fresh}?region=CN-53`, 'consumer-fresh');
      await page.reload();
      await page.waitForSelector('#app[data-ready="true"]');
      expect(await page.textContent('#verdict')).to.include('第 1 次查询');
      await eventually(async () => ((await api<{ scans: number }>(`/api/codes/${codeHash(fresh)}`)).body.scans === 1 ? true : undefined), 'the scan on chain');
      await page.close();
    });

    it('dashboard: KPIs match the API; throughput, lots, region map, alerts and sensor charts are drawn', async () => {
      const { page, errors } = await open(`/dashboard#key=${product.keys.member}`, 'dashboard', { width: 1280, height: 900 });
      expect(page.url(), 'the key is taken out of the address bar').to.equal(`${product.base}/dashboard`);
      const stats = (await api<Record<string, number>>('/api/stats')).body;
      expect(Number(await page.textContent('[data-kpi="tasks"] .n'))).to.equal(stats.tasks);
      expect(Number(await page.textContent('[data-kpi="codes"] .n'))).to.equal(stats.codes);
      expect(await page.textContent('#roles')).to.equal('本实例 · this instance: ingestor 主 leader · scanSender 主 leader');
      for (const id of ['throughput', 'lots', 'regions', 'alert-types', 'sensors']) expect(await page.locator(`#${id} canvas`).count(), id).to.equal(1);
      expect(await page.getAttribute('#regions', 'data-regions')).to.match(/CN-44:\d+/);
      expect(await page.$$eval('#alerts tr[data-type]', (rows) => [...new Set(rows.map((r) => (r as HTMLElement).dataset.type))])).to.include.members(['clone', 'diversion', 'sensor']);
      // a chart tooltip (ECharts markup with style attributes) renders under the CSP
      await page.hover('#throughput', { position: { x: 300, y: 150 } });
      await page.waitForSelector('#throughput div[style*="z-index"]', { state: 'visible' });
      expect(errors).to.deep.equal([]);
      await page.close();
    });

    it('dashboard without a key shows no figures and asks for one; a member key entered in the form opens it', async () => {
      const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${product.base}/dashboard`);
      await page.waitForSelector('#key-form:not([hidden])');
      expect(await page.locator('#kpis .kpi').count()).to.equal(0);
      await page.fill('#key-form input[name="key"]', product.keys.member);
      await page.click('#key-form button');
      await page.waitForSelector('#app[data-ready="true"]', { timeout: 30_000 });
      expect([await page.locator('#key-form').isHidden(), await page.locator('#kpis .kpi').count()]).to.deep.equal([true, 11]);
      await page.close();
    });
  });

  // mocha runs a suite's own tests before its nested suites: this one must come last
  describe('stop and restart', () => {
    it('limits the scans one client may post (429 with Retry-After); other routes stay open', async () => {
      const post = () => fetch(`${product.base}/api/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: demo.codes.fresh, region: 'CN-53' }) });
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await post()).status);
      expect(statuses.filter((x) => x === 429).length, statuses.join(',')).to.be.greaterThan(10);
      const limited = await post();
      expect([limited.status, ((await limited.json()) as { error: { code: string } }).error.code, Number(limited.headers.get('retry-after'))]).to.deep.equal([429, 'ERR_RATE_LIMITED', 1]);
      expect((await api('/api/stats')).status).to.equal(200);
    });

    it('Ctrl-C stops devnet, chaincode and indexer; starting again resumes on the same data without seeding twice', async () => {
      // let the scans accepted above reach the chain and the index, so nothing moves across the restart
    let last = -1;
    const before = await eventually(async () => {
      const stats = (await api<Record<string, number>>('/api/stats')).body;
      const settled = stats.scan_queue === 0 && stats.blocks === last;
      last = stats.blocks;
      if (!settled) await new Promise((r) => setTimeout(r, 500));
      return settled ? stats : undefined;
    }, 'a settled index');
      const chaincodes = () => findPids(`--peer.address ${product.gateway}`);
      expect(chaincodes().length).to.equal(4);
      const gateway = product.gateway;
      expect(await product.interrupt()).to.equal(0);
      expect(findPids(`--peer.address ${gateway}`)).to.deep.equal([]);
      product = await startProduct(dataDir);
      expect(product.stdout).not.to.include('demo [1/9]');
      expect(product.stdout).to.include(`/c/${demo.codes.genuine}`);
      await eventually(async () => ((await api('/healthz')).status === 200 ? true : undefined), 'healthy again');
      const after = (await api<Record<string, number>>('/api/stats')).body;
      expect([after.blocks, after.tasks, after.codes, after.asset_classes]).to.deep.equal([before.blocks, before.tasks, before.codes, before.asset_classes]);
      const ledger = ledgerFromConfig(join(dataDir, 'connection-org1.json'));
      try {
        expect(JSON.parse(Buffer.from(await ledger.evaluate('consortium:getConsortium')).toString())).to.include({ name: '普洱与白酒溯源联盟' });
      } finally {
        ledger.close();
      }
    });
  });
});
