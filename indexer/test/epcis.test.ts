import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { codeHash, deviceKey, generateCode, Ledger, ledgerFromConfig, signReadings, simulateDevice, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet, testClock } from '@trace/test-network';
import { createApiKey, openDb, startIndexer } from '../src';
import { eventHashId } from '../src/epcis/event-hash';
import { newDbLocation } from './support/databases';

const CHAINCODE = resolve(__dirname, '../../../chaincode');
const TRACE_CLI = resolve(__dirname, '../../../client/dist/src/cli.js');
const SCHEMA = JSON.parse(readFileSync(resolve(__dirname, '../../epcis/EPCIS-JSON-Schema.json'), 'utf8')) as object;
const NS = { tc: 'https://ns.trace-chain.example/epcis/' };
/** the organic certificate of the plantation: a hash item outside the tea template's public view */
const SECRET = 'feed'.repeat(16);
const GLN = { farm: '6901234000016', factory: '6901234000023', warehouse: '6901234000030', store: '6901234000047' };
const TASK = 'ep-tea-1';
const LOT_CLASS = 'https://id.gs1.org/01/06901234567892/10/JM-EP-1';
const clock = testClock();
/** The clock's time `day` days in, written in Beijing time (+08:00): the offset the export must keep. */
const beijing = (day: number) => new Date(Date.parse(clock.at(day * 24)) + 8 * 3_600_000).toISOString().replace('.000Z', '+08:00');

type Event = Record<string, unknown> & { type: string; eventID: string; eventTime: string };
interface Doc {
  '@context': unknown[];
  type: string;
  epcisBody: { eventList?: Event[]; queryResults?: { resultsBody: { eventList: Event[] } } };
}

