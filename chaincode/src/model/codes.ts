import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import { IsId, IsRfc3339 } from './validators';
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
  issuedBy: string;
  issuedAt: string;
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

export interface CodeAlert {
  /** clone: scanned too often; diversion: scanned outside the authorized regions; unknown: no such code */
  type: 'clone' | 'diversion' | 'unknown';
  codeHash: string;
  taskId: string;
  region?: string;
  count?: number;
  threshold?: number;
  authorizedRegions?: string[];
}

const hashes = () => [IsArray(), ArrayMinSize(1), ArrayMaxSize(MAX_CODES_PER_CALL), IsString({ each: true }), Matches(HASH, { each: true, message: 'each code hash must be 64 lowercase hex characters (SHA-256)' })];
const apply = (decorators: PropertyDecorator[]): PropertyDecorator => (target, key) => decorators.forEach((d) => d(target, key));

export class IssueCodesDto {
  @IsId() taskId!: string;
  @IsIn(CODE_LEVELS) level!: CodeLevel;
  /** duplicates within the call are reported by the contract, with the offending hash */
  @apply(hashes()) codeHashes!: string[];
}

export class SetCodeStatusDto {
  @apply(hashes()) @ArrayUnique() codeHashes!: string[];
  @IsIn(CODE_STATUSES) status!: CodeStatus;
}

export class AggregateDto {
  @IsString() @Matches(HASH) parent!: string;
  @apply(hashes()) @ArrayUnique() children!: string[];
}

export class DisaggregateDto {
  @IsString() @Matches(HASH) parent!: string;
  /** all children when absent */
  @IsOptional() @apply(hashes()) @ArrayUnique() children?: string[];
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
}

export class CodeRefDto {
  @IsString() @Matches(HASH) codeHash!: string;
}
