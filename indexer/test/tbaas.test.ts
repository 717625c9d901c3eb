import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, signers } from '@hyperledger/fabric-gateway';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { codeHash, FabricGatewayLedger, generateCode, identityFromFiles, LedgerError, loadTbaasConfig, TbaasConfig, TbaasLedger, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { CertificateAuthority, RunningDevnet, startDevnet, TbaasEmulator, testClock, writeClientFile } from '@trace/test-network';
import { checkpoint, invocationCheckpoint, openDb } from '../src';
import { startIndexer } from '../src/server';
import { tableNames, tableRows } from './projection';
import { newDbLocation } from './support/databases';

/** The chaincode as TBaaS runs it: the Fabric 2.3 package (shim 2.3.0), built by package:tbaas --install. */
const TBAAS_PACKAGE = resolve(__dirname, '../../../build/tbaas');
/** TBaaS's Node 12.16.1, fetched once into build/toolchain by the scripts workspace: the package runs on nothing else. */
const node12 = () => (JSON.parse(execFileSync(process.execPath, [resolve(__dirname, '../../../scripts/dist/src/node12-runtime.js')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { node: string }).node;
const ORGS = { brand: 'Org1MSP', farm: 'Org2MSP', factory: 'Org3MSP', retail: 'Org4MSP' } as const;
type OrgName = keyof typeof ORGS;
const { at } = testClock();
const hex64 = (c: string) => c.repeat(64);

/** A whole Pu'er lot: every stage by its assigned org, the inspection and the task approved. */
async function teaLot(c: Record<OrgName, TraceChainClient>, taskId: string, cakes = 600): Promise<void> {
  const assignments = {
    tea_plantation: ORGS.farm, tea_picking: ORGS.farm, tea_withering: ORGS.factory, tea_rolling: ORGS.factory, tea_drying: ORGS.factory,
    tea_inspection: ORGS.retail, tea_packing: ORGS.factory, tea_warehousing: ORGS.farm, shipping: ORGS.factory, receiving: ORGS.retail,
  };
  await c.brand.trace.createTask({ taskId, template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: '普洱' }, lot: taskId, plannedQuantity: cakes, unit: 'cake', assignments });
  const rec = (by: OrgName, stage: string, hours: number, data: Record<string, unknown>) => c[by].trace.recordStage({ taskId, stage, eventTime: at(hours), data });
  await rec('farm', 'tea_plantation', 0, { tea_garden: 'Jingmai' });
  await rec('farm', 'tea_picking', 24, { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' });
  await rec('factory', 'tea_withering', 30, { tea_withered_kg: 700 });
  await rec('factory', 'tea_rolling', 44, { tea_rolled_kg: 690 });
  await rec('factory', 'tea_drying', 50, { tea_dried_kg: 240, tea_moisture_pct: 9 });
  await rec('retail', 'tea_inspection', 72, { tea_moisture_pct: 8.5, tea_pesticide_pass: true, tea_inspection_report: hex64('b') });
  await c.brand.trace.auditStage({ taskId, stage: 'tea_inspection', verdict: 'approved', comment: 'ok' });
  await rec('factory', 'tea_packing', 96, { tea_cakes: cakes, tea_cake_weight_g: 357, tea_packed_kg: (cakes * 357) / 1000 });
  await rec('farm', 'tea_warehousing', 120, { tea_stored_cakes: cakes, storage_temp_c: 22, storage_humidity_pct: 65 });
  await rec('factory', 'shipping', 200, { shipped_units: 10, carrier: 'SF', tracking_no: 'SF1234567890', dest_region: 'CN-53' });
  await rec('retail', 'receiving', 230, { received_units: 10, store_name: 'Kunming' });
  await c.retail.trace.auditTask({ taskId, verdict: 'approved', comment: 'ok' });
}

describe('TBaaS path: the tea lot through TbaasLedger on the Fabric 2.3 package, and the indexer fed by TBaaS (devnet + emulator)', function () {
  this.timeout(240_000);
  let devnet: RunningDevnet;
  let emulator: TbaasEmulator;
  let gateway: FabricGatewayLedger;
  const ledgers: TbaasLedger[] = [];
  let clients: Record<OrgName, TraceChainClient>;
  let base: Omit<TbaasConfig, 'secretId' | 'secretKey'>;
  const dir = mkdtempSync(join(tmpdir(), 'indexer-tbaas-'));
  const account = (name: string, mspId: string) => ({ secretId: `AKID${name}0000000000000000000000`, secretKey: `${name}-key`, mspId });

  before(async () => {
    if (!existsSync(join(TBAAS_PACKAGE, 'node_modules', 'fabric-shim'))) throw new Error('build/tbaas is not installed: run `node scripts/dist/src/package-tbaas.js --install` (npm test does)');
    devnet = await startDevnet(['--chaincode-path', TBAAS_PACKAGE, '--chaincode-name', 'trace', '--chaincode-node', node12(), '--orgs', Object.values(ORGS).join(','), '--endorsers', '1']);
    const accounts = [...Object.entries(ORGS).map(([name, msp]) => account(name, msp)), account('indexer', ORGS.brand)];
    emulator = new TbaasEmulator({ devnet: devnet, accounts });
    const endpoint = await emulator.start();
    base = { region: 'ap-guangzhou', clusterId: emulator.clusterId, channelId: emulator.channelId, chaincodeName: 'trace', endpoint, protocol: 'http://', pollIntervalMs: 100 };
    clients = Object.fromEntries(
      (Object.keys(ORGS) as OrgName[]).map((name) => {
        const ledger = new TbaasLedger({ ...base, ...account(name, ORGS[name]) });
        ledgers.push(ledger);
        return [name, new TraceChainClient(ledger)];
      }),
    ) as Record<OrgName, TraceChainClient>;
    const u = devnet.user('Org1MSP', 'User1');
    gateway = FabricGatewayLedger.connect({ endpoint: devnet.endpoint, channel: devnet.channel, chaincode: 'trace', identity: identityFromFiles('Org1MSP', u.certPath, u.keyPath) });
  });

  after(async () => {
    ledgers.forEach((l) => l.close());
    gateway?.close();
    await emulator?.stop();
    await devnet?.stop();
  });

  /**
   * The consortium founded and one whole tea lot run through the TBaaS cloud API, made once by whichever
   * test needs it first: each test that reads the lot stands alone (`--grep`) and sees the same chain.
   */
  let founded: Promise<void> | undefined;
  const foundWithLot = () =>
    (founded ??= (async () => {
      const c = clients;
      await c.brand.consortium.bootstrap({ consortium: 'TBaaS tea', name: 'Brand Co.', roles: ['brand', 'auditor'] });
      await c.brand.consortium.addMember({ mspId: ORGS.farm, name: 'Jingmai Farm', roles: ['producer', 'warehouse'] });
      await c.brand.consortium.addMember({ mspId: ORGS.factory, name: 'Menghai Factory', roles: ['processor', 'logistics'] });
      await c.brand.consortium.addMember({ mspId: ORGS.retail, name: 'Kunming Retail', roles: ['retailer', 'inspector', 'regulator'] });
      await c.brand.catalog.defineProduct({ gtin: '06901234567892', name: '普洱', category: 'tea', brand: 'Brand Co.' });
      await loadTemplatePackage(c.brand, tea);
      await teaLot(c, 'tbaas-lot-1');
      await c.factory.codes.issueCodes({ taskId: 'tbaas-lot-1', level: 'item', codeHashes: [codeHash(generateCode()), codeHash(generateCode())] });
    })());

  it('founds the consortium, loads the tea template and runs a whole tea lot through the TBaaS cloud API', async () => {
    const c = clients;
    await foundWithLot();
    const task = await c.retail.trace.getTask('tbaas-lot-1');
    const viaGateway = JSON.parse(Buffer.from(await gateway.evaluate('trace:getTask', JSON.stringify({ taskId: 'tbaas-lot-1' }))).toString()) as unknown;
    expect(task).to.deep.equal(viaGateway);
    expect(JSON.stringify(task)).to.include('approved');
  });

  it('rejects a business rule over TBaaS (shim 2.3 error form inside FailedOperation) with the code the gateway gives, changing nothing', async () => {
    await foundWithLot();
    const record = { taskId: 'tbaas-lot-1', stage: 'tea_picking', eventTime: at(300), data: { tea_fresh_leaf_kg: 5, tea_pick_grade: 'bud' } };
    const viaTbaas = (await clients.factory.trace.recordStage(record).catch((e: unknown) => e)) as LedgerError;
    const u = devnet.user('Org3MSP', 'User1');
    const factoryGateway = FabricGatewayLedger.connect({ endpoint: devnet.endpoint, channel: devnet.channel, chaincode: 'trace', identity: identityFromFiles('Org3MSP', u.certPath, u.keyPath) });
    const viaGateway = (await factoryGateway.submit('trace:recordStage', JSON.stringify(record)).catch((e: unknown) => e)) as LedgerError;
    factoryGateway.close();
    expect(viaTbaas).to.be.instanceOf(LedgerError);
    expect([viaTbaas.code, viaTbaas.message]).to.deep.equal([viaGateway.code, viaGateway.message]);
    expect(viaTbaas.code).to.match(/^ERR_/);
    const trace = JSON.parse(Buffer.from(await gateway.evaluate('trace:getTrace', JSON.stringify({ taskId: 'tbaas-lot-1' }))).toString()) as unknown;
    expect(JSON.stringify(trace)).to.include('"tea_fresh_leaf_kg":1000');
  });

  /** The indexer account's client file: cloud API plus the access address, as the emulator's CLI writes it. */
  const directFile = async () => (await writeClientFile(dir, account('indexer', ORGS.brand), emulator, { type: 'tbaas', ...base, ...account('indexer', ORGS.brand) }, 'indexer')).file;

  /** Runs an indexer on `connection` into `db` until its checkpoint reaches `height`, then stops it. */
  const indexUpTo = async (connection: string, db: string, height: bigint) => {
    const indexer = await startIndexer({ connection, db, port: 0, sendIntervalMs: 60_000 });
    for (let i = 0; i < 1200; i++) {
      const d = await openDb(db);
      const next = await checkpoint(d);
      await d.close();
      if (next >= height) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await indexer.stop();
  };

  it('ends with the same database when the indexer is fed by TBaaS (cloud API + blocks over the access address) as by the gateway', async () => {
    await foundWithLot();
    const height = await ledgers[0].height();
    const tbaasFile = await directFile();
    const [tbaasDb, gatewayDb] = [await newDbLocation('tbaas'), await newDbLocation('tbaas-gateway')];
    await Promise.all([indexUpTo(tbaasFile, tbaasDb, height), indexUpTo(devnet.connection, gatewayDb, height)]);
    const viaTbaas = await openDb(tbaasDb);
    const viaGateway = await openDb(gatewayDb);
    expect(await checkpoint(viaTbaas)).to.equal(await checkpoint(viaGateway));
    expect((await checkpoint(viaTbaas)) >= height).to.equal(true);
    // every table but the random salt each indexer draws for its client hashes and the leases each process held
    const tables = (await tableNames(viaGateway)).filter((t) => !['local_secrets', 'leases'].includes(t));
    expect(tables).to.include.members(['blocks', 'transactions', 'events', 'members', 'tasks', 'stage_records', 'audits', 'codes']);
    for (const table of tables) expect(await tableRows(viaTbaas, table), table).to.deep.equal(await tableRows(viaGateway, table));
    expect(await viaTbaas.value('SELECT count(*) FROM stage_records')).to.equal(10);
    await viaTbaas.close();
    await viaGateway.close();
  });

  it('refuses at the access address a client certificate from another CA, or none; a 2.3 peer there has no Gateway service', async () => {
    const config = loadTbaasConfig(await directFile());
    const access = config.access!;
    const otherDir = mkdtempSync(join(tmpdir(), 'other-ca-'));
    const other = await (await CertificateAuthority.open(otherDir, 'Elsewhere', 'elsewhere.example', 'tlsca')).issueTlsPem(join(otherDir, 'intruder'), 'intruder');
    writeFileSync(join(otherDir, 'cert.pem'), other.certPem);
    writeFileSync(join(otherDir, 'key.pem'), other.keyPem);
    const firstBlock = async (ledger: TbaasLedger) => {
      const stream = await ledger.blocks(0n);
      try {
        for await (const b of stream) return `block ${b.number}`;
      } catch (e) {
        return (e as { code?: number }).code;
      } finally {
        stream.close();
        ledger.close();
      }
    };
    expect(await firstBlock(new TbaasLedger({ ...config, access }))).to.equal('block 0');
    expect(await firstBlock(new TbaasLedger({ ...config, access: { ...access, tlsCertPath: join(otherDir, 'cert.pem'), tlsKeyPath: join(otherDir, 'key.pem') } }))).to.equal(grpc.status.UNAVAILABLE);
    // no client certificate at all, through the official client
    const options = { 'grpc.ssl_target_name_override': access.serverName! };
    const noCert = new grpc.Client(access.endpoint, grpc.credentials.createSsl(readFileSync(access.tlsCaCertPath)), options);
    const identity = { mspId: access.mspId, credentials: readFileSync(access.signCertPath) };
    const signer = signers.newPrivateKeySigner(createPrivateKey(readFileSync(access.signKeyPath)));
    const refused = connect({ client: noCert, identity, signer });
    const events = await refused.getNetwork(access.channel).getBlockEvents({ startBlock: 0n });
    const code = await events[Symbol.asyncIterator]().next().then(() => 'delivered', (e: { code?: number }) => e.code);
    events.close();
    refused.close();
    noCert.close();
    expect(code).to.equal(grpc.status.UNAVAILABLE);
    // with the right certificate the connection is up, and the Gateway service is not there (Fabric 2.3)
    const mtls = new grpc.Client(access.endpoint, grpc.credentials.createSsl(readFileSync(access.tlsCaCertPath), readFileSync(access.tlsKeyPath), readFileSync(access.tlsCertPath)), options);
    const gateway = connect({ client: mtls, identity, signer });
    const evaluated = await gateway.getNetwork(access.channel).getContract('trace').evaluate('trace:getTask', { arguments: ['{}'] }).then(() => 'answered', (e: { code?: number }) => e.code);
    gateway.close();
    mtls.close();
    expect(evaluated).to.equal(grpc.status.UNIMPLEMENTED);
  });

  it('on the cloud API alone: starts degraded saying what is missing, records the invocations through throttling, and backs off on a lasting fault instead of looping', async () => {
    await foundWithLot();
    const height = await ledgers[0].height();
    // what the gateway-fed index holds up to that height, made here: no test reads another's database
    const expectedDb = await newDbLocation('tbaas-cloud-only-expected');
    await indexUpTo(devnet.connection, expectedDb, height);
    const cloudFile = join(dir, 'cloud-only.json');
    // few quick retries inside the API client, so the follower's own backoff is what paces a lasting fault
    writeFileSync(cloudFile, JSON.stringify({ type: 'tbaas', ...base, ...account('indexer', ORGS.brand), maxRetries: 3, backoffMs: 20 }));
    const lines: { event?: string; tencentCode?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { event?: string }) });
    const count = (event: string) => lines.filter((l) => l.event === event).length;
    const dbPath = await newDbLocation('tbaas-cloud-only');
    const indexer = await startIndexer({ connection: cloudFile, db: dbPath, port: 0, sendIntervalMs: 60_000, logger, follower: { backoffMs: 100, maxBackoffMs: 400 } });
    const db = await openDb(dbPath);
    try {
      // another client of the same account drains its 20 requests/s while the indexer catches up
      const hog = new TbaasLedger({ ...base, ...account('indexer', ORGS.brand), rateLimit: false, maxRetries: 0 });
      for (let i = 0; i < 5; i++) await Promise.allSettled(Array.from({ length: 40 }, () => hog.api.call('DescribeFabricBlock', { ClusterId: base.clusterId, ChannelId: base.channelId, BlockHeight: 0 })));
      hog.close();
      // the ingest thread's log lines reach this logger by message: wait for the retry's line, not for a fixed time
      const throttled = () => lines.some((l) => l.event === 'tbaas.retry' && l.tencentCode === 'RequestLimitExceeded');
      for (let i = 0; i < 100 && !throttled(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(throttled()).to.equal(true);
      for (let i = 0; i < 1200 && (await invocationCheckpoint(db)) < height; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await invocationCheckpoint(db)) >= height).to.equal(true);
      const health = (await (await fetch(`http://127.0.0.1:${indexer.port}/healthz`)).json()) as Record<string, unknown>;
      expect(health).to.deep.include({ status: 'degraded', chain: true, missing: ['blocks', 'events'] });
      expect(health.reason).to.match(/access address/);
      expect(count('indexer.degraded')).to.equal(1);
      // every trace transaction the gateway-fed index has, with its block, position and status
      const viaGateway = await openDb(expectedDb);
      const expected = await viaGateway.all("SELECT block, idx, tx_id, validation_code AS status FROM transactions WHERE chaincode = 'trace' ORDER BY block, idx");
      await viaGateway.close();
      expect(await db.all('SELECT block, idx, tx_id, status FROM invocations WHERE block < ? ORDER BY block, idx', Number(height))).to.deep.equal(expected);
      const stages = await db.all<{ args: string; sender: string }>("SELECT args, sender FROM invocations WHERE function = 'trace:recordStage' AND block < ?", Number(height));
      expect(stages).to.have.length(10);
      expect(stages.map((r) => (JSON.parse((JSON.parse(r.args) as string[])[0]) as { taskId: string }).taskId)).to.deep.equal(Array(10).fill('tbaas-lot-1'));
      expect(new Set(stages.map((r) => r.sender))).to.deep.equal(new Set([ORGS.farm, ORGS.factory, ORGS.retail]));
      expect(await db.value('SELECT count(*) FROM events')).to.equal(0);

      // a lasting fault: one log line, attempts spaced by a growing wait (a loop would make hundreds)
      const before = emulator.requests;
      const [failed, resumed] = [count('indexer.invocations_failed'), count('indexer.invocations_resumed')];
      emulator.failNext(100_000, 503);
      await new Promise((r) => setTimeout(r, 3000));
      const during = emulator.requests - before;
      emulator.failNext(0);
      expect(during).to.be.within(4, 60);
      expect(count('indexer.invocations_failed')).to.equal(failed + 1);
      const rows = async () => (await db.value<number>('SELECT count(*) FROM invocations'))!;
      const recorded = await rows();
      await clients.factory.codes.issueCodes({ taskId: 'tbaas-lot-1', level: 'item', codeHashes: [codeHash(generateCode())] });
      for (let i = 0; i < 100 && (await rows()) === recorded; i++) await new Promise((res) => setTimeout(res, 100));
      expect(await rows()).to.equal(recorded + 1);
      expect(count('indexer.invocations_resumed')).to.equal(resumed + 1);
    } finally {
      emulator.failNext(0);
      await db.close();
      await indexer.stop();
    }
  });
});