describe('EPCIS 2.0 export and query of a lot with packing, scans, readings, an amendment and audits (devnet)', function () {
  this.timeout(300_000);
  let devnet: RunningDevnet;
  let brand: Ledger;
  let auditorLedger: Ledger;
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let base: string;
  const keys: Record<'own' | 'other' | 'auditor', string> = { own: '', other: '', auditor: '' };
  const dir = mkdtempSync(join(tmpdir(), 'epcis-'));
  const items = [generateCode(), generateCode(), generateCode()];
  const caseCode = generateCode();
  const epc = (code: string) => `${NS.tc}code/${codeHash(code)}`;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(SCHEMA);

  const get = async (path: string, key?: string) => {
    const res = await fetch(base + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: res.status, link: res.headers.get('link'), body: (await res.json()) as Doc & { error?: { code: string } } };
  };
  const exportOf = async (path: string, key?: string) => {
    const { status, body } = await get(path, key);
    expect(status, path).to.equal(200);
    return body.epcisBody.eventList!;
  };
  const query = async (q: string, key?: string) => {
    const { status, body } = await get(`/epcis/events?${q}`, key);
    expect(status, q).to.equal(200);
    return body.epcisBody.queryResults!.resultsBody.eventList;
  };
  const ids = (events: Event[]) => events.map((e) => e.eventID);
  const stageEvent = (events: Event[], stage: string, version = 1) => events.find((e) => e['tc:stage'] === stage && e['tc:version'] === version && e['tc:verdict'] === undefined)!;

  before(async () => {
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1']);
    brand = ledgerFromConfig(devnet.profiles.Org1MSP ?? devnet.connection);
    auditorLedger = ledgerFromConfig(devnet.profiles.Org2MSP);
    const c = new TraceChainClient(brand);
    const auditor = new TraceChainClient(auditorLedger);
    await c.consortium.bootstrap({ consortium: 'epcis', name: 'Brand', roles: ['brand', 'producer', 'processor', 'warehouse', 'logistics', 'retailer', 'inspector'] });
    await c.consortium.addMember({ mspId: 'Org2MSP', name: 'Auditor', roles: ['auditor'] });
    await c.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand' });
    for (const [name, id] of Object.entries(GLN)) await c.catalog.defineLocation({ id, name, type: name === 'store' ? 'store' : name === 'factory' ? 'factory' : name === 'farm' ? 'farm' : 'warehouse', geo: { lat: 22, lon: 100 }, region: 'CN-53' });
    await loadTemplatePackage(c, tea);
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, 'Org1MSP']));
    await c.trace.createTask({ taskId: TASK, template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: 'JM-EP-1', plannedQuantity: 3, unit: 'cake', assignments });
    const rec = (stage: string, day: number, data: Record<string, unknown>, location?: string) => c.trace.recordStage({ taskId: TASK, stage, eventTime: beijing(day), data, location });
    await rec('tea_plantation', 1, { tea_garden: 'Jingmai', tea_organic_cert: SECRET }, GLN.farm);
    await rec('tea_picking', 2, { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' }, GLN.farm);
    await rec('tea_withering', 3, { tea_withered_kg: 700 }, GLN.factory);
    await rec('tea_rolling', 4, { tea_rolled_kg: 690 }, GLN.factory);
    await rec('tea_drying', 5, { tea_dried_kg: 240, tea_moisture_pct: 9 }, GLN.factory);
    await rec('tea_inspection', 6, { tea_moisture_pct: 9.5, tea_pesticide_pass: true, tea_inspection_report: 'ab'.repeat(32) });
    await auditor.trace.auditStage({ taskId: TASK, stage: 'tea_inspection', verdict: 'rejected', comment: 'moisture measured twice' });
    await c.trace.amendStage({ taskId: TASK, stage: 'tea_inspection', eventTime: beijing(6), data: { tea_moisture_pct: 8.5, tea_pesticide_pass: true, tea_inspection_report: 'ab'.repeat(32) }, reason: 're-measured' });
    await auditor.trace.auditStage({ taskId: TASK, stage: 'tea_inspection', verdict: 'approved', comment: 'ok' });
    await rec('tea_packing', 7, { tea_cakes: 600, tea_cake_weight_g: 357, tea_packed_kg: 214.2 }, GLN.factory);
    await rec('tea_warehousing', 8, { tea_stored_cakes: 600, storage_temp_c: 22, storage_humidity_pct: 65 }, GLN.warehouse);
    await rec('shipping', 9, { shipped_units: 120, carrier: 'SF', tracking_no: 'SF1234567890', dest_region: 'CN-53' }, GLN.warehouse);
    await rec('receiving', 10, { received_units: 120, store_name: 'Kunming' }, GLN.store);
    await c.codes.issueCodes({ taskId: TASK, level: 'item', codeHashes: items.map(codeHash) });
    await c.codes.issueCodes({ taskId: TASK, level: 'case', codeHashes: [codeHash(caseCode)] });
    await c.codes.aggregate({ parent: codeHash(caseCode), children: items.map(codeHash) });
    await c.codes.recordScans({ scans: [{ codeHash: codeHash(items[0]), channel: 'consumer', region: 'CN-53', at: clock.at(11 * 24 + 10) }] });
    await simulateDevice(c, { deviceId: 'cellar-ep', keyPath: join(dir, 'cellar.pem'), scenario: 'cellar', taskId: TASK, batches: 1, readingsPerBatch: 4, startMs: Date.parse(clock.at(8 * 24 + 1)) });
    const gate = deviceKey(join(dir, 'gate.pem'));
    await c.devices.registerDevice({ deviceId: 'gate-ep', type: 'rfid', publicKeyPem: gate.publicKeyPem, thresholds: {} });
    await c.devices.submitReadings(
      signReadings(gate.privateKey, { deviceId: 'gate-ep', seq: 1, readings: [{ at: clock.at(10 * 24 + 9), metric: 'rfid_read', value: 1, unit: 'read', lat: 25.04, lon: 102.71, code: codeHash(caseCode) }] }),
    );
    const location = await newDbLocation('epcis');
    const db = await openDb(location);
    keys.own = (await createApiKey(db, { org: 'Org1MSP', scope: 'member' })).key;
    keys.other = (await createApiKey(db, { org: 'Org3MSP', scope: 'member' })).key;
    keys.auditor = (await createApiKey(db, { org: 'Org2MSP', scope: 'auditor' })).key;
    await db.close();
    indexer = await startIndexer({ connection: devnet.connection, db: location, port: 0 });
    base = `http://127.0.0.1:${indexer.port}`;
    // the gate's reading is the last transaction: once its sighting is indexed, everything is
    const indexed = async () => ((await (await fetch(`${base}/api/devices/gate-ep`, { headers: { authorization: `Bearer ${keys.auditor}` } })).json()) as { readings?: unknown[] }).readings?.length === 1;
    for (let i = 0; i < 600 && !(await indexed()); i++) await new Promise((r) => setTimeout(r, 100));
  });

  after(async () => {
    await indexer?.stop();
    brand?.close();
    auditorLedger?.close();
    await devnet?.stop();
  });

  it('exports the lot and each code as EPCIS 2.0 documents that validate against GS1\'s JSON Schema, for every audience', async () => {
    const paths = [`/epcis/lots/${TASK}`, `/epcis/codes/${codeHash(items[1])}`, `/epcis/codes/${codeHash(caseCode)}`];
    for (const key of [undefined, keys.other, keys.own, keys.auditor]) {
      for (const path of paths) {
        const { status, body } = await get(path, key);
        expect(status, path).to.equal(200);
        expect(validate(body), `${path}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).to.equal(true);
        expect(body['@context']).to.deep.equal(['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', NS]);
      }
    }
    const { status, body } = await get('/epcis/lots/no-such-lot');
    expect([status, body.error?.code]).to.deep.equal([404, 'ERR_NOT_FOUND']);
  });

  it('maps the lot by the template: transformations with quantities in CBV units, packing, commissioning, scans, RFID sightings, sensor reports, audits, chain extensions', async () => {
    const events = await exportOf(`/epcis/lots/${TASK}`, keys.auditor);
    const picking = stageEvent(events, 'tea_picking');
    expect(picking).to.deep.include({ type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'commissioning', disposition: 'active', eventTimeZoneOffset: '+08:00', quantityList: [{ epcClass: LOT_CLASS, quantity: 1000, uom: 'KGM' }] });
    expect(picking.readPoint).to.deep.equal({ id: `https://id.gs1.org/414/${GLN.farm}` });
    expect(picking['tc:txId']).to.match(/^[0-9a-f]{64}$/);
    expect(picking['tc:block']).to.be.a('number');
    expect(stageEvent(events, 'tea_plantation')).to.deep.include({ action: 'ADD', quantityList: [{ epcClass: LOT_CLASS }], 'tc:data': { 'tc:tea_garden': 'Jingmai', 'tc:tea_organic_cert': SECRET } });
    expect(stageEvent(events, 'tea_withering')).to.deep.include({
      type: 'TransformationEvent',
      inputQuantityList: [{ epcClass: LOT_CLASS, quantity: 1000, uom: 'KGM' }],
      outputQuantityList: [{ epcClass: LOT_CLASS, quantity: 700, uom: 'KGM' }],
      bizLocation: { id: `https://id.gs1.org/414/${GLN.factory}` },
    });
    expect(stageEvent(events, 'tea_packing').outputQuantityList).to.deep.equal([{ epcClass: LOT_CLASS, quantity: 600 }, { epcClass: LOT_CLASS, quantity: 214.2, uom: 'KGM' }]);
    // the shared handover stages keep their own CBV steps, with the dispositions their mapping names
    expect(stageEvent(events, 'shipping')).to.deep.include({ bizStep: 'shipping', disposition: 'in_transit', quantityList: [{ epcClass: LOT_CLASS, quantity: 120 }] });

    const byType = (type: string) => events.filter((e) => e.type === type);
    expect(byType('AggregationEvent')).to.have.length(1);
    expect(byType('AggregationEvent')[0]).to.deep.include({ action: 'ADD', bizStep: 'packing', parentID: epc(caseCode), childEPCs: items.map(epc) });
    const commissioned = events.filter((e) => e.bizStep === 'commissioning' && Array.isArray(e.epcList));
    expect(commissioned.map((e) => e.epcList)).to.deep.equal([items.map(epc), [epc(caseCode)]]);
    const observed = events.filter((e) => e.action === 'OBSERVE' && Array.isArray(e.epcList));
    expect(observed.map((e) => [e.epcList, e['tc:channel'] ?? e['tc:device']])).to.deep.equal([
      [[epc(caseCode)], `${NS.tc}device/gate-ep`],
      [[epc(items[0])], 'consumer'],
    ]);
    const sensors = events.filter((e) => e.bizStep === 'sensor_reporting');
    expect(sensors).to.have.length(1);
    const [element] = sensors[0].sensorElementList as { sensorMetadata: object; sensorReport: { type: string; uom?: string; minValue: number; maxValue: number }[] }[];
    expect(element.sensorMetadata).to.deep.equal({ deviceID: `${NS.tc}device/cellar-ep` });
    expect(element.sensorReport.map((r) => [r.type, r.uom])).to.deep.equal([
      ['RelativeHumidity', 'P1'],
      ['Temperature', 'CEL'],
    ]);
    for (const r of element.sensorReport) expect(r.minValue).to.be.at.most(r.maxValue);

    // the rejected record is declared incorrect, with the amendment as its corrective event; the audits are inspections
    const [v1, v2] = [stageEvent(events, 'tea_inspection', 1), stageEvent(events, 'tea_inspection', 2)];
    expect(v1.errorDeclaration).to.deep.include({ reason: 'incorrect_data', correctiveEventIDs: [v2.eventID] });
    expect(v2).to.not.have.property('errorDeclaration');
    expect(v2['tc:reason']).to.equal('re-measured');
    expect(events.filter((e) => e.bizStep === 'inspecting' && e['tc:verdict']).map((e) => [e.disposition, e['tc:version'], e['tc:comment']])).to.deep.equal([
      ['non_conformant', 1, 'moisture measured twice'],
      ['conformant', 2, 'ok'],
    ]);
    // in event time order
    const times = events.map((e) => Date.parse(e.eventTime));
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
  });

  it('names each event by its CBV 2.0 hash: stable across exports, unchanged by its error declaration, changed by any field', async () => {
    const events = await exportOf(`/epcis/lots/${TASK}`, keys.auditor);
    for (const e of events) {
      const { eventID, errorDeclaration: _declared, ...rest } = e;
      expect(eventHashId(rest, NS), e.type).to.equal(eventID);
    }
    expect(new Set(ids(events)).size).to.equal(events.length);
    expect(ids(await exportOf(`/epcis/lots/${TASK}`, keys.auditor))).to.deep.equal(ids(events));
    const { eventID, ...picking } = stageEvent(events, 'tea_picking');
    expect(eventHashId({ ...picking, quantityList: [{ epcClass: LOT_CLASS, quantity: 1001, uom: 'KGM' }] }, NS)).to.not.equal(eventID);
    expect(eventHashId({ ...picking, 'tc:block': Number(picking['tc:block']) + 1 }, NS)).to.not.equal(eventID);
  });

  it("shows the public and other orgs only the template's public view; the task's org and auditors get every item", async () => {
    for (const key of [undefined, keys.other]) {
      for (const path of [`/epcis/lots/${TASK}`, `/epcis/codes/${codeHash(items[0])}`, '/epcis/events?perPage=1000']) {
        const text = JSON.stringify((await get(path, key)).body);
        expect(text, path).to.not.include(SECRET);
        expect(text, path).to.not.include('re-measured');
        expect(text, path).to.not.include('moisture measured twice');
      }
      const events = await exportOf(`/epcis/lots/${TASK}`, key);
      // fresh leaf weight is not public: the picking event names the lot without it; the garden is public
      expect(stageEvent(events, 'tea_picking').quantityList).to.deep.equal([{ epcClass: LOT_CLASS }]);
      expect(stageEvent(events, 'tea_plantation')['tc:data']).to.deep.equal({ 'tc:tea_garden': 'Jingmai' });
      // withering's weights are private: no transformation to show, an observation of the lot instead
      expect(stageEvent(events, 'tea_withering')).to.deep.include({ type: 'ObjectEvent', quantityList: [{ epcClass: LOT_CLASS }] });
    }
    for (const key of [keys.own, keys.auditor]) expect(JSON.stringify((await get(`/epcis/lots/${TASK}`, key)).body)).to.include(SECRET);
  });

  it("exports a code's history: its lot's records, and only the events that name it or its case", async () => {
    const lot = await exportOf(`/epcis/lots/${TASK}`, keys.auditor);
    const history = await exportOf(`/epcis/codes/${codeHash(items[1])}`, keys.auditor);
    const names = (e: Event) => [e.epcList, e.childEPCs, e.parentID].flat().filter(Boolean) as string[];
    expect(ids(history)).to.deep.equal(ids(lot.filter((e) => names(e).length === 0 || names(e).some((x) => x === epc(items[1]) || x === epc(caseCode)))));
    // item 1 was never scanned: the scan of item 0 is not in its history, the case's RFID sighting is
    expect(history.some((e) => e['tc:channel'] === 'consumer')).to.equal(false);
    expect(history.some((e) => e['tc:device'] === `${NS.tc}device/gate-ep`)).to.equal(true);
    expect((await get(`/epcis/codes/${'0'.repeat(64)}`)).status).to.equal(404);
  });

  it('answers the simple event query: each filter returns exactly the matching events', async () => {
    const all = await exportOf(`/epcis/lots/${TASK}`);
    const pick = (f: (e: Event) => boolean) => ids(all.filter(f));
    const cases: [string, (e: Event) => boolean, number][] = [
      ['eventType=AggregationEvent', (e) => e.type === 'AggregationEvent', 1],
      ['eventType=TransformationEvent|AggregationEvent', (e) => e.type === 'AggregationEvent', 1],
      ['EQ_bizStep=shipping|receiving', (e) => e['tc:stage'] === 'shipping' || e['tc:stage'] === 'receiving', 2],
      ['EQ_bizStep=https://ref.gs1.org/cbv/BizStep-packing', (e) => e.bizStep === 'packing', 2],
      ['EQ_disposition=in_transit', (e) => e['tc:stage'] === 'shipping', 1],
      [`EQ_bizLocation=https://id.gs1.org/414/${GLN.store}`, (e) => e['tc:stage'] === 'receiving', 1],
      [`EQ_bizLocation=urn:epc:id:sgln:6901234.00004.0`, (e) => e['tc:stage'] === 'receiving', 1],
      [`MATCH_epc=${epc(caseCode)}`, (e) => Array.isArray(e.epcList) && e.epcList.includes(epc(caseCode)), 2],
      [`MATCH_anyEPC=${epc(caseCode)}`, (e) => e.parentID === epc(caseCode) || (Array.isArray(e.epcList) && e.epcList.includes(epc(caseCode))), 3],
      // an item: commissioned, scanned, and packed as a child of the case
      [`MATCH_epc=${epc(items[0])}`, (e) => [e.epcList, e.childEPCs].some((l) => Array.isArray(l) && l.includes(epc(items[0]))), 3],
      [`GE_eventTime=${clock.at(3 * 24)}&LT_eventTime=${clock.at(5 * 24)}`, (e) => e['tc:stage'] === 'tea_withering' || e['tc:stage'] === 'tea_rolling', 2],
      ['EQ_bizStep=shipping&EQ_disposition=sellable_accessible', () => false, 0],
    ];
    for (const [q, f, n] of cases) {
      const found = await query(`${q}&perPage=1000`);
      expect(ids(found), q).to.deep.equal(pick(f));
      expect(found, q).to.have.length(n);
    }
    const { body } = await get('/epcis/events?eventType=AggregationEvent');
    expect(validate(body), JSON.stringify(validate.errors?.slice(0, 3))).to.equal(true);
    expect(body.type).to.equal('EPCISQueryDocument');
  });

  it('pages by perPage with a Link to the next page, and refuses bad parameters with 400 ERR_VALIDATION', async () => {
    const everything = await query('perPage=1000');
    const paged: Event[] = [];
    let next: string | undefined = '/epcis/events?perPage=7';
    while (next) {
      const page = await get(next);
      paged.push(...page.body.epcisBody.queryResults!.resultsBody.eventList);
      next = page.link ? /^<([^>]+)>; rel="next"$/.exec(page.link)![1] : undefined;
    }
    expect(ids(paged)).to.deep.equal(ids(everything));
    expect(everything.length).to.be.greaterThan(14);
    const first = await get('/epcis/events?perPage=2&EQ_bizStep=inspecting');
    const token = new URLSearchParams(first.link!.slice(first.link!.indexOf('?') + 1, first.link!.indexOf('>'))).get('nextPageToken')!;
    for (const bad of ['eventType=Foo', 'GE_eventTime=yesterday', 'EQ_bizstep=shipping', 'perPage=0', 'perPage=1001', 'MATCH_epc=not a uri', `nextPageToken=${token}`, 'nextPageToken=***']) {
      const { status, body } = await get(`/epcis/events?${bad}`);
      expect([status, body.error?.code], bad).to.deep.equal([400, 'ERR_VALIDATION']);
    }
    expect((await get(`/epcis/events?perPage=2&EQ_bizStep=inspecting&nextPageToken=${token}`)).status).to.equal(200);
  });

  it('exports a lot to a file with the trace CLI (trace epcis export --lot), with the key from TRACE_INDEXER_KEY, and fails with the stable code', async () => {
    const out = join(dir, 'lot.jsonld');
    const env = { ...process.env, TRACE_INDEXER_KEY: keys.auditor };
    // run asynchronously: the indexer answering it lives in this process
    const run = (lot: string, file: string) => promisify(execFile)(process.execPath, [TRACE_CLI, 'epcis', 'export', '--lot', lot, '--indexer', base, '--out', file], { env, encoding: 'utf8' });
    const printed = JSON.parse((await run(TASK, out)).stdout) as { events: number };
    const file = JSON.parse(readFileSync(out, 'utf8')) as Doc;
    expect(validate(file)).to.equal(true);
    expect(ids(file.epcisBody.eventList!)).to.deep.equal(ids(await exportOf(`/epcis/lots/${TASK}`, keys.auditor)));
    expect(printed.events).to.equal(file.epcisBody.eventList!.length);
    expect(JSON.stringify(file)).to.include(SECRET);
    const missing = join(dir, 'missing.jsonld');
    const failed = (await run('no-such-lot', missing).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    )) as { code: number; stderr: string };
    expect([failed.code, failed.stderr.trim()]).to.deep.equal([1, 'trace: [ERR_NOT_FOUND] task no-such-lot is not indexed']);
    expect(existsSync(missing)).to.equal(false);
  });
});
