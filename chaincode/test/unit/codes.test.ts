import { expect } from 'chai';
import { canContain, canTransition, crossesThreshold, isDiverted } from '../../src/rules/codes';

describe('code rules', () => {
  it('allows only the lifecycle transitions issued → active → sold, and → void', () => {
    expect(canTransition('issued', 'active')).to.equal(true);
    expect(canTransition('active', 'sold')).to.equal(true);
    expect(canTransition('sold', 'void')).to.equal(true);
    expect(canTransition('issued', 'sold')).to.equal(false);
    expect(canTransition('sold', 'active')).to.equal(false);
    expect(canTransition('void', 'active')).to.equal(false);
    expect(canTransition('active', 'active')).to.equal(false);
  });

  it('packs only smaller levels into larger ones', () => {
    expect(canContain('case', 'item')).to.equal(true);
    expect(canContain('pallet', 'case')).to.equal(true);
    expect(canContain('pallet', 'item')).to.equal(true);
    expect(canContain('case', 'case')).to.equal(false);
    expect(canContain('item', 'case')).to.equal(false);
  });

  it('crosses the scan threshold once, on the scan that passes it', () => {
    expect(crossesThreshold(4, 1, 5)).to.equal(false); // the 5th scan is allowed
    expect(crossesThreshold(5, 1, 5)).to.equal(true); // the 6th is not
    expect(crossesThreshold(3, 3, 5)).to.equal(true); // a batch jumping over it
    expect(crossesThreshold(6, 1, 5)).to.equal(false); // already past: no second alert
    expect(crossesThreshold(0, 0, 0)).to.equal(false);
  });

  it('authorizes a region and its subdivisions', () => {
    expect(isDiverted('CN-53', ['CN-53'])).to.equal(false);
    expect(isDiverted('CN-53', ['CN'])).to.equal(false);
    expect(isDiverted('CN-44', ['CN-53'])).to.equal(true);
    expect(isDiverted('CN', ['CN-53'])).to.equal(false);
    expect(isDiverted('US', ['CN-53'])).to.equal(true);
    expect(isDiverted('CN-530', ['CN-53'])).to.equal(true);
    expect(isDiverted('US', [])).to.equal(false);
  });
});
