import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsActor, IsId } from './validators';
import { DataItem, ITEM_TYPES, ItemType, Privacy, PRIVACY } from '../rules/items';
import { Rule } from '../rules/cross-validation';
import { NAME_MAX, Role, ROLES } from './consortium';
import { REGION } from './catalog';
import { EpcisMapping } from '../rules/epcis-mapping';

export { ID } from './validators';

export interface Form {
  id: string;
  name: string;
  items: string[];
  definedBy: string;
  /** the defining org's user, as the org named it */
  actor?: string;
  definedAt: string;
}

export interface StageDefinition {
  id: string;
  name: string;
  forms: string[];
  role: Role;
  requiresAudit: boolean;
  /** GS1 CBV business step, e.g. commissioning, packing, shipping, receiving */
  bizStep: string;
  definedBy: string;
  /** the defining org's user, as the org named it */
  actor?: string;
  definedAt: string;
}

/** A template stage as published: the definition resolved down to its items, frozen with the version. */
export interface TemplateStage {
  stage: string;
  after: string[];
  name: string;
  role: Role;
  requiresAudit: boolean;
  bizStep: string;
  items: DataItem[];
}

export interface Template {
  id: string;
  version: number;
  name: string;
  category: string;
  stages: TemplateStage[];
  rules: Rule[];
  scanAlertThreshold: number;
  /** per stage, the items a consumer may see */
  publicView: Record<string, string[]>;
  authorizedRegions: string[];
  /** the numeric item (stage.item) that counts a lot: the most units all its asset classes may certify */
  assetQuantity?: string;
  /** how its stage records read as GS1 EPCIS 2.0 events (rules/epcis-mapping.ts) */
  epcis?: EpcisMapping;
  publishedBy: string;
  /** the publishing org's user, as the org named it */
  actor?: string;
  publishedAt: string;
}

export class DefineItemDto {
  @IsId() id!: string;
  @IsString() @Length(1, NAME_MAX) name!: string;
  @IsIn(ITEM_TYPES) type!: ItemType;
  @IsOptional() @IsString() @Length(1, 16) unit?: string;
  @IsOptional() @IsBoolean() required?: boolean;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) min?: number;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) max?: number;
  @IsOptional() @IsString() @Length(1, 256) pattern?: string;
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(64) @ArrayUnique() @IsString({ each: true }) @Length(1, 64, { each: true }) values?: string[];
  @IsOptional() @IsInt() @Min(1) @Max(4096) maxLength?: number;
  @IsOptional() @IsBoolean() destinationRegion?: boolean;
  @IsIn(PRIVACY) privacy!: Privacy;
  @IsActor() actor?: string;
}

export class DefineFormDto {
  @IsId() id!: string;
  @IsString() @Length(1, NAME_MAX) name!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(64) @ArrayUnique() @IsId({ each: true }) items!: string[];
  @IsActor() actor?: string;
}

export class DefineStageDto {
  @IsId() id!: string;
  @IsString() @Length(1, NAME_MAX) name!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(8) @ArrayUnique() @IsId({ each: true }) forms!: string[];
  @IsIn(ROLES) role!: Role;
  @IsBoolean() requiresAudit!: boolean;
  @IsString() @Matches(/^[a-z_]{3,40}$/) bizStep!: string;
  @IsActor() actor?: string;
}

export class StageNodeDto {
  @IsId() stage!: string;
  @IsArray() @ArrayMaxSize(16) @ArrayUnique() @IsId({ each: true }) after!: string[];
}

export class DefineTemplateDto {
  @IsId() id!: string;
  @IsInt() @Min(1) @Max(9999) version!: number;
  @IsString() @Length(1, NAME_MAX) name!: string;
  @IsString() @Length(1, 64) category!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(32) @ValidateNested({ each: true }) @Type(() => StageNodeDto) stages!: StageNodeDto[];
  /** checked by checkRuleShape: the kinds differ in their fields */
  @IsArray() @ArrayMaxSize(100) @IsObject({ each: true }) rules!: Rule[];
  /** scans of one code by one org; capped at a real peer's default totalQueryLimit, the most any read of scans may see */
  @IsInt() @Min(1) @Max(100_000) scanAlertThreshold!: number;
  @IsObject() publicView!: Record<string, string[]>;
  @IsOptional() @IsArray() @ArrayMaxSize(64) @ArrayUnique() @Matches(REGION, { each: true }) authorizedRegions?: string[];
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/) assetQuantity?: string;
  /** checked by checkEpcisMapping against the resolved stages */
  @IsOptional() @IsObject() epcis?: EpcisMapping;
  @IsActor() actor?: string;
}

export class RetireTemplateDto {
  @IsId() id!: string;
  @IsString() @Length(1, 256) reason!: string;
  @IsActor() actor?: string;
}

/** A template retired by its owner: no new task may use any of its versions; history stays. */
export interface TemplateRetirement {
  id: string;
  reason: string;
  by: string;
  /** the retiring org's user, as the org named it */
  actor?: string;
  at: string;
}

export class IdRefDto {
  @IsId() id!: string;
}

export class TemplateRefDto {
  @IsId() id!: string;
  @IsInt() @Min(1) @Max(9999) version!: number;
}
