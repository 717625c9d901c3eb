/**
 * An independent model of the assets contract, written from its documented rules (README "Who may do
 * what" and "State layout", DESIGN §4 assets, the DTO and contract docs), never from the chain's
 * events. Before an operation is submitted it decides whether the chain must accept it or must refuse
 * it with which error code; it holds what the chain should hold afterwards. Pure: no ledger, no I/O.
 *
 * Holder signatures are out of its scope: every holder-signed operation is assumed to carry a valid
 * signature by the account it names (signature attacks have tests of their own).
 */

import type { Lock, Offer, Redemption } from '../../src/model/assets';

export type ErrorCode = 'ERR_NOT_MEMBER' | 'ERR_FORBIDDEN' | 'ERR_NOT_FOUND' | 'ERR_STATE' | 'ERR_VALIDATION' | 'ERR_CONFLICT' | 'ERR_INSUFFICIENT';
export type Verdict = { ok: true } | { ok: false; code: ErrorCode; why: string };

export interface ClassSpec {
  classId: string;
  kind: 'tea' | 'liquor' | 'currency';
  /** tea/liquor: units the confirmations certified; issued never exceeds it */
  certified: number;
  /** tea/liquor: the warehouse org storing the goods, the only one confirming redemptions */
  warehouse?: string;
  /** currency: the exchange org that created it, the only one issuing it */
  issuerMsp?: string;
}

/** Every operation names the org whose identity submits it; holder-signed ones also the signing account. */
export type AssetOp =
  | { type: 'issue'; org: string; classId: string; to: string; quantity: number }
  | { type: 'transfer'; org: string; classId: string; from: string; to: string; quantity: number }
  | { type: 'pledge'; org: string; classId: string; lockId: string; account: string; lender: string; quantity: number }
  | { type: 'freeze'; org: string; classId: string; lockId: string; account: string; quantity: number }
  /** lender: the account signing as the pledge's lender; none for a regulator's unsigned request */
  | { type: 'unlock'; org: string; classId: string; lockId: string; lender?: string }
  | { type: 'createOffer'; org: string; classId: string; offerId: string; seller: string; quantity: number; price: number; currencyClass: string }
  | { type: 'acceptOffer'; org: string; classId: string; offerId: string; buyer: string; quantity: number }
  | { type: 'cancelOffer'; org: string; classId: string; offerId: string; seller: string }
  | { type: 'redeem'; org: string; classId: string; redemptionId: string; account: string; quantity: number }
  | { type: 'confirmRedemption'; org: string; redemptionId: string };

/** The chain's record shapes without their timestamps: the model judges outcomes, not times. */
export type ModelLock = Omit<Lock, 'at'>;
export type ModelOffer = Omit<Offer, 'createdAt' | 'updatedAt'>;
export type ModelRedemption = Omit<Redemption, 'requestedAt' | 'confirmedBy' | 'confirmedAt'>;

export interface ClassTotals {
  issued: number;
  redeemed: number;
  /** certified minus confirmed redemptions: what the warehouse still holds */
  reserve: number;
}

/** An outcome as the test observes it: 'ok' or the error code. */
export type Outcome = 'ok' | string;
/** What a transaction that lost an MVCC race reports: it wrote nothing. */
export const LOST_RACE = 'ERR_COMMIT';

const refuse = (code: ErrorCode, why: string): Verdict => ({ ok: false, code, why });
const OK: Verdict = { ok: true };

export class AssetModel {
  private readonly classes = new Map<string, ClassSpec & ClassTotals>();
  private readonly balances = new Map<string, number>();
  private readonly lockMap = new Map<string, ModelLock>();
  private readonly offerMap = new Map<string, ModelOffer>();
  private readonly redemptionMap = new Map<string, ModelRedemption>();

  /** roles: each member org's consortium roles (all members active). */
  constructor(
    private readonly roles: Readonly<Record<string, readonly string[]>>,
    classes: readonly ClassSpec[],
  ) {
    for (const c of classes) this.classes.set(c.classId, { ...c, issued: 0, redeemed: 0, reserve: c.kind === 'currency' ? 0 : c.certified });
  }

