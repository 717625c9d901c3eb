import { Info, Returns, Transaction } from 'fabric-contract-api';
import { getMember, requireMember } from '../ledger/access';
import { actorOf, NO_ACTOR } from '../ledger/actor';
import { TraceContext } from '../ledger/context';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key } from '../ledger/keys';
import { invokedChaincodeName } from '../ledger/proposal';
import { accountOf, p256Key, verifies } from '../ledger/signatures';
import { getJson, listJson, pageJson, putJson } from '../ledger/state';
import {
  AcceptOfferDto,
  AccountPageDto,
  AssetClass,
  Balance,
  BalanceRefDto,
  CancelOfferDto,
  ClassPageDto,
  ClassRecord,
  ClassRefDto,
  ClassStatus,
  ConfirmClassDto,
  ConfirmRedemptionDto,
  CreateCurrencyDto,
  CreateOfferDto,
  IssueDto,
  Lock,
  LockDto,
  LotCertification,
  Offer,
  OfferPageDto,
  ProposeClassDto,
  RedeemDto,
  Redemption,
  SetValuationDto,
  SignedDto,
  TransferDto,
  UnlockDto,
} from '../model/assets';
import { StageAudit, TaskRefDto } from '../model/trace';
import { ageDays, canIssue, checkExpiry, holderMessage, HolderScope } from '../rules/assets';
import { canonicalJson } from '../rules/canonical-json';
import { parseRef } from '../rules/cross-validation';
import { BaseContract } from './base';
import { getLocation } from './catalog';
import { getTemplate } from './process';
import { getRecord, getTaskAudit, loadTask } from './trace';

async function loadClass(ctx: TraceContext, classId: string): Promise<ClassRecord> {
  return (await getJson<ClassRecord>(ctx, key(ctx, KeyType.assetClass, classId))) ?? fail('ERR_NOT_FOUND', `asset class ${classId} does not exist`);
}

function saveClass(ctx: TraceContext, c: ClassRecord): Promise<void> {
  return putJson(ctx, key(ctx, KeyType.assetClass, c.classId), { ...c, updatedAt: ctx.txTime });
}

/** The status key alone: what debits read, so issuance and valuation never invalidate them. */
async function classStatus(ctx: TraceContext, classId: string): Promise<ClassStatus> {
  return (await getJson<ClassStatus>(ctx, key(ctx, KeyType.assetClassStatus, classId))) ?? fail('ERR_NOT_FOUND', `asset class ${classId} does not exist`);
}

async function activeClass(ctx: TraceContext, classId: string): Promise<ClassStatus> {
  const s = await classStatus(ctx, classId);
  if (s.status !== 'active') fail('ERR_STATE', `asset class ${classId} is not active yet`);
  return s;
}

function saveStatus(ctx: TraceContext, s: ClassStatus): Promise<void> {
  return putJson(ctx, key(ctx, KeyType.assetClassStatus, s.classId), s);
}

async function valuationOf(ctx: TraceContext, classId: string): Promise<AssetClass['valuation']> {
  return getJson<NonNullable<AssetClass['valuation']>>(ctx, key(ctx, KeyType.assetValuation, classId));
}

