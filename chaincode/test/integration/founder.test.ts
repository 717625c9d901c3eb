import { expect } from 'chai';
import { ledgerFromConfig, TraceChainClient } from '@trace/client';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { CHAINCODE_PATH, rejectsWith } from './consortium';

/** The founding operator is a deployment parameter (TRACE_FOUNDER_MSP / deployment.json), not a race. */
describe('bootstrap: only the founding org the deployment names (devnet)', function () {
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

  it('refuses every other org, even the first org of the channel, and changes nothing', async () => {
    await rejectsWith(first.consortium.bootstrap({ consortium: 'race', name: 'Early Bird', roles: ['brand'] }), 'ERR_FORBIDDEN', /founding org Org2MSP/);
    await rejectsWith(first.consortium.getConsortium(), 'ERR_NOT_FOUND');
    await rejectsWith(first.consortium.getMember('Org1MSP'), 'ERR_NOT_FOUND');
  });

  it('lets the named founder bootstrap once and become the operator', async () => {
    const member = await second.consortium.bootstrap({ consortium: 'founded', name: 'Founder', roles: ['brand'] });
    expect(member).to.include({ mspId: 'Org2MSP' });
    expect(await first.consortium.getConsortium()).to.include({ name: 'founded', operatorMsp: 'Org2MSP' });
    await rejectsWith(second.consortium.bootstrap({ consortium: 'again', name: 'Founder', roles: [] }), 'ERR_CONFLICT');
    expect(await first.consortium.getConsortium()).to.include({ name: 'founded' });
  });
});