  clone(): AssetModel {
    const m = new AssetModel(this.roles, []);
    this.classes.forEach((c, k) => m.classes.set(k, { ...c }));
    this.balances.forEach((v, k) => m.balances.set(k, v));
    this.lockMap.forEach((l, k) => m.lockMap.set(k, { ...l }));
    this.offerMap.forEach((o, k) => m.offerMap.set(k, { ...o }));
    this.redemptionMap.forEach((r, k) => m.redemptionMap.set(k, { ...r }));
    return m;
  }

  balance(account: string, classId: string): number {
    return this.balances.get(`${account}/${classId}`) ?? 0;
  }

  /** The classes an account holds a non-zero balance of (a zero balance is no holding). */
  holdings(account: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.balances) if (v !== 0 && k.startsWith(`${account}/`)) out[k.slice(account.length + 1)] = v;
    return out;
  }

  locks(classId: string): ModelLock[] {
    return [...this.lockMap.values()].filter((l) => l.classId === classId);
  }

  offers(classId: string, status: ModelOffer['status'] = 'open'): ModelOffer[] {
    return [...this.offerMap.values()].filter((o) => o.classId === classId && o.status === status);
  }

  redemptions(classId: string): ModelRedemption[] {
    return [...this.redemptionMap.values()].filter((r) => r.classId === classId);
  }

  totals(classId: string): ClassTotals {
    const c = this.cls(classId);
    return { issued: c.issued, redeemed: c.redeemed, reserve: c.reserve };
  }

  /** Whether the chain must accept op now, or the code it must refuse it with. */
  decide(op: AssetOp): Verdict {
    const member = this.roles[op.org];
    if (!member) return refuse('ERR_NOT_MEMBER', `${op.org} is not a member`);
    const has = (role: string) => member.includes(role);
    switch (op.type) {
      case 'issue': {
        const c = this.classes.get(op.classId);
        if (!c) return refuse('ERR_NOT_FOUND', `no class ${op.classId}`);
        // Issuer members issue tea/liquor; a currency only the exchange that created it.
        if (c.kind === 'currency' ? !has('exchange') || c.issuerMsp !== op.org : !has('issuer')) return refuse('ERR_FORBIDDEN', `${op.org} may not issue ${op.classId}`);
        if (c.kind !== 'currency' && c.issued + op.quantity > c.certified) return refuse('ERR_INSUFFICIENT', `issued ${c.issued} + ${op.quantity} > certified ${c.certified}`);
        return OK;
      }
      case 'transfer':
        if (!this.classes.has(op.classId)) return refuse('ERR_NOT_FOUND', `no class ${op.classId}`);
        if (op.from === op.to) return refuse('ERR_VALIDATION', 'from and to are the same account');
        return this.covers(op.from, op.classId, op.quantity);
      case 'pledge':
      case 'freeze': {
        if (!this.classes.has(op.classId)) return refuse('ERR_NOT_FOUND', `no class ${op.classId}`);
        if (op.type === 'freeze' && !has('regulator')) return refuse('ERR_FORBIDDEN', `${op.org} is no regulator`);
        if (this.lockMap.has(lockKey(op))) return refuse('ERR_CONFLICT', `lock ${op.lockId} exists`);
        return this.covers(op.account, op.classId, op.quantity);
      }
      case 'unlock': {
        const l = this.lockMap.get(lockKey(op));
        if (!l) return refuse('ERR_NOT_FOUND', `no lock ${op.lockId}`);
        // A pledge only by its lender's signature; a freeze only by the regulator that set it.
        if (l.kind === 'pledge' && (!op.lender || op.lender !== l.lender)) return refuse('ERR_FORBIDDEN', `only the lender releases pledge ${op.lockId}`);
        if (l.kind === 'freeze' && (!has('regulator') || l.regulator !== op.org)) return refuse('ERR_FORBIDDEN', `only ${l.regulator} releases freeze ${op.lockId}`);
        return OK;
      }
      case 'createOffer': {
        const c = this.classes.get(op.classId);
        if (!c) return refuse('ERR_NOT_FOUND', `no class ${op.classId}`);
        if (c.kind === 'currency') return refuse('ERR_VALIDATION', 'currencies are not offered');
        const currency = this.classes.get(op.currencyClass);
        if (!currency) return refuse('ERR_NOT_FOUND', `no class ${op.currencyClass}`);
        if (currency.kind !== 'currency') return refuse('ERR_VALIDATION', `${op.currencyClass} is not a currency`);
        if (this.offerMap.has(offerKey(op))) return refuse('ERR_CONFLICT', `offer ${op.offerId} exists`);
        return this.covers(op.seller, op.classId, op.quantity);
      }
      case 'acceptOffer': {
        const o = this.offerMap.get(offerKey(op));
        if (!o) return refuse('ERR_NOT_FOUND', `no offer ${op.offerId}`);
        if (o.status !== 'open') return refuse('ERR_STATE', `offer ${op.offerId} is ${o.status}`);
        if (op.quantity > o.quantity) return refuse('ERR_INSUFFICIENT', `offer ${op.offerId} has ${o.quantity} left`);
        if (op.buyer === o.seller) return refuse('ERR_VALIDATION', 'the seller cannot buy its own offer');
        // Delivery versus payment: the buyer's currency pays for the units in the same transaction.
        return this.covers(op.buyer, o.currencyClass, op.quantity * o.price);
      }
      case 'cancelOffer': {
        const o = this.offerMap.get(offerKey(op));
        if (!o) return refuse('ERR_NOT_FOUND', `no offer ${op.offerId}`);
        if (o.seller !== op.seller) return refuse('ERR_FORBIDDEN', `offer ${op.offerId} belongs to another seller`);
        if (o.status !== 'open') return refuse('ERR_STATE', `offer ${op.offerId} is ${o.status}`);
        return OK;
      }
      case 'redeem': {
        const c = this.classes.get(op.classId);
        if (!c) return refuse('ERR_NOT_FOUND', `no class ${op.classId}`);
        if (c.kind === 'currency') return refuse('ERR_VALIDATION', 'currencies are not redeemed');
        if (this.redemptionMap.has(op.redemptionId)) return refuse('ERR_CONFLICT', `redemption ${op.redemptionId} exists`);
        return this.covers(op.account, op.classId, op.quantity);
      }
      case 'confirmRedemption': {
        if (!has('warehouse')) return refuse('ERR_FORBIDDEN', `${op.org} is no warehouse`);
        const r = this.redemptionMap.get(op.redemptionId);
        if (!r) return refuse('ERR_NOT_FOUND', `no redemption ${op.redemptionId}`);
        if (this.cls(r.classId).warehouse !== op.org) return refuse('ERR_FORBIDDEN', `${op.org} does not keep the goods of ${r.classId}`);
        if (r.status !== 'open') return refuse('ERR_STATE', `redemption ${op.redemptionId} is ${r.status}`);
        return OK;
      }
    }
  }

  /** Applies an operation the model accepts; refuses (throws) one it would not. */
  apply(op: AssetOp): void {
    const v = this.decide(op);
    if (!v.ok) throw new Error(`the model refuses ${op.type}: ${v.code} ${v.why}`);
    switch (op.type) {
      case 'issue': {
        this.move(undefined, op.to, op.classId, op.quantity);
        this.cls(op.classId).issued += op.quantity;
        break;
      }
      case 'transfer':
        this.move(op.from, op.to, op.classId, op.quantity);
        break;
      case 'pledge':
      case 'freeze':
        this.move(op.account, undefined, op.classId, op.quantity);
        this.lockMap.set(lockKey(op), { lockId: op.lockId, classId: op.classId, account: op.account, quantity: op.quantity, kind: op.type, ...(op.type === 'pledge' ? { lender: op.lender } : { regulator: op.org }) });
        break;
      case 'unlock': {
        const l = this.lockMap.get(lockKey(op))!;
        this.lockMap.delete(lockKey(op));
        this.move(undefined, l.account, l.classId, l.quantity);
        break;
      }
      case 'createOffer':
        this.move(op.seller, undefined, op.classId, op.quantity);
        this.offerMap.set(offerKey(op), { offerId: op.offerId, classId: op.classId, seller: op.seller, quantity: op.quantity, price: op.price, currencyClass: op.currencyClass, status: 'open' });
        break;
      case 'acceptOffer': {
        const o = this.offerMap.get(offerKey(op))!;
        this.move(op.buyer, o.seller, o.currencyClass, op.quantity * o.price);
        this.move(undefined, op.buyer, o.classId, op.quantity);
        o.quantity -= op.quantity;
        if (o.quantity === 0) o.status = 'filled';
        break;
      }
      case 'cancelOffer': {
        const o = this.offerMap.get(offerKey(op))!;
        this.move(undefined, o.seller, o.classId, o.quantity);
        o.quantity = 0;
        o.status = 'cancelled';
        break;
      }
      case 'redeem':
        // Redeemed units are burnt from the balance and stay counted as issued.
        this.move(op.account, undefined, op.classId, op.quantity);
        this.cls(op.classId).redeemed += op.quantity;
        this.redemptionMap.set(op.redemptionId, { redemptionId: op.redemptionId, classId: op.classId, account: op.account, quantity: op.quantity, status: 'open' });
        break;
      case 'confirmRedemption': {
        const r = this.redemptionMap.get(op.redemptionId)!;
        r.status = 'delivered';
        this.cls(r.classId).reserve -= r.quantity;
        break;
      }
    }
  }

  /**
   * Per tea/liquor class: Σ balances + Σ locks + Σ open offers + redeemed = issued ≤ certified;
   * per currency: Σ balances + Σ locks = issued. The model keeps it by construction; a broken
   * model would show here first.
   */
  supplyHolds(classId: string): boolean {
    const c = this.cls(classId);
    let held = 0;
    for (const [k, v] of this.balances) if (k.endsWith(`/${classId}`)) held += v;
    const sum = (xs: { quantity: number }[]) => xs.reduce((n, x) => n + x.quantity, 0);
    const total = held + sum(this.locks(classId)) + sum(this.offers(classId)) + c.redeemed;
    return total === c.issued && (c.kind === 'currency' || c.issued <= c.certified);
  }

  private cls(classId: string): ClassSpec & ClassTotals {
    const c = this.classes.get(classId);
    if (!c) throw new Error(`the model knows no class ${classId}`);
    return c;
  }

  private covers(account: string, classId: string, quantity: number): Verdict {
    const have = this.balance(account, classId);
    return have >= quantity ? OK : refuse('ERR_INSUFFICIENT', `${account.slice(0, 8)} holds ${have} ${classId}, not ${quantity}`);
  }

  /** Moves units from one free balance to another; undefined is outside any balance (supply, a lock, an offer). */
  private move(from: string | undefined, to: string | undefined, classId: string, quantity: number): void {
    if (from !== undefined) this.balances.set(`${from}/${classId}`, this.balance(from, classId) - quantity);
    if (to !== undefined) this.balances.set(`${to}/${classId}`, this.balance(to, classId) + quantity);
  }
}

