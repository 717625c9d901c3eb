import { Info, Returns, Transaction } from 'fabric-contract-api';
import { getMember, requireMember } from '../ledger/access';
import { TraceContext } from '../ledger/context';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key } from '../ledger/keys';
import { accountOf, p256Key, verifies } from '../ledger/signatures';
import { getJson, listJson, putJson } from '../ledger/state';
import {
  AcceptOfferDto,
  AccountRefDto,
  AssetClass,
  Balance,
  BalanceRefDto,
  CancelOfferDto,
  ClassRefDto,
  ConfirmClassDto,
  ConfirmRedemptionDto,
  CreateCurrencyDto,
  CreateOfferDto,
  IssueDto,
  Lock,
  LockDto,
  Offer,
  OfferRefDto,
  ProposeClassDto,
  RedeemDto,
  Redemption,
  SetValuationDto,
  SignedDto,
  TransferDto,
  UnlockDto,
} from '../model/assets';
import { StageAudit } from '../model/trace';
import { ageDays, canIssue, checkExpiry, holderMessage } from '../rules/assets';
import { canonicalJson } from '../rules/canonical-json';
import { parseRef } from '../rules/cross-validation';
import { BaseContract } from './base';
import { getLocation } from './catalog';
import { getTemplate } from './process';
import { getRecord, getTaskAudit, loadTask } from './trace';

async function loadClass(ctx: TraceContext, classId: string): Promise<AssetClass> {
  return (await getJson<AssetClass>(ctx, key(ctx, KeyType.assetClass, classId))) ?? fail('ERR_NOT_FOUND', `asset class ${classId} does not exist`);
}

async function activeClass(ctx: TraceContext, classId: string): Promise<AssetClass> {
  const c = await loadClass(ctx, classId);
  if (c.status !== 'active') fail('ERR_STATE', `asset class ${classId} is not active yet`);
  return c;
}

function saveClass(ctx: TraceContext, c: AssetClass): Promise<void> {
  return putJson(ctx, key(ctx, KeyType.assetClass, c.classId), { ...c, updatedAt: ctx.txTime });
}

async function balanceOf(ctx: TraceContext, account: string, classId: string): Promise<number> {
  return (await getJson<Balance>(ctx, key(ctx, KeyType.balance, account, classId)))?.amount ?? 0;
}

async function setBalance(ctx: TraceContext, account: string, classId: string, amount: number): Promise<void> {
  const k = key(ctx, KeyType.balance, account, classId);
  if (amount === 0) await ctx.stub.deleteState(k);
  else await putJson(ctx, k, { account, classId, amount });
}

/** Moves q units out of an account's free balance, or fails with ERR_INSUFFICIENT. */
async function debit(ctx: TraceContext, account: string, classId: string, q: number): Promise<void> {
  const have = await balanceOf(ctx, account, classId);
  if (have < q) fail('ERR_INSUFFICIENT', `account ${account.slice(0, 12)}… holds ${have} ${classId}, not ${q}`);
  await setBalance(ctx, account, classId, have - q);
}

async function credit(ctx: TraceContext, account: string, classId: string, q: number): Promise<void> {
  await setBalance(ctx, account, classId, (await balanceOf(ctx, account, classId)) + q);
}

/**
 * Holder authority: the request is signed by the key of `account`, not expired, and its nonce was
 * never used by that account. Works the same whatever org certificate submits it.
 */
/** The signed-request fields of a DTO where they are optional, or ERR_SIGNATURE when any is missing. */
function signed<T extends Partial<SignedDto>>(dto: T): T & SignedDto {
  if (!dto.nonce || !dto.expiresAt || !dto.publicKeyPem || !dto.signature) fail('ERR_SIGNATURE', 'this request needs the holder signature fields: nonce, expiresAt, publicKeyPem, signature');
  return dto as T & SignedDto;
}

