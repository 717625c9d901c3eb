import { expect } from 'chai';
import { checkExpiry, holderMessage, MAX_CLOCK_SKEW_MS, MAX_REQUEST_LIFETIME_MS } from '../../src/rules/assets';

describe('asset rules: the holder signature window and message', () => {
  const tx = Date.parse('2026-11-30T12:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString();

  it('accepts a window of at most five minutes that contains the transaction time', () => {
    expect(checkExpiry(iso(tx - 1000), iso(tx - 1000 + MAX_REQUEST_LIFETIME_MS), tx)).to.equal(undefined);
    expect(checkExpiry(iso(tx + MAX_CLOCK_SKEW_MS), iso(tx + MAX_CLOCK_SKEW_MS + 1000), tx), 'a holder clock slightly ahead').to.equal(undefined);
  });

  it('refuses a stretched, reversed, future-dated or expired window, and bad dates', () => {
    expect(checkExpiry(iso(tx), iso(tx + MAX_REQUEST_LIFETIME_MS + 1), tx)).to.match(/more than 5 minutes/);
    expect(checkExpiry(iso(tx), iso(tx), tx)).to.match(/not after signedAt/);
    expect(checkExpiry(iso(tx + MAX_CLOCK_SKEW_MS + 1), iso(tx + MAX_CLOCK_SKEW_MS + 2), tx)).to.match(/ahead of the transaction time/);
    expect(checkExpiry(iso(tx - 2000), iso(tx - 1), tx)).to.match(/expired/);
    expect(checkExpiry('2026-02-30T00:00:00Z', iso(tx), tx)).to.match(/signedAt .* is not a date-time/);
  });

  it('signs the scope with the request, never the signature itself', () => {
    const scope = { channel: 'c', chaincode: 'trace', transaction: 'assets:transfer' };
    expect(holderMessage(scope, { quantity: 1, signature: 'x' })).to.deep.equal({ scope, request: { quantity: 1 } });
  });
});
