import { PageDto } from './page';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { IsActor, IsId, IsRfc3339 } from './validators';
import { Role, ROLES } from './consortium';
import { HASH } from './codes';

export const ASSET_KINDS = ['tea', 'liquor'] as const;
export type AssetKind = (typeof ASSET_KINDS)[number] | 'currency';
/** an account is the SHA-256 (hex) of its holder's P-256 public key (SPKI DER) */
export const ACCOUNT = HASH;
const MAX_UNITS = 1e15;

/**
 * An asset class as clients see it: the class record with its status and valuation, which are
 * kept under keys of their own (see ClassRecord).
 */
export interface AssetClass {
  classId: string;
  symbol: string;
  kind: AssetKind;
  unit: string;
  /** tea/liquor: the traced lot backing the class */
  taskId?: string;
  /** the template's assetQuantity item (stage.item) that counts the lot */
  quantityRef?: string;
  certifiedQuantity: number;
  storage?: { warehouse: string; location: string; since: string };
  evidence: string[];
  confirmationsRequired: Role[];
  /** actor: the confirming org's user, as the org named it */
  confirmations: Partial<Record<Role, { mspId: string; actor?: string; at: string }>>;
  status: 'proposed' | 'active';
  /** the org whose issuer (or, for currencies, exchange) members may issue */
  issuerMsp?: string;
  issued: number;
  redeemed: number;
  /** units still held by the warehouse: certified minus confirmed redemptions */
  reserve: number;
  valuation?: { pricePerUnit: number; currency: string; date: string; by: string; actor?: string };
  proposedBy: string;
  createdAt: string;
  /** the org's user who made this version of the class record (proposed, confirmed, issued…); a holder-signed write names none */
  actor?: string;
  updatedAt: string;
}

/**
 * The class record (key aclass): what issuance, redemption and confirmation write. Transfers
 * never read it, so supply changes do not invalidate transfers in flight.
 */
export type ClassRecord = Omit<AssetClass, 'status' | 'valuation'>;

/** What every debit checks (key aclassstatus): written at creation and on activation only. */
export interface ClassStatus {
  classId: string;
  kind: AssetKind;
  status: 'proposed' | 'active';
}

/** The certified total of one lot (key lotcert): the sum over its classes, never above recorded. */
export interface LotCertification {
  taskId: string;
  quantityRef: string;
  recorded: number;
  certified: number;
  classes: string[];
}

export interface Balance {
  account: string;
  classId: string;
  amount: number;
}

export interface Lock {
  lockId: string;
  classId: string;
  account: string;
  quantity: number;
  kind: 'pledge' | 'freeze';
  /** pledge: the lender account that alone may release it */
  lender?: string;
  /** freeze: the regulator org, and its user as the org named it */
  regulator?: string;
  actor?: string;
  at: string;
}

export interface Offer {
  offerId: string;
  classId: string;
  seller: string;
  /** units still offered */
  quantity: number;
  /** price per unit, in the smallest unit of currencyClass */
  price: number;
  currencyClass: string;
  status: 'open' | 'filled' | 'cancelled';
  createdAt: string;
  updatedAt: string;
}

export interface Redemption {
  redemptionId: string;
  classId: string;
  account: string;
  quantity: number;
  status: 'open' | 'delivered';
  requestedAt: string;
  confirmedBy?: string;
  /** the confirming warehouse's user, as the org named it */
  actor?: string;
  confirmedAt?: string;
}

export class StorageDto {
  @IsString() @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/) warehouse!: string;
  @IsString() @Matches(/^\d{13}$/) location!: string;
  @IsRfc3339() since!: string;
}

export class ProposeClassDto {
  @IsId() classId!: string;
  @IsString() @Matches(/^[A-Z0-9]{2,12}$/) symbol!: string;
  @IsIn(ASSET_KINDS) kind!: 'tea' | 'liquor';
  @IsId() taskId!: string;
  @IsString() @Length(1, 16) unit!: string;
  /** with every other class of the lot, at most the quantity recorded in the template's assetQuantity item */
  @IsInt() @Min(1) @Max(MAX_UNITS) certifiedQuantity!: number;
  @ValidateNested() @Type(() => StorageDto) storage!: StorageDto;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(8) @ArrayUnique() @IsIn(ROLES, { each: true }) confirmations!: Role[];
  @IsArray() @ArrayMaxSize(32) @Matches(HASH, { each: true }) evidence!: string[];
  @IsActor() actor?: string;
}

export class ClassRefDto {
  @IsId() classId!: string;
}

export class CreateCurrencyDto {
  @IsId() classId!: string;
  @IsString() @Matches(/^[A-Z0-9]{2,12}$/) symbol!: string;
  @IsString() @Length(1, 16) unit!: string;
  @IsActor() actor?: string;
}

export class IssueDto {
  @IsId() classId!: string;
  @IsString() @Matches(ACCOUNT) to!: string;
  @IsInt() @Min(1) @Max(MAX_UNITS) quantity!: number;
  @IsActor() actor?: string;
}