async function authorizeHolder(ctx: TraceContext, dto: SignedDto, account: string): Promise<void> {
  const k = p256Key(dto.publicKeyPem);
  if (accountOf(k) !== account) fail('ERR_SIGNATURE', `the signing key does not belong to account ${account.slice(0, 12)}…`);
  if (!verifies(k, Buffer.from(canonicalJson(holderMessage(dto))), dto.signature)) fail('ERR_SIGNATURE', 'the holder signature does not verify');
  const expired = checkExpiry(dto.expiresAt, ctx.txTimeMs);
  if (expired) fail('ERR_SIGNATURE', expired);
  const nonceKey = key(ctx, KeyType.nonce, account, dto.nonce);
  if (await getJson(ctx, nonceKey)) fail('ERR_REPLAY', `nonce ${dto.nonce} was already used by this account`);
  await putJson(ctx, nonceKey, { txId: ctx.stub.getTxID() });
}

/** 茶花 / 酒花: asset classes backed by traced lots, confirmed, issued, traded, pledged and redeemed. */
@Info({ title: 'assets', description: 'Digital assets backed by traced tea and liquor lots' })
export class AssetsContract extends BaseContract {
  constructor() {
    super('assets');
  }

  /** A class for a complete, audited lot; certifiedQuantity may not exceed the lot's recorded quantity. */
  @Transaction()
  @Returns('string')
  async proposeClass(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(ProposeClassDto, json);
    await requireMember(ctx, ['brand', 'issuer', 'operator']);
    if (await getJson(ctx, key(ctx, KeyType.assetClass, dto.classId))) fail('ERR_CONFLICT', `asset class ${dto.classId} already exists`);
    const task = await loadTask(ctx, dto.taskId);
    if ((await getTaskAudit(ctx, task.taskId))?.verdict !== 'approved') fail('ERR_STATE', `task ${task.taskId} is not complete and audited`);
    const audits = await listJson<StageAudit>(ctx, KeyType.audit, [task.taskId]);
    for (const a of audits) {
      const rec = await getRecord(ctx, task.taskId, a.stage);
      if (a.verdict === 'rejected' && rec?.version === a.recordVersion) fail('ERR_STATE', `stage '${a.stage}' of task ${task.taskId} stands rejected`);
    }
    const template = await getTemplate(ctx, task.template, task.version);
    const { stage, item } = parseRef(dto.quantityRef);
    const def = template?.stages.find((s) => s.stage === stage)?.items.find((i) => i.id === item);
    if (!def || (def.type !== 'integer' && def.type !== 'number')) fail('ERR_VALIDATION', `${dto.quantityRef} is not a numeric item of the lot's process`);
    const recorded = (await getRecord(ctx, task.taskId, stage))?.data[item];
    if (typeof recorded !== 'number') fail('ERR_STATE', `${dto.quantityRef} is not recorded for task ${task.taskId}`);
    if (dto.certifiedQuantity > (recorded as number)) fail('ERR_INSUFFICIENT', `certifiedQuantity ${dto.certifiedQuantity} exceeds the recorded ${dto.quantityRef} of ${recorded}`);
    const warehouse = await getMember(ctx, dto.storage.warehouse);
    if (!warehouse || warehouse.status !== 'active' || !warehouse.roles.includes('warehouse')) fail('ERR_VALIDATION', `${dto.storage.warehouse} is not an active warehouse member`);
    const location = await getLocation(ctx, dto.storage.location);
    if (!location || location.status !== 'active') fail('ERR_NOT_FOUND', `location ${dto.storage.location} is not an active location`);
    const c: AssetClass = {
      classId: dto.classId,
      symbol: dto.symbol,
      kind: dto.kind,
      unit: dto.unit,
      taskId: task.taskId,
      quantityRef: dto.quantityRef,
      certifiedQuantity: dto.certifiedQuantity,
      storage: { warehouse: dto.storage.warehouse, location: dto.storage.location, since: dto.storage.since },
      evidence: dto.evidence,
      confirmationsRequired: dto.confirmations,
      confirmations: {},
      status: 'proposed',
      issued: 0,
      redeemed: 0,
      reserve: dto.certifiedQuantity,
      proposedBy: ctx.callerMsp,
      createdAt: ctx.txTime,
      updatedAt: ctx.txTime,
    };
    await saveClass(ctx, c);
    ctx.emit('assets.ClassProposed', { assetClass: c });
    return canonicalJson(c);
  }

