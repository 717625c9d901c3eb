#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TraceChainClient } from './contracts';
import { ledgerFromConfig } from './ledger-config';
import { Ledger } from './ledger';
import { issueCodesResumable } from './issue-codes';
import { simulateDevice } from './devices';
import { Wallet } from './wallet';
import { LedgerError } from './errors';
import { exportLotEpcis, IndexerError } from './epcis-export';
import { CaptureError, captureEpcis } from './epcis-capture';

const USAGE = `usage: trace codes issue --task TASK --count N [--level item|case|pallet] [--out codes.csv] [--batch 1000] [--domain id.example.com] [--actor USER]
       trace device simulate --device ID [--scenario cellar|gps] [--task TASK] [--key ID.key] [--batches 3] [--readings 12]
       trace wallet create --out alice.key      |  trace wallet account --wallet alice.key
       trace submit|evaluate CONTRACT:TRANSACTION [--json '{...}'] [--wallet alice.key]
         e.g. trace submit consortium:bootstrap --msp Org1MSP --user Admin --json '{"consortium":"Tea","name":"Brand","roles":["brand"]}'
       trace epcis export --lot TASK [--indexer http://127.0.0.1:3000] [--out lot.jsonld]
       trace epcis capture FILE --console http://127.0.0.1:3001      (TRACE_CONSOLE_TOKEN: a console user's API token)
       trace assets TRANSACTION --json '{...}' [--wallet alice.key]
         e.g. trace assets transfer --wallet alice.key --json '{"classId":"jm2026","from":"<account>","to":"<account>","quantity":5}'
              trace assets getHoldings --json '{"account":"<account>"}'
  common: [--connection .devnet/connection-org1.json] [--msp Org1MSP] [--user User1]
    (--connection takes Fabric's common connection profile, JSON or YAML; TRACE_CHANNEL, TRACE_CHAINCODE,
     TRACE_MSP_DIR | TRACE_CERT+TRACE_KEY | TRACE_WALLET, TRACE_TLS_CLIENT_CERT+TRACE_TLS_CLIENT_KEY fill in what it lacks)
    (--connection .devnet/tbaas-Org1MSP.json, a file with "type": "tbaas", goes through the TBaaS cloud API)
  codes issue: generates N random codes, writes them (code, SHA-256, GS1 Digital Link) to a CSV print file and
    issues their hashes on chain in batches. Run the same command again after an interruption: it resumes.
  assets: submits (or, for get*/list* queries, evaluates) an assets transaction; with --wallet the request is
    signed as that holder (nonce, expiry, public key, signature added).
  epcis export: the lot's GS1 EPCIS 2.0 document from the indexer, to --out or stdout; with an indexer key in
    TRACE_INDEXER_KEY (a member key of the lot's orgs, or an auditor's) every item, without one the public view.
  epcis capture: posts an EPCIS 2.0 document to the member console, which records its events on chain as its org
    and that user, in order; prints each event's outcome and exits 1 if any was refused or not submitted.
  device simulate: holds a device key, registers the device, signs and submits readings (cellar climate with
    one heat excursion, or a GPS track), and prints the alarms the chain raised.`;


function bar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / Math.max(1, total)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** The gateway connection file (default) or a TBaaS client file given with --connection. */
function connectFromProfile(values: { connection?: string; msp?: string; user?: string }): Ledger {
  return ledgerFromConfig(resolve(values.connection ?? '.devnet/connection-org1.json'), values);
}

