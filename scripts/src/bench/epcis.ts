import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { captureEpcis } from '@trace/client';
import { createApiToken, createUser, openConsoleDb, startConsole } from '@trace/console';

import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { createApiKey, openDb, startIndexer } from '@trace/indexer';
import { runProductBench } from './product-devnet';
import { cpuMs, cpuMsOf, nullable, percentile, round } from './stats';
import { cpuText } from './target';

/**
 * bench:epcis — GS1 EPCIS 2.0 on a devnet with the indexer and the member console:
 *  1. capture throughput: one document of the five processing stage records (plantation → drying) of `lots` tea
 *     lots, posted to the console's POST /epcis/capture and submitted in order; events/s from the post to the job's end;
 *  2. export time: GET /epcis/lots/{taskId} of a lot with all 10 stages recorded and `codes` codes issued
 *     (a lot's whole history as one document), median and p95 of `samples` requests.
 * Usage: node scripts/dist/src/bench/epcis.js [lots=50] [codes=10000] [samples=5] [--connection profile … [--chaincode-pids 1,2 --endorsements 2]]
 */

const GTIN = '06901234567892';
const LOC = '6901234000023';
const at = (h: number) => new Date(Date.now() - (400 - h) * 3_600_000).toISOString();
const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const ISSUE_CALL = 1000;

/** Waits until ok() holds, polling the indexer, 5 minutes at most. */
async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 300_000; await new Promise((r) => setTimeout(r, 200))) if (await ok()) return;
  throw new Error(`timed out waiting for ${what}`);
}

/** The five processing stages of a tea lot as EPCIS events, as the indexer exports them. */
function lotEvents(lot: string): object[] {
  const epcClass = `https://id.gs1.org/01/${GTIN}/10/${lot}`;
  const where = { readPoint: { id: `https://id.gs1.org/414/${LOC}` }, bizLocation: { id: `https://id.gs1.org/414/${LOC}` } };
  const kg = (quantity: number) => [{ epcClass, quantity, uom: 'KGM' }];
  const transformation = (stage: string, h: number, from: number, to: number, data?: object) => ({
    type: 'TransformationEvent', eventTime: at(h), eventTimeZoneOffset: '+00:00', inputQuantityList: kg(from), outputQuantityList: kg(to), bizStep: 'commissioning', disposition: 'in_progress', ...where, 'tc:stage': stage, ...(data ? { 'tc:data': data } : {}),
  });
  return [
    { type: 'ObjectEvent', eventTime: at(0), eventTimeZoneOffset: '+00:00', quantityList: [{ epcClass }], action: 'ADD', bizStep: 'commissioning', ...where, 'tc:stage': 'tea_plantation', 'tc:data': { 'tc:tea_garden': '景迈山古茶园' } },
    { type: 'ObjectEvent', eventTime: at(24), eventTimeZoneOffset: '+00:00', quantityList: kg(1000), action: 'OBSERVE', bizStep: 'commissioning', disposition: 'active', ...where, 'tc:stage': 'tea_picking', 'tc:data': { 'tc:tea_pick_grade': 'bud' } },
    transformation('tea_withering', 30, 1000, 700),
    transformation('tea_rolling', 44, 700, 690),
    transformation('tea_drying', 50, 690, 240, { 'tc:tea_moisture_pct': 9 }),
  ];
}

