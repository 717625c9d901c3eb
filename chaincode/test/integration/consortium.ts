import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { FabricNetworkLedger, identityFromFiles, Ledger, LedgerError, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { liquor, loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningDevnet, startDevnet, TestClock } from '@trace/test-network';
import { expect } from 'chai';

/**
 * The chaincode package the suites run: this workspace, or the directory in CHAINCODE_UNDER_TEST (the
 * Fabric package installed on its own, see fabric-packages.test.ts).
 */
export const CHAINCODE_PATH = process.env.CHAINCODE_UNDER_TEST ? resolve(process.env.CHAINCODE_UNDER_TEST) : resolve(__dirname, '../../..');

/** The test consortium: five orgs, four of them members with the roles a tea or liquor chain needs. */
export const ORGS = {
  brand: 'Org1MSP', // operator, brand, auditor
  farm: 'Org2MSP', // producer, warehouse
  factory: 'Org3MSP', // processor, logistics
  retail: 'Org4MSP', // retailer, inspector, regulator
  outsider: 'Org5MSP', // not a member until a test adds it
} as const;
export type OrgName = keyof typeof ORGS;

export interface TestConsortium {
  devnet: RunningDevnet;
  clients: Record<OrgName, TraceChainClient>;
  close(): Promise<void>;
}

export const FARM_GLN = '6901234000016';
export const FACTORY_GLN = '6901234000023';
export const WAREHOUSE_GLN = '6901234000030';
export const STORE_GLN = '6901234000047';
export const TEA_GTIN = '06901234567892';
export const BAIJIU_GTIN = '6901234567908';

/** The chaincode as packaged for TBaaS (ES2019, fabric-shim 2.3.0), built by package:tbaas --install. */
export const TBAAS_PACKAGE_PATH = resolve(__dirname, '../../../../build/tbaas');

/** Node 12.16.1 and npm 6.13.4 (TBaaS's runtime), fetched once into build/toolchain by the scripts workspace. */
export function node12Runtime(): { node: string; npmCli: string; binDir: string } {
  const cli = resolve(__dirname, '../../../../scripts/dist/src/node12-runtime.js');
  return JSON.parse(execFileSync(process.execPath, [cli], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { node: string; npmCli: string; binDir: string };
}

export interface ChaincodeProcess {
  pid: number;
  /** the node binary executing it, and that binary's --version */
  exe: string;
  nodeVersion: string;
  /** its working directory: the chaincode package it runs */
  cwd: string;
}

/** The chaincode processes the devnet runs (its children). */
export function chaincodeProcesses(devnet: RunningDevnet): ChaincodeProcess[] {
  const out: ChaincodeProcess[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== devnet.proc.pid || !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('--chaincode-id-name')) continue;
      const exe = readlinkSync(`/proc/${entry}/exe`);
      out.push({ pid: Number(entry), exe, nodeVersion: execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim(), cwd: readlinkSync(`/proc/${entry}/cwd`) });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/**
 * Starts a devnet with the product chaincode (or the package at chaincodePath, run by the node binary
 * chaincodeNode when given), founds the consortium and loads both templates.
 */
export async function startConsortium(chaincodePath = CHAINCODE_PATH, chaincodeNode?: string): Promise<TestConsortium> {
  const node = chaincodeNode ? ['--chaincode-node', chaincodeNode] : [];
  const devnet = await startDevnet(['--chaincode-path', chaincodePath, '--chaincode-name', 'trace', ...node, '--orgs', Object.values(ORGS).join(','), '--endorsers', '2']);
  // Every org's chaincode process runs the package asked for, not some other copy.
  const cwds = chaincodeProcesses(devnet).map((p) => p.cwd);
  if (cwds.length !== Object.keys(ORGS).length || cwds.some((cwd) => cwd !== realpathSync(chaincodePath))) {
    await devnet.stop();
    throw new Error(`chaincode processes run in ${JSON.stringify(cwds)}, not ${chaincodePath}`);
  }
  return foundOn(devnet, Object.values(ORGS).map((msp) => ledgerFromConfig(devnet.connection, { msp })));
}

/** Founds the consortium through one ledger per org (in ORGS order); the result closes them and the devnet. */
async function foundOn(devnet: RunningDevnet, ledgers: Ledger[]): Promise<TestConsortium> {
  const close = async () => {
    ledgers.forEach((l) => l.close());
    await devnet.stop();
  };
  const clients = Object.fromEntries((Object.keys(ORGS) as OrgName[]).map((name, i) => [name, new TraceChainClient(ledgers[i])])) as Record<OrgName, TraceChainClient>;
  try {
    await foundConsortium(clients);
  } catch (e) {
    await close();
    throw e;
  }
  return { devnet, clients, close };
}

/** Founds the consortium (four members, catalog entries) and loads both templates. */
export async function foundConsortium(c: Record<OrgName, TraceChainClient>): Promise<void> {
  // The deployment names the founder (the devnet: its first org): another org cannot race for it.
  await rejectsWith(c.farm.consortium.bootstrap({ consortium: 'stolen', name: 'Jingmai Farm', roles: ['brand'] }), 'ERR_FORBIDDEN', /founding org Org1MSP/);
  await rejectsWith(c.farm.consortium.getConsortium(), 'ERR_NOT_FOUND');
  await c.brand.consortium.bootstrap({ consortium: '普洱与白酒溯源联盟', name: 'Brand Co.', roles: ['brand', 'auditor'] });
  await c.brand.consortium.addMember({ mspId: ORGS.farm, name: 'Jingmai Farm', roles: ['producer', 'warehouse'] });
  await c.brand.consortium.addMember({ mspId: ORGS.factory, name: 'Menghai Factory', roles: ['processor', 'logistics'] });
  await c.brand.consortium.addMember({ mspId: ORGS.retail, name: 'Kunming Retail', roles: ['retailer', 'inspector', 'regulator'] });
  await c.brand.catalog.defineProduct({ gtin: TEA_GTIN, name: '景迈古树普洱 357g', category: 'tea', brand: 'Brand Co.', spec: { net: '357 g' } });
  await c.brand.catalog.defineProduct({ gtin: BAIJIU_GTIN, name: '酱香白酒 500ml', category: 'liquor', brand: 'Brand Co.', spec: { abv: '53%' } });
  await c.farm.catalog.defineLocation({ id: FARM_GLN, name: 'Jingmai Mountain garden', type: 'farm', geo: { lat: 22.19, lon: 100.03 }, region: 'CN-53' });
  await c.factory.catalog.defineLocation({ id: FACTORY_GLN, name: 'Menghai factory', type: 'factory', geo: { lat: 21.96, lon: 100.45 }, region: 'CN-53' });
  await c.farm.catalog.defineLocation({ id: WAREHOUSE_GLN, name: 'Menghai warehouse', type: 'warehouse', geo: { lat: 21.97, lon: 100.46 }, region: 'CN-53' });
  await c.retail.catalog.defineLocation({ id: STORE_GLN, name: 'Kunming store', type: 'store', geo: { lat: 25.04, lon: 102.71 }, region: 'CN-53' });
  await loadTemplatePackage(c.brand, tea);
  await loadTemplatePackage(c.brand, liquor);
}

/**
 * The same consortium on a devnet acting as a Fabric 2.3 peer (no Gateway service), each org
 * reaching it through FabricNetworkLedger: ProcessProposal on each org's peer, the orderer's
 * Broadcast, commit status and blocks over Deliver. Each submit is endorsed by its own org and one other.
 * The TBaaS package runs on TBaaS's Node 12.16.1 unless told otherwise.
 */
export async function startLegacyConsortium(chaincodePath = TBAAS_PACKAGE_PATH, chaincodeNode = node12Runtime().node): Promise<TestConsortium> {
  const devnet = await startDevnet(['--chaincode-path', chaincodePath, '--chaincode-name', 'trace', '--chaincode-node', chaincodeNode, '--orgs', Object.values(ORGS).join(','), '--endorsers', '2', '--no-gateway']);
  const ledgers: FabricNetworkLedger[] = [];
  try {
    const peers = Object.fromEntries(Object.entries(devnet.peerEndpoints).map(([mspId, endpoint]) => [mspId, [{ endpoint }]]));
    for (const mspId of Object.values(ORGS)) {
      const user = devnet.user(mspId, 'User1');
      ledgers.push(
        await FabricNetworkLedger.connect({
          channel: devnet.channel,
          chaincode: 'trace',
          identity: identityFromFiles(mspId, user.certPath, user.keyPath),
          peers,
          orderers: [{ endpoint: devnet.ordererEndpoint }],
          endorsingOrganizations: [mspId, mspId === ORGS.brand ? ORGS.farm : ORGS.brand],
        }),
      );
    }
  } catch (e) {
    ledgers.forEach((l) => l.close());
    await devnet.stop();
    throw e;
  }
  return foundOn(devnet, ledgers);
}

/** Asserts that p fails with the chaincode error code, and returns the error. */
export async function rejectsWith(p: Promise<unknown>, code: string, text?: RegExp): Promise<LedgerError> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(LedgerError);
    expect((e as LedgerError).code, (e as LedgerError).message).to.equal(code);
    if (text) expect((e as LedgerError).message).to.match(text);
    return e as LedgerError;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

export const TEA_ASSIGNMENTS = {
  tea_plantation: ORGS.farm,
  tea_picking: ORGS.farm,
  tea_withering: ORGS.factory,
  tea_rolling: ORGS.factory,
  tea_drying: ORGS.factory,
  tea_inspection: ORGS.retail,
  tea_packing: ORGS.factory,
  tea_warehousing: ORGS.farm,
  shipping: ORGS.factory,
  receiving: ORGS.retail,
};

export const hex64 = (c: string) => c.repeat(64).slice(0, 64);

/** A Pu'er tea task created by the brand (the lot is named after the task). */
export function createTeaTask(brand: TraceChainClient, taskId: string, assignments: Record<string, string> = TEA_ASSIGNMENTS, plannedQuantity = 10) {
  return brand.trace.createTask({ taskId, template: 'puer_tea', version: 1, product: { gtin: TEA_GTIN, name: '景迈古树普洱 357g' }, lot: taskId, plannedQuantity, unit: 'cake', assignments });
}

/** Opens a tea task and records its stages up to the inspection (by the retailer), not yet audited; times from the test's clock. */
export async function teaLotToInspection(clients: Record<OrgName, TraceChainClient>, taskId: string, clock: TestClock, cakes = 600): Promise<void> {
  const { brand, farm, factory, retail } = clients;
  await createTeaTask(brand, taskId, TEA_ASSIGNMENTS, cakes);
  const rec = (c: TraceChainClient, stage: string, hours: number, data: Record<string, unknown>) => c.trace.recordStage({ taskId, stage, eventTime: clock.at(hours), data });
  await rec(farm, 'tea_plantation', 0, { tea_garden: 'Jingmai' });
  await rec(farm, 'tea_picking', 24, { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' });
  await rec(factory, 'tea_withering', 30, { tea_withered_kg: 700 });
  await rec(factory, 'tea_rolling', 44, { tea_rolled_kg: 690 });
  await rec(factory, 'tea_drying', 50, { tea_dried_kg: 240, tea_moisture_pct: 9 });
  await rec(retail, 'tea_inspection', 72, { tea_moisture_pct: 8.5, tea_pesticide_pass: true, tea_inspection_report: hex64('b') });
}

/** When completeTeaLot's warehousing stage happens (hours on the test clock): asset classes' storage starts then. */
export const TEA_WAREHOUSING_HOURS = 120;

/** Records a whole tea lot (every stage by its assigned org), approves the inspection and the task; times from the test's clock. */
export async function completeTeaLot(clients: Record<OrgName, TraceChainClient>, taskId: string, clock: TestClock, cakes = 600): Promise<void> {
  const { brand, farm, factory, retail } = clients;
  await teaLotToInspection(clients, taskId, clock, cakes);
  const rec = (c: TraceChainClient, stage: string, hours: number, data: Record<string, unknown>) => c.trace.recordStage({ taskId, stage, eventTime: clock.at(hours), data });
  await brand.trace.auditStage({ taskId, stage: 'tea_inspection', verdict: 'approved', comment: 'ok' });
  await rec(factory, 'tea_packing', 96, { tea_cakes: cakes, tea_cake_weight_g: 357, tea_packed_kg: (cakes * 357) / 1000 });
  await rec(farm, 'tea_warehousing', TEA_WAREHOUSING_HOURS, { tea_stored_cakes: cakes, storage_temp_c: 22, storage_humidity_pct: 65 });
  await rec(factory, 'shipping', 200, { shipped_units: 10, carrier: 'SF', tracking_no: 'SF1234567890', dest_region: 'CN-53' });
  await rec(retail, 'receiving', 230, { received_units: 10, store_name: 'Kunming' });
  await retail.trace.auditTask({ taskId, verdict: 'approved', comment: 'ok' });
}
