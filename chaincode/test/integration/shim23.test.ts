import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeHash, generateCode, LedgerError, Wallet } from '@trace/client';
import { at, completeTeaLot, hex64, ORGS, rejectsWith, startConsortium, TBAAS_PACKAGE_PATH, TestConsortium, WAREHOUSE_GLN } from './consortium';

describe('the TBaaS package under fabric-shim 2.3.0 (devnet)', function () {
  this.timeout(300_000);
  let net: TestConsortium;

  before(async () => {
    const shim = join(TBAAS_PACKAGE_PATH, 'node_modules', 'fabric-shim', 'package.json');
    if (!existsSync(shim)) throw new Error('build/tbaas is not installed: run `node scripts/dist/src/package-tbaas.js --install` (npm test does)');
    expect((JSON.parse(readFileSync(shim, 'utf8')) as { version: string }).version).to.equal('2.3.0');
    net = await startConsortium(TBAAS_PACKAGE_PATH);
  });

  after(async () => {
    await net?.close();
  });

  it('records, audits and traces a whole tea lot', async () => {
    await completeTeaLot(net.clients, 'shim23-lot', 600);
    const trace = await net.clients.retail.trace.getTrace('shim23-lot');
    expect(trace.stages.every((s) => s.record)).to.equal(true);
    expect(trace.audit?.verdict).to.equal('approved');
  });

  it('reports chaincode errors in the 2.3 form, which the client still reads as stable codes', async () => {
    const e = await rejectsWith(net.clients.farm.trace.recordStage({ taskId: 'shim23-lot', stage: 'tea_plantation', eventTime: at(0), data: { tea_garden: 'again' } }), 'ERR_LOCKED');
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
    await brand.assets.proposeClass({ classId: 's23', symbol: 'S23', kind: 'tea', taskId: 'shim23-lot', unit: 'cake', certifiedQuantity: 100, quantityRef: 'tea_warehousing.tea_stored_cakes', storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: '2026-10-06T00:00:00Z' }, confirmations: ['warehouse'], evidence: [hex64('5')] });
    await farm.assets.confirmClass({ classId: 's23', role: 'warehouse' });
    const [a, b] = [Wallet.generate(), Wallet.generate()];
    await brand.assets.issue({ classId: 's23', to: a.account, quantity: 10 });
    await farm.assets.transfer(a.sign({ classId: 's23', from: a.account, to: b.account, quantity: 4 }));
    await rejectsWith(farm.assets.transfer(b.sign({ classId: 's23', from: a.account, to: b.account, quantity: 1 })), 'ERR_SIGNATURE');
    expect((await brand.assets.getBalance('s23', b.account)).amount).to.equal(4);
  });
});
