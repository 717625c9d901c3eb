import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { ChainBlock, ChainTransaction } from '@trace/client';
import { tea } from '@trace/contract-templates';
import { PostgresServer, startPostgres } from '@trace/test-network';
import { applyBlocks, createApiKey, INGEST_BATCH, openDb } from '@trace/indexer';
import { codeHashOf } from './indexer-codes';
import { cpuMs, cpuMsOf, percentile, round, rssAnonMb, rssMb } from './stats';

/**
 * bench:indexer — feeds generated chain blocks (the event names and payload shapes the chaincode
 * emits) through the indexer's applyBlocks (as the ingestor catching up: INGEST_BATCH blocks per
 * SQLite transaction) into a fresh SQLite file, then serves that database with
 * the indexer's HTTP API (in a child process, no chain, no scan sender) and measures verify / trace
 * latency with sequential requests, trace latency again while another thread ingests live blocks of
 * scans, the trace endpoint's throughput under autocannon over random codes (cache cold), and over a
 * hot set of codes with the cache warm, on 1 and on N serve workers (node:cluster, as serve --workers N).
 * Usage: node scripts/dist/src/bench/indexer.js [codes=100000] [stageRecords=10000] [--db sqlite|postgres|sqlite,postgres]
 *        (the issue's sizes: 1000000 100000). --db (default sqlite): the engines to measure, one after
 *        the other; PostgreSQL is a server of the bench's own (Debian's postgresql package, started in
 *        a temporary data directory with its default durability), whose processes' CPU time counts as
 *        the server's. The JSON line holds each engine's figures.
 * Env: BENCH_DURATION (autocannon seconds, 10), BENCH_CONNECTIONS (10), BENCH_SAMPLES (2000),
 *      BENCH_WORKERS (serve workers of the second warm run, 2), BENCH_HOT (codes of the warm set, 2000),
 *      BENCH_BLOCK_MS (a live block every so many ms while ingesting beside the server, 200),
 *      BENCH_PROF=1 (server runs with --cpu-prof into the bench's temp dir, kept).
 */

const { values: flags, positionals } = parseArgs({ allowPositionals: true, options: { db: { type: 'string', default: 'sqlite' } } });
const CODES = Number(positionals[0] ?? 100_000);
const RECORDS = Number(positionals[1] ?? 10_000);
const ENGINES = flags.db.split(',').map((e) => e.trim());
for (const e of ENGINES) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`--db: sqlite, postgres or both (comma-separated), not ${e}`);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 2000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const HOT = Math.min(CODES, Number(process.env.BENCH_HOT ?? 2000));
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 200);
const PROF = process.env.BENCH_PROF === '1';

const TXS_PER_BLOCK = 200;
const CODES_PER_CALL = 1000;
const ITEMS_PER_CASE = 24;
const SCANS_PER_CALL = 100;
const STAGES = tea.template.stages.length;
const TASKS = Math.max(1, Math.ceil(RECORDS / STAGES));
const CODES_PER_TASK = Math.ceil(CODES / TASKS);
/** one scan per 10 codes, in calls of 100 */
const SCAN_CALLS = Math.ceil(CODES / 10 / SCANS_PER_CALL);

const ORGS = ['Org1MSP', 'Org2MSP', 'Org3MSP', 'Org4MSP', 'Org5MSP'];
const GTINS = ['06901234567892', '06901234567908', '06901234567915', '06901234567922'];
const REGIONS = ['CN-53', 'CN-44', 'CN-11'];
const T0 = Date.UTC(2026, 0, 1);

const hex = () => randomBytes(32).toString('hex');
const iso = (ms: number) => new Date(ms).toISOString();