/** Fields every holder-signed request carries. */
export class SignedDto {
  @IsString() @Length(8, 64) @Matches(/^[A-Za-z0-9_-]+$/) nonce!: string;
  @IsRfc3339() signedAt!: string;
  /** at most five minutes after signedAt */
  @IsRfc3339() expiresAt!: string;
  @IsString() @Length(100, 400) publicKeyPem!: string;
  /** base64 DER ECDSA P-256 / SHA-256 over the canonical JSON of { scope: HolderScope, request: every other field } */
  @IsString() @Length(8, 200) signature!: string;
}

export class TransferDto extends SignedDto {
  @IsId() classId!: string;
  @IsString() @Matches(ACCOUNT) from!: string;
  @IsString() @Matches(ACCOUNT) to!: string;
  @IsInt() @Min(1) @Max(MAX_UNITS) quantity!: number;
}

/**
 * lock: a pledge (kind pledge) is signed by the holder and names the lender whose signature alone
 * unlocks it; a freeze (kind freeze) is a regulator's, unsigned, and only a regulator unlocks it.
 */
export class LockDto {
  @IsId() lockId!: string;
  @IsId() classId!: string;
  @IsString() @Matches(ACCOUNT) account!: string;
  @IsInt() @Min(1) @Max(MAX_UNITS) quantity!: number;
  @IsIn(['pledge', 'freeze']) kind!: 'pledge' | 'freeze';
  @IsOptional() @IsString() @Matches(ACCOUNT) lender?: string;
  @IsOptional() @IsString() @Length(8, 64) @Matches(/^[A-Za-z0-9_-]+$/) nonce?: string;
  @IsOptional() @IsRfc3339() signedAt?: string;
  @IsOptional() @IsRfc3339() expiresAt?: string;
  @IsOptional() @IsString() @Length(100, 400) publicKeyPem?: string;
  @IsOptional() @IsString() @Length(8, 200) signature?: string;
  /** a freeze only (a pledge is the holder's signed request): the regulator's user */
  @IsActor() actor?: string;
}

/** unlock: a pledge needs the lender's signature (lender + signed fields); a freeze needs a regulator. */
export class UnlockDto {
  @IsId() classId!: string;
  @IsId() lockId!: string;
  @IsOptional() @IsString() @Matches(ACCOUNT) lender?: string;
  @IsOptional() @IsString() @Length(8, 64) @Matches(/^[A-Za-z0-9_-]+$/) nonce?: string;
  @IsOptional() @IsRfc3339() signedAt?: string;
  @IsOptional() @IsRfc3339() expiresAt?: string;
  @IsOptional() @IsString() @Length(100, 400) publicKeyPem?: string;
  @IsOptional() @IsString() @Length(8, 200) signature?: string;
  /** releasing a freeze only (a pledge is released by its lender's signature): the regulator's user */
  @IsActor() actor?: string;
}

export class CreateOfferDto extends SignedDto {
  @IsId() offerId!: string;
  @IsId() classId!: string;
  @IsString() @Matches(ACCOUNT) seller!: string;
  @IsInt() @Min(1) @Max(MAX_UNITS) quantity!: number;
  @IsInt() @Min(0) @Max(MAX_UNITS) price!: number;
  @IsId() currencyClass!: string;
}

export class AcceptOfferDto extends SignedDto {
  @IsId() classId!: string;
  @IsId() offerId!: string;
  @IsString() @Matches(ACCOUNT) buyer!: string;
  @IsInt() @Min(1) @Max(MAX_UNITS) quantity!: number;
}

export class CancelOfferDto extends SignedDto {
  @IsId() classId!: string;
  @IsId() offerId!: string;
  @IsString() @Matches(ACCOUNT) seller!: string;
}

export class RedeemDto extends SignedDto {
  @IsId() redemptionId!: string;
  @IsId() classId!: string;
  @IsString() @Matches(ACCOUNT) account!: string;
  @IsInt() @Min(1) @Max(MAX_UNITS) quantity!: number;
}

export class ConfirmRedemptionDto {
  @IsId() redemptionId!: string;
  @IsActor() actor?: string;
}

export class SetValuationDto {
  @IsId() classId!: string;
  @IsInt() @Min(0) @Max(MAX_UNITS) pricePerUnit!: number;
  @IsString() @Matches(/^[A-Z]{3}$/) currency!: string;
  @IsString() @Matches(/^\d{4}-\d{2}-\d{2}$/) date!: string;
  @IsActor() actor?: string;
}

export class BalanceRefDto {
  @IsId() classId!: string;
  @IsString() @Matches(ACCOUNT) account!: string;
}

export class AccountRefDto {
  @IsString() @Matches(ACCOUNT) account!: string;
}

export class ConfirmClassDto {
  @IsId() classId!: string;
  @IsIn(ROLES) role!: Role;
  @IsActor() actor?: string;
}

export class OfferPageDto extends PageDto {
  @IsId() classId!: string;
  /** default open */
  @IsOptional() @IsIn(['open', 'filled', 'cancelled']) status?: 'open' | 'filled' | 'cancelled';
}

export class ClassPageDto extends PageDto {
  @IsId() classId!: string;
}

export class AccountPageDto extends PageDto {
  @IsString() @Matches(ACCOUNT) account!: string;
}
