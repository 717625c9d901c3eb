import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsNumber, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { MSP_ID, NAME_MAX } from './consortium';
import { IsActor } from './validators';

export const LOCATION_TYPES = ['farm', 'factory', 'warehouse', 'cellar', 'store', 'port'] as const;
export type LocationType = (typeof LOCATION_TYPES)[number];
export type CatalogStatus = 'active' | 'retired';

export interface Product {
  gtin: string;
  name: string;
  category: string;
  brand: string;
  spec: Record<string, string>;
  ownerMsp: string;
  /** orgs the owner lets open production tasks for this product */
  delegates?: string[];
  status: CatalogStatus;
  createdAt: string;
  /** the writing org's user who made this version */
  actor?: string;
  updatedAt: string;
}

export interface Location {
  id: string;
  name: string;
  type: LocationType;
  geo: { lat: number; lon: number };
  region: string;
  ownerMsp: string;
  status: CatalogStatus;
  createdAt: string;
  /** the writing org's user who made this version */
  actor?: string;
  updatedAt: string;
}

/** ISO 3166-1 alpha-2 country, optionally with an ISO 3166-2 subdivision: CN, CN-53, CN-YN. */
export const REGION = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;

export class GeoDto {
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-90) @Max(90) lat!: number;
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-180) @Max(180) lon!: number;
}

export class DefineProductDto {
  @IsString() @Matches(/^\d{8,14}$/) gtin!: string;
  @IsString() @Length(1, NAME_MAX) name!: string;
  @IsString() @Length(1, 64) category!: string;
  @IsString() @Length(1, NAME_MAX) brand!: string;
  /** short specification attributes, e.g. {"net": "357 g", "grade": "一级"} */
  @IsOptional() @IsObject() spec?: Record<string, string>;
  @IsActor() actor?: string;
}

export class DefineLocationDto {
  @IsString() @Matches(/^\d{13}$/) id!: string;
  @IsString() @Length(1, NAME_MAX) name!: string;
  @IsIn(LOCATION_TYPES) type!: LocationType;
  @ValidateNested() @Type(() => GeoDto) geo!: GeoDto;
  @IsString() @Matches(REGION) region!: string;
  /** defaults to the caller's org; only the operator registers locations for others */
  @IsOptional() @IsString() @Matches(MSP_ID) ownerMsp?: string;
  @IsActor() actor?: string;
}

export class SetProductStatusDto {
  @IsString() @Matches(/^\d{8,14}$/) gtin!: string;
  @IsIn(['active', 'retired']) status!: CatalogStatus;
  @IsActor() actor?: string;
}

export class SetProductDelegatesDto {
  @IsString() @Matches(/^\d{8,14}$/) gtin!: string;
  /** the whole list: it replaces the previous one (empty revokes every delegation) */
  @IsArray() @ArrayMaxSize(16) @ArrayUnique() @IsString({ each: true }) @Matches(MSP_ID, { each: true }) delegates!: string[];
  @IsActor() actor?: string;
}

export class SetLocationStatusDto {
  @IsString() @Matches(/^\d{13}$/) id!: string;
  @IsIn(['active', 'retired']) status!: CatalogStatus;
  @IsActor() actor?: string;
}

export class ProductRefDto {
  @IsString() @Matches(/^\d{8,14}$/) gtin!: string;
}

export class LocationRefDto {
  @IsString() @Matches(/^\d{13}$/) id!: string;
}
