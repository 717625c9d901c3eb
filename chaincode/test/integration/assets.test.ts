import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LedgerError, TraceChainClient, Wallet } from '@trace/client';
import { tea } from '@trace/contract-templates';
import { testClock } from '@trace/test-network';
import { completeTeaLot, hex64, ORGS, rejectsWith, startConsortium, TEA_ASSIGNMENTS, TEA_WAREHOUSING_HOURS, TestConsortium, WAREHOUSE_GLN } from './consortium';

const clock = testClock();

const CLASS = 'jm2026';

describe('assets: 茶花 backed by a traced lot (devnet)', function () {
  this.timeout(300_000);
  let net: TestConsortium;
  let brand: TraceChainClient;
  let farm: TraceChainClient;
  let factory: TraceChainClient;
  let retail: TraceChainClient;
  const alice = Wallet.generate();
  const bob = Wallet.generate();
  const lender = Wallet.generate();

  const propose = (over: Record<string, unknown> = {}, by = brand) =>
    by.assets.proposeClass({
      classId: CLASS,
      symbol: 'JMTEA',
      kind: 'tea',
      taskId: 'lot-1',
      unit: 'cake',
      certifiedQuantity: 500,
      storage: { warehouse: ORGS.farm, location: WAREHOUSE_GLN, since: clock.at(TEA_WAREHOUSING_HOURS) },
      confirmations: ['warehouse', 'inspector'],
      evidence: [hex64('9')],
      ...over,
    });
  const balance = async (w: Wallet, classId: string) => (await brand.assets.getBalance(classId, w.account)).amount;

  // Each test makes its own lot, class and currency: none reads balances, offers or locks an earlier test left.
  let made = 0;
  /** A complete, audited tea lot of 600 cakes, the test's own. */
  const ownLot = async () => {
    const taskId = `lot-own-${++made}`;
    await completeTeaLot(net.clients, taskId, clock, 600);
    return taskId;
  };
  /** An active class certifying 500 cakes of a lot of its own, with units issued to each wallet given. */
  const ownClass = async (holdings: [Wallet, number][] = []) => {
    const taskId = await ownLot();
    const classId = `jm-${made}`;
    await propose({ classId, symbol: `JM${made}`, taskId });
    await farm.assets.confirmClass({ classId, role: 'warehouse' });
    await retail.assets.confirmClass({ classId, role: 'inspector' });
    for (const [w, quantity] of holdings) await brand.assets.issue({ classId, to: w.account, quantity });
    return classId;
  };
  /** A currency of the test's own, created by the exchange, with fen issued to each wallet given. */
  const ownCurrency = async (holdings: [Wallet, number][] = []) => {
    const classId = `cny-${++made}`;
    await factory.assets.createCurrency({ classId, symbol: 'CNY', unit: 'fen' });
    for (const [w, quantity] of holdings) await factory.assets.issue({ classId, to: w.account, quantity });
    return classId;
  };

  before(async () => {
    net = await startConsortium();
    ({ brand, farm, factory, retail } = net.clients);
    await brand.consortium.updateMember({ mspId: ORGS.brand, roles: ['operator', 'brand', 'auditor', 'issuer'] });
    await brand.consortium.updateMember({ mspId: ORGS.factory, roles: ['processor', 'logistics', 'exchange'] });
    await brand.consortium.updateMember({ mspId: ORGS.retail, roles: ['retailer', 'inspector', 'regulator', 'appraiser'] });
    await brand.trace.createTask({ taskId: 'lot-open', template: 'puer_tea', version: 1, product: { gtin: '06901234567892', name: 't' }, lot: 'open', plannedQuantity: 1, unit: 'cake', assignments: TEA_ASSIGNMENTS });
    await completeTeaLot(net.clients, 'lot-1', clock, 600);
  });

  after(async () => {
    await net?.close();
  });

  describe('class lifecycle', () => {
    it('refuses a lot that is not complete and audited, and a quantity above the recorded one', async () => {
      await rejectsWith(propose({ taskId: 'lot-open' }), 'ERR_STATE', /not complete and audited/);
      await rejectsWith(propose({ certifiedQuantity: 601 }), 'ERR_INSUFFICIENT', /exceed the recorded tea_warehousing.tea_stored_cakes of 600/);
      await rejectsWith(propose({ storage: { warehouse: ORGS.factory, location: WAREHOUSE_GLN, since: clock.at(TEA_WAREHOUSING_HOURS) } }), 'ERR_VALIDATION', /not an active warehouse member/);
      await rejectsWith(propose({}, farm), 'ERR_FORBIDDEN');
      // The template names the item that counts the lot, a plain numeric one; the proposer cannot pick another.
      await rejectsWith(brand.process.defineTemplate({ ...tea.template, id: 'puer_tea_by_garden', assetQuantity: 'tea_plantation.tea_garden' }), 'ERR_VALIDATION', /assetQuantity tea_plantation.tea_garden is not a plain numeric item/);
      await rejectsWith(brand.process.getTemplate('puer_tea_by_garden', 1), 'ERR_NOT_FOUND');
      await rejectsWith(propose({ quantityRef: 'tea_picking.tea_fresh_leaf_kg' }), 'ERR_VALIDATION', /quantityRef/);
      await rejectsWith(brand.assets.getClass(CLASS), 'ERR_NOT_FOUND');
      await rejectsWith(brand.assets.getLotCertification('lot-1'), 'ERR_NOT_FOUND');
    });

    it('activates after each required role confirms once, by a member holding it', async () => {
      const taskId = await ownLot();
      const classId = `jm-${made}`;
      expect((await propose({ classId, taskId })).status).to.equal('proposed');
      await rejectsWith(brand.assets.issue({ classId, to: alice.account, quantity: 1 }), 'ERR_STATE', /not active/);
      await rejectsWith(factory.assets.confirmClass({ classId, role: 'warehouse' }), 'ERR_FORBIDDEN');
      await rejectsWith(retail.assets.confirmClass({ classId, role: 'regulator' }), 'ERR_VALIDATION', /does not ask/);
      // A warehouse that does not store the goods, and the proposer itself, cannot confirm.
      await brand.consortium.updateMember({ mspId: ORGS.factory, roles: ['processor', 'logistics', 'exchange', 'warehouse'] });
      await rejectsWith(factory.assets.confirmClass({ classId, role: 'warehouse' }), 'ERR_FORBIDDEN', /stored by/);
      await brand.consortium.updateMember({ mspId: ORGS.brand, roles: ['operator', 'brand', 'auditor', 'issuer', 'inspector'] });
      await rejectsWith(brand.assets.confirmClass({ classId, role: 'inspector' }), 'ERR_FORBIDDEN', /proposed/);
      expect((await brand.assets.getClass(classId)).confirmations).to.deep.equal({});
      await brand.consortium.updateMember({ mspId: ORGS.factory, roles: ['processor', 'logistics', 'exchange'] });
      await brand.consortium.updateMember({ mspId: ORGS.brand, roles: ['operator', 'brand', 'auditor', 'issuer'] });
      expect((await farm.assets.confirmClass({ classId, role: 'warehouse' })).status).to.equal('proposed');
      await rejectsWith(farm.assets.confirmClass({ classId, role: 'warehouse' }), 'ERR_CONFLICT');
      // One org gives one confirmation, whatever roles it holds.
      await brand.consortium.updateMember({ mspId: ORGS.farm, roles: ['producer', 'warehouse', 'inspector'] });
      await rejectsWith(farm.assets.confirmClass({ classId, role: 'inspector' }), 'ERR_FORBIDDEN', /already confirmed/);
      await brand.consortium.updateMember({ mspId: ORGS.farm, roles: ['producer', 'warehouse'] });
      expect(Object.keys((await brand.assets.getClass(classId)).confirmations)).to.deep.equal(['warehouse']);
      const active = await retail.assets.confirmClass({ classId, role: 'inspector' });
      expect(active.status).to.equal('active');
      expect(Object.keys(active.confirmations)).to.have.members(['warehouse', 'inspector']);
    });

    it('lets one lot back at most its recorded quantity, summed over all its classes', async () => {
      const taskId = await ownLot();
      const [first, second] = [`jm-${made}`, `jm-${made}b`];
      await propose({ classId: first, taskId });
      const other = (over: Record<string, unknown>) => propose({ classId: second, symbol: 'JMTEAB', taskId, ...over });
      const before = await brand.assets.getLotCertification(taskId);
      expect(before).to.deep.equal({ taskId, quantityRef: 'tea_warehousing.tea_stored_cakes', recorded: 600, certified: 500, classes: [first] });
      await rejectsWith(other({ certifiedQuantity: 101 }), 'ERR_INSUFFICIENT', /already certified 500 in 1 classes/);
      await rejectsWith(other({ certifiedQuantity: 100, quantityRef: 'tea_packing.tea_cakes' }), 'ERR_VALIDATION', /quantityRef/);
      expect(await brand.assets.getLotCertification(taskId)).to.deep.equal(before);
      await rejectsWith(brand.assets.getClass(second), 'ERR_NOT_FOUND');
      expect((await other({ certifiedQuantity: 100 })).certifiedQuantity).to.equal(100);
      expect(await brand.assets.getLotCertification(taskId)).to.deep.include({ certified: 600, classes: [first, second] });
      await rejectsWith(propose({ classId: `jm-${made}c`, symbol: 'JMTEAC', taskId, certifiedQuantity: 1 }), 'ERR_INSUFFICIENT', /already certified 600/);
    });

    it('issues only by an issuer, never beyond the certified quantity', async () => {
      const classId = await ownClass();
      await rejectsWith(farm.assets.issue({ classId, to: alice.account, quantity: 10 }), 'ERR_FORBIDDEN');
      await brand.assets.issue({ classId, to: alice.account, quantity: 300 });
      await rejectsWith(brand.assets.issue({ classId, to: bob.account, quantity: 201 }), 'ERR_INSUFFICIENT', /certified 500/);
      expect((await brand.assets.getClass(classId)).issued).to.equal(300);
      expect(await balance(bob, classId)).to.equal(0);
    });
  });

  describe('holder authority', () => {
    it('moves units with the holder’s signature', async () => {
      const classId = await ownClass([[alice, 300]]);
      await farm.assets.transfer(alice.sign(farm.holderScope('assets:transfer'), { classId, from: alice.account, to: bob.account, quantity: 20 }));
      expect([await balance(alice, classId), await balance(bob, classId)]).to.deep.equal([280, 20]);
    });

    it('rejects a forged signature, a replayed nonce, an expired request and an overdraft, moving nothing', async () => {
      const classId = await ownClass([[alice, 280], [bob, 20]]);
      const forged = bob.sign(brand.holderScope('assets:transfer'), { classId, from: alice.account, to: bob.account, quantity: 5 });
      await rejectsWith(farm.assets.transfer(forged), 'ERR_SIGNATURE', /does not belong/);
      const tampered = { ...alice.sign(brand.holderScope('assets:transfer'), { classId, from: alice.account, to: bob.account, quantity: 1 }), quantity: 100 };
      await rejectsWith(farm.assets.transfer(tampered), 'ERR_SIGNATURE', /does not verify/);
      const once = alice.sign(brand.holderScope('assets:transfer'), { classId, from: alice.account, to: bob.account, quantity: 1 });
      await factory.assets.transfer(once);
      await rejectsWith(retail.assets.transfer(once), 'ERR_REPLAY');
      const expired = alice.sign(brand.holderScope('assets:transfer'), { classId, from: alice.account, to: bob.account, quantity: 1 }, 60_000, Date.now() - 3_600_000);
      await rejectsWith(farm.assets.transfer(expired), 'ERR_SIGNATURE', /expired/);
      await rejectsWith(farm.assets.transfer(bob.sign(farm.holderScope('assets:transfer'), { classId, from: bob.account, to: alice.account, quantity: 22 })), 'ERR_INSUFFICIENT');
      expect([await balance(alice, classId), await balance(bob, classId)]).to.deep.equal([279, 21]);
    });

    it('binds a signature to its channel, chaincode and transaction, within a five-minute window', async () => {
      const classId = await ownClass([[alice, 280], [bob, 20]]);
      const scope = farm.holderScope('assets:transfer');
      const request = { classId, from: alice.account, to: bob.account, quantity: 1 };
      const before = [await balance(alice, classId), await balance(bob, classId)];
      for (const elsewhere of [{ ...scope, channel: 'otherchannel' }, { ...scope, chaincode: 'trace-copy' }, farm.holderScope('assets:redeem')]) {
        await rejectsWith(farm.assets.transfer(alice.sign(elsewhere, request)), 'ERR_SIGNATURE', /does not verify for assets:transfer/);
      }
      await rejectsWith(farm.assets.transfer(alice.sign(scope, request, 10 * 60_000)), 'ERR_SIGNATURE', /more than 5 minutes/);
      await rejectsWith(farm.assets.transfer(alice.sign(scope, request, 60_000, Date.now() + 3_600_000)), 'ERR_SIGNATURE', /ahead of the transaction time/);
      const signed = alice.sign(scope, request);
      const stretched = { ...signed, expiresAt: new Date(Date.parse(signed.expiresAt) + 3_600_000).toISOString() };
      await rejectsWith(retail.assets.transfer(stretched), 'ERR_SIGNATURE', /does not verify/);
      expect([await balance(alice, classId), await balance(bob, classId)]).to.deep.equal(before);
      await retail.assets.transfer(signed);
      await farm.assets.transfer(bob.sign(scope, { classId, from: bob.account, to: alice.account, quantity: 1 }));
      expect([await balance(alice, classId), await balance(bob, classId)]).to.deep.equal(before);
    });

    it('keeps transfers valid while issuance and valuation commit on the class at the same time', async () => {
      const classId = await ownClass([[alice, 280], [bob, 20]]);
      const scope = farm.holderScope('assets:transfer');
      const [carol, dave] = [Wallet.generate(), Wallet.generate()];
      await brand.assets.issue({ classId, to: carol.account, quantity: 4 });
      for (let round = 0; round < 4; round++) {
        // Disjoint balances: the transfers conflict with nothing but the class they all touch.
        const [from, to] = round % 2 === 0 ? [alice, bob] : [bob, alice];
        const results = await Promise.allSettled([
          farm.assets.transfer(from.sign(scope, { classId, from: from.account, to: to.account, quantity: 1 })),
          brand.assets.issue({ classId, to: lender.account, quantity: 1 }),
          retail.assets.setValuation({ classId, pricePerUnit: 800 + round, currency: 'CNY', date: clock.day(720) }),
          factory.assets.transfer(carol.sign(scope, { classId, from: carol.account, to: dave.account, quantity: 1 })),
        ]);
        expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason)))).to.deep.equal(['ok', 'ok', 'ok', 'ok']);
      }
      expect([await balance(lender, classId), await balance(dave, classId)]).to.deep.equal([4, 4]);
    });

    it('lets exactly one of two concurrent transfers that together overdraw commit', async () => {
      // 304 units, 21 of them bob's: two transfers of 15 overdraw him
      const classId = await ownClass([[alice, 283], [bob, 21]]);
      const results = await Promise.allSettled([
        farm.assets.transfer(bob.sign(farm.holderScope('assets:transfer'), { classId, from: bob.account, to: alice.account, quantity: 15 })),
        factory.assets.transfer(bob.sign(factory.holderScope('assets:transfer'), { classId, from: bob.account, to: lender.account, quantity: 15 })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      const failure = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as LedgerError;
      expect(failure).to.be.instanceOf(LedgerError);
      // Endorsed on the same balance, the second is refused at commit; endorsed after the first committed, it is refused at endorsement.
      expect(JSON.stringify([failure.code, failure.details.validationCode])).to.be.oneOf([JSON.stringify(['ERR_COMMIT', 'MVCC_READ_CONFLICT']), JSON.stringify(['ERR_INSUFFICIENT', undefined])]);
      expect((await balance(bob, classId)) + (await balance(alice, classId)) + (await balance(lender, classId))).to.equal(304);
      expect(await balance(bob, classId)).to.equal(6);
    });
  });

  describe('locks, trading and redemption', () => {
    it('pledges to a lender, whose signature alone releases; a regulator freezes and unfreezes', async () => {
      const classId = await ownClass([[alice, 300]]);
      const before = await balance(alice, classId);
      await rejectsWith(farm.assets.lock({ lockId: 'loan-0', classId, account: alice.account, lender: lender.account, quantity: 50, kind: 'pledge' }), 'ERR_SIGNATURE', /needs the holder signature/);
      await farm.assets.lock(alice.sign(farm.holderScope('assets:lock'), { lockId: 'loan-1', classId, account: alice.account, lender: lender.account, quantity: 50, kind: 'pledge' as const }));
      expect(await balance(alice, classId)).to.equal(before - 50);
      await rejectsWith(farm.assets.transfer(alice.sign(farm.holderScope('assets:transfer'), { classId, from: alice.account, to: bob.account, quantity: before - 49 })), 'ERR_INSUFFICIENT');
      await rejectsWith(farm.assets.unlock(alice.sign(farm.holderScope('assets:unlock'), { classId, lockId: 'loan-1', lender: alice.account })), 'ERR_FORBIDDEN');
      await rejectsWith(retail.assets.unlock({ classId, lockId: 'loan-1' }), 'ERR_FORBIDDEN', /pledge/);
      await rejectsWith(farm.assets.unlock(bob.sign(farm.holderScope('assets:unlock'), { classId, lockId: 'loan-1', lender: lender.account })), 'ERR_SIGNATURE');
      expect(((await brand.assets.listLocks(classId)).items).map((l) => l.lockId)).to.deep.equal(['loan-1']);
      await farm.assets.unlock(lender.sign(farm.holderScope('assets:unlock'), { classId, lockId: 'loan-1', lender: lender.account }));
      expect(await balance(alice, classId)).to.equal(before);

      await rejectsWith(brand.assets.lock({ lockId: 'court-1', classId, account: alice.account, quantity: 10, kind: 'freeze' }), 'ERR_FORBIDDEN');
      await retail.assets.lock({ lockId: 'court-1', classId, account: alice.account, quantity: 10, kind: 'freeze' });
      expect(((await brand.assets.listLocks(classId)).items).map((l) => [l.lockId, l.kind])).to.deep.equal([['court-1', 'freeze']]);
      await rejectsWith(brand.assets.unlock({ classId, lockId: 'court-1' }), 'ERR_FORBIDDEN', /regulator/);
      await brand.consortium.addMember({ mspId: ORGS.outsider, name: 'Another regulator', roles: ['regulator'] });
      await rejectsWith(net.clients.outsider.assets.unlock({ classId, lockId: 'court-1' }), 'ERR_FORBIDDEN', /only that regulator/);
      expect(((await brand.assets.listLocks(classId)).items).map((l) => [l.lockId, l.regulator])).to.deep.equal([['court-1', ORGS.retail]]);
      await rejectsWith(farm.assets.transfer(alice.sign(farm.holderScope('assets:transfer'), { classId, from: alice.account, to: bob.account, quantity: before - 9 })), 'ERR_INSUFFICIENT');
      await retail.assets.unlock({ classId, lockId: 'court-1' });
      expect(await balance(alice, classId)).to.equal(before);
    });

    it('settles delivery versus payment with partial fills, both legs or neither, and cancels', async () => {
      const classId = await ownClass([[alice, 300]]);
      const CNY = 'cny-dvp';
      await rejectsWith(brand.assets.createCurrency({ classId: CNY, symbol: 'CNY', unit: 'fen' }), 'ERR_FORBIDDEN');
      await factory.assets.createCurrency({ classId: CNY, symbol: 'CNY', unit: 'fen' });
      await factory.assets.issue({ classId: CNY, to: bob.account, quantity: 100_000 });
      await rejectsWith(brand.assets.issue({ classId: CNY, to: bob.account, quantity: 1 }), 'ERR_FORBIDDEN');
      const a0 = await balance(alice, classId);
      await farm.assets.createOffer(alice.sign(farm.holderScope('assets:createOffer'), { offerId: 'o1', classId, seller: alice.account, quantity: 100, price: 800, currencyClass: CNY }));
      expect(await balance(alice, classId)).to.equal(a0 - 100);
      const fill = await retail.assets.acceptOffer(bob.sign(retail.holderScope('assets:acceptOffer'), { classId, offerId: 'o1', buyer: bob.account, quantity: 40 }));
      expect(fill).to.deep.include({ quantity: 40, cost: 32_000, left: 60 });
      expect([await balance(bob, CNY), await balance(alice, CNY)]).to.deep.equal([68_000, 32_000]);
      // The lender holds no CNY: neither leg moves.
      const l0 = await balance(lender, classId);
      await rejectsWith(retail.assets.acceptOffer(lender.sign(retail.holderScope('assets:acceptOffer'), { classId, offerId: 'o1', buyer: lender.account, quantity: 10 })), 'ERR_INSUFFICIENT', /cny/);
      await rejectsWith(retail.assets.acceptOffer(bob.sign(retail.holderScope('assets:acceptOffer'), { classId, offerId: 'o1', buyer: bob.account, quantity: 61 })), 'ERR_INSUFFICIENT', /60 units left/);
      expect([await balance(lender, classId), await balance(lender, CNY), await balance(alice, CNY)]).to.deep.equal([l0, 0, 32_000]);
      expect((await brand.assets.listOffers(classId)).items[0].quantity).to.equal(60);
      await rejectsWith(farm.assets.cancelOffer(bob.sign(farm.holderScope('assets:cancelOffer'), { classId, offerId: 'o1', seller: bob.account })), 'ERR_FORBIDDEN');
      await farm.assets.cancelOffer(alice.sign(farm.holderScope('assets:cancelOffer'), { classId, offerId: 'o1', seller: alice.account }));
      expect(await balance(alice, classId)).to.equal(a0 - 40);
      expect((await brand.assets.listOffers(classId)).items).to.deep.equal([]);
    });

    it('lists offers by status as a key range, a page at a time, with a bookmark that stays in its list', async () => {
      const classId = await ownClass([[alice, 300]]);
      const CNY = await ownCurrency([[bob, 1_000]]);
      // an offer cancelled before the others, as cancelled ones list by id
      await farm.assets.createOffer(alice.sign(farm.holderScope('assets:createOffer'), { offerId: 'o1', classId, seller: alice.account, quantity: 1, price: 1, currencyClass: CNY }));
      await farm.assets.cancelOffer(alice.sign(farm.holderScope('assets:cancelOffer'), { classId, offerId: 'o1', seller: alice.account }));
      const offer = (offerId: string) => farm.assets.createOffer(alice.sign(farm.holderScope('assets:createOffer'), { offerId, classId, seller: alice.account, quantity: 1, price: 1, currencyClass: CNY }));
      for (const id of ['o2', 'o3', 'o4', 'o5', 'o6']) await offer(id);
      await retail.assets.acceptOffer(bob.sign(retail.holderScope('assets:acceptOffer'), { classId, offerId: 'o2', buyer: bob.account, quantity: 1 }));
      await farm.assets.cancelOffer(alice.sign(farm.holderScope('assets:cancelOffer'), { classId, offerId: 'o3', seller: alice.account }));
      const ids = (p: { items: { offerId: string }[] }) => p.items.map((o) => o.offerId);
      // Filled and cancelled offers sort before the open ones by id, yet the first page holds open offers only.
      const first = await brand.assets.listOffers(classId, 'open', { pageSize: 2 });
      expect([ids(first), first.more]).to.deep.equal([['o4', 'o5'], true]);
      const second = await brand.assets.listOffers(classId, 'open', { pageSize: 2, bookmark: first.bookmark });
      expect([ids(second), second.more, second.bookmark]).to.deep.equal([['o6'], false, '']);
      const exact = await brand.assets.listOffers(classId, 'open', { pageSize: 3 });
      expect([ids(exact), exact.more]).to.deep.equal([['o4', 'o5', 'o6'], false]);
      expect(ids(await brand.assets.listOffers(classId, 'filled'))).to.deep.equal(['o2']);
      expect(ids(await brand.assets.listOffers(classId, 'cancelled'))).to.deep.equal(['o1', 'o3']);
      // A bookmark is a key: one from another list, or another class, would read outside this list.
      await rejectsWith(brand.assets.listOffers(classId, 'filled', { bookmark: first.bookmark }), 'ERR_VALIDATION', /bookmark/);
      await rejectsWith(brand.assets.listOffers('other', 'open', { bookmark: first.bookmark }), 'ERR_VALIDATION', /bookmark/);
      await rejectsWith(brand.assets.listOffers(classId, 'open', { pageSize: 0 }), 'ERR_VALIDATION', /pageSize/);
      await rejectsWith(brand.assets.listOffers(classId, 'open', { pageSize: 1001 }), 'ERR_VALIDATION', /pageSize/);
      for (const offerId of ['o4', 'o5', 'o6']) await farm.assets.cancelOffer(alice.sign(farm.holderScope('assets:cancelOffer'), { classId, offerId, seller: alice.account }));
      expect((await brand.assets.listOffers(classId)).items).to.deep.equal([]);
    });

    it('refuses offers and redemptions that are not the holder’s to make, moving nothing', async () => {
      const classId = await ownClass([[alice, 300]]);
      const CNY = await ownCurrency([[alice, 500]]);
      // an offer made and cancelled: its id is taken
      await farm.assets.createOffer(alice.sign(farm.holderScope('assets:createOffer'), { offerId: 'o1', classId, seller: alice.account, quantity: 1, price: 1, currencyClass: CNY }));
      await farm.assets.cancelOffer(alice.sign(farm.holderScope('assets:cancelOffer'), { classId, offerId: 'o1', seller: alice.account }));
      const [a0, ac0] = [await balance(alice, classId), await balance(alice, CNY)];
      const sign = <T extends object>(w: Wallet, tx: string, dto: T) => w.sign(farm.holderScope(tx), dto);
      const offer = { offerId: 'bad-o', classId, seller: alice.account, quantity: 5, price: 10, currencyClass: CNY };
      await rejectsWith(farm.assets.createOffer(sign(alice, 'assets:createOffer', { ...offer, classId: CNY, currencyClass: CNY })), 'ERR_VALIDATION', /currencies are not offered/);
      await rejectsWith(farm.assets.createOffer(sign(alice, 'assets:createOffer', { ...offer, currencyClass: classId })), 'ERR_VALIDATION', /not a currency/);
      await rejectsWith(farm.assets.createOffer(sign(alice, 'assets:createOffer', { ...offer, quantity: a0 + 1 })), 'ERR_INSUFFICIENT');
      await rejectsWith(farm.assets.createOffer(sign(bob, 'assets:createOffer', offer)), 'ERR_SIGNATURE');
      await rejectsWith(farm.assets.createOffer(sign(alice, 'assets:createOffer', { ...offer, offerId: 'o1' })), 'ERR_CONFLICT', /already exists/);
      const redemption = { redemptionId: 'bad-r', classId, account: alice.account, quantity: 1 };
      await rejectsWith(farm.assets.redeem(sign(alice, 'assets:redeem', { ...redemption, classId: CNY })), 'ERR_VALIDATION', /not redeemed/);
      await rejectsWith(farm.assets.redeem(sign(alice, 'assets:redeem', { ...redemption, quantity: a0 + 1 })), 'ERR_INSUFFICIENT');
      await rejectsWith(farm.assets.redeem(sign(bob, 'assets:redeem', redemption)), 'ERR_SIGNATURE');
      await rejectsWith(farm.assets.confirmRedemption({ redemptionId: 'bad-r' }), 'ERR_NOT_FOUND');
      expect([await balance(alice, classId), await balance(alice, CNY)]).to.deep.equal([a0, ac0]);
      expect((await brand.assets.listOffers(classId)).items).to.deep.equal([]);
    });

    it('redeems: units burn, the class warehouse confirms the outbound and the reserve drops', async () => {
      const classId = await ownClass([[alice, 300]]);
      const c0 = await brand.assets.getClass(classId);
      const r = await farm.assets.redeem(alice.sign(farm.holderScope('assets:redeem'), { redemptionId: 'r1', classId, account: alice.account, quantity: 5 }));
      expect(r.status).to.equal('open');
      await rejectsWith(factory.assets.confirmRedemption({ redemptionId: 'r1' }), 'ERR_FORBIDDEN');
      await farm.assets.confirmRedemption({ redemptionId: 'r1' });
      await rejectsWith(farm.assets.confirmRedemption({ redemptionId: 'r1' }), 'ERR_STATE');
      const c1 = await brand.assets.getClass(classId);
      expect([c1.redeemed, c1.reserve, c1.issued]).to.deep.equal([c0.redeemed + 5, c0.reserve - 5, c0.issued]);
    });

    it('values holdings at the appraiser’s price and ages them from the storage start', async () => {
      const classId = await ownClass([[alice, 300]]);
      await farm.assets.redeem(alice.sign(farm.holderScope('assets:redeem'), { redemptionId: `r-${classId}`, classId, account: alice.account, quantity: 5 }));
      await farm.assets.confirmRedemption({ redemptionId: `r-${classId}` });
      await rejectsWith(brand.assets.setValuation({ classId, pricePerUnit: 900, currency: 'CNY', date: clock.day(744) }), 'ERR_FORBIDDEN');
      await retail.assets.setValuation({ classId, pricePerUnit: 900, currency: 'CNY', date: clock.day(744) });
      const [h] = ((await brand.assets.getHoldings(alice.account)).items).filter((x) => x.classId === classId);
      expect(h.value).to.deep.equal({ amount: h.amount * 900, currency: 'CNY', date: clock.day(744) });
      // whole days from the storage start to the query; the clock's now is under an hour past a whole day of it
      expect(h.ageDays).to.equal(Math.floor((clock.now - Date.parse(clock.at(TEA_WAREHOUSING_HOURS))) / 86_400_000));
      expect((await brand.assets.getClass(classId)).valuation?.pricePerUnit).to.equal(900);
      // The class record's history holds confirmations and supply; status and valuation have keys of their own.
      const history = await brand.assets.getClassHistory(classId);
      expect(history[0].value?.redeemed).to.equal(5);
      expect(history[history.length - 1].value).to.deep.include({ issued: 0, confirmations: {} });
    });
  });

  describe('trace CLI', () => {
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [resolve(__dirname, '../../../../client/dist/src/cli.js'), ...args, '--connection', net.devnet.connection, '--msp', ORGS.farm], { encoding: 'utf8' });
      return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
    };

    it('creates a wallet, signs a transfer with it, and queries holdings', async () => {
      const classId = await ownClass();
      const file = join(mkdtempSync(join(tmpdir(), 'wallet-')), 'carol.key');
      const created = cli('wallet', 'create', '--out', file);
      expect(created.code, created.err).to.equal(0);
      const { account } = JSON.parse(created.out) as { account: string };
      expect(cli('wallet', 'create', '--out', file).code, 'a wallet file is never overwritten').to.equal(2);
      await brand.assets.issue({ classId, to: account, quantity: 7 });
      const b0 = await balance(bob, classId);
      const sent = cli('assets', 'transfer', '--wallet', file, '--json', JSON.stringify({ classId, from: account, to: bob.account, quantity: 3 }));
      expect(sent.code, sent.err).to.equal(0);
      expect(await balance(bob, classId)).to.equal(b0 + 3);
      const holdings = JSON.parse(cli('assets', 'getHoldings', '--json', JSON.stringify({ account })).out) as { items: { classId: string; amount: number }[] };
      expect(holdings.items.find((h) => h.classId === classId)?.amount).to.equal(4);
      const refused = cli('assets', 'transfer', '--wallet', file, '--json', JSON.stringify({ classId, from: account, to: bob.account, quantity: 5 }));
      expect(refused.code).to.equal(1);
      expect(refused.err).to.match(/^trace: \[ERR_INSUFFICIENT\]/);
    });
  });
});
