import { expect } from 'chai';
import { allPages, LedgerError, TraceChainClient, Wallet } from '@trace/client';
import { testClock, withSeed } from '@trace/test-network';
import type { Role } from '../../src/model/consortium';
import { AssetModel, AssetOp, Outcome, outcomeOf, settleRace } from '../unit/asset-model';
import { completeTeaLot, hex64, OrgName, ORGS, startConsortium, TEA_WAREHOUSING_HOURS, TestConsortium, WAREHOUSE_GLN } from './consortium';

const clock = testClock();

/** Each member's roles, set on chain in `before` and given to the model as they are; the outsider org is no member. */
const ROLES: Record<string, Role[]> = {
  [ORGS.brand]: ['operator', 'brand', 'auditor', 'issuer'],
  [ORGS.farm]: ['producer', 'warehouse'],
  // a second regulator and a second warehouse, so "the regulator that set it" and "the warehouse storing the goods" are tested
  [ORGS.factory]: ['processor', 'logistics', 'exchange', 'regulator', 'warehouse'],
  [ORGS.retail]: ['retailer', 'inspector', 'regulator', 'appraiser'],
};

/** What a submitted operation came to: 'ok' or the error code, with the chain's message. */
async function outcome(tx: Promise<unknown>): Promise<{ outcome: Outcome; message: string }> {
  try {
    await tx;
    return { outcome: 'ok', message: '' };
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    return { outcome: e.code, message: e.message };
  }
}

const show = (op: AssetOp) => JSON.stringify(op, (_, v: unknown) => (typeof v === 'string' && v.length === 64 ? `${v.slice(0, 8)}…` : v));

