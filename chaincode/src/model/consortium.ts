import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { IsActor } from './validators';

export const ROLES = [
  'operator',
  'brand',
  'producer',
  'processor',
  'logistics',
  'warehouse',
  'retailer',
  /** a scan service (e.g. a brand's consumer verification app) that records code scans */
  'scanner',
  'inspector',
  'regulator',
  'auditor',
  'issuer',
  'exchange',
  'appraiser',
] as const;
export type Role = (typeof ROLES)[number];
export type MemberStatus = 'active' | 'suspended';

export interface Member {
  mspId: string;
  name: string;
  roles: Role[];
  status: MemberStatus;
  joinedAt: string;
  /** the writing org's user (the founder's or the operator's) who made this version */
  actor?: string;
  updatedAt: string;
}

export interface Consortium {
  name: string;
  operatorMsp: string;
  createdAt: string;
}

export const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const NAME_MAX = 128;

export class BootstrapDto {
  @IsString() @Length(1, NAME_MAX) consortium!: string;
  @IsString() @Length(1, NAME_MAX) name!: string;
  /** roles of the bootstrapping org besides operator */
  @IsOptional() @IsArray() @ArrayMaxSize(ROLES.length) @ArrayUnique() @IsIn(ROLES, { each: true }) roles?: Role[];
  @IsActor() actor?: string;
}

export class AddMemberDto {
  @IsString() @Matches(MSP_ID) mspId!: string;
  @IsString() @Length(1, NAME_MAX) name!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ROLES.length) @ArrayUnique() @IsIn(ROLES, { each: true }) roles!: Role[];
  @IsActor() actor?: string;
}

export class UpdateMemberDto {
  @IsString() @Matches(MSP_ID) mspId!: string;
  @IsOptional() @IsString() @Length(1, NAME_MAX) name?: string;
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ROLES.length) @ArrayUnique() @IsIn(ROLES, { each: true }) roles?: Role[];
  @IsActor() actor?: string;
}

export class SetMemberStatusDto {
  @IsString() @Matches(MSP_ID) mspId!: string;
  @IsIn(['active', 'suspended']) status!: MemberStatus;
  @IsActor() actor?: string;
}

export class MemberRefDto {
  @IsString() @Matches(MSP_ID) mspId!: string;
}