/** The template as the chaincode publishes it: stages resolved to their items. */
function publishedTemplate(at: string) {
  const t = tea.template;
  const stages = t.stages.map((node) => {
    const def = tea.stages.find((s) => s.id === node.stage)!;
    const ids = [...new Set(def.forms.flatMap((f) => tea.forms.find((x) => x.id === f)!.items))];
    return { stage: node.stage, after: node.after, name: def.name, role: def.role, requiresAudit: def.requiresAudit, bizStep: def.bizStep, items: ids.map((id) => tea.items.find((i) => i.id === id)!) };
  });
  return { id: t.id, version: t.version, name: t.name, category: t.category, stages, rules: t.rules, scanAlertThreshold: t.scanAlertThreshold, publicView: t.publicView, authorizedRegions: t.authorizedRegions ?? [], publishedBy: 'Org1MSP', publishedAt: at };
}

type Item = { id: string; type: string; privacy: string; min?: number; max?: number; values?: string[] };

function valueOf(item: Item, n: number): unknown {
  if (item.privacy === 'hash') return createHash('sha256').update(`${item.id}/${n}`).digest('hex');
  if (item.privacy === 'cipher') return randomBytes(48).toString('base64');
  switch (item.type) {
    case 'integer':
      return Math.max(item.min ?? 0, Math.min(item.max ?? 1000, 1 + (n % 500)));
    case 'number':
      return Math.max(item.min ?? 0, Math.min(item.max ?? 1000, 10 + (n % 17) * 0.5));
    case 'boolean':
      return true;
    case 'enum':
      return item.values?.[n % item.values.length] ?? 'A';
    default:
      return `${item.id} ${n}`.slice(0, 60);
  }
}

