import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { IsActor, IsId, IsRfc3339 } from './validators';
import { Violation } from '../rules/cross-validation';
import { ItemValue } from '../rules/items';
import { REGION } from './catalog';

export type Verdict = 'approved' | 'rejected';

export interface Task {
  taskId: string;
  template: string;
  version: number;
  product: { gtin: string; name: string };
  lot: string;
  plannedQuantity: number;
  unit: string;
  /** stage → the org that records it */
  assignments: Record<string, string>;
  /** where the lot may be sold: the template's regions unless the task names its own */
  authorizedRegions: string[];
  /** the product's owner when the task was opened: the brand whose goods these are */
  owner: string;
  createdBy: string;
  /** the creating org's user, as the org named it */
  actor?: string;
  createdAt: string;
}

export interface StageRecord {
  taskId: string;
  stage: string;
  version: number;
  eventTime: string;
  location?: string;
  data: Record<string, ItemValue>;
  recordedBy: string;
  /** the recording org's user, as the org named it */
  actor?: string;
  recordedAt: string;
  txId: string;
  /** cross-validation rules with severity flag that this record breaks */
  flags: Violation[];
  /** why this version replaced the previous one */
  reason?: string;
}

export interface StageAudit {
  taskId: string;
  stage: string;
  verdict: Verdict;
  comment: string;
  auditor: string;
  /** the auditing org's user, as the org named it */
  actor?: string;
  at: string;
  /** the record version audited: an amendment voids the audit */
  recordVersion: number;
  txId: string;
}

export interface TaskAudit {
  taskId: string;
  verdict: Verdict;
  comment: string;
  auditor: string;
  /** the auditing org's user, as the org named it */
  actor?: string;
  at: string;
  txId: string;
}

export const LOT = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;

export class TaskProductDto {
  @IsString() @Matches(/^\d{8,14}$/) gtin!: string;
  @IsString() @Length(1, 128) name!: string;
}

export class CreateTaskDto {
  @IsId() taskId!: string;
  @IsId() template!: string;
  @IsInt() @Min(1) @Max(9999) version!: number;
  @ValidateNested() @Type(() => TaskProductDto) product!: TaskProductDto;
  @IsString() @Matches(LOT) lot!: string;
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1e12) plannedQuantity!: number;
  @IsString() @Length(1, 16) unit!: string;
  @IsObject() assignments!: Record<string, string>;
  @IsOptional() @IsArray() @ArrayMaxSize(64) @ArrayUnique() @Matches(REGION, { each: true }) authorizedRegions?: string[];
  @IsActor() actor?: string;
}

export class RecordStageDto {
  @IsId() taskId!: string;
  @IsId() stage!: string;
  @IsRfc3339() eventTime!: string;
  @IsOptional() @IsString() @Matches(/^\d{13}$/) location?: string;
  @IsObject() data!: Record<string, unknown>;
  @IsActor() actor?: string;
}

export class AmendStageDto extends RecordStageDto {
  @IsString() @Length(1, 512) reason!: string;
}

export class AuditStageDto {
  @IsId() taskId!: string;
  @IsId() stage!: string;
  @IsIn(['approved', 'rejected']) verdict!: Verdict;
  @IsString() @Length(0, 1024) comment!: string;
  @IsActor() actor?: string;
}

export class AuditTaskDto {
  @IsId() taskId!: string;
  @IsIn(['approved', 'rejected']) verdict!: Verdict;
  @IsString() @Length(0, 1024) comment!: string;
  @IsActor() actor?: string;
}

export class TaskRefDto {
  @IsId() taskId!: string;
}