/** Locks and offers are keyed within their class, redemptions globally (README "State layout"). */
const lockKey = (op: { classId: string; lockId: string }) => `${op.classId}/${op.lockId}`;
const offerKey = (op: { classId: string; offerId: string }) => `${op.classId}/${op.offerId}`;

export function outcomeOf(v: Verdict): Outcome {
  return v.ok ? 'ok' : v.code;
}

/**
 * Two operations submitted at once either committed one after the other or one lost the MVCC race
 * and wrote nothing. Tries the two orders: in an order, each outcome must be the model's verdict on
 * the state the ones before it left (or LOST_RACE). Returns the model after the successful ones in
 * the first order that explains both outcomes, or undefined when neither does.
 */
export function settleRace(model: AssetModel, ops: readonly [AssetOp, AssetOp], outcomes: readonly [Outcome, Outcome]): AssetModel | undefined {
  for (const order of [
    [0, 1],
    [1, 0],
  ]) {
    const m = model.clone();
    const explained = order.every((i) => {
      if (outcomes[i] === LOST_RACE) return true;
      if (outcomeOf(m.decide(ops[i])) !== outcomes[i]) return false;
      if (outcomes[i] === 'ok') m.apply(ops[i]);
      return true;
    });
    if (explained) return m;
  }
  return undefined;
}