/** Transactions in chain order, generated lazily: setup, then lot after lot, with scans of earlier lots. */
function* transactions(template: ReturnType<typeof publishedTemplate>): Generator<{ name: string; msp: string; ms: number; payload: (txId: string, txTime: string) => object }> {
  let ms = T0;
  const tx = (name: string, msp: string, payload: (txId: string, txTime: string) => object) => ({ name, msp, ms: (ms += 50), payload });
  const at = () => iso(ms);
  const member = (mspId: string, i: number) => ({ mspId, name: `Member ${i}`, roles: i === 0 ? ['brand', 'retailer'] : ['producer', 'processor', 'warehouse', 'logistics', 'inspector'], status: 'active', joinedAt: at(), updatedAt: at() });
  yield tx('consortium.Bootstrapped', 'Org1MSP', () => ({ consortium: { name: 'bench', createdAt: at() }, member: member('Org1MSP', 0) }));
  for (let i = 1; i < ORGS.length; i++) yield tx('consortium.MemberAdded', 'Org1MSP', () => ({ member: member(ORGS[i], i) }));
  for (const [i, gtin] of GTINS.entries()) yield tx('catalog.ProductDefined', 'Org1MSP', () => ({ product: { gtin, name: `Pu'er ${i}`, category: 'tea', brand: 'bench', ownerMsp: 'Org1MSP', status: 'active', createdAt: at() } }));
  const locations = Array.from({ length: 20 }, (_, i) => `LOC-${i}`);
  for (const [i, id] of locations.entries())
    yield tx('catalog.LocationDefined', ORGS[i % ORGS.length], () => ({ location: { id, name: `Site ${i}`, type: i % 4 === 0 ? 'farm' : 'warehouse', region: REGIONS[i % 3], geo: { lat: 22 + i / 10, lon: 100 + i / 10 }, ownerMsp: ORGS[i % ORGS.length], status: 'active' } }));
  yield tx('process.TemplatePublished', 'Org1MSP', () => ({ template }));
  const devices = Array.from({ length: 20 }, (_, i) => `dev-${i}`);
  for (const [i, deviceId] of devices.entries())
    yield tx('devices.Registered', ORGS[1 + (i % 4)], () => ({ device: { deviceId, type: 'temperature', ownerMsp: ORGS[1 + (i % 4)], status: 'active', keyVersion: 1, lastSeq: 0, thresholds: { storage_temp_c: { max: 25 } }, publicKeyPem: '-----BEGIN PUBLIC KEY-----…' } }));

  const assignments = Object.fromEntries(template.stages.map((s, i) => [s.stage, ORGS[1 + (i % 4)]]));
  const seq = new Map<string, number>();
  let issued = 0;
  let records = 0;
  let scanCalls = 0;
  for (let t = 0; t < TASKS; t++) {
    const taskId = `T${String(t).padStart(7, '0')}`;
    const gtin = GTINS[t % GTINS.length];
    const lot = `L${t}`;
    const task = { taskId, template: template.id, version: template.version, product: { gtin, name: `Pu'er ${t % GTINS.length}` }, lot, plannedQuantity: CODES_PER_TASK, unit: 'cake', assignments, authorizedRegions: REGIONS, createdBy: 'Org1MSP' };
    yield tx('trace.TaskCreated', 'Org1MSP', () => ({ task: { ...task, createdAt: at() } }));
    const ref = { taskId, template: template.id, version: template.version, gtin, lot };
    const stageCount = Math.min(STAGES, RECORDS - records);
    const packing = template.stages.findIndex((s) => s.bizStep === 'packing');
    for (let s = 0; s < Math.max(stageCount, STAGES); s++) {
      const node = template.stages[s];
      if (s < stageCount) {
        const n = records++;
        const flagged = n % 50 === 49;
        const flags = flagged ? [{ ruleId: 'wither_start', severity: 'flag', message: 'leaf should be withered within a day of picking' }] : [];
        yield tx('trace.StageRecorded', assignments[node.stage], (txId, txTime) => ({
          task: ref,
          record: { taskId, stage: node.stage, version: 1, eventTime: iso(ms - 3_600_000 * (STAGES - s)), location: locations[(t + s) % locations.length], data: Object.fromEntries(node.items.map((i) => [i.id, valueOf(i as Item, n)])), recordedBy: assignments[node.stage], recordedAt: txTime, txId, flags },
          bizStep: node.bizStep,
          alerts: flags.map((f) => ({ type: 'cross-validation', ruleId: f.ruleId, message: f.message })),
        }));
      }
      if (s !== packing) continue;
      // codes after packing: items in calls of up to 1,000, then cases, then one aggregation per case
      const n = Math.min(CODES_PER_TASK, CODES - issued);
      if (n <= 0) continue;
      const cases = n > ITEMS_PER_CASE ? Math.floor(n / (ITEMS_PER_CASE + 1)) : 0;
      const first = issued;
      const items = n - cases;
      const issuer = assignments[node.stage];
      for (let i = 0; i < items; i += CODES_PER_CALL) {
        const hashes = Array.from({ length: Math.min(CODES_PER_CALL, items - i) }, (_, k) => codeHashOf(first + i + k));
        yield tx('codes.Issued', issuer, () => ({ taskId, gtin, lot, level: 'item', codeHashes: hashes, issuedBy: issuer }));
      }
      if (cases > 0) {
        const hashes = Array.from({ length: cases }, (_, k) => codeHashOf(first + items + k));
        yield tx('codes.Issued', issuer, () => ({ taskId, gtin, lot, level: 'case', codeHashes: hashes, issuedBy: issuer }));
        for (let c = 0; c < cases; c++) {
          const children = Array.from({ length: Math.min(ITEMS_PER_CASE, items - c * ITEMS_PER_CASE) }, (_, k) => codeHashOf(first + c * ITEMS_PER_CASE + k));
          yield tx('codes.Aggregated', issuer, () => ({ parent: hashes[c], parentLevel: 'case', children }));
        }
      }
      issued += n;
    }
    // a warehouse sensor batch for the lot; one in twenty out of bounds
    const deviceId = devices[t % devices.length];
    const s = (seq.get(deviceId) ?? 0) + 1;
    seq.set(deviceId, s);
    const hot = t % 20 === 7;
    yield tx('devices.ReadingsSubmitted', ORGS[1 + ((t % devices.length) % 4)], (txId, txTime) => ({
      batch: { deviceId, seq: s, taskId, digest: hex(), count: 24, stats: { storage_temp_c: { count: 24, min: 14, max: hot ? 31 : 22, mean: 18.5 } }, keyVersion: 1, submittedBy: ORGS[1 + ((t % devices.length) % 4)], submittedAt: txTime, txId },
      alarms: hot ? [{ alarmId: `${deviceId}/${s}/3`, deviceId, seq: s, index: 3, taskId, metric: 'storage_temp_c', value: 31, bounds: { max: 25 }, source: 'device threshold', at: txTime, raisedAt: txTime }] : [],
      codeLinks: [],
    }));
    // consumer scans of codes issued so far, spread over the run
    while (issued > 0 && scanCalls < SCAN_CALLS && scanCalls * TASKS <= t * SCAN_CALLS) {
      const call = scanCalls++;
      yield tx('codes.Scanned', 'Org1MSP', (txId, txTime) => {
        const picked = Array.from({ length: SCANS_PER_CALL }, (_, k) => (call * 7919 + k * 104729) % issued);
        const taskOf = (code: number) => `T${String(Math.floor(code / CODES_PER_TASK)).padStart(7, '0')}`;
        const scans = picked.map((code, k) => ({ codeHash: codeHashOf(code), channel: 'consumer', region: k === 0 && call % 5 === 0 ? 'US' : REGIONS[k % 3], at: txTime, recordedBy: 'Org1MSP', txId, count: 1 }));
        const alerts: object[] = [];
        if (call % 5 === 0) alerts.push({ type: 'diversion', codeHash: scans[0].codeHash, taskId: taskOf(picked[0]), region: 'US', authorizedRegions: REGIONS });
        if (call % 10 === 3) alerts.push({ type: 'clone', codeHash: scans[1].codeHash, taskId: taskOf(picked[1]), count: 11, threshold: 10 });
        return { scans, alerts };
      });
    }
  }
}

