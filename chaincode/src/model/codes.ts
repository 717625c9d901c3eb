import { PageDto } from './page';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { IsActor, IsId, IsRfc3339 } from './validators';
import { CODE_LEVELS, CODE_STATUSES, CodeLevel, CodeStatus } from '../rules/codes';
import { REGION } from './catalog';

export const MAX_CODES_PER_CALL = 1000;
export const HASH = /^[0-9a-f]{64}$/;
export const SCAN_CHANNELS = ['consumer', 'retailer', 'logistics', 'regulator', 'rfid'] as const;
export type ScanChannel = (typeof SCAN_CHANNELS)[number];

export interface CodeRecord {
  /** SHA-256 of the printed code: the plain code never reaches the chain */
  hash: string;
  taskId: string;
  gtin: string;
  lot: string;
  level: CodeLevel;
  status: CodeStatus;
  parent?: string;
  /** set once the scan count passed the template's threshold: a likely clone */
  suspectSince?: string;
  /** set at the first scan outside the lot's authorized regions */
  divertedSince?: string;
  /** scans counted before the owner last cleared a clone alert (the per-org counters restart from 0) */
  scansBeforeClear?: number;
  /** alerts the task's owner cleared, oldest first */
  clearedAlerts?: ClearedAlert[];
  issuedBy: string;
  issuedAt: string;
  /** the org's user who made this version (issued, packed, unpacked, cleared it…); a scan names none */
  actor?: string;
  updatedAt: string;
}

export interface ScanRecord {
  codeHash: string;
  channel: ScanChannel;
  region?: string;
  at: string;
  location?: string;
  recordedBy: string;
  txId: string;
}

export const CLEARABLE_ALERTS = ['clone', 'diversion'] as const;
export type ClearableAlert = (typeof CLEARABLE_ALERTS)[number];

export interface ClearedAlert {
  type: ClearableAlert;
  /** when the alert was raised */
  since: string;
  reason: string;
  clearedBy: string;
  /** the clearing org's user, as the org named it */
  actor?: string;
  clearedAt: string;
  txId: string;
}

/** What became of one scan of a batch, in the batch's order: a refused scan does not fail the others. */
export type ScanOutcome = { status: 'recorded' } | { status: 'unknown' } | { status: 'refused'; code: 'ERR_FORBIDDEN'; message: string };

/** One scanning org's count of one code (key scancount~hash~org). */
export interface ScanCounter {
  count: number;
}

export interface CodeAlert {
  /** clone: scanned too often; diversion: scanned outside the authorized regions; unknown: no such code */
  type: 'clone' | 'diversion' | 'unknown';
  codeHash: string;
  taskId: string;
  region?: string;
  /** clone: the scanning org's count of the code, and the org */
  count?: number;
  threshold?: number;
  scannedBy?: string;
  authorizedRegions?: string[];
}

const hashes = () => [IsArray(), ArrayMinSize(1), ArrayMaxSize(MAX_CODES_PER_CALL), IsString({ each: true }), Matches(HASH, { each: true, message: 'each code hash must be 64 lowercase hex characters (SHA-256)' })];
const apply = (decorators: PropertyDecorator[]): PropertyDecorator => (target, key) => decorators.forEach((d) => d(target, key));

export class IssueCodesDto {
  @IsId() taskId!: string;
  @IsIn(CODE_LEVELS) level!: CodeLevel;
  /** duplicates within the call are reported by the contract, with the offending hash */
  @apply(hashes()) codeHashes!: string[];
  @IsActor() actor?: string;
}

export class SetCodeStatusDto {
  @apply(hashes()) @ArrayUnique() codeHashes!: string[];
  @IsIn(CODE_STATUSES) status!: CodeStatus;
  @IsActor() actor?: string;
}

export class AggregateDto {
  @IsString() @Matches(HASH) parent!: string;
  @apply(hashes()) @ArrayUnique() children!: string[];
  @IsActor() actor?: string;
}

export class DisaggregateDto {
  @IsString() @Matches(HASH) parent!: string;
  /** all children when absent */
  @IsOptional() @apply(hashes()) @ArrayUnique() children?: string[];
  @IsActor() actor?: string;
}

export class ScanDto {
  @IsString() @Matches(HASH) codeHash!: string;
  @IsIn(SCAN_CHANNELS) channel!: ScanChannel;
  /** where the scan was made, when the scanner knows it; a scan without a region never counts as a diversion */
  @IsOptional() @IsString() @Matches(REGION) region?: string;
  @IsRfc3339() at!: string;
  @IsOptional() @IsString() @Matches(/^\d{13}$/) location?: string;
}

export class RecordScansDto {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_CODES_PER_CALL) @ValidateNested({ each: true }) @Type(() => ScanDto) scans!: ScanDto[];
  /**
   * The sender's name for this batch, unique per scanning org: a batch sent again under the same id
   * (its sender crashed after the commit, before it could forget the batch) is answered as already
   * recorded and counts nothing twice.
   */
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_-]{8,64}$/) batchId?: string;
}

export class ClearAlertDto {
  @IsString() @Matches(HASH) codeHash!: string;
  @IsIn(CLEARABLE_ALERTS) type!: ClearableAlert;
  /** why the owner judges the alert unfounded, kept in the code's history */
  @IsString() @Length(1, 512) reason!: string;
  @IsActor() actor?: string;
}

export class CodeRefDto {
  @IsString() @Matches(HASH) codeHash!: string;
}

export class CodePageDto extends PageDto {
  @IsString() @Matches(HASH) codeHash!: string;
}
