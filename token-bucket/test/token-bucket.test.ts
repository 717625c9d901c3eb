import { expect } from 'chai';
import { TokenBucket } from '../src/token-bucket';

describe('TokenBucket', () => {
  it('gives a full burst, then refuses until the rate refills a token', () => {
    const t0 = 1_000_000;
    const bucket = new TokenBucket(2, 3, t0); // 2 a second, bursts of 3
    expect([1, 2, 3, 4].map(() => bucket.tryTake(t0))).to.deep.equal([true, true, true, false]);
    expect(bucket.msUntilToken(t0)).to.equal(500);
    expect(bucket.tryTake(t0 + 499)).to.equal(false);
    expect(bucket.tryTake(t0 + 500)).to.equal(true);
    expect(bucket.tryTake(t0 + 500)).to.equal(false);
  });

  it('never holds more than its capacity, and says when it is idle', () => {
    const t0 = 1_000_000;
    const bucket = new TokenBucket(10, 2, t0);
    expect(bucket.tryTake(t0)).to.equal(true);
    expect(bucket.isFull(t0)).to.equal(false);
    expect(bucket.isFull(t0 + 60_000)).to.equal(true);
    expect([1, 2, 3].map(() => bucket.tryTake(t0 + 60_000))).to.deep.equal([true, true, false]);
  });

  it('refills nothing when the clock steps back', () => {
    const t0 = 1_000_000;
    const bucket = new TokenBucket(1, 1, t0);
    expect(bucket.tryTake(t0)).to.equal(true);
    expect(bucket.tryTake(t0 - 5_000)).to.equal(false);
    expect(bucket.tryTake(t0 + 999)).to.equal(false);
    expect(bucket.tryTake(t0 + 1_000)).to.equal(true);
  });

  it('paces take() callers in call order at its rate', async () => {
    const bucket = new TokenBucket(20, 1); // one token now, then one every 50 ms
    const started = Date.now();
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).to.deep.equal([0, 1, 2, 3]);
    expect(Date.now() - started).to.be.within(140, 5_000);
  });

  it('refuses a rate or capacity that could never give a token', () => {
    expect(() => new TokenBucket(0)).to.throw(RangeError);
    expect(() => new TokenBucket(5, 0.5)).to.throw(RangeError);
  });
});