function* blocks(template: ReturnType<typeof publishedTemplate>): Generator<ChainBlock> {
  let number = 0n;
  let previousHash = '0'.repeat(64);
  let txs: ChainTransaction[] = [];
  const cut = (): ChainBlock => {
    const hash = hex();
    const block: ChainBlock = { number, hash, previousHash, dataHash: hex(), transactions: txs };
    number++;
    previousHash = hash;
    txs = [];
    return block;
  };
  let n = 0;
  for (const t of transactions(template)) {
    const transactionId = hex();
    const txTime = iso(t.ms);
    const payload = Buffer.from(JSON.stringify({ ...t.payload(transactionId, txTime), txId: transactionId, txTime }));
    const one: ChainTransaction = { transactionId, validationCode: 'VALID', creatorMspId: t.msp, timestampMs: t.ms, chaincodeName: 'trace', event: { name: t.name, payload } };
    txs.push(one);
    // now and then a losing duplicate: same event, invalidated at commit (kept with its code, not projected)
    if (++n % 200 === 0) txs.push({ ...one, transactionId: hex(), validationCode: 'MVCC_READ_CONFLICT' });
    if (txs.length >= TXS_PER_BLOCK) yield cut();
  }
  if (txs.length > 0) yield cut();
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
/** the bench verifies generated code hashes, as a member's till does: with a member key (created in the database) */
let authorization = '';

function call(port: number, method: string, path: string, body?: object): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body && JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), authorization } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Sequential requests over random issued codes: latency percentiles in ms, and the answers that were not as expected. */
async function latency(port: number, samples: number, one: (port: number, i: number) => Promise<boolean>): Promise<{ p50: number; p99: number; max: number; bad: number }> {
  for (let i = 0; i < Math.min(200, samples); i++) await one(port, Math.floor(Math.random() * CODES));
  const ms: number[] = [];
  let bad = 0;
  for (let i = 0; i < samples; i++) {
    const code = Math.floor(Math.random() * CODES);
    const t = performance.now();
    const ok = await one(port, code);
    ms.push(performance.now() - t);
    if (!ok) bad++;
  }
  ms.sort((a, b) => a - b);
  return { p50: round(percentile(ms, 50), 2), p99: round(percentile(ms, 99), 2), max: round(ms[ms.length - 1], 2), bad };
}

/** the PostgreSQL server of a postgres run, whose processes serve with the indexer's */
let postgres: PostgresServer | undefined;