  /** 确权: each required role confirms once, by an active member holding it; the last one activates the class. */
  @Transaction()
  @Returns('string')
  async confirmClass(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(ConfirmClassDto, json);
    await requireMember(ctx, [dto.role]);
    const c = await loadClass(ctx, dto.classId);
    if (!c.confirmationsRequired.includes(dto.role)) fail('ERR_VALIDATION', `class ${c.classId} does not ask for a ${dto.role} confirmation`);
    if (c.confirmations[dto.role]) fail('ERR_CONFLICT', `the ${dto.role} confirmation of ${c.classId} is already given`);
    const confirmations = { ...c.confirmations, [dto.role]: { mspId: ctx.callerMsp, at: ctx.txTime } };
    const activated = c.confirmationsRequired.every((r) => confirmations[r]);
    const updated: AssetClass = { ...c, confirmations, status: activated ? 'active' : 'proposed' };
    await saveClass(ctx, updated);
    ctx.emit('assets.ClassConfirmed', { classId: c.classId, role: dto.role, by: ctx.callerMsp, activated });
    return canonicalJson(updated);
  }

  /** A currency an exchange member issues, for the payment leg of trades. */
  @Transaction()
  @Returns('string')
  async createCurrency(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(CreateCurrencyDto, json);
    await requireMember(ctx, ['exchange']);
    if (await getJson(ctx, key(ctx, KeyType.assetClass, dto.classId))) fail('ERR_CONFLICT', `asset class ${dto.classId} already exists`);
    const c: AssetClass = {
      classId: dto.classId,
      symbol: dto.symbol,
      kind: 'currency',
      unit: dto.unit,
      certifiedQuantity: Number.MAX_SAFE_INTEGER,
      evidence: [],
      confirmationsRequired: [],
      confirmations: {},
      status: 'active',
      issuerMsp: ctx.callerMsp,
      issued: 0,
      redeemed: 0,
      reserve: 0,
      proposedBy: ctx.callerMsp,
      createdAt: ctx.txTime,
      updatedAt: ctx.txTime,
    };
    await saveClass(ctx, c);
    ctx.emit('assets.CurrencyCreated', { assetClass: c });
    return canonicalJson(c);
  }

  /** Issuer members issue tea/liquor units (never beyond certified); the creating exchange issues its currency. */
  @Transaction()
  @Returns('string')
  async issue(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(IssueDto, json);
    const c = await activeClass(ctx, dto.classId);
    if (c.kind === 'currency') {
      await requireMember(ctx, ['exchange']);
      if (c.issuerMsp !== ctx.callerMsp) fail('ERR_FORBIDDEN', `currency ${c.classId} is issued by ${c.issuerMsp}`);
    } else await requireMember(ctx, ['issuer']);
    if (!canIssue(c.issued, c.certifiedQuantity, dto.quantity)) fail('ERR_INSUFFICIENT', `issuing ${dto.quantity} would exceed the certified ${c.certifiedQuantity} (issued ${c.issued})`);
    await credit(ctx, dto.to, c.classId, dto.quantity);
    await saveClass(ctx, { ...c, issued: c.issued + dto.quantity });
    ctx.emit('assets.Issued', { classId: c.classId, to: dto.to, quantity: dto.quantity, issued: c.issued + dto.quantity, by: ctx.callerMsp });
    return canonicalJson({ classId: c.classId, to: dto.to, quantity: dto.quantity, issued: c.issued + dto.quantity });
  }

  @Transaction()
  @Returns('string')
  async transfer(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(TransferDto, json);
    await requireMember(ctx);
    await activeClass(ctx, dto.classId);
    if (dto.from === dto.to) fail('ERR_VALIDATION', 'from and to are the same account');
    await authorizeHolder(ctx, dto, dto.from);
    await debit(ctx, dto.from, dto.classId, dto.quantity);
    await credit(ctx, dto.to, dto.classId, dto.quantity);
    ctx.emit('assets.Transferred', { classId: dto.classId, from: dto.from, to: dto.to, quantity: dto.quantity });
    return canonicalJson({ classId: dto.classId, from: dto.from, to: dto.to, quantity: dto.quantity });
  }

