import { expect } from 'chai';
import { LedgerError, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { CHAINCODE_PATH, rejectsWith } from './consortium';

/**
 * The founding operator is a deployment parameter (TRACE_FOUNDER_MSP / deployment.json), not a race;
 * then only the operator governs membership, and not against itself.
 */
describe('consortium governance: the founding org the deployment names, then the operator (devnet)', function () {
  this.timeout(300_000);
  let devnet: RunningDevnet;
  let first: TraceChainClient;
  let second: TraceChainClient;

  before(async () => {
    devnet = await startDevnet(['--chaincode-path', CHAINCODE_PATH, '--orgs', 'Org1MSP,Org2MSP', '--endorsers', '1', '--chaincode-env', 'TRACE_FOUNDER_MSP=Org2MSP']);
    first = new TraceChainClient(ledgerFromConfig(devnet.connection, { msp: 'Org1MSP' }));
    second = new TraceChainClient(ledgerFromConfig(devnet.connection, { msp: 'Org2MSP' }));
  });

  after(async () => {
    first?.ledger.close();
    second?.ledger.close();
    await devnet?.stop();
  });

  it('refuses every other org, even the first org of the channel, and lets the named founder bootstrap once', async () => {
    await rejectsWith(first.consortium.bootstrap({ consortium: 'race', name: 'Early Bird', roles: ['brand'] }), 'ERR_FORBIDDEN', /founding org Org2MSP/);
    await rejectsWith(first.consortium.getConsortium(), 'ERR_NOT_FOUND');
    await rejectsWith(first.consortium.getMember('Org1MSP'), 'ERR_NOT_FOUND');
    // The named founder then bootstraps, once, and is the operator.
    const member = await second.consortium.bootstrap({ consortium: 'founded', name: 'Founder', roles: ['brand'] });
    expect(member).to.include({ mspId: 'Org2MSP' });
    expect(await first.consortium.getConsortium()).to.include({ name: 'founded', operatorMsp: 'Org2MSP' });
    await rejectsWith(second.consortium.bootstrap({ consortium: 'again', name: 'Founder', roles: [] }), 'ERR_CONFLICT');
    expect(await first.consortium.getConsortium()).to.include({ name: 'founded' });
  });

  it('lets no member grant itself roles, and keeps the operator from demoting or suspending itself', async () => {
    await second.consortium.bootstrap({ consortium: 'founded', name: 'Founder', roles: ['brand'] }).catch((e: LedgerError) => expect(e.code).to.equal('ERR_CONFLICT'));
    await second.consortium.addMember({ mspId: 'Org1MSP', name: 'Member', roles: ['producer'] });
    const before = await second.consortium.listMembers();
    await rejectsWith(first.consortium.updateMember({ mspId: 'Org1MSP', roles: ['producer', 'operator'] }), 'ERR_FORBIDDEN', /operator/);
    await rejectsWith(first.consortium.setMemberStatus({ mspId: 'Org2MSP', status: 'suspended' }), 'ERR_FORBIDDEN');
    await rejectsWith(first.consortium.addMember({ mspId: 'Org3MSP', name: 'Friend', roles: ['brand'] }), 'ERR_FORBIDDEN');
    await rejectsWith(second.consortium.updateMember({ mspId: 'Org2MSP', roles: ['brand'] }), 'ERR_STATE', /own operator role/);
    await rejectsWith(second.consortium.setMemberStatus({ mspId: 'Org2MSP', status: 'suspended' }), 'ERR_STATE', /own status/);
    await rejectsWith(second.consortium.addMember({ mspId: 'Org1MSP', name: 'Again', roles: ['brand'] }), 'ERR_CONFLICT');
    expect(await first.consortium.listMembers()).to.deep.equal(before);
    // A suspended member is no member for writes until reactivated.
    await second.consortium.setMemberStatus({ mspId: 'Org1MSP', status: 'suspended' });
    await rejectsWith(first.catalog.defineLocation({ id: '6901234000016', name: 'farm', type: 'farm', geo: { lat: 22.19, lon: 100.03 }, region: 'CN-53' }), 'ERR_NOT_MEMBER', /suspended/);
    await second.consortium.setMemberStatus({ mspId: 'Org1MSP', status: 'active' });
    expect((await first.catalog.defineLocation({ id: '6901234000016', name: 'farm', type: 'farm', geo: { lat: 22.19, lon: 100.03 }, region: 'CN-53' })).id).to.equal('6901234000016');
  });
});