describe('assets invariants under random operation sequences (devnet)', function () {
  this.timeout(600_000);
  let net: TestConsortium;
  let c: TestConsortium['clients'];
  const CERTIFIED = 200;

  before(async () => {
    net = await startConsortium();
    c = net.clients;
    for (const [mspId, roles] of Object.entries(ROLES)) await c.brand.consortium.updateMember({ mspId, roles });
    // room for the three runs' classes and the valued class of the certification test
    await completeTeaLot(net.clients, 'inv-lot', clock, 3 * CERTIFIED + 50);
  });

  after(async () => {
    await net?.close();
  });

  /** An active tea class over inv-lot, stored by the farm. */
  async function activateClass(classId: string, certifiedQuantity: number): Promise<void> {
    await c.brand.assets.proposeClass({ classId, symbol: 'INV', kind: 'tea', taskId: 'inv-lot', unit: 'cake', certifiedQuantity, storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: clock.at(TEA_WAREHOUSING_HOURS) }, confirmations: ['warehouse'], evidence: [hex64('1')] });
    await c.farm.assets.confirmClass({ classId, role: 'warehouse' });
  }

  for (const run of [1, 2, 3]) {
    it(`run ${run}: 40 random sequences of 5 operations, each judged by an independent model before it is submitted, leave the chain equal to the model`, () =>
      withSeed('ASSETS_SEED', async (rnd) => {
        // Each run has its own class, currency and holders, so the model starts from a known empty state.
        const classId = `inv-${run}`;
        const cash = `cash-${run}`;
        await activateClass(classId, CERTIFIED);
        await c.factory.assets.createCurrency({ classId: cash, symbol: 'CNY', unit: 'fen' });
        let model = new AssetModel(ROLES, [
          { classId, kind: 'tea', certified: CERTIFIED, warehouse: ORGS.farm },
          { classId: cash, kind: 'currency', certified: Number.MAX_SAFE_INTEGER, issuerMsp: ORGS.factory },
        ]);
        const wallets = new Map(Array.from({ length: 5 }, () => Wallet.generate()).map((w) => [w.account, w]));
        const accounts = [...wallets.keys()];
        const client = new Map<string, TraceChainClient>((Object.keys(ORGS) as OrgName[]).map((name) => [ORGS[name], c[name]]));

        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
        const q = (max: number) => 1 + Math.floor(rnd() * max);
        /** the org submitting a holder-signed request: any member, now and then an org outside the consortium */
        const anyOrg = () => (rnd() < 0.05 ? ORGS.outsider : pick(Object.keys(ROLES)));
        const others = (account: string) => accounts.filter((a) => a !== account);
        let serial = 0;
        const nextId = (prefix: string) => `${classId}-${prefix}${serial++}`;
        /** every id an operation named, whether or not it was created */
        const named = { pledges: [] as { lockId: string; lender: string }[], freezes: [] as { lockId: string; regulator: string }[], offers: [] as { offerId: string; seller: string }[], redemptions: [] as string[] };
        /** Mostly an object the model holds (so most operations on one can succeed), else any id named before, else one never named. */
        const target = <T>(live: T[], ids: T[], never: T): T => (live.length && rnd() < 0.8 ? pick(live) : ids.length ? pick(ids) : never);
        const pledge = () => target(model.locks(classId).filter((l) => l.kind === 'pledge') as { lockId: string; lender: string }[], named.pledges, { lockId: 'none', lender: accounts[0] });
        const freeze = () => target(model.locks(classId).filter((l) => l.kind === 'freeze') as { lockId: string; regulator: string }[], named.freezes, { lockId: 'none', regulator: ORGS.retail });
        const offer = () => target(model.offers(classId), named.offers, { offerId: 'none', seller: accounts[0] });
        const redemption = () => target(model.redemptions(classId).filter((r) => r.status === 'open').map((r) => r.redemptionId), named.redemptions, 'none');

        /** Random operations: mostly legitimate, some by the wrong org or account or beyond a balance. */
        const generators: (() => AssetOp)[] = [
          () => ({ type: 'issue', org: rnd() < 0.85 ? ORGS.brand : pick([ORGS.farm, ORGS.factory]), classId, to: pick(accounts), quantity: q(40) }),
          () => {
            const from = pick(accounts);
            return { type: 'transfer', org: anyOrg(), classId, from, to: rnd() < 0.9 ? pick(others(from)) : from, quantity: q(30) };
          },
          () => {
            const from = pick(accounts);
            return { type: 'transfer', org: anyOrg(), classId: cash, from, to: pick(others(from)), quantity: q(30_000) };
          },
          () => {
            const op = { type: 'pledge' as const, org: anyOrg(), classId, lockId: nextId('p'), account: pick(accounts), lender: pick(accounts), quantity: q(20) };
            named.pledges.push(op);
            return op;
          },
          () => {
            const p = pledge();
            return { type: 'unlock', org: anyOrg(), classId, lockId: p.lockId, lender: rnd() < 0.8 ? p.lender : pick(accounts) };
          },
          () => {
            const op = { type: 'freeze' as const, org: pick([ORGS.retail, ORGS.retail, ORGS.factory, ORGS.brand]), classId, lockId: nextId('f'), account: pick(accounts), quantity: q(10) };
            named.freezes.push({ lockId: op.lockId, regulator: op.org });
            return op;
          },
          () => {
            const f = freeze();
            return { type: 'unlock', org: rnd() < 0.8 ? f.regulator : pick([ORGS.retail, ORGS.factory, ORGS.farm]), classId, lockId: f.lockId };
          },
          () => {
            const op = { type: 'createOffer' as const, org: anyOrg(), classId, offerId: nextId('o'), seller: pick(accounts), quantity: q(25), price: Math.floor(rnd() * 3001), currencyClass: rnd() < 0.95 ? cash : classId };
            named.offers.push(op);
            return op;
          },
          () => ({ type: 'acceptOffer', org: anyOrg(), classId, offerId: offer().offerId, buyer: pick(accounts), quantity: q(15) }),
          () => {
            const o = offer();
            return { type: 'cancelOffer', org: anyOrg(), classId, offerId: o.offerId, seller: rnd() < 0.85 ? o.seller : pick(accounts) };
          },
          () => {
            const redemptionId = nextId('r');
            named.redemptions.push(redemptionId);
            return { type: 'redeem', org: anyOrg(), classId, redemptionId, account: pick(accounts), quantity: q(10) };
          },
          () => ({ type: 'confirmRedemption', org: pick([ORGS.farm, ORGS.farm, ORGS.farm, ORGS.factory, ORGS.retail]), redemptionId: redemption() }),
        ];

        /** Submits op as its org, signed by the holder account it names where the rules ask for a holder signature. */
        function submit(op: AssetOp): Promise<unknown> {
          const via = client.get(op.org)!;
          const signed = <T extends object>(account: string, dto: T) => wallets.get(account)!.sign(via.holderScope(`assets:${op.type === 'pledge' ? 'lock' : op.type}`), dto);
          switch (op.type) {
            case 'issue':
              return via.assets.issue({ classId: op.classId, to: op.to, quantity: op.quantity });
            case 'transfer':
              return via.assets.transfer(signed(op.from, { classId: op.classId, from: op.from, to: op.to, quantity: op.quantity }));
            case 'pledge':
              return via.assets.lock(signed(op.account, { lockId: op.lockId, classId: op.classId, account: op.account, lender: op.lender, quantity: op.quantity, kind: 'pledge' as const }));
            case 'freeze':
              return via.assets.lock({ lockId: op.lockId, classId: op.classId, account: op.account, quantity: op.quantity, kind: 'freeze' });
            case 'unlock':
              return via.assets.unlock(op.lender ? signed(op.lender, { classId: op.classId, lockId: op.lockId, lender: op.lender }) : { classId: op.classId, lockId: op.lockId });
            case 'createOffer':
              return via.assets.createOffer(signed(op.seller, { offerId: op.offerId, classId: op.classId, seller: op.seller, quantity: op.quantity, price: op.price, currencyClass: op.currencyClass }));
            case 'acceptOffer':
              return via.assets.acceptOffer(signed(op.buyer, { classId: op.classId, offerId: op.offerId, buyer: op.buyer, quantity: op.quantity }));
            case 'cancelOffer':
              return via.assets.cancelOffer(signed(op.seller, { classId: op.classId, offerId: op.offerId, seller: op.seller }));
            case 'redeem':
              return via.assets.redeem(signed(op.account, { redemptionId: op.redemptionId, classId: op.classId, account: op.account, quantity: op.quantity }));
            case 'confirmRedemption':
              return via.assets.confirmRedemption({ redemptionId: op.redemptionId });
          }
        }

        /**
         * The chain holds what the model holds: every holder's balances, the class's locks and open
         * offers, both classes' supply totals; and the supply invariant holds on what the chain answers.
         */
        async function expectChainEqualsModel(where: string, holdingsPage = 100, listPage = 100): Promise<void> {
          const held = { [classId]: 0, [cash]: 0 };
          for (const account of accounts) {
            const holdings = await allPages((p) => c.brand.assets.getHoldings(account, p), holdingsPage);
            expect(Object.fromEntries(holdings.map((h) => [h.classId, h.amount])), `${where}: holdings of ${account.slice(0, 8)}`).to.deep.equal(model.holdings(account));
            for (const h of holdings) held[h.classId] += h.amount;
          }
          const locks = await allPages((p) => c.brand.assets.listLocks(classId, p), listPage);
          const lockRow = (l: { lockId: string; account: string; quantity: number; kind: string; lender?: string; regulator?: string }) => `${l.lockId} ${l.kind} of ${l.quantity} from ${l.account.slice(0, 8)} for ${(l.lender ?? l.regulator ?? '').slice(0, 8)}`;
          expect(locks.map(lockRow).sort(), `${where}: locks`).to.deep.equal(model.locks(classId).map(lockRow).sort());
          const offers = await allPages((p) => c.brand.assets.listOffers(classId, 'open', p), listPage);
          const offerRow = (o: { offerId: string; seller: string; quantity: number; price: number; currencyClass: string }) => `${o.offerId} ${o.quantity} by ${o.seller.slice(0, 8)} at ${o.price} ${o.currencyClass}`;
          expect(offers.map(offerRow).sort(), `${where}: open offers`).to.deep.equal(model.offers(classId).map(offerRow).sort());
          const [cls, currency] = await Promise.all([c.brand.assets.getClass(classId), c.brand.assets.getClass(cash)]);
          expect({ issued: cls.issued, redeemed: cls.redeemed, reserve: cls.reserve }, `${where}: ${classId} totals`).to.deep.equal(model.totals(classId));
          expect(currency.issued, `${where}: ${cash} issued`).to.equal(model.totals(cash).issued);
          const sum = (xs: { quantity: number }[]) => xs.reduce((n, x) => n + x.quantity, 0);
          expect(held[classId] + sum(locks) + sum(offers) + cls.redeemed, `${where}: Σ balances + locks + open offers + redeemed = issued`).to.equal(cls.issued);
          expect(cls.issued, `${where}: issued ≤ certified`).to.be.at.most(cls.certifiedQuantity);
          expect(held[cash], `${where}: ${cash} held = issued`).to.equal(currency.issued);
          expect(model.supplyHolds(classId) && model.supplyHolds(cash), `${where}: the model's own supply`).to.equal(true);
        }

        /** Sequential: the chain's outcome is exactly the model's verdict; a refusal changed nothing. */
        async function step(op: AssetOp, where: string): Promise<Outcome> {
          const verdict = model.decide(op);
          const got = await outcome(submit(op));
          expect(got.outcome, `${where} ${show(op)}: the rules say ${verdict.ok ? 'ok' : `${verdict.code} (${verdict.why})`}; the chain: ${got.message || 'ok'}`).to.equal(outcomeOf(verdict));
          if (verdict.ok) model.apply(op);
          else await expectChainEqualsModel(`after the refused ${where} ${op.type}`);
          return got.outcome;
        }

        /**
         * Two at once, racing for the same balances: settleRace finds an order of the two in which each
         * outcome is the model's verdict on the state the other left, or lost the MVCC race (ERR_COMMIT,
         * nothing written), and the model takes the successful ones' effects in that order.
         */
        async function race(pair: [AssetOp, AssetOp], where: string): Promise<Outcome[]> {
          const got = await Promise.all(pair.map((op) => outcome(submit(op))));
          const settled = settleRace(model, pair, [got[0].outcome, got[1].outcome]);
          const says = pair.map((op, i) => `${show(op)} → ${got[i].outcome} ${got[i].message}`).join('; ');
          expect(settled, `${where}: no order of the pair explains ${says}`).to.not.equal(undefined);
          model = settled!;
          await expectChainEqualsModel(`after the pair ${where}`);
          return got.map((g) => g.outcome);
        }

        const outcomes: Outcome[] = [];
        for (const account of accounts) outcomes.push(await step({ type: 'issue', org: ORGS.factory, classId: cash, to: account, quantity: 50_000 }, 'funding'));
        for (let sequence = 0; sequence < 40; sequence++) {
          for (let i = 0; i < 5; ) {
            const where = `sequence ${sequence} op ${i}`;
            if (rnd() < 0.2) {
              outcomes.push(...(await race([pick(generators)(), pick(generators)()], where)));
              i += 2;
            } else {
              outcomes.push(await step(pick(generators)(), where));
              i += 1;
            }
          }
          // small pages, so the comparison also checks that paging neither drops nor repeats a row
          await expectChainEqualsModel(`after sequence ${sequence}`, 1, 2);
        }
        const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
        expect(count('ok'), 'a fair share of the operations succeed').to.be.greaterThan(40);
        expect(outcomes.length - count('ok') - count('ERR_COMMIT'), 'and the rules refuse some').to.be.greaterThan(20);
      }));
  }

  it('300 random sequences of two classes proposed over one lot, valued meanwhile, never certify more than the lot recorded', async () => {
    const SEQUENCES = 300;
    const RECORDED = 600;
    await withSeed('ASSETS_SEED', async (rnd) => {
      const q = () => 1 + Math.floor(rnd() * 6);
      await activateClass('valued', 10);
      await completeTeaLot(net.clients, 'cert-lot', clock, RECORDED);
      /** the model: every class of the lot that committed, with its certified quantity */
      const certified = new Map<string, number>();
      let refusedForCapacity = 0;
      for (let i = 0; i < SEQUENCES; i++) {
        const proposals = [`cert-${i}-a`, `cert-${i}-b`].map((classId) => ({ classId, quantity: q() }));
        const valued = ['valued', ...certified.keys()][Math.floor(rnd() * (certified.size + 1))];
        const results = await Promise.allSettled([
          ...proposals.map((p) => c.brand.assets.proposeClass({ classId: p.classId, symbol: 'CERT', kind: 'tea', taskId: 'cert-lot', unit: 'cake', certifiedQuantity: p.quantity, storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: clock.at(TEA_WAREHOUSING_HOURS) }, confirmations: ['warehouse'], evidence: [] })),
          c.retail.assets.setValuation({ classId: valued, pricePerUnit: q() * 100, currency: 'CNY', date: clock.day(744) }),
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