/** the CPU time of each of the PostgreSQL server's processes (none on SQLite) */
function databaseCpuMs(): Map<number, number> {
  return new Map((postgres?.pids() ?? []).map((pid) => [pid, cpuMsOf([pid])]));
}

/**
 * The CPU the database's processes spent since `before`. A backend that ended meanwhile (the pool
 * closes connections idle for 10 s) is not counted: the figure is a floor.
 */
function databaseCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of databaseCpuMs()) total += ms - (before.get(pid) ?? 0);
  return total;
}

async function measure(engine: string): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-indexer-'));
  if (engine === 'postgres') postgres = await startPostgres();
  // PostgreSQL: the server's own database (the server is the bench's)
  const file = postgres ? postgres.url : join(dir, 'indexer.sqlite');
  console.log(`bench:indexer (${engine}): ${CODES} codes, ${RECORDS} stage records over ${TASKS} tea lots (${CODES_PER_TASK} codes each), ${SCAN_CALLS * SCANS_PER_CALL} scans; db ${file}`);

  // 1. ingestion: generated blocks straight through applyBlocks (the time of applyBlocks only)
  const db = await openDb(file);
  const template = publishedTemplate(iso(T0));
  let applyMs = 0;
  let events = 0;
  let txCount = 0;
  let blockCount = 0;
  const wall = performance.now();
  let lastReport = wall;
  const estimated = TASKS * (STAGES + 3 + Math.ceil(CODES_PER_TASK / ITEMS_PER_CASE)) + SCAN_CALLS;
  // as the ingestor catching up does: up to INGEST_BATCH blocks per SQLite transaction
  const batch: ChainBlock[] = [];
  const flush = async () => {
    const t = performance.now();
    events += await applyBlocks(db, batch);
    applyMs += performance.now() - t;
    batch.length = 0;
  };
  for (const block of blocks(template)) {
    batch.push(block);
    if (batch.length === INGEST_BATCH) await flush();
    txCount += block.transactions.length;
    blockCount++;
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      const codes = (await db.value<number | null>('SELECT max(id) FROM codes')) ?? 0;
      console.log(`  ingest: ${blockCount} blocks, ${events} events (~${Math.min(99, Math.round((100 * events) / estimated))} %), ${codes} codes, ${round(events / (applyMs / 1000))} events/s, ${round((lastReport - wall) / 1000)} s`);
    }
  }
  await flush();
  const counts: Record<string, number> = {};
  for (const t of ['blocks', 'transactions', 'events', 'tasks', 'stage_records', 'codes', 'scans', 'alerts', 'alarms']) counts[t] = (await db.value<number>(`SELECT count(*) FROM ${t}`))!;
  const ingestRss = rssMb(process.pid);
  const ingestAnon = rssAnonMb(process.pid);
  // the reads are measured on a settled database: SQLite's WAL copied into the file, PostgreSQL's
  // tables vacuumed and analysed (what autovacuum would otherwise do during the measurements)
  await db.exec(db.engine === 'sqlite' ? 'PRAGMA wal_checkpoint(TRUNCATE)' : 'VACUUM ANALYZE');
  const dbBytes = db.engine === 'sqlite' ? statSync(file).size : (await db.value<number>('SELECT pg_database_size(current_database())'))!;
  authorization = `Bearer ${(await createApiKey(db, { org: 'Org1MSP', scope: 'member', label: 'bench' })).key}`;
  await db.close();
  const ingestS = applyMs / 1000;
  const ingestEps = events / ingestS;
  const codesPerS = counts.codes / ingestS;
  const dbMb = dbBytes / 2 ** 20;
  console.log(`  ingested ${events} events in ${blockCount} blocks (${txCount} transactions): ${round(ingestS)} s in applyBlock (${round((performance.now() - wall) / 1000)} s with generation)`);
  console.log(`  ${round(ingestEps)} events/s, ${round(codesPerS)} codes/s; ${JSON.stringify(counts)}; db ${round(dbMb)} MiB`);

  // 2. the HTTP API on that database, in its own process
  let server = await startServer(file, 1, dir);
  const { port } = server;
  const traceOne = async (p: number, i: number) => {
    const r = await call(p, 'GET', `/api/trace/code/${codeHashOf(i)}`);
    return r.status === 200 && (JSON.parse(r.text) as { stages: unknown[] }).stages.length > 0;
  };
  try {
    console.log(`latency: ${SAMPLES} sequential requests each over random codes (http://127.0.0.1:${port})`);
    const verify = await latency(port, SAMPLES, async (p, i) => {
      const r = await call(p, 'POST', '/api/verify', { codeHash: codeHashOf(i), region: 'CN-53', channel: 'consumer' });
      return r.status === 200 && (JSON.parse(r.text) as { verdict: string }).verdict !== 'unknown';
    });
    console.log(`  POST /api/verify            p50 ${verify.p50} ms  p99 ${verify.p99} ms  max ${verify.max} ms  unexpected ${verify.bad}`);
    const trace = await latency(port, SAMPLES, traceOne);
    console.log(`  GET /api/trace/code/{hash}  p50 ${trace.p50} ms  p99 ${trace.p99} ms  max ${trace.max} ms  unexpected ${trace.bad}`);
    const lot = await latency(port, SAMPLES, async (p, i) => {
      const t = Math.floor(i / CODES_PER_TASK);
      const r = await call(p, 'GET', `/api/trace/lot/${GTINS[t % GTINS.length]}/L${t}`);
      return r.status === 200;
    });
    console.log(`  GET /api/trace/lot/{g}/{l}  p50 ${lot.p50} ms  p99 ${lot.p99} ms  max ${lot.max} ms  unexpected ${lot.bad}`);

    // live ingestion beside the server: another thread commits a block of scans every BLOCK_MS (each
    // commit also moves the index height, so the trace cache is refilled after every block)
    const writer = new Worker(join(__dirname, 'indexer-writer.js'), { workerData: { file, from: blockCount, codes: counts.codes, blockMs: BLOCK_MS } });
    const duringIngest = await latency(port, SAMPLES, traceOne);
    const written = once(writer, 'message') as Promise<[{ events: number; ms: number }]>;
    writer.postMessage('stop');
    const [live] = await written;
    await writer.terminate();
    const liveEps = live.events / (live.ms / 1000);
    console.log(`  … while ingesting ${round(liveEps)} events/s: trace p50 ${duringIngest.p50} ms  p99 ${duringIngest.p99} ms  max ${duringIngest.max} ms  unexpected ${duringIngest.bad}`);

    console.log(`throughput: autocannon on GET /api/trace/code/{hash}, ${CONNECTIONS} connections, ${DURATION} s, random codes (cache cold)`);
    const cold = await throughput(server, () => Math.floor(Math.random() * CODES));
    console.log(`  ${cold.rps} req/s (p50 ${cold.p50} ms, p99 ${cold.p99} ms), ${cold.failed} failed; server CPU ${cold.cpuPerReq} ms per request`);
    const hot = () => Math.floor(Math.random() * HOT);
    console.log(`throughput: the same over ${HOT} hot codes with the cache warm, 1 serve worker`);
    await warm(server);
    const warm1 = await throughput(server, hot);
    console.log(`  ${warm1.rps} req/s (p50 ${warm1.p50} ms, p99 ${warm1.p99} ms), ${warm1.failed} failed; server CPU ${warm1.cpuPerReq} ms per request`);
    const serverRss = rssMb(server.child.pid!);
    const serverAnon = rssAnonMb(server.child.pid!);
    await server.stop();
    server = await startServer(file, WORKERS, dir);
    console.log(`throughput: the same with ${WORKERS} serve workers (node:cluster)`);
    await warm(server);
    const warmN = await throughput(server, hot);
    console.log(`  ${warmN.rps} req/s (p50 ${warmN.p50} ms, p99 ${warmN.p99} ms), ${warmN.failed} failed; server CPU ${warmN.cpuPerReq} ms per request`);
    return {
      engine,
      ingest_eps: round(ingestEps),
      ingest_codes_per_s: round(codesPerS),
      ingest_s: round(ingestS),
      verify_p50_ms: verify.p50,
      verify_p99_ms: verify.p99,
      trace_p50_ms: trace.p50,
      trace_p99_ms: trace.p99,
      lot_trace_p99_ms: lot.p99,
      trace_during_ingest_p50_ms: duringIngest.p50,
      trace_during_ingest_p99_ms: duringIngest.p99,
      live_ingest_eps: round(liveEps),
      http_rps: cold.rps,
      http_p99_ms: cold.p99,
      http_cpu_ms_per_req: cold.cpuPerReq,
      http_warm_rps_1: warm1.rps,
      http_warm_p99_ms_1: warm1.p99,
      http_warm_cpu_ms_per_req_1: warm1.cpuPerReq,
      serve_workers: WORKERS,
      http_warm_rps_n: warmN.rps,
      http_warm_p99_ms_n: warmN.p99,
      http_warm_cpu_ms_per_req_n: warmN.cpuPerReq,
      hot_codes: HOT,
      http_non2xx: cold.failed + warm1.failed + warmN.failed,
      unexpected: verify.bad + trace.bad + lot.bad + duringIngest.bad,
      events,
      codes: counts.codes,
      stage_records: counts.stage_records,
      scans: counts.scans,
      blocks: blockCount,
      db_mb: round(dbMb),
      // RSS counts the pages of the database file mapped by SQLite (mmap_size); rss_anon_mb is the process's own memory
      ingest_rss_mb: round(ingestRss),
      ingest_rss_anon_mb: round(ingestAnon),
      rss_mb: round(serverRss),
      rss_anon_mb: round(serverAnon),
    };
  } finally {
    await server.stop();
    if (PROF) console.error(`cpu profile kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, number | string>> = {};
  for (const engine of ENGINES) {
    try {
      results[engine] = await measure(engine);
    } finally {
      await postgres?.stop();
      postgres = undefined;
    }
  }
  agent.destroy();
  console.log(JSON.stringify({ bench: 'indexer', codes: CODES, stage_records: RECORDS, ...results }));
}

interface BenchServer {
  child: ChildProcess;
  port: number;
  /** the processes that serve (the cluster's workers, not its primary): their CPU time is the server's */
  pids: number[];
  stop(): Promise<void>;
}

/** indexer-server.js on the database, with `workers` serving processes. */
async function startServer(file: string, workers: number, dir: string): Promise<BenchServer> {
  const child = fork(join(__dirname, 'indexer-server.js'), [file, String(workers)], { execArgv: PROF ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port, pids } = await new Promise<{ port: number; pids: number[] }>((resolve, reject) => {
    child.once('message', (m: { port: number; pids: number[] }) => resolve(m));
    child.once('exit', (code) => reject(new Error(`indexer server exited with ${code}`)));
  });
  const exited = once(child, 'exit');
  return {
    child,
    port,
    pids,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** autocannon on the trace route over the codes `pick` chooses: requests/s, latency, and server CPU ms per request. */
async function throughput(server: BenchServer, pick: () => number, opts: { duration?: number; amount?: number } = {}) {
  // the serving processes and, on PostgreSQL, the database server's
  const cpu = () => server.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const before = cpu();
  const databaseBefore = databaseCpuMs();
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? DURATION }),
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/trace/code/${codeHashOf(pick())}` }) }],
  });
  // server CPU per request: what one core could serve if the load generator and the rest of the machine left it alone
  return { rps: round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99, cpuPerReq: round((cpu() - before + databaseCpuSince(databaseBefore)) / result.requests.total, 3), failed: result.non2xx + result.errors + result.timeouts };
}

/**
 * Warms every worker's trace cache with the hot codes: node:cluster hands each connection (not each
 * request) to a worker, so random requests over several connections reach every worker; three per
 * hot code and worker leave about 95 % of them cached in each.
 */
async function warm(server: BenchServer): Promise<void> {
  await throughput(server, () => Math.floor(Math.random() * HOT), { amount: 3 * HOT * server.pids.length });
}

main().catch((e: Error) => {
  console.error(`bench:indexer: ${e.stack ?? e.message}`);
  process.exit(1);
});
