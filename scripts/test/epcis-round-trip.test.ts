import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { allPages, Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { createApiToken, createUser, openConsoleDb, RunningConsole, startConsole } from '@trace/console';
import { schemaProblems } from '@trace/console/dist/src/epcis/schema';
import { liquor, loadTemplatePackage, tea } from '@trace/contract-templates';
import { createApiKey, openDb, startIndexer } from '@trace/indexer';
import { startDevnet } from '@trace/test-network';
import { DEMO_LIQUOR_TASK, DEMO_ORGS, DEMO_TEA_TASK, DemoOrg, seedDemo } from '../src/demo/seed';
import { eventually } from './support/product';

const CHAINCODE = resolve(__dirname, '../../../chaincode');
const ORGS = Object.values(DEMO_ORGS);
const LOTS = [DEMO_TEA_TASK, DEMO_LIQUOR_TASK];
const quiet = () => pino({ level: 'warn' }, pino.destination(2));
type Event = Record<string, unknown>;
interface EpcisDocument {
  '@context': unknown;
  epcisBody: { eventList: Event[] };
}
interface Job {
  running: boolean;
  state: string;
  events: { index: number; status: string; error?: { code: string; message: string } }[];
}

/** A network of the four demo orgs, a client per org, and an indexer following it with an auditor key (it reads everything). */
async function network(dir: string) {
  const devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1', '--orgs', ORGS.join(',')]);
  const ledgers: Ledger[] = ORGS.map((msp) => ledgerFromConfig(devnet.connection, { msp }));
  const clients = Object.fromEntries(ORGS.map((msp, i) => [msp, new TraceChainClient(ledgers[i])])) as Record<string, TraceChainClient>;
  const indexerDb = join(dir, 'indexer.sqlite');
  const idb = await openDb(indexerDb);
  const auditorKey = (await createApiKey(idb, { org: DEMO_ORGS.retail, scope: 'auditor', label: 'round trip' })).key;
  const memberKeys: Record<string, string> = {};
  for (const org of ORGS) memberKeys[org] = (await createApiKey(idb, { org, scope: 'member', label: 'console' })).key;
  await idb.close();
  const indexer = await startIndexer({ connection: devnet.connection, db: indexerDb, port: 0, logger: quiet() });
  const url = `http://127.0.0.1:${indexer.port}`;
  return {
    devnet,
    clients,
    url,
    indexerDb,
    memberKeys,
    get: async <T>(path: string): Promise<T> => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${auditorKey}` } });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return (await res.json()) as T;
    },
    /** resolves once the indexer has projected the block holding txId */
    indexed: (txId: string) => eventually(async () => ((await fetch(`${url}/api/transactions/${txId}`, { headers: { authorization: `Bearer ${auditorKey}` } })).ok ? true : undefined), `tx ${txId} indexed`, 60_000),
    stop: async () => {
      await indexer.stop();
      ledgers.forEach((l) => l.close());
      await devnet.stop();
    },
  };
}
type Network = Awaited<ReturnType<typeof network>>;

/** What the index holds of a lot: its stage records, audits, codes with their packing, and scans (times of the chain's own making left out). */
function indexedLot(file: string, taskId: string) {
  const db = new Database(file, { readonly: true });
  try {
    const all = (sql: string) => db.prepare(sql).all(taskId);
    return {
      records: all('SELECT stage, version, event_time, location, data, recorded_by, flags, reason FROM stage_records WHERE task_id = ? ORDER BY stage, version'),
      audits: all('SELECT stage, verdict, comment, auditor, record_version FROM audits WHERE task_id = ? ORDER BY stage, auditor, record_version'),
      codes: all('SELECT lower(hex(hash)) AS hash, level, status, iif(parent IS NULL, NULL, lower(hex(parent))) AS parent, issued_by, suspect_since IS NOT NULL AS suspect, diverted_since IS NOT NULL AS diverted FROM codes WHERE task_id = ? ORDER BY hash'),
      scans: all('SELECT lower(hex(s.code_hash)) AS code_hash, s.channel, s.region, s.at, s.recorded_by FROM scans s JOIN codes c ON c.hash = s.code_hash WHERE c.task_id = ? ORDER BY s.code_hash, s.at'),
      audit: all('SELECT audit IS NOT NULL AS audited FROM tasks WHERE task_id = ?'),
    };
  } finally {
    db.close();
  }
}

describe("EPCIS round trip: the demo's tea and liquor lots, exported, captured into a fresh network as another brand's (devnet, indexer, consoles)", function () {
  this.timeout(600_000);
  let a: Network;
  let b: Network;
  const consoles: Record<string, RunningConsole> = {};
  const tokens: Record<string, string> = {};
  /** each lot's export from network A, by auditor scope */
  const exported: Record<string, EpcisDocument> = {};
  /** which org submitted each transaction of network A */
  let creatorOf: (txId: string) => string;

  const capture = async (org: string, context: unknown, eventList: Event[]): Promise<Job> => {
    const doc = { '@context': context, type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList } };
    const res = await fetch(`${consoles[org].url}/epcis/capture`, { method: 'POST', headers: { 'content-type': 'application/ld+json', authorization: `Bearer ${tokens[org]}` }, body: JSON.stringify(doc) });
    expect(res.status, await res.clone().text()).to.equal(202);
    const location = res.headers.get('location') as string;
    return eventually(async () => {
      const job = (await (await fetch(`${consoles[org].url}${location}`, { headers: { authorization: `Bearer ${tokens[org]}` } })).json()) as Job;
      return job.running ? undefined : job;
    }, 'the capture job to finish', 120_000);
  };

  before(async () => {
    a = await network(mkdtempSync(join(tmpdir(), 'epcis-a-')));
    const byRole = Object.fromEntries(Object.entries(DEMO_ORGS).map(([role, msp]) => [role, a.clients[msp]])) as Record<DemoOrg, TraceChainClient>;
    await seedDemo(byRole, mkdtempSync(join(tmpdir(), 'epcis-keys-')));
    // one more write after the demo: once it is indexed, so is everything before it
    const marker = await a.clients[DEMO_ORGS.retail].ledger.submit('codes:recordScans', JSON.stringify({ scans: [{ codeHash: 'f'.repeat(64), channel: 'retailer', at: new Date().toISOString() }] }));
    await a.indexed(marker.transactionId);
    for (const lot of LOTS) exported[lot] = await a.get<EpcisDocument>(`/epcis/lots/${lot}`);
    const adb = new Database(a.indexerDb, { readonly: true });
    const creators = new Map((adb.prepare('SELECT tx_id, creator_msp FROM transactions').all() as { tx_id: string; creator_msp: string }[]).map((r) => [r.tx_id, r.creator_msp]));
    adb.close();
    creatorOf = (txId) => creators.get(txId) ?? '?';

    // network B: the same members, products, locations, templates and tasks, defined by B's own identities
    b = await network(mkdtempSync(join(tmpdir(), 'epcis-b-')));
    const from = a.clients[DEMO_ORGS.brand];
    const members = await allPages((p) => from.consortium.listMembers(p));
    const consortium = await from.consortium.getConsortium();
    const founder = members.find((m) => m.roles.includes('operator'))!;
    await b.clients[founder.mspId].consortium.bootstrap({ consortium: consortium.name, name: founder.name, roles: founder.roles.filter((r) => r !== 'operator') });
    for (const m of members.filter((x) => x !== founder)) await b.clients[founder.mspId].consortium.addMember({ mspId: m.mspId, name: m.name, roles: m.roles });
    for (const p of await allPages((q) => from.catalog.listProducts(q))) await b.clients[p.ownerMsp].catalog.defineProduct({ gtin: p.gtin, name: p.name, category: p.category, brand: p.brand, spec: p.spec });
    for (const l of await allPages((q) => from.catalog.listLocations(q))) await b.clients[l.ownerMsp].catalog.defineLocation({ id: l.id, name: l.name, type: l.type, geo: l.geo, region: l.region });
    for (const pkg of [tea, liquor]) await loadTemplatePackage(b.clients[DEMO_ORGS.brand], pkg);
    for (const lot of LOTS) {
      const { task } = await from.trace.getTask(lot);
      await b.clients[task.owner].trace.createTask({ taskId: task.taskId, template: task.template, version: task.version, product: task.product, lot: task.lot, plannedQuantity: task.plannedQuantity, unit: task.unit, assignments: task.assignments, authorizedRegions: task.authorizedRegions });
    }
    // a console per org on B, each with a system user allowed to capture every kind of event
    for (const org of ORGS) {
      const file = join(mkdtempSync(join(tmpdir(), 'epcis-console-')), 'console.sqlite');
      const db = openConsoleDb(file);
      await createUser(db, { username: 'erp', password: 'round trip password', roles: ['data_entry', 'qa', 'code_manager'] });
      tokens[org] = createApiToken(db, 'erp', 'ERP', 'test').token;
      db.close();
      consoles[org] = await startConsole({ connection: b.devnet.connection, msp: org, db: file, indexerUrl: b.url, indexerKey: b.memberKeys[org], port: 0, log: quiet() });
    }
  });

  after(async () => {
    await Promise.all(Object.values(consoles).map((c) => c.stop()));
    await b?.stop();
    await a?.stop();
  });

  it('every export validates against GS1\'s EPCIS 2.0 schema; captured in chain order, each event by the org that made it, network B indexes the same records, audits, codes, packing and scans', async () => {
    for (const lot of LOTS) {
      const doc = exported[lot];
      expect(schemaProblems(doc), `${lot}'s export`).to.deep.equal([]);
      const events = doc.epcisBody.eventList;
      // what a device signed stays out: a capture cannot sign for a device (tested below)
      const capturable = events.filter((e) => e.sensorElementList === undefined && e['tc:device'] === undefined);
      expect(capturable.length, `${lot} has events to capture`).to.be.greaterThan(8);
      // the order the chain committed them in; an event's time says when it happened, not when it was written
      const ordered = capturable.map((e, i) => ({ e, i })).sort((x, y) => Number(x.e['tc:block']) - Number(y.e['tc:block']) || x.i - y.i).map(({ e }) => e);
      // consecutive events of one org go in one document, through that org's console
      const runs: { org: string; events: Event[] }[] = [];
      for (const e of ordered) {
        const org = creatorOf(e['tc:txId'] as string);
        if (runs.at(-1)?.org === org) runs.at(-1)!.events.push(e);
        else runs.push({ org, events: [e] });
      }
      for (const run of runs) {
        const job = await capture(run.org, doc['@context'], run.events);
        expect(job.events.filter((e) => e.status !== 'recorded'), `${lot}: ${run.org}'s events`).to.deep.equal([]);
        expect(job.state).to.equal('success');
      }
    }
    // B's indexer follows a moment later; on a timeout the comparison below says what differs
    await eventually(async () => (LOTS.every((lot) => JSON.stringify(indexedLot(a.indexerDb, lot)) === JSON.stringify(indexedLot(b.indexerDb, lot))) ? true : undefined), "B's index to catch up", 60_000).catch(() => undefined);
    for (const lot of LOTS) {
      const [want, got] = [indexedLot(a.indexerDb, lot), indexedLot(b.indexerDb, lot)];
      expect(got, lot).to.deep.equal(want);
      expect([want.records.length > 7, want.audits.length > 0, want.codes.length > 0, want.scans.length > 0], `${lot} has records, audits, codes and scans`).to.deep.equal([true, true, true, true]);
    }
    const tea = indexedLot(b.indexerDb, DEMO_TEA_TASK);
    expect(tea.codes.filter((c) => (c as { parent: string | null }).parent !== null).length, 'the tea case holds its 12 cakes').to.equal(12);
    expect(tea.codes.some((c) => (c as { suspect: number }).suspect === 1), 'the cloned code is suspect on B too').to.equal(true);
  });

  it("a device's readings and RFID sightings are refused by capture with their reason, and an audit of a version the stage does not have is refused before anything is submitted", async () => {
    const events = exported[DEMO_TEA_TASK].epcisBody.eventList;
    const signed = [events.find((e) => e.sensorElementList !== undefined)!, events.find((e) => e['tc:device'] !== undefined)!];
    expect(signed.every(Boolean), 'the demo has readings and a sighting').to.equal(true);
    const org = DEMO_ORGS.farm;
    const refused = await capture(org, exported[DEMO_TEA_TASK]['@context'], signed);
    expect(refused.events.map((e) => [e.status, e.error?.code])).to.deep.equal([['refused', 'ERR_EPCIS_UNMAPPED'], ['refused', 'ERR_EPCIS_UNMAPPED']]);
    expect(refused.events[0].error?.message).to.contain('signed by the device');

    const before = indexedLot(b.indexerDb, DEMO_TEA_TASK);
    const audit = events.find((e) => e['tc:verdict'] !== undefined && e['tc:stage'] !== undefined)!;
    const stale = await capture(DEMO_ORGS.brand, exported[DEMO_TEA_TASK]['@context'], [{ ...audit, 'tc:version': 9, 'tc:verdict': 'rejected', disposition: 'non_conformant' }]);
    expect(stale.events.map((e) => [e.status, e.error?.code])).to.deep.equal([['refused', 'ERR_EPCIS_VERSION']]);
    expect(indexedLot(b.indexerDb, DEMO_TEA_TASK)).to.deep.equal(before);
  });
});