  /**
   * 质押 / 冻结: a pledge moves the holder's units (holder signature) under a lender, whose signature
   * alone unlocks them; a freeze is a regulator's, and only that regulator unlocks it.
   */
  @Transaction()
  @Returns('string')
  async lock(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(LockDto, json);
    const member = await requireMember(ctx);
    const c = await loadClass(ctx, dto.classId);
    if (dto.kind === 'pledge') {
      if (!dto.lender) fail('ERR_VALIDATION', 'a pledge names its lender account');
      if (c.status !== 'active') fail('ERR_STATE', `asset class ${dto.classId} is not active yet`);
      await authorizeHolder(ctx, signed(dto), dto.account);
    } else {
      if (!member.roles.includes('regulator')) fail('ERR_FORBIDDEN', 'only a regulator freezes units');
      if (dto.lender || dto.signature) fail('ERR_VALIDATION', 'a freeze takes no lender and no holder signature');
    }
    const k = key(ctx, KeyType.lock, dto.classId, dto.lockId);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `lock ${dto.lockId} already exists`);
    await debit(ctx, dto.account, dto.classId, dto.quantity);
    const lock: Lock =
      dto.kind === 'pledge'
        ? { lockId: dto.lockId, classId: dto.classId, account: dto.account, quantity: dto.quantity, kind: 'pledge', lender: dto.lender, at: ctx.txTime }
        : { lockId: dto.lockId, classId: dto.classId, account: dto.account, quantity: dto.quantity, kind: 'freeze', regulator: ctx.callerMsp, at: ctx.txTime };
    await putJson(ctx, k, lock);
    ctx.emit('assets.Locked', { lock });
    return canonicalJson(lock);
  }

  /** Returns locked units to the holder: a pledge by its lender's signature, a freeze by the regulator that set it. */
  @Transaction()
  @Returns('string')
  async unlock(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(UnlockDto, json);
    const member = await requireMember(ctx);
    const k = key(ctx, KeyType.lock, dto.classId, dto.lockId);
    const lock = (await getJson<Lock>(ctx, k)) ?? fail('ERR_NOT_FOUND', `lock ${dto.lockId} does not exist`);
    if (lock.kind === 'pledge') {
      if (!dto.lender || lock.lender !== dto.lender) fail('ERR_FORBIDDEN', `lock ${dto.lockId} is a pledge; only its lender releases it`);
      await authorizeHolder(ctx, signed(dto), lock.lender!);
    } else if (!member.roles.includes('regulator') || lock.regulator !== ctx.callerMsp) fail('ERR_FORBIDDEN', `lock ${dto.lockId} is a freeze by ${lock.regulator}; only that regulator releases it`);
    await ctx.stub.deleteState(k);
    await credit(ctx, lock.account, lock.classId, lock.quantity);
    ctx.emit('assets.Unlocked', { lock, by: lock.kind === 'pledge' ? lock.lender : ctx.callerMsp });
    return canonicalJson({ ...lock, released: true });
  }

  /** 发售: the seller's units move into the offer until it is filled or cancelled. */
  @Transaction()
  @Returns('string')
  async createOffer(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(CreateOfferDto, json);
    await requireMember(ctx);
    const c = await activeClass(ctx, dto.classId);
    if (c.kind === 'currency') fail('ERR_VALIDATION', 'currencies are not offered for sale');
    const currency = await activeClass(ctx, dto.currencyClass);
    if (currency.kind !== 'currency') fail('ERR_VALIDATION', `${dto.currencyClass} is not a currency`);
    await authorizeHolder(ctx, dto, dto.seller);
    const k = key(ctx, KeyType.offer, dto.classId, dto.offerId);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `offer ${dto.offerId} already exists`);
    await debit(ctx, dto.seller, dto.classId, dto.quantity);
    const offer: Offer = { offerId: dto.offerId, classId: dto.classId, seller: dto.seller, quantity: dto.quantity, price: dto.price, currencyClass: dto.currencyClass, status: 'open', createdAt: ctx.txTime, updatedAt: ctx.txTime };
    await putJson(ctx, k, offer);
    ctx.emit('assets.OfferCreated', { offer });
    return canonicalJson(offer);
  }

  /** 交易: delivery versus payment in one transaction; a partial fill leaves the rest on offer. */
  @Transaction()
  @Returns('string')
  async acceptOffer(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AcceptOfferDto, json);
    await requireMember(ctx);
    const k = key(ctx, KeyType.offer, dto.classId, dto.offerId);
    const offer = (await getJson<Offer>(ctx, k)) ?? fail('ERR_NOT_FOUND', `offer ${dto.offerId} does not exist`);
    if (offer.status !== 'open') fail('ERR_STATE', `offer ${dto.offerId} is ${offer.status}`);
    if (dto.quantity > offer.quantity) fail('ERR_INSUFFICIENT', `offer ${dto.offerId} has ${offer.quantity} units left, not ${dto.quantity}`);
    if (dto.buyer === offer.seller) fail('ERR_VALIDATION', 'the seller cannot buy its own offer');
    await authorizeHolder(ctx, dto, dto.buyer);
    const cost = dto.quantity * offer.price;
    if (!Number.isSafeInteger(cost)) fail('ERR_VALIDATION', 'the payment is too large');
    if (cost > 0) {
      await debit(ctx, dto.buyer, offer.currencyClass, cost);
      await credit(ctx, offer.seller, offer.currencyClass, cost);
    }
    await credit(ctx, dto.buyer, offer.classId, dto.quantity);
    const left = offer.quantity - dto.quantity;
    const updated: Offer = { ...offer, quantity: left, status: left === 0 ? 'filled' : 'open', updatedAt: ctx.txTime };
    await putJson(ctx, k, updated);
    ctx.emit('assets.OfferAccepted', { offer: updated, buyer: dto.buyer, quantity: dto.quantity, cost });
    return canonicalJson({ offerId: offer.offerId, buyer: dto.buyer, quantity: dto.quantity, cost, left });
  }

  @Transaction()
  @Returns('string')
  async cancelOffer(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(CancelOfferDto, json);
    await requireMember(ctx);
    const k = key(ctx, KeyType.offer, dto.classId, dto.offerId);
    const offer = (await getJson<Offer>(ctx, k)) ?? fail('ERR_NOT_FOUND', `offer ${dto.offerId} does not exist`);
    if (offer.seller !== dto.seller) fail('ERR_FORBIDDEN', `offer ${dto.offerId} belongs to another seller`);
    if (offer.status !== 'open') fail('ERR_STATE', `offer ${dto.offerId} is ${offer.status}`);
    await authorizeHolder(ctx, dto, dto.seller);
    await credit(ctx, offer.seller, offer.classId, offer.quantity);
    const updated: Offer = { ...offer, quantity: 0, status: 'cancelled', updatedAt: ctx.txTime };
    await putJson(ctx, k, updated);
    ctx.emit('assets.OfferCancelled', { offer: updated, returned: offer.quantity });
    return canonicalJson(updated);
  }

  /** 提货: the holder burns units for the physical goods; the warehouse then confirms the outbound. */
  @Transaction()
  @Returns('string')
  async redeem(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(RedeemDto, json);
    await requireMember(ctx);
    const c = await activeClass(ctx, dto.classId);
    if (c.kind === 'currency') fail('ERR_VALIDATION', 'currencies are not redeemed for goods');
    await authorizeHolder(ctx, dto, dto.account);
    const k = key(ctx, KeyType.redemption, dto.redemptionId);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `redemption ${dto.redemptionId} already exists`);
    await debit(ctx, dto.account, dto.classId, dto.quantity);
    const redemption: Redemption = { redemptionId: dto.redemptionId, classId: dto.classId, account: dto.account, quantity: dto.quantity, status: 'open', requestedAt: ctx.txTime };
    await putJson(ctx, k, redemption);
    await saveClass(ctx, { ...c, redeemed: c.redeemed + dto.quantity });
    ctx.emit('assets.Redeemed', { redemption, redeemed: c.redeemed + dto.quantity });
    return canonicalJson(redemption);
  }

  @Transaction()
  @Returns('string')
  async confirmRedemption(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(ConfirmRedemptionDto, json);
    await requireMember(ctx, ['warehouse']);
    const k = key(ctx, KeyType.redemption, dto.redemptionId);
    const r = (await getJson<Redemption>(ctx, k)) ?? fail('ERR_NOT_FOUND', `redemption ${dto.redemptionId} does not exist`);
    const c = await loadClass(ctx, r.classId);
    if (c.storage?.warehouse !== ctx.callerMsp) fail('ERR_FORBIDDEN', `the goods of ${c.classId} are kept by ${c.storage?.warehouse}`);
    if (r.status !== 'open') fail('ERR_STATE', `redemption ${r.redemptionId} is already ${r.status}`);
    const done: Redemption = { ...r, status: 'delivered', confirmedBy: ctx.callerMsp, confirmedAt: ctx.txTime };
    await putJson(ctx, k, done);
    await saveClass(ctx, { ...c, reserve: c.reserve - r.quantity });
    ctx.emit('assets.RedemptionConfirmed', { redemption: done, reserve: c.reserve - r.quantity });
    return canonicalJson(done);
  }

  /** The appraiser's price per unit, dated. */
  @Transaction()
  @Returns('string')
  async setValuation(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(SetValuationDto, json);
    await requireMember(ctx, ['appraiser']);
    const c = await loadClass(ctx, dto.classId);
    if (c.kind === 'currency') fail('ERR_VALIDATION', 'currencies are not appraised');
    const valuation = { pricePerUnit: dto.pricePerUnit, currency: dto.currency, date: dto.date, by: ctx.callerMsp };
    await saveClass(ctx, { ...c, valuation });
    ctx.emit('assets.ValuationSet', { classId: c.classId, valuation });
    return canonicalJson(valuation);
  }

  /** The class with the age of its goods (days since storage began) at the query's timestamp. */
  @Transaction(false)
  @Returns('string')
  async getClass(ctx: TraceContext, json: string): Promise<string> {
    const c = await loadClass(ctx, parseDto(ClassRefDto, json).classId);
    return canonicalJson({ ...c, ageDays: c.storage ? ageDays(c.storage.since, ctx.txTimeMs) : undefined });
  }

  @Transaction(false)
  @Returns('string')
  async getBalance(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(BalanceRefDto, json);
    const c = await loadClass(ctx, dto.classId);
    const amount = await balanceOf(ctx, dto.account, dto.classId);
    return canonicalJson({ classId: c.classId, account: dto.account, amount, value: c.valuation ? { amount: amount * c.valuation.pricePerUnit, currency: c.valuation.currency, date: c.valuation.date } : undefined });
  }

  /** Every class an account holds, with each holding's value and the goods' age. */
  @Transaction(false)
  @Returns('string')
  async getHoldings(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AccountRefDto, json);
    const out = [];
    for (const b of await listJson<Balance>(ctx, KeyType.balance, [dto.account])) {
      const c = await loadClass(ctx, b.classId);
      out.push({ classId: b.classId, symbol: c.symbol, kind: c.kind, amount: b.amount, value: c.valuation ? { amount: b.amount * c.valuation.pricePerUnit, currency: c.valuation.currency, date: c.valuation.date } : undefined, ageDays: c.storage ? ageDays(c.storage.since, ctx.txTimeMs) : undefined });
    }
    return canonicalJson(out);
  }

  @Transaction(false)
  @Returns('string')
  async listOffers(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(OfferRefDto, json);
    const offers = await listJson<Offer>(ctx, KeyType.offer, [dto.classId]);
    return canonicalJson(offers.filter((o) => o.status === (dto.status ?? 'open')));
  }

  @Transaction(false)
  @Returns('string')
  async listLocks(ctx: TraceContext, json: string): Promise<string> {
    return canonicalJson(await listJson<Lock>(ctx, KeyType.lock, [parseDto(ClassRefDto, json).classId]));
  }

  /** Every committed version of the class record, newest first. */
  @Transaction(false)
  @Returns('string')
  async getClassHistory(ctx: TraceContext, json: string): Promise<string> {
    const c = await loadClass(ctx, parseDto(ClassRefDto, json).classId);
    const out = [];
    for await (const entry of ctx.stub.getHistoryForKey(key(ctx, KeyType.assetClass, c.classId))) {
      // shim 2.5 yields {txId, isDelete}; shim 2.3 the raw protobuf fields {tx_id, is_delete}
      const m = entry as unknown as { txId?: string; tx_id?: string; isDelete?: boolean; is_delete?: boolean; value: Uint8Array };
      const isDelete = m.isDelete ?? m.is_delete ?? false;
      out.push({ txId: m.txId ?? m.tx_id, isDelete, value: isDelete ? undefined : JSON.parse(Buffer.from(m.value).toString('utf8')) });
    }
    return canonicalJson(out);
  }
}
