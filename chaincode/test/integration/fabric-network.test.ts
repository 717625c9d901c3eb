import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { codeHash, FabricGatewayLedger, generateCode, identityFromFiles } from '@trace/client';
import { testClock } from '@trace/test-network';
import { chaincodeProcesses, completeTeaLot, ORGS, rejectsWith, startLegacyConsortium, TBAAS_PACKAGE_PATH, TestConsortium } from './consortium';

const clock = testClock();

describe('the TBaaS package through FabricNetworkLedger on a devnet acting as a Fabric 2.3 peer', function () {
  this.timeout(300_000);
  let net: TestConsortium;

  before(async () => {
    if (!existsSync(join(TBAAS_PACKAGE_PATH, 'node_modules', 'fabric-shim'))) {
      throw new Error('build/tbaas is not installed: run `node scripts/dist/src/package-tbaas.js --install` (npm test does)');
    }
    net = await startLegacyConsortium();
    expect(chaincodeProcesses(net.devnet).map((p) => p.nodeVersion)).to.deep.equal(Object.values(ORGS).map(() => 'v12.16.1'));
    // the lot the later tests read: each of them stands alone
    await completeTeaLot(net.clients, 'fabnet-lot', clock, 600);
  });

  after(async () => {
    await net?.close();
  });

  it('has no Gateway service: a gateway client fails UNIMPLEMENTED', async () => {
    const user = net.devnet.user(ORGS.brand, 'User1');
    const gw = FabricGatewayLedger.connect({ endpoint: net.devnet.endpoint, channel: net.devnet.channel, chaincode: 'trace', identity: identityFromFiles(ORGS.brand, user.certPath, user.keyPath) });
    try {
      const e = await gw.evaluate('process:listTemplates').then(
        () => undefined,
        (err: unknown) => err as { details: { grpcCode?: number }; message: string },
      );
      expect(e?.details.grpcCode).to.equal(12);
      expect(e?.message).to.contain('unknown service gateway.Gateway');
    } finally {
      gw.close();
    }
  });

  it('records, audits and traces a whole tea lot', async () => {
    await completeTeaLot(net.clients, 'fabnet-lot-2', clock, 600);
    const trace = await net.clients.retail.trace.getTrace('fabnet-lot-2');
    expect(trace.stages.every((s) => s.record)).to.equal(true);
    expect(trace.audit?.verdict).to.equal('approved');
  });

  it('gives chaincode errors in the 2.3 form the same stable codes as over the gateway, changing nothing', async () => {
    await rejectsWith(net.clients.farm.trace.recordStage({ taskId: 'fabnet-lot', stage: 'tea_plantation', eventTime: clock.at(0), data: { tea_garden: 'again' } }), 'ERR_LOCKED');
    const trace = await net.clients.retail.trace.getTrace('fabnet-lot');
    const plantation = trace.stages.find((s) => s.stage === 'tea_plantation')!;
    expect(JSON.stringify(plantation.record)).to.contain('Jingmai').and.not.contain('again');
    await rejectsWith(net.clients.brand.trace.getTask('no-such-task'), 'ERR_NOT_FOUND');
  });

  it('issues a code and verifies it against the lot', async () => {
    const h = codeHash(generateCode());
    await net.clients.brand.codes.issueCodes({ taskId: 'fabnet-lot', level: 'item', codeHashes: [h] });
    const v = await net.clients.retail.codes.verifyCode(h);
    expect(v.genuine && v.stages.length).to.equal(10);
  });

  it('streams the consortium and lot events from the chain over Deliver', async () => {
    const stream = await net.clients.brand.ledger.chaincodeEvents({ blockNumber: 0n });
    const names = new Set<string>();
    for await (const ev of stream) {
      names.add(ev.eventName);
      if (names.has('trace.TaskAudited')) break;
    }
    stream.close();
    expect([...names]).to.include.members(['consortium.MemberAdded', 'trace.TaskCreated', 'trace.StageRecorded', 'trace.TaskAudited']);
  });
});
