import { expect } from 'chai';
import { deploymentFrom } from '../../src/ledger/deployment';

describe('deployment settings', () => {
  it('takes the founding org from the package file before the environment', () => {
    expect(deploymentFrom('{"founderMsp":"Org2MSP"}', { TRACE_FOUNDER_MSP: 'Org1MSP' })).to.deep.equal({ founderMsp: 'Org2MSP' });
    expect(deploymentFrom(undefined, { TRACE_FOUNDER_MSP: 'Org1MSP' })).to.deep.equal({ founderMsp: 'Org1MSP' });
  });

  it('names no founder when neither sets one (bootstrap then refuses everyone)', () => {
    expect(deploymentFrom(undefined, {})).to.deep.equal({ founderMsp: undefined });
    expect(deploymentFrom('{}', { TRACE_FOUNDER_MSP: '' })).to.deep.equal({ founderMsp: undefined });
  });

  it('refuses a malformed setting instead of leaving bootstrap open', () => {
    expect(() => deploymentFrom('{"founderMsp":"Org1 MSP"}', {})).to.throw(/not an MSP ID/);
    expect(() => deploymentFrom('{"founderMsp":42}', {})).to.throw(/not an MSP ID/);
    expect(() => deploymentFrom(undefined, { TRACE_FOUNDER_MSP: '../x' })).to.throw(/not an MSP ID/);
    expect(() => deploymentFrom('{not json', {})).to.throw(SyntaxError);
  });
});