/** The class as clients see it: record, status and valuation together (queries and events only). */
async function classView(ctx: TraceContext, c: ClassRecord, status?: ClassStatus): Promise<AssetClass> {
  return { ...c, status: (status ?? (await classStatus(ctx, c.classId))).status, valuation: await valuationOf(ctx, c.classId) };
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

/** The signed-request fields of a DTO where they are optional, or ERR_SIGNATURE when any is missing. */
function signed<T extends Partial<SignedDto>>(dto: T): T & SignedDto {
  if (!dto.nonce || !dto.signedAt || !dto.expiresAt || !dto.publicKeyPem || !dto.signature) fail('ERR_SIGNATURE', 'this request needs the holder signature fields: nonce, signedAt, expiresAt, publicKeyPem, signature');
  return dto as T & SignedDto;
}

/**
 * Holder authority: the request is signed by the key of `account` for this channel, chaincode and
 * transaction, within a short validity window, and its nonce was never used by that account.
 * Works the same whatever org certificate submits it.
 */
async function authorizeHolder(ctx: TraceContext, fn: string, dto: SignedDto, account: string): Promise<void> {
  const k = p256Key(dto.publicKeyPem);
  if (accountOf(k) !== account) fail('ERR_SIGNATURE', `the signing key does not belong to account ${account.slice(0, 12)}…`);
  const scope: HolderScope = { channel: ctx.stub.getChannelID(), chaincode: invokedChaincodeName(ctx), transaction: `assets:${fn}` };
  if (!verifies(k, Buffer.from(canonicalJson(holderMessage(scope, dto))), dto.signature)) fail('ERR_SIGNATURE', `the holder signature does not verify for ${scope.transaction} on ${scope.chaincode}@${scope.channel}`);
  const refused = checkExpiry(dto.signedAt, dto.expiresAt, ctx.txTimeMs);
  if (refused) fail('ERR_SIGNATURE', refused);
  const nonceKey = key(ctx, KeyType.nonce, account, dto.nonce);
  if (await getJson(ctx, nonceKey)) fail('ERR_REPLAY', `nonce ${dto.nonce} was already used by this account`);
  await putJson(ctx, nonceKey, { txId: ctx.stub.getTxID() });
}

/** Writes an offer and its copy under its status (listOffers reads that range), moving the copy when the status changes. */
async function putOffer(ctx: TraceContext, offer: Offer, was?: Offer['status']): Promise<void> {
  await putJson(ctx, key(ctx, KeyType.offer, offer.classId, offer.offerId), offer);
  if (was && was !== offer.status) await ctx.stub.deleteState(key(ctx, KeyType.offerByStatus, offer.classId, was, offer.offerId));
  await putJson(ctx, key(ctx, KeyType.offerByStatus, offer.classId, offer.status, offer.offerId), offer);
}

/** 茶花 / 酒花: asset classes backed by traced lots, confirmed, issued, traded, pledged and redeemed. */
@Info({ title: 'assets', description: 'Digital assets backed by traced tea and liquor lots' })
export class AssetsContract extends BaseContract {
  constructor() {
    super('assets');
  }

  /**
   * A class for a complete, audited lot. The template names the item that counts the lot
   * (assetQuantity); the certified total of all the lot's classes (lotcert/<taskId>) never
   * exceeds the quantity recorded there, so one lot cannot back assets twice.
   */
  @Transaction()
  @Returns('string')
  async proposeClass(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(ProposeClassDto, json);
    await requireMember(ctx, ['brand', 'issuer', 'operator']);
    if (await getJson(ctx, key(ctx, KeyType.assetClassStatus, dto.classId))) fail('ERR_CONFLICT', `asset class ${dto.classId} already exists`);
    const task = await loadTask(ctx, dto.taskId);
    if ((await getTaskAudit(ctx, task.taskId))?.verdict !== 'approved') fail('ERR_STATE', `task ${task.taskId} is not complete and audited`);
    const audits = await listJson<StageAudit>(ctx, KeyType.audit, [task.taskId]);
    for (const a of audits) {
      const rec = await getRecord(ctx, task.taskId, a.stage);
      if (a.verdict === 'rejected' && rec?.version === a.recordVersion) fail('ERR_STATE', `stage '${a.stage}' of task ${task.taskId} stands rejected`);
    }
    const template = await getTemplate(ctx, task.template, task.version);
    const quantityRef = template?.assetQuantity ?? fail('ERR_STATE', `template ${task.template} version ${task.version} declares no assetQuantity; its lots cannot back assets`);
    const { stage, item } = parseRef(quantityRef);
    const recorded = (await getRecord(ctx, task.taskId, stage))?.data[item];
    if (typeof recorded !== 'number') fail('ERR_STATE', `${quantityRef} is not recorded for task ${task.taskId}`);
    const certKey = key(ctx, KeyType.lotCertification, task.taskId);
    const cert = (await getJson<LotCertification>(ctx, certKey)) ?? { taskId: task.taskId, quantityRef, recorded: recorded as number, certified: 0, classes: [] };
    const certified = cert.certified + dto.certifiedQuantity;
    if (certified > (recorded as number)) fail('ERR_INSUFFICIENT', `certifying ${dto.certifiedQuantity} more would exceed the recorded ${quantityRef} of ${recorded} (already certified ${cert.certified} in ${cert.classes.length} classes)`);
    const warehouse = await getMember(ctx, dto.storage.warehouse);
    if (!warehouse || warehouse.status !== 'active' || !warehouse.roles.includes('warehouse')) fail('ERR_VALIDATION', `${dto.storage.warehouse} is not an active warehouse member`);
    const location = await getLocation(ctx, dto.storage.location);
    if (!location || location.status !== 'active') fail('ERR_NOT_FOUND', `location ${dto.storage.location} is not an active location`);
    const c: ClassRecord = {
      classId: dto.classId,
      symbol: dto.symbol,
      kind: dto.kind,
      unit: dto.unit,
      taskId: task.taskId,
      quantityRef,
      certifiedQuantity: dto.certifiedQuantity,
      storage: { warehouse: dto.storage.warehouse, location: dto.storage.location, since: dto.storage.since },
      evidence: dto.evidence,
      confirmationsRequired: dto.confirmations,
      confirmations: {},
      issued: 0,
      redeemed: 0,
      reserve: dto.certifiedQuantity,
      proposedBy: ctx.callerMsp,
      createdAt: ctx.txTime,
      ...actorOf(dto),
      updatedAt: ctx.txTime,
    };
    const status: ClassStatus = { classId: c.classId, kind: c.kind, status: 'proposed' };
    await saveClass(ctx, c);
    await saveStatus(ctx, status);
    await putJson(ctx, certKey, { ...cert, recorded: recorded as number, certified, classes: [...cert.classes, c.classId] });
    const view: AssetClass = { ...c, status: 'proposed' };
    ctx.emit('assets.ClassProposed', { assetClass: view, lotCertified: certified });
    return canonicalJson(view);
  }

  /**
   * 确权: each required role confirms once, by an active member holding it. Confirmations come from
   * distinct orgs, none of them the proposer, and the warehouse confirmation from the warehouse
   * that stores the goods. The last one activates the class.
   */
  @Transaction()
  @Returns('string')
  async confirmClass(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(ConfirmClassDto, json);
    await requireMember(ctx, [dto.role]);
    const c = await loadClass(ctx, dto.classId);
    if (!c.confirmationsRequired.includes(dto.role)) fail('ERR_VALIDATION', `class ${c.classId} does not ask for a ${dto.role} confirmation`);
    if (c.confirmations[dto.role]) fail('ERR_CONFLICT', `the ${dto.role} confirmation of ${c.classId} is already given`);
    if (c.proposedBy === ctx.callerMsp) fail('ERR_FORBIDDEN', `${ctx.callerMsp} proposed ${c.classId} and cannot confirm it`);
    const given = Object.entries(c.confirmations).find(([, v]) => v?.mspId === ctx.callerMsp);
    if (given) fail('ERR_FORBIDDEN', `${ctx.callerMsp} already confirmed ${c.classId} as ${given[0]}; each confirmation comes from another org`);
    if (dto.role === 'warehouse' && c.storage?.warehouse !== ctx.callerMsp) fail('ERR_FORBIDDEN', `the goods of ${c.classId} are stored by ${c.storage?.warehouse}; only that warehouse confirms them`);
    const confirmations = { ...c.confirmations, [dto.role]: { mspId: ctx.callerMsp, ...actorOf(dto), at: ctx.txTime } };
    const activated = c.confirmationsRequired.every((r) => confirmations[r]);
    const updated: ClassRecord = { ...c, confirmations, ...actorOf(dto) };
    const status: ClassStatus = { classId: c.classId, kind: c.kind, status: activated ? 'active' : 'proposed' };
    await saveClass(ctx, updated);
    if (activated) await saveStatus(ctx, status);
    ctx.emit('assets.ClassConfirmed', { classId: c.classId, role: dto.role, by: ctx.callerMsp, ...actorOf(dto), activated });
    return canonicalJson(await classView(ctx, updated, status));
  }

  /** A currency an exchange member issues, for the payment leg of trades. */
  @Transaction()
  @Returns('string')
  async createCurrency(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(CreateCurrencyDto, json);
    await requireMember(ctx, ['exchange']);
    if (await getJson(ctx, key(ctx, KeyType.assetClassStatus, dto.classId))) fail('ERR_CONFLICT', `asset class ${dto.classId} already exists`);
    const c: ClassRecord = {
      classId: dto.classId,
      symbol: dto.symbol,
      kind: 'currency',
      unit: dto.unit,
      certifiedQuantity: Number.MAX_SAFE_INTEGER,
      evidence: [],
      confirmationsRequired: [],
      confirmations: {},
      issuerMsp: ctx.callerMsp,
      issued: 0,
      redeemed: 0,
      reserve: 0,
      proposedBy: ctx.callerMsp,
      createdAt: ctx.txTime,
      ...actorOf(dto),
      updatedAt: ctx.txTime,
    };
    await saveClass(ctx, c);
    await saveStatus(ctx, { classId: c.classId, kind: 'currency', status: 'active' });
    const view: AssetClass = { ...c, status: 'active' };
    ctx.emit('assets.CurrencyCreated', { assetClass: view });
    return canonicalJson(view);
  }

  /** Issuer members issue tea/liquor units (never beyond certified); the creating exchange issues its currency. */
  @Transaction()
  @Returns('string')
  async issue(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(IssueDto, json);
    await activeClass(ctx, dto.classId);
    const c = await loadClass(ctx, dto.classId);
    if (c.kind === 'currency') {
      await requireMember(ctx, ['exchange']);
      if (c.issuerMsp !== ctx.callerMsp) fail('ERR_FORBIDDEN', `currency ${c.classId} is issued by ${c.issuerMsp}`);
    } else await requireMember(ctx, ['issuer']);
    if (!canIssue(c.issued, c.certifiedQuantity, dto.quantity)) fail('ERR_INSUFFICIENT', `issuing ${dto.quantity} would exceed the certified ${c.certifiedQuantity} (issued ${c.issued})`);
    await credit(ctx, dto.to, c.classId, dto.quantity);
    await saveClass(ctx, { ...c, issued: c.issued + dto.quantity, ...actorOf(dto) });
    ctx.emit('assets.Issued', { classId: c.classId, to: dto.to, quantity: dto.quantity, issued: c.issued + dto.quantity, by: ctx.callerMsp, ...actorOf(dto) });
    return canonicalJson({ classId: c.classId, to: dto.to, quantity: dto.quantity, issued: c.issued + dto.quantity });
  }

  @Transaction()
  @Returns('string')
  async transfer(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(TransferDto, json);
    await requireMember(ctx);
    await activeClass(ctx, dto.classId);
    if (dto.from === dto.to) fail('ERR_VALIDATION', 'from and to are the same account');
    await authorizeHolder(ctx, 'transfer', dto, dto.from);
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
    const c = await classStatus(ctx, dto.classId);
    if (dto.kind === 'pledge') {
      if (!dto.lender) fail('ERR_VALIDATION', 'a pledge names its lender account');
      if (dto.actor !== undefined) fail('ERR_VALIDATION', "a pledge is the holder's signed request: it names no org user (actor)");
      if (c.status !== 'active') fail('ERR_STATE', `asset class ${dto.classId} is not active yet`);
      await authorizeHolder(ctx, 'lock', signed(dto), dto.account);
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
        : { lockId: dto.lockId, classId: dto.classId, account: dto.account, quantity: dto.quantity, kind: 'freeze', regulator: ctx.callerMsp, ...actorOf(dto), at: ctx.txTime };
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
      if (dto.actor !== undefined) fail('ERR_VALIDATION', "a pledge is released by its lender's signed request: it names no org user (actor)");
      await authorizeHolder(ctx, 'unlock', signed(dto), lock.lender!);
    } else if (!member.roles.includes('regulator') || lock.regulator !== ctx.callerMsp) fail('ERR_FORBIDDEN', `lock ${dto.lockId} is a freeze by ${lock.regulator}; only that regulator releases it`);
    await ctx.stub.deleteState(k);
    await credit(ctx, lock.account, lock.classId, lock.quantity);
    ctx.emit('assets.Unlocked', { lock, by: lock.kind === 'pledge' ? lock.lender : ctx.callerMsp, ...actorOf(dto) });
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
    await authorizeHolder(ctx, 'createOffer', dto, dto.seller);
    const k = key(ctx, KeyType.offer, dto.classId, dto.offerId);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `offer ${dto.offerId} already exists`);
    await debit(ctx, dto.seller, dto.classId, dto.quantity);
    const offer: Offer = { offerId: dto.offerId, classId: dto.classId, seller: dto.seller, quantity: dto.quantity, price: dto.price, currencyClass: dto.currencyClass, status: 'open', createdAt: ctx.txTime, updatedAt: ctx.txTime };
    await putOffer(ctx, offer);
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
    await authorizeHolder(ctx, 'acceptOffer', dto, dto.buyer);
    const cost = dto.quantity * offer.price;
    if (!Number.isSafeInteger(cost)) fail('ERR_VALIDATION', 'the payment is too large');
    if (cost > 0) {
      await debit(ctx, dto.buyer, offer.currencyClass, cost);
      await credit(ctx, offer.seller, offer.currencyClass, cost);
    }
    await credit(ctx, dto.buyer, offer.classId, dto.quantity);
    const left = offer.quantity - dto.quantity;
    const updated: Offer = { ...offer, quantity: left, status: left === 0 ? 'filled' : 'open', updatedAt: ctx.txTime };
    await putOffer(ctx, updated, offer.status);
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
    await authorizeHolder(ctx, 'cancelOffer', dto, dto.seller);
    await credit(ctx, offer.seller, offer.classId, offer.quantity);
    const updated: Offer = { ...offer, quantity: 0, status: 'cancelled', updatedAt: ctx.txTime };
    await putOffer(ctx, updated, offer.status);
    ctx.emit('assets.OfferCancelled', { offer: updated, returned: offer.quantity });
    return canonicalJson(updated);
  }

  /** 提货: the holder burns units for the physical goods; the warehouse then confirms the outbound. */
  @Transaction()
  @Returns('string')
  async redeem(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(RedeemDto, json);
    await requireMember(ctx);
    if ((await activeClass(ctx, dto.classId)).kind === 'currency') fail('ERR_VALIDATION', 'currencies are not redeemed for goods');
    await authorizeHolder(ctx, 'redeem', dto, dto.account);
    const k = key(ctx, KeyType.redemption, dto.redemptionId);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `redemption ${dto.redemptionId} already exists`);
    await debit(ctx, dto.account, dto.classId, dto.quantity);
    const redemption: Redemption = { redemptionId: dto.redemptionId, classId: dto.classId, account: dto.account, quantity: dto.quantity, status: 'open', requestedAt: ctx.txTime };
    await putJson(ctx, k, redemption);
    const c = await loadClass(ctx, dto.classId);
    await saveClass(ctx, { ...c, redeemed: c.redeemed + dto.quantity, ...NO_ACTOR });
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
    const done: Redemption = { ...r, status: 'delivered', confirmedBy: ctx.callerMsp, ...actorOf(dto), confirmedAt: ctx.txTime };
    await putJson(ctx, k, done);
    await saveClass(ctx, { ...c, reserve: c.reserve - r.quantity, ...actorOf(dto) });
    ctx.emit('assets.RedemptionConfirmed', { redemption: done, reserve: c.reserve - r.quantity });
    return canonicalJson(done);
  }

  /** The appraiser's price per unit, dated. */
  @Transaction()
  @Returns('string')
  async setValuation(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(SetValuationDto, json);
    await requireMember(ctx, ['appraiser']);
    if ((await classStatus(ctx, dto.classId)).kind === 'currency') fail('ERR_VALIDATION', 'currencies are not appraised');
    const valuation = { pricePerUnit: dto.pricePerUnit, currency: dto.currency, date: dto.date, by: ctx.callerMsp, ...actorOf(dto) };
    await putJson(ctx, key(ctx, KeyType.assetValuation, dto.classId), valuation);
    ctx.emit('assets.ValuationSet', { classId: dto.classId, valuation });
    return canonicalJson(valuation);
  }

  /** The class with the age of its goods (days since storage began) at the query's timestamp. */
  @Transaction(false)
  @Returns('string')
  async getClass(ctx: TraceContext, json: string): Promise<string> {
    const c = await classView(ctx, await loadClass(ctx, parseDto(ClassRefDto, json).classId));
    return canonicalJson({ ...c, ageDays: c.storage ? ageDays(c.storage.since, ctx.txTimeMs) : undefined });
  }

  @Transaction(false)
  @Returns('string')
  async getBalance(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(BalanceRefDto, json);
    await classStatus(ctx, dto.classId);
    const amount = await balanceOf(ctx, dto.account, dto.classId);
    const v = await valuationOf(ctx, dto.classId);
    return canonicalJson({ classId: dto.classId, account: dto.account, amount, value: v ? { amount: amount * v.pricePerUnit, currency: v.currency, date: v.date } : undefined });
  }

  /** The classes an account holds, a page at a time, with each holding's value and the goods' age. */
  @Transaction(false)
  @Returns('string')
  async getHoldings(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AccountPageDto, json);
    const page = await pageJson<Balance>(ctx, KeyType.balance, [dto.account], dto);
    const out = [];
    for (const b of page.items) {
      const c = await loadClass(ctx, b.classId);
      const v = await valuationOf(ctx, b.classId);
      out.push({ classId: b.classId, symbol: c.symbol, kind: c.kind, amount: b.amount, value: v ? { amount: b.amount * v.pricePerUnit, currency: v.currency, date: v.date } : undefined, ageDays: c.storage ? ageDays(c.storage.since, ctx.txTimeMs) : undefined });
    }
    return canonicalJson({ ...page, items: out });
  }

  @Transaction(false)
  @Returns('string')
  async listOffers(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(OfferPageDto, json);
    return canonicalJson(await pageJson<Offer>(ctx, KeyType.offerByStatus, [dto.classId, dto.status ?? 'open'], dto));
  }

  @Transaction(false)
  @Returns('string')
  async listLocks(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(ClassPageDto, json);
    return canonicalJson(await pageJson<Lock>(ctx, KeyType.lock, [dto.classId], dto));
  }

  /** The certified total of a lot across its asset classes. */
  @Transaction(false)
  @Returns('string')
  async getLotCertification(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(TaskRefDto, json);
    return canonicalJson((await getJson<LotCertification>(ctx, key(ctx, KeyType.lotCertification, dto.taskId))) ?? fail('ERR_NOT_FOUND', `no asset class certifies task ${dto.taskId}`));
  }

  /** Every committed version of the class record (confirmations and supply), newest first. */
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