async function simulate(values: { device?: string; scenario?: string; task?: string; key?: string; batches?: string; readings?: string; connection?: string; msp?: string; user?: string }): Promise<void> {
  const scenario = (values.scenario ?? 'cellar') as 'cellar' | 'gps';
  if (!values.device || !['cellar', 'gps'].includes(scenario)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const ledger = connectFromProfile(values);
  try {
    const batches = Number(values.batches ?? 3);
    const alarms = await simulateDevice(
      new TraceChainClient(ledger),
      { deviceId: values.device, keyPath: resolve(values.key ?? `${values.device}.key`), scenario, taskId: values.task, batches, readingsPerBatch: Number(values.readings ?? 12), startMs: Date.now() - batches * 3_600_000 * 2 },
      (b, raised) => process.stderr.write(`\r${bar(b, batches)} batches signed and submitted${raised.length ? `, alarms: ${raised.join(' ')}` : ''}   `),
    );
    process.stderr.write('\n');
    console.log(JSON.stringify({ device: values.device, scenario, alarms }));
  } finally {
    ledger.close();
  }
}

function wallet(sub: string | undefined, values: { out?: string; wallet?: string }): void {
  const path = sub === 'create' ? values.out : sub === 'account' ? values.wallet : undefined;
  if (!path || (sub === 'create' && existsSync(path))) {
    console.error(sub === 'create' && path ? `${path} exists; a wallet file is never overwritten` : USAGE);
    process.exitCode = 2;
    return;
  }
  const w = Wallet.file(resolve(path));
  console.log(JSON.stringify({ wallet: resolve(path), account: w.account, publicKeyPem: w.publicKeyPem }));
}

/** Submits (or evaluates) one chaincode transaction with a JSON argument, signed by a holder wallet when given. */
async function call(name: string, evaluateOnly: boolean, values: { json?: string; wallet?: string; connection?: string; msp?: string; user?: string }): Promise<void> {
  let dto: object;
  try {
    dto = JSON.parse(values.json ?? '{}') as object;
  } catch {
    console.error('--json is not valid JSON');
    process.exitCode = 2;
    return;
  }
  const ledger = connectFromProfile(values);
  if (values.wallet) dto = Wallet.file(resolve(values.wallet)).sign(new TraceChainClient(ledger).holderScope(name), dto);
  try {
    const args = values.json === undefined && evaluateOnly ? [] : [JSON.stringify(dto)];
    const out = evaluateOnly ? await ledger.evaluate(name, ...args) : (await ledger.submit(name, ...args)).result;
    console.log(Buffer.from(out).toString('utf8'));
  } finally {
    ledger.close();
  }
}

async function epcisExport(values: { lot?: string; indexer?: string; out?: string }): Promise<void> {
  if (!values.lot) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const out = values.out ? resolve(values.out) : undefined;
  const { events, text } = await exportLotEpcis({ url: values.indexer ?? 'http://127.0.0.1:3000', key: process.env.TRACE_INDEXER_KEY || undefined }, values.lot, out);
  if (out) console.log(JSON.stringify({ lot: values.lot, events, out }));
  else console.log(text);
}

async function epcisCapture(file: string | undefined, values: { console?: string }): Promise<void> {
  const token = process.env.TRACE_CONSOLE_TOKEN;
  if (!file || !values.console || !token) {
    console.error(`${USAGE}\n(epcis capture needs FILE, --console and TRACE_CONSOLE_TOKEN)`);
    process.exitCode = 2;
    return;
  }
  let job;
  try {
    job = await captureEpcis({ url: values.console, token }, readFileSync(resolve(file), 'utf8'));
  } catch (e) {
    if (!(e instanceof CaptureError) || !e.fields) throw e;
    console.error(`trace: [${e.code}] ${e.message}`);
    for (const [at, problem] of Object.entries(e.fields)) console.error(`  ${at}: ${problem}`);
    process.exitCode = 1;
    return;
  }
  for (const e of job.events) {
    const detail = e.status === 'recorded' ? `${e.transaction} ${e.subject} tx ${e.txId}` : e.error ? `[${e.error.code}] ${e.error.message}` : '';
    console.log(`event ${e.index} ${e.type}: ${e.status}${detail ? `  ${detail}` : ''}`);
  }
  console.log(JSON.stringify({ captureID: job.captureID, state: job.state, recorded: job.events.filter((e) => e.status === 'recorded').length, events: job.events.length }));
  if (!job.success) process.exitCode = 1;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      task: { type: 'string' },
      count: { type: 'string' },
      level: { type: 'string' },
      out: { type: 'string' },
      batch: { type: 'string' },
      domain: { type: 'string' },
      connection: { type: 'string' },
      msp: { type: 'string' },
      user: { type: 'string' },
      device: { type: 'string' },
      scenario: { type: 'string' },
      key: { type: 'string' },
      batches: { type: 'string' },
      readings: { type: 'string' },
      json: { type: 'string' },
      wallet: { type: 'string' },
      lot: { type: 'string' },
      indexer: { type: 'string' },
      console: { type: 'string' },
      actor: { type: 'string' },
    },
  });
  const command = positionals.join(' ');
  if (command === 'device simulate') return simulate(values);
  if (command === 'epcis export') return epcisExport(values);
  if (positionals[0] === 'epcis' && positionals[1] === 'capture' && positionals.length <= 3) return epcisCapture(positionals[2], values);
  if (positionals[0] === 'wallet') return wallet(positionals[1], values);
  if (positionals[0] === 'assets' && positionals.length === 2) return call(`assets:${positionals[1]}`, /^(get|list)/.test(positionals[1]), values);
  if ((positionals[0] === 'submit' || positionals[0] === 'evaluate') && positionals.length === 2) return call(positionals[1], positionals[0] === 'evaluate', values);
  const count = Number(values.count);
  const level = (values.level ?? 'item') as 'item' | 'case' | 'pallet';
  if (command !== 'codes issue' || !values.task || !Number.isInteger(count) || count < 1 || !['item', 'case', 'pallet'].includes(level)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const ledger = connectFromProfile(values);
  try {
    const client = new TraceChainClient(ledger);
    const task = (await client.trace.getTask(values.task)).task;
    const started = Date.now();
    const result = await issueCodesResumable(
      client,
      { taskId: task.taskId, level, count, batchSize: Number(values.batch ?? 1000), csvPath: resolve(values.out ?? `${task.taskId}-codes.csv`), domain: values.domain ?? 'id.example.com', gtin: task.product.gtin, lot: task.lot, actor: values.actor },
      (p) => {
        const rate = p.issued / Math.max(0.001, (Date.now() - started) / 1000);
        process.stderr.write(`\r${bar(p.issued, p.count)} codes  ${Math.round(rate)}/s${p.resumed ? '  (resumed batch)' : ''}   `);
      },
    );
    process.stderr.write('\n');
    console.log(JSON.stringify({ task: task.taskId, issued: result.issued, batches: result.batches, resumedBatches: result.resumedBatches, csv: resolve(values.out ?? `${task.taskId}-codes.csv`) }));
  } finally {
    ledger.close();
  }
}

main().catch((e: Error) => {
  console.error(`trace: ${e instanceof LedgerError || e instanceof IndexerError || e instanceof CaptureError ? `[${e.code}] ` : ''}${e.message}`);
  process.exit(1);
});