runProductBench(async ({ target, client: c, partner, args }) => {
  const [own, second] = target.orgs;
  const lots = Number(args[0] ?? 50);
  const codes = Number(args[1] ?? 10_000);
  const samples = Number(args[2] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'bench-epcis-'));
  const log = pino({ level: 'warn' }, pino.destination(2));
  console.log(`setup: consortium, tea template, ${lots} lots to capture into, one lot of 10 stages and ${codes} codes, indexer and console of ${own}`);
  await c.consortium.bootstrap({ consortium: 'bench', name: 'bench brand', roles: ['brand', 'producer', 'processor', 'inspector', 'warehouse', 'logistics', 'retailer'] });
  await c.consortium.addMember({ mspId: second, name: 'bench auditor', roles: ['auditor'] });
  await c.catalog.defineProduct({ gtin: GTIN, name: 'bench tea', category: 'tea', brand: 'bench' });
  await c.catalog.defineLocation({ id: LOC, name: 'bench farm', type: 'farm', geo: { lat: 22.1, lon: 100.0 }, region: 'CN-53' });
  await loadTemplatePackage(c, tea);
  const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, own]));
  const task = (taskId: string, lot: string) => c.trace.createTask({ taskId, template: 'puer_tea', version: 1, product: { gtin: GTIN, name: 'bench tea' }, lot, plannedQuantity: 600, unit: 'cake', assignments });
  for (let i = 0; i < lots; i++) await task(`cap-${i}`, `CAP-${i}`);

  // the export lot: every stage recorded (the inspection audited by the second org), then its codes
  const full = 'export-1';
  await task(full, 'EXP-1');
  const rec = (stage: string, h: number, data: Record<string, unknown>) => c.trace.recordStage({ taskId: full, stage, eventTime: at(h), location: LOC, data });
  await rec('tea_plantation', 0, { tea_garden: '景迈山古茶园' });
  await rec('tea_picking', 24, { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' });
  await rec('tea_withering', 30, { tea_withered_kg: 700 });
  await rec('tea_rolling', 44, { tea_rolled_kg: 690 });
  await rec('tea_drying', 50, { tea_dried_kg: 240, tea_moisture_pct: 9 });
  await rec('tea_inspection', 72, { tea_moisture_pct: 8.5, tea_pesticide_pass: true, tea_inspection_report: hex('report') });
  await partner.trace.auditStage({ taskId: full, stage: 'tea_inspection', verdict: 'approved', comment: 'ok' });
  await rec('tea_packing', 96, { tea_cakes: 600, tea_cake_weight_g: 357, tea_packed_kg: 214.2 });
  await rec('tea_warehousing', 120, { tea_stored_cakes: 600, storage_temp_c: 20, storage_humidity_pct: 60 });
  await rec('shipping', 150, { shipped_units: 600, carrier: 'SF Express', tracking_no: 'SF-123456', dest_region: 'CN-53' });
  await rec('receiving', 170, { received_units: 600, store_name: 'bench store' });
  for (let i = 0; i < codes; i += ISSUE_CALL) {
    await c.codes.issueCodes({ taskId: full, level: 'item', codeHashes: Array.from({ length: Math.min(ISSUE_CALL, codes - i) }, (_, k) => hex(`bench-code-${i + k}`)) });
  }

  const indexerDb = join(dir, 'indexer.sqlite');
  const idb = await openDb(indexerDb);
  const indexerKey = (await createApiKey(idb, { org: own, scope: 'member', label: 'bench' })).key;
  await idb.close();
  const indexer = await startIndexer({ connection: target.profileFor(own), msp: own, db: indexerDb, port: 0 });
  const indexerUrl = `http://127.0.0.1:${indexer.port}`;
  const get = (path: string) => fetch(`${indexerUrl}${path}`, { headers: { authorization: `Bearer ${indexerKey}` } });
  const consoleDb = join(dir, 'console.sqlite');
  const db = openConsoleDb(consoleDb);
  await createUser(db, { username: 'erp', password: 'bench password 1', roles: ['data_entry'] });
  const token = createApiToken(db, 'erp', 'bench', 'bench').token;
  db.close();
  let result: Record<string, unknown> | undefined;
  const app = await startConsole({ connection: target.profileFor(own), msp: own, db: consoleDb, indexerUrl, indexerKey, port: 0, log });
  try {
    await until('the indexer to hold every lot and code', async () => {
      const [last, exported] = await Promise.all([get(`/api/tasks/cap-${lots - 1}`), get(`/epcis/lots/${full}`)]);
      if (!last.ok || !exported.ok) return false;
      const events = ((await exported.json()) as { epcisBody: { eventList: { bizStep?: string; epcList?: unknown[] }[] } }).epcisBody.eventList;
      return events.filter((e) => e.bizStep === 'commissioning').reduce((n, e) => n + (e.epcList?.length ?? 0), 0) === codes;
    });

    // 1. capture
    const eventList = Array.from({ length: lots }, (_, i) => lotEvents(`CAP-${i}`)).flat();
    const document = JSON.stringify({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { tc: 'https://ns.trace-chain.example/epcis/' }], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList } });
    // each captured event is one recordStage: CPU per event is CPU per transaction
    const chaincodePids = target.chaincodePids?.() ?? [];
    const cpu0 = { own: process.cpuUsage(), chaincode: cpuMsOf(chaincodePids), devnet: target.pid ? cpuMs(target.pid) : NaN };
    const started = performance.now();
    const job = await captureEpcis({ url: app.url, token }, document, 50);
    const seconds = (performance.now() - started) / 1000;
    const recorded = job.events.filter((e) => e.status === 'recorded').length;
    const own = process.cpuUsage(cpu0.own);
    // the console (the submitting client), the indexer following the chain and the capture client share this process
    const processCpuMsPerEvent = (own.user + own.system) / 1000 / recorded;
    const chaincodeCpuMsPerExec = target.chaincodePids ? (cpuMsOf(chaincodePids) - cpu0.chaincode) / (recorded * target.endorsementsPerTx!) : NaN;
    const devnetCpuMsPerEvent = target.pid ? (cpuMs(target.pid) - cpu0.devnet) / recorded : NaN;
    if (!job.success) console.log(`  capture stopped: ${JSON.stringify(job.events.find((e) => e.error))}`);
    console.log(`  capture: ${recorded}/${eventList.length} events recorded in ${round(seconds, 2)} s: ${round(recorded / seconds)} events/s (${(document.length / 1024).toFixed(0)} KiB document)`);
    console.log(`  CPU per captured event: chaincode ${cpuText(chaincodeCpuMsPerExec)} ms per execution, console + indexer process ${cpuText(processCpuMsPerEvent)} ms, devnet ${cpuText(devnetCpuMsPerEvent)} ms`);

    // 2. export
    const times: number[] = [];
    let events = 0;
    let bytes = 0;
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      const text = await (await get(`/epcis/lots/${full}`)).text();
      times.push(performance.now() - t0);
      events = (JSON.parse(text) as { epcisBody: { eventList: unknown[] } }).epcisBody.eventList.length;
      bytes = text.length;
    }
    times.sort((a, b) => a - b);
    console.log(`  export of a lot with 10 stages and ${codes} codes: ${events} events, ${(bytes / 1024).toFixed(0)} KiB, p50 ${round(percentile(times, 50))} ms, p95 ${round(percentile(times, 95))} ms`);
    result = {
      bench: 'epcis',
      capture_events: eventList.length,
      capture_recorded: recorded,
      capture_events_per_s: round(recorded / seconds),
      capture_s: round(seconds, 2),
      capture_chaincode_cpu_ms_per_exec: nullable(chaincodeCpuMsPerExec),
      capture_process_cpu_ms_per_event: nullable(processCpuMsPerEvent),
      capture_devnet_cpu_ms_per_event: nullable(devnetCpuMsPerEvent),
      export_codes: codes,
      export_events: events,
      export_kib: round(bytes / 1024),
      export_p50_ms: round(percentile(times, 50)),
      export_p95_ms: round(percentile(times, 95)),
    };
  } finally {
    await app.stop();
    await indexer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // the last line, after the indexer's and console's stop records
  if (result) console.log(JSON.stringify(result));
});
