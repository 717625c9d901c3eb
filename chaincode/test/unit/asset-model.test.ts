import { expect } from 'chai';
import { AssetModel, AssetOp, LOST_RACE, outcomeOf, settleRace } from './asset-model';

describe('asset model: the documented rules, decided before submission', () => {
  const [alice, bob, carol] = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)];
  const roles = { Brand: ['issuer'], Farm: ['warehouse'], Bank: ['exchange', 'regulator'], Shop: ['retailer', 'regulator'] };
  const fresh = () => {
    const m = new AssetModel(roles, [
      { classId: 'tea', kind: 'tea', certified: 100, warehouse: 'Farm' },
      { classId: 'cny', kind: 'currency', certified: Number.MAX_SAFE_INTEGER, issuerMsp: 'Bank' },
    ]);
    m.apply({ type: 'issue', org: 'Brand', classId: 'tea', to: alice, quantity: 60 });
    m.apply({ type: 'issue', org: 'Bank', classId: 'cny', to: bob, quantity: 1000 });
    return m;
  };
  const verdict = (m: AssetModel, op: AssetOp) => outcomeOf(m.decide(op));

  it('issues within certified by an issuer, a currency only by the exchange that created it', () => {
    const m = fresh();
    expect(verdict(m, { type: 'issue', org: 'Brand', classId: 'tea', to: bob, quantity: 41 })).to.equal('ERR_INSUFFICIENT');
    expect(verdict(m, { type: 'issue', org: 'Farm', classId: 'tea', to: bob, quantity: 1 })).to.equal('ERR_FORBIDDEN');
    expect(verdict(m, { type: 'issue', org: 'Brand', classId: 'cny', to: bob, quantity: 1 })).to.equal('ERR_FORBIDDEN');
    expect(verdict(m, { type: 'issue', org: 'Outsider', classId: 'tea', to: bob, quantity: 1 })).to.equal('ERR_NOT_MEMBER');
    m.apply({ type: 'issue', org: 'Brand', classId: 'tea', to: bob, quantity: 40 });
    expect(m.totals('tea')).to.deep.equal({ issued: 100, redeemed: 0, reserve: 100 });
    expect(m.supplyHolds('tea')).to.equal(true);
  });

  it('a pledge is released by its lender alone, a freeze by the regulator that set it alone', () => {
    const m = fresh();
    m.apply({ type: 'pledge', org: 'Farm', classId: 'tea', lockId: 'p1', account: alice, lender: carol, quantity: 20 });
    m.apply({ type: 'freeze', org: 'Shop', classId: 'tea', lockId: 'f1', account: alice, quantity: 30 });
    expect(m.balance(alice, 'tea')).to.equal(10);
    expect(verdict(m, { type: 'freeze', org: 'Brand', classId: 'tea', lockId: 'f2', account: alice, quantity: 1 })).to.equal('ERR_FORBIDDEN');
    expect(verdict(m, { type: 'freeze', org: 'Shop', classId: 'tea', lockId: 'f1', account: alice, quantity: 1 })).to.equal('ERR_CONFLICT');
    expect(verdict(m, { type: 'pledge', org: 'Farm', classId: 'tea', lockId: 'p2', account: alice, lender: carol, quantity: 11 })).to.equal('ERR_INSUFFICIENT');
    expect(verdict(m, { type: 'unlock', org: 'Farm', classId: 'tea', lockId: 'p1', lender: alice })).to.equal('ERR_FORBIDDEN');
    expect(verdict(m, { type: 'unlock', org: 'Shop', classId: 'tea', lockId: 'p1' }), 'a regulator cannot release a pledge').to.equal('ERR_FORBIDDEN');
    expect(verdict(m, { type: 'unlock', org: 'Bank', classId: 'tea', lockId: 'f1' }), 'another regulator').to.equal('ERR_FORBIDDEN');
    expect(verdict(m, { type: 'unlock', org: 'Shop', classId: 'cny', lockId: 'f1' }), 'locks are keyed within their class').to.equal('ERR_NOT_FOUND');
    m.apply({ type: 'unlock', org: 'Farm', classId: 'tea', lockId: 'p1', lender: carol });
    m.apply({ type: 'unlock', org: 'Shop', classId: 'tea', lockId: 'f1' });
    expect([m.balance(alice, 'tea'), m.locks('tea')]).to.deep.equal([60, []]);
  });

  it('an offer is filled against payment, partly or wholly, and cancelled only by its seller while open', () => {
    const m = fresh();
    m.apply({ type: 'createOffer', org: 'Shop', classId: 'tea', offerId: 'o1', seller: alice, quantity: 10, price: 30, currencyClass: 'cny' });
    expect(verdict(m, { type: 'createOffer', org: 'Shop', classId: 'tea', offerId: 'o2', seller: alice, quantity: 1, price: 1, currencyClass: 'tea' })).to.equal('ERR_VALIDATION');
    expect(verdict(m, { type: 'acceptOffer', org: 'Shop', classId: 'tea', offerId: 'o1', buyer: bob, quantity: 11 })).to.equal('ERR_INSUFFICIENT');
    expect(verdict(m, { type: 'acceptOffer', org: 'Shop', classId: 'tea', offerId: 'o1', buyer: alice, quantity: 1 })).to.equal('ERR_VALIDATION');
    expect(verdict(m, { type: 'acceptOffer', org: 'Shop', classId: 'tea', offerId: 'o1', buyer: carol, quantity: 1 }), 'carol has no currency').to.equal('ERR_INSUFFICIENT');
    m.apply({ type: 'acceptOffer', org: 'Shop', classId: 'tea', offerId: 'o1', buyer: bob, quantity: 4 });
    expect([m.holdings(alice), m.holdings(bob), m.offers('tea')[0].quantity]).to.deep.equal([{ tea: 50, cny: 120 }, { tea: 4, cny: 880 }, 6]);
    expect(verdict(m, { type: 'cancelOffer', org: 'Shop', classId: 'tea', offerId: 'o1', seller: bob })).to.equal('ERR_FORBIDDEN');
    m.apply({ type: 'cancelOffer', org: 'Shop', classId: 'tea', offerId: 'o1', seller: alice });
    expect([m.balance(alice, 'tea'), m.offers('tea'), m.offers('tea', 'cancelled').length]).to.deep.equal([56, [], 1]);
    expect(verdict(m, { type: 'acceptOffer', org: 'Shop', classId: 'tea', offerId: 'o1', buyer: bob, quantity: 1 })).to.equal('ERR_STATE');
    expect(['tea', 'cny'].every((c) => m.supplyHolds(c))).to.equal(true);
  });

  it('a redemption burns units at once and lowers the reserve when the storing warehouse confirms it, once', () => {
    const m = fresh();
    m.apply({ type: 'redeem', org: 'Shop', classId: 'tea', redemptionId: 'r1', account: alice, quantity: 15 });
    expect(verdict(m, { type: 'redeem', org: 'Shop', classId: 'cny', redemptionId: 'r2', account: bob, quantity: 1 })).to.equal('ERR_VALIDATION');
    expect(verdict(m, { type: 'confirmRedemption', org: 'Shop', redemptionId: 'r1' })).to.equal('ERR_FORBIDDEN');
    expect(verdict(m, { type: 'confirmRedemption', org: 'Farm', redemptionId: 'r9' })).to.equal('ERR_NOT_FOUND');
    expect(m.totals('tea')).to.deep.equal({ issued: 60, redeemed: 15, reserve: 100 });
    m.apply({ type: 'confirmRedemption', org: 'Farm', redemptionId: 'r1' });
    expect(m.totals('tea')).to.deep.equal({ issued: 60, redeemed: 15, reserve: 85 });
    expect(verdict(m, { type: 'confirmRedemption', org: 'Farm', redemptionId: 'r1' })).to.equal('ERR_STATE');
    expect(m.supplyHolds('tea')).to.equal(true);
  });

  it('a racing pair is explained by an order of the two, with a loser of the MVCC race writing nothing', () => {
    const m = fresh();
    const spend = (to: string): AssetOp => ({ type: 'transfer', org: 'Shop', classId: 'tea', from: alice, to, quantity: 40 });
    const pair: [AssetOp, AssetOp] = [spend(bob), spend(carol)];
    expect(settleRace(m, pair, ['ok', 'ok']), 'both cannot spend the same 60').to.equal(undefined);
    expect(settleRace(m, pair, ['ERR_INSUFFICIENT', 'ERR_INSUFFICIENT']), 'one of them must fit').to.equal(undefined);
    const second = settleRace(m, pair, ['ERR_INSUFFICIENT', 'ok'])!;
    expect([second.balance(bob, 'tea'), second.balance(carol, 'tea')], 'the second committed first').to.deep.equal([0, 40]);
    const raced = settleRace(m, pair, [LOST_RACE, 'ok'])!;
    expect(raced.holdings(alice)).to.deep.equal({ tea: 20 });
    expect(m.balance(alice, 'tea'), 'the model given is left as it was').to.equal(60);
  });
});
