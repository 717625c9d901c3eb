import { expect } from 'chai';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeHash, generateCode, LedgerError, signReadings, Wallet } from '@trace/client';
import { testClock } from '@trace/test-network';
import { chaincodeProcesses, completeTeaLot, hex64, node12Runtime, ORGS, rejectsWith, startConsortium, TBAAS_PACKAGE_PATH, TEA_WAREHOUSING_HOURS, TestConsortium, WAREHOUSE_GLN } from './consortium';

const clock = testClock();

/** TBaaS runs Fabric 2.3's Node chaincode image: this exact Node. */
const TBAAS_NODE = 'v12.16.1';

describe('the TBaaS package under fabric-shim 2.3.0 on Node 12.16.1 (devnet)', function () {
  this.timeout(300_000);
  let net: TestConsortium;

  /** Fails unless every org's chaincode process is running on Node 12.16.1. */
  const expectNode12 = () => {
    const procs = chaincodeProcesses(net.devnet);
    expect(procs.map((p) => p.nodeVersion), JSON.stringify(procs)).to.deep.equal(Object.values(ORGS).map(() => TBAAS_NODE));
  };

  before(async () => {
    const shim = join(TBAAS_PACKAGE_PATH, 'node_modules', 'fabric-shim', 'package.json');
    if (!existsSync(shim)) throw new Error('build/tbaas is not installed: run `node scripts/dist/src/package-tbaas.js --install` (npm test does)');
    expect((JSON.parse(readFileSync(shim, 'utf8')) as { version: string }).version).to.equal('2.3.0');
    net = await startConsortium(TBAAS_PACKAGE_PATH, node12Runtime().node);
    expectNode12();
    // the lot the later tests read: each of them stands alone
    await completeTeaLot(net.clients, 'shim23-lot', clock, 600);
  });

  after(async () => {
    await net?.close();
  });

  it('records, audits and traces a whole tea lot', async () => {
    await completeTeaLot(net.clients, 'shim23-lot-2', clock, 600);
    const trace = await net.clients.retail.trace.getTrace('shim23-lot-2');
    expect(trace.stages.every((s) => s.record)).to.equal(true);
    expect(trace.audit?.verdict).to.equal('approved');
  });

  it('pages lists through the 2.3 shim’s paginated range query and bookmark', async () => {
    const first = await net.clients.farm.consortium.listMembers({ pageSize: 3 });
    expect([first.items.length, first.more]).to.deep.equal([3, true]);
    const rest = await net.clients.farm.consortium.listMembers({ pageSize: 3, bookmark: first.bookmark });
    expect([rest.items.map((m) => m.mspId), rest.more]).to.deep.equal([[ORGS.retail], false]);
    expect([...first.items, ...rest.items].map((m) => m.mspId)).to.deep.equal([ORGS.brand, ORGS.farm, ORGS.factory, ORGS.retail]);
  });

  it('reports chaincode errors in the 2.3 form, which the client still reads as stable codes', async () => {
    const e = await rejectsWith(net.clients.farm.trace.recordStage({ taskId: 'shim23-lot', stage: 'tea_plantation', eventTime: clock.at(0), data: { tea_garden: 'again' } }), 'ERR_LOCKED');
    const detail = (e.details.cause as { details?: { message: string }[] }).details?.[0]?.message ?? '';
    expect(detail).to.match(/^error in simulation: transaction returned with failure: (Chaincode)?Error: \[ERR_LOCKED\]/);
    const evalErr = await rejectsWith(net.clients.brand.trace.getTask('no-such-task'), 'ERR_NOT_FOUND');
    expect(evalErr).to.be.instanceOf(LedgerError);
  });

  it('issues and verifies codes, and moves holder-signed assets', async () => {
    const { brand, farm, retail } = net.clients;
    const [h] = [codeHash(generateCode())];
    await brand.codes.issueCodes({ taskId: 'shim23-lot', level: 'item', codeHashes: [h] });
    const v = await retail.codes.verifyCode(h);
    expect(v.genuine && v.stages.length).to.equal(10);
    await brand.consortium.updateMember({ mspId: ORGS.brand, roles: ['operator', 'brand', 'auditor', 'issuer'] });
    await brand.assets.proposeClass({ classId: 's23', symbol: 'S23', kind: 'tea', taskId: 'shim23-lot', unit: 'cake', certifiedQuantity: 100, storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: clock.at(TEA_WAREHOUSING_HOURS) }, confirmations: ['warehouse'], evidence: [hex64('5')] });
    await farm.assets.confirmClass({ classId: 's23', role: 'warehouse' });
    const [a, b] = [Wallet.generate(), Wallet.generate()];
    await brand.assets.issue({ classId: 's23', to: a.account, quantity: 10 });
    await farm.assets.transfer(a.sign(farm.holderScope('assets:transfer'), { classId: 's23', from: a.account, to: b.account, quantity: 4 }));
    await rejectsWith(farm.assets.transfer(b.sign(farm.holderScope('assets:transfer'), { classId: 's23', from: a.account, to: b.account, quantity: 1 })), 'ERR_SIGNATURE');
    // The chaincode name comes from the 2.3 shim's decoded proposal too: a signature for another chaincode is refused.
    await rejectsWith(farm.assets.transfer(a.sign({ ...farm.holderScope('assets:transfer'), chaincode: 'other' }, { classId: 's23', from: a.account, to: b.account, quantity: 1 })), 'ERR_SIGNATURE', /does not verify/);
    expect((await brand.assets.getBalance('s23', b.account)).amount).to.equal(4);
  });

  it('verifies signed device readings and raises threshold alarms', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const { farm } = net.clients;
    await farm.devices.registerDevice({ deviceId: 's23-cellar', type: 'multi', publicKeyPem, thresholds: { storage_temp_c: { min: 5, max: 35 } } });
    const r = await farm.devices.submitReadings(signReadings(privateKey, { deviceId: 's23-cellar', seq: 1, readings: [{ at: clock.at(300), metric: 'storage_temp_c', value: 40, unit: '°C' }] }));
    expect(r.alarms).to.deep.equal(['s23-cellar/1/0']);
    const forged = signReadings(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { deviceId: 's23-cellar', seq: 2, readings: [{ at: clock.at(301), metric: 'storage_temp_c', value: 20, unit: '°C' }] });
    await rejectsWith(farm.devices.submitReadings(forged), 'ERR_SIGNATURE');
    expect((await farm.devices.getDevice('s23-cellar')).lastSeq).to.equal(1);
  });

  it('ran every transaction above on Node 12.16.1', () => {
    expectNode12();
  });
});
