import { expect } from 'chai';
import { allPages, LedgerError, TraceChainClient, Wallet } from '@trace/client';
import { seededRandom, withSeed } from '@trace/test-network';
import { completeTeaLot, hex64, ORGS, startConsortium, TestConsortium, WAREHOUSE_GLN } from './consortium';

/** Errors a random operation may legitimately meet; anything else fails the test. */
const EXPECTED = new Set(['ERR_INSUFFICIENT', 'ERR_STATE', 'ERR_CONFLICT', 'ERR_NOT_FOUND', 'ERR_FORBIDDEN', 'ERR_VALIDATION', 'ERR_COMMIT']);

interface Model {
  bal: Map<string, number>;
  locks: Map<string, { classId: string; quantity: number }>;
  offers: Map<string, { classId: string; quantity: number }>;
  issued: Map<string, number>;
  redeemed: Map<string, number>;
}

/** Recomputes holdings from the chaincode events, failing on any negative balance along the way. */
function apply(m: Model, name: string, p: Record<string, never>): void {
  const add = (account: string, classId: string, q: number) => {
    const k = `${account}/${classId}`;
    const v = (m.bal.get(k) ?? 0) + q;
    expect(v, `balance ${k} after ${name}`).to.be.at.least(0);
    m.bal.set(k, v);
  };
  const inc = (map: Map<string, number>, k: string, q: number) => map.set(k, (map.get(k) ?? 0) + q);
  switch (name) {
    case 'assets.Issued':
      add(p.to, p.classId, p.quantity);
      inc(m.issued, p.classId, p.quantity);
      break;
    case 'assets.Transferred':
      add(p.from, p.classId, -p.quantity);
      add(p.to, p.classId, p.quantity);
      break;
    case 'assets.Locked': {
      const l = p.lock as unknown as { lockId: string; classId: string; account: string; quantity: number };
      add(l.account, l.classId, -l.quantity);
      m.locks.set(l.lockId, { classId: l.classId, quantity: l.quantity });
      break;
    }
    case 'assets.Unlocked': {
      const l = p.lock as unknown as { lockId: string; classId: string; account: string; quantity: number };
      add(l.account, l.classId, l.quantity);
      m.locks.delete(l.lockId);
      break;
    }
    case 'assets.OfferCreated': {
      const o = p.offer as unknown as { offerId: string; classId: string; seller: string; quantity: number };
      add(o.seller, o.classId, -o.quantity);
      m.offers.set(o.offerId, { classId: o.classId, quantity: o.quantity });
      break;
    }
    case 'assets.OfferAccepted': {
      const o = p.offer as unknown as { offerId: string; classId: string; seller: string; quantity: number; currencyClass: string };
      add(p.buyer, o.classId, p.quantity);
      add(p.buyer, o.currencyClass, -p.cost);
      add(o.seller, o.currencyClass, p.cost);
      m.offers.set(o.offerId, { classId: o.classId, quantity: o.quantity });
      break;
    }
    case 'assets.OfferCancelled': {
      const o = p.offer as unknown as { offerId: string; classId: string; seller: string };
      add(o.seller, o.classId, p.returned);
      m.offers.set(o.offerId, { classId: o.classId, quantity: 0 });
      break;
    }
    case 'assets.Redeemed': {
      const r = p.redemption as unknown as { classId: string; account: string; quantity: number };
      add(r.account, r.classId, -r.quantity);
      inc(m.redeemed, r.classId, r.quantity);
      break;
    }
  }
}

