import { expect } from 'chai';
import { chaincodeMessage, parseChaincodeError, toLedgerError } from '../src/errors';

describe('client error parsing', () => {
  it('finds the stable code in shim 2.5 and shim 2.3 messages', () => {
    expect(parseChaincodeError('chaincode response 500, [ERR_STAGE_ORDER] stage drying needs withering first')).to.deep.equal({
      code: 'ERR_STAGE_ORDER',
      message: 'stage drying needs withering first',
    });
    expect(parseChaincodeError('error in simulation: transaction returned with failure: Error: [ERR_NOT_FOUND] task t1')).to.deep.equal({
      code: 'ERR_NOT_FOUND',
      message: 'task t1',
    });
    expect(parseChaincodeError('no code here')).to.equal(undefined);
  });

  it('strips peer prefixes from a plain chaincode message', () => {
    expect(chaincodeMessage('chaincode response 500, boom')).to.equal('boom');
    expect(chaincodeMessage('error in simulation: transaction returned with failure: Error: boom')).to.equal('boom');
  });

  it('maps gateway errors by their details first', () => {
    const e = toLedgerError({ name: 'EndorseError', code: 10, message: '10 ABORTED: failed to endorse', details: [{ message: 'chaincode response 500, [ERR_FORBIDDEN] role' }], transactionId: 'abc' });
    expect(e.code).to.equal('ERR_FORBIDDEN');
    expect(e.details.transactionId).to.equal('abc');
    expect(toLedgerError({ name: 'EndorseError', code: 10, message: 'x', details: [{ message: 'chaincode response 500, plain' }] }).code).to.equal('ERR_ENDORSEMENT');
    expect(toLedgerError({ code: 14, message: 'unavailable' }).code).to.equal('ERR_UNAVAILABLE');
  });
});