describe('assets invariants under random operation sequences (devnet)', function () {
  this.timeout(600_000);
  let net: TestConsortium;
  let c: Record<'brand' | 'farm' | 'factory' | 'retail', TraceChainClient>;
  const wallets = Array.from({ length: 5 }, () => Wallet.generate());
  const CERTIFIED = 400;
  let startBlock = 0n;

  before(async () => {
    net = await startConsortium();
    c = net.clients;
    await c.brand.consortium.updateMember({ mspId: ORGS.brand, roles: ['operator', 'brand', 'auditor', 'issuer'] });
    await c.brand.consortium.updateMember({ mspId: ORGS.factory, roles: ['processor', 'logistics', 'exchange'] });
    await completeTeaLot(net.clients, 'inv-lot', 600);
    await c.brand.assets.proposeClass({ classId: 'inv', symbol: 'INV', kind: 'tea', taskId: 'inv-lot', unit: 'cake', certifiedQuantity: CERTIFIED, storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: '2026-10-06T00:00:00Z' }, confirmations: ['warehouse'], evidence: [hex64('1')] });
    await c.farm.assets.confirmClass({ classId: 'inv', role: 'warehouse' });
    const first = await c.factory.ledger.submit('assets:createCurrency', JSON.stringify({ classId: 'cash', symbol: 'CNY', unit: 'fen' }));
    startBlock = first.blockNumber;
    for (const w of wallets) await c.factory.assets.issue({ classId: 'cash', to: w.account, quantity: 50_000 });
  });

  after(async () => {
    await net?.close();
  });

  /** The model follows the events from the start; each check reads on from the previous marker. */
  const model: Model = { bal: new Map(), locks: new Map(), offers: new Map(), issued: new Map(), redeemed: new Map() };
  let checkpoint: { blockNumber: bigint; transactionId?: string } | undefined;

  async function checkInvariants(): Promise<void> {
    // A last transaction marks where this stretch of the event stream ends.
    const marker = await c.factory.ledger.submit('assets:issue', JSON.stringify({ classId: 'cash', to: wallets[0].account, quantity: 1 }));
    const stream = await c.brand.ledger.chaincodeEvents(checkpoint ?? { blockNumber: startBlock });
    for await (const ev of stream) {
      apply(model, ev.eventName, JSON.parse(Buffer.from(ev.payload).toString()));
      if (ev.transactionId === marker.transactionId) break;
    }
    stream.close();
    checkpoint = { blockNumber: marker.blockNumber, transactionId: marker.transactionId };
    const cls = await c.brand.assets.getClass('inv');
    const sum = (pred: (k: string) => boolean) => [...model.bal].filter(([k]) => pred(k)).reduce((n, [, v]) => n + v, 0);
    const held = sum((k) => k.endsWith('/inv'));
    const locked = [...model.locks.values()].filter((l) => l.classId === 'inv').reduce((n, l) => n + l.quantity, 0);
    const offered = [...model.offers.values()].filter((o) => o.classId === 'inv').reduce((n, o) => n + o.quantity, 0);
    expect(held + locked + offered + (model.redeemed.get('inv') ?? 0)).to.equal(model.issued.get('inv') ?? 0);
    expect([cls.issued, cls.redeemed]).to.deep.equal([model.issued.get('inv') ?? 0, model.redeemed.get('inv') ?? 0]);
    expect(cls.issued).to.be.at.most(CERTIFIED);
    expect(sum((k) => k.endsWith('/cash'))).to.equal(model.issued.get('cash'));
    for (const w of wallets) {
      const holdings = await allPages((p) => c.brand.assets.getHoldings(w.account, p), 1);
      for (const classId of ['inv', 'cash']) {
        expect(holdings.find((h) => h.classId === classId)?.amount ?? 0, `${classId} of ${w.account.slice(0, 8)}`).to.equal(model.bal.get(`${w.account}/${classId}`) ?? 0);
      }
    }
    // small pages, so the sums also check that paging neither drops nor repeats a row
    expect((await allPages((p) => c.brand.assets.listLocks('inv', p), 2)).reduce((n, l) => n + l.quantity, 0)).to.equal(locked);
    expect((await allPages((p) => c.brand.assets.listOffers('inv', 'open', p), 2)).reduce((n, o) => n + o.quantity, 0)).to.equal(offered);
  }

  for (const seed of [11, 22, 33]) {
    it(`seed ${seed}: 40 random sequences of 5 operations each keep balances + locked + offered + redeemed = issued ≤ certified`, async () => {
      const rnd = seededRandom(seed);
      const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
      const q = (max: number) => 1 + Math.floor(rnd() * max);
      const submitters = [c.brand, c.farm, c.factory, c.retail];
      const id = (p: string) => `${p}-${seed}-${Math.floor(rnd() * 1e9)}`;
      const pledges: { lockId: string; lender: Wallet }[] = [];
      const offers: { offerId: string; seller: Wallet }[] = [];
      const redemptions: string[] = [];
      const freezes: string[] = [];
      let ok = 0;
      const ops: (() => Promise<unknown>)[] = [
        () => c.brand.assets.issue({ classId: 'inv', to: pick(wallets).account, quantity: q(40) }),
        () => {
          const from = pick(wallets);
          return pick(submitters).assets.transfer(from.sign(c.brand.holderScope('assets:transfer'), { classId: 'inv', from: from.account, to: pick(wallets.filter((w) => w !== from)).account, quantity: q(30) }));
        },
        () => {
          const [w, lender] = [pick(wallets), pick(wallets)];
          const lockId = id('p');
          pledges.push({ lockId, lender });
          return pick(submitters).assets.lock(w.sign(c.brand.holderScope('assets:lock'), { lockId, classId: 'inv', account: w.account, lender: lender.account, quantity: q(20), kind: 'pledge' as const }));
        },
        () => {
          const p = pick(pledges.length ? pledges : [{ lockId: 'none', lender: wallets[0] }]);
          return pick(submitters).assets.unlock(p.lender.sign(c.brand.holderScope('assets:unlock'), { classId: 'inv', lockId: p.lockId, lender: p.lender.account }));
        },
        () => {
          const w = pick(wallets);
          const offerId = id('o');
          offers.push({ offerId, seller: w });
          return pick(submitters).assets.createOffer(w.sign(c.brand.holderScope('assets:createOffer'), { offerId, classId: 'inv', seller: w.account, quantity: q(25), price: q(3000), currencyClass: 'cash' }));
        },
        () => {
          const buyer = pick(wallets);
          return pick(submitters).assets.acceptOffer(buyer.sign(c.brand.holderScope('assets:acceptOffer'), { classId: 'inv', offerId: pick(offers.length ? offers : [{ offerId: 'none', seller: buyer }]).offerId, buyer: buyer.account, quantity: q(15) }));
        },
        () => {
          const o = pick(offers.length ? offers : [{ offerId: 'none', seller: wallets[0] }]);
          return pick(submitters).assets.cancelOffer(o.seller.sign(c.brand.holderScope('assets:cancelOffer'), { classId: 'inv', offerId: o.offerId, seller: o.seller.account }));
        },
        () => {
          const w = pick(wallets);
          const redemptionId = id('r');
          redemptions.push(redemptionId);
          return pick(submitters).assets.redeem(w.sign(c.brand.holderScope('assets:redeem'), { redemptionId, classId: 'inv', account: w.account, quantity: q(10) }));
        },
        () => c.farm.assets.confirmRedemption({ redemptionId: pick(redemptions.length ? redemptions : ['none']) }),
        () => {
          const lockId = id('f');
          freezes.push(lockId);
          return c.retail.assets.lock({ lockId, classId: 'inv', account: pick(wallets).account, quantity: q(10), kind: 'freeze' });
        },
        () => c.retail.assets.unlock({ classId: 'inv', lockId: pick(freezes.length ? freezes : ['none']) }),
      ];
      for (let sequence = 0; sequence < 40; sequence++) {
        for (let i = 0; i < 5; ) {
          // Mostly one at a time; now and then two at once, racing for the same balances.
          const batch = rnd() < 0.2 ? [pick(ops), pick(ops)] : [pick(ops)];
          const results = await Promise.allSettled(batch.map((op) => op()));
          for (const r of results) {
            if (r.status === 'fulfilled') ok++;
            else {
              const e = r.reason as LedgerError;
              expect(e, String(e)).to.be.instanceOf(LedgerError);
              expect(EXPECTED.has(e.code), `${e.code}: ${e.message}`).to.equal(true);
            }
          }
          i += batch.length;
        }
        await checkInvariants();
      }
      expect(ok, 'a fair share of the operations succeed').to.be.greaterThan(30);
    });
  }

  it('300 random sequences of two classes proposed over one lot, valued meanwhile, never certify more than the lot recorded', async () => {
    const SEQUENCES = 300;
    const RECORDED = 600;
    await withSeed('ASSETS_SEED', async (rnd) => {
      const q = () => 1 + Math.floor(rnd() * 6);
      await c.brand.consortium.updateMember({ mspId: ORGS.retail, roles: ['retailer', 'inspector', 'regulator', 'appraiser'] });
      await completeTeaLot(net.clients, 'cert-lot', RECORDED);
      /** the model: every class of the lot that committed, with its certified quantity */
      const certified = new Map<string, number>();
      let refusedForCapacity = 0;
      for (let i = 0; i < SEQUENCES; i++) {
        const proposals = [`cert-${i}-a`, `cert-${i}-b`].map((classId) => ({ classId, quantity: q() }));
        const valued = ['inv', ...certified.keys()][Math.floor(rnd() * (certified.size + 1))];
        const results = await Promise.allSettled([
          ...proposals.map((p) => c.brand.assets.proposeClass({ classId: p.classId, symbol: 'CERT', kind: 'tea', taskId: 'cert-lot', unit: 'cake', certifiedQuantity: p.quantity, storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: '2026-10-06T00:00:00Z' }, confirmations: ['warehouse'], evidence: [] })),
          c.retail.assets.setValuation({ classId: valued, pricePerUnit: q() * 100, currency: 'CNY', date: '2026-11-01' }),
        ]);
        proposals.forEach((p, k) => {
          const r = results[k];
          if (r.status === 'fulfilled') return void certified.set(p.classId, p.quantity);
          const e = r.reason as LedgerError;
          // Two proposals endorsed on the same lot total: the second to commit is an MVCC conflict.
          expect(e, String(e)).to.be.instanceOf(LedgerError);
          expect(['ERR_COMMIT', 'ERR_INSUFFICIENT'], `${e.code}: ${e.message}`).to.include(e.code);
          if (e.code === 'ERR_INSUFFICIENT') refusedForCapacity++;
        });
        expect(results[2].status, `valuation of ${valued}: ${String((results[2] as PromiseRejectedResult).reason)}`).to.equal('fulfilled');
        const lot = await c.farm.assets.getLotCertification('cert-lot');
        expect(lot.certified, `sequence ${i}`).to.be.at.most(RECORDED);
        expect(lot.classes, `sequence ${i}`).to.deep.equal([...certified.keys()]);
        expect(lot.certified, `sequence ${i}`).to.equal([...certified.values()].reduce((a, b) => a + b, 0));
      }
      let onLedger = 0;
      for (const classId of certified.keys()) onLedger += (await c.brand.assets.getClass(classId)).certifiedQuantity;
      expect(onLedger).to.equal((await c.brand.assets.getLotCertification('cert-lot')).certified);
      expect(refusedForCapacity, 'the lot filled up and further classes were refused').to.be.greaterThan(0);
      expect(RECORDED - onLedger, 'filled to within one proposal').to.be.below(6);
    });
  });
});
