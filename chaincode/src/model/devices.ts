import { PageDto } from './page';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBase64, IsIn, IsInt, IsNotIn, IsNumber, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { IsActor, IsId, IsRfc3339, RESERVED_KEYS } from './validators';
import { HASH } from './codes';

export const DEVICE_TYPES = ['gps', 'rfid', 'temperature', 'humidity', 'multi'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];
export type DeviceStatus = 'active' | 'disabled';
export const MAX_READINGS = 500;
/** base64 of 150 KB: 500 readings at about 300 bytes each */
export const MAX_PAYLOAD_B64 = 200_000;

export interface Bounds {
  min?: number;
  max?: number;
}

export interface Device {
  deviceId: string;
  type: DeviceType;
  ownerMsp: string;
  publicKeyPem: string;
  keyVersion: number;
  thresholds: Record<string, Bounds>;
  status: DeviceStatus;
  /** highest batch sequence accepted: a batch must carry a larger one */
  lastSeq: number;
  registeredAt: string;
  /** the owner's user who made this version (registered, enabled, disabled, re-keyed it); readings name none */
  actor?: string;
  updatedAt: string;
}

export interface MetricStats {
  count: number;
  min: number;
  max: number;
}

export interface ReadingBatch {
  deviceId: string;
  seq: number;
  taskId?: string;
  /** SHA-256 of the signed payload bytes: the raw readings can be proven against it */
  digest: string;
  count: number;
  stats: Record<string, MetricStats>;
  keyVersion: number;
  submittedBy: string;
  submittedAt: string;
  txId: string;
}

export interface Alarm {
  alarmId: string;
  deviceId: string;
  seq: number;
  index: number;
  taskId?: string;
  metric: string;
  value: number;
  bounds: Bounds;
  /** device threshold or the template rule that set the bounds */
  source: string;
  at: string;
  raisedAt: string;
  /** actor: the acknowledging org's user, as the org named it */
  acked?: { by: string; actor?: string; at: string; comment: string };
}

export class BoundsDto {
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) min?: number;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) max?: number;
}

export class RegisterDeviceDto {
  @IsId() deviceId!: string;
  @IsIn(DEVICE_TYPES) type!: DeviceType;
  @IsString() @Length(100, 1024) publicKeyPem!: string;
  /** metric → bounds; checked by the contract */
  @IsObject() thresholds!: Record<string, Bounds>;
  @IsActor() actor?: string;
}

export class SetDeviceStatusDto {
  @IsId() deviceId!: string;
  @IsIn(['active', 'disabled']) status!: DeviceStatus;
  @IsActor() actor?: string;
}

export class RotateDeviceKeyDto {
  @IsId() deviceId!: string;
  @IsString() @Length(100, 1024) publicKeyPem!: string;
  @IsActor() actor?: string;
}

export class ReadingDto {
  @IsRfc3339() at!: string;
  @IsString() @Matches(/^[a-z][a-z0-9_]{0,39}$/) @IsNotIn(RESERVED_KEYS) metric!: string;
  @IsNumber({ allowNaN: false, allowInfinity: false }) value!: number;
  @IsString() @Length(1, 16) unit!: string;
  @IsOptional() @IsNumber() @Min(-90) @Max(90) lat?: number;
  @IsOptional() @IsNumber() @Min(-180) @Max(180) lon?: number;
  /** an RFID read of this code hash links the code to this place and time */
  @IsOptional() @IsString() @Matches(HASH) code?: string;
}

/** The readings a device signs, parsed from the exact bytes it signed (any JSON layout and number formatting). */
export class SignedReadingsDto {
  @IsId() deviceId!: string;
  @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) seq!: number;
  @IsOptional() @IsId() taskId?: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_READINGS) @ValidateNested({ each: true }) @Type(() => ReadingDto) readings!: ReadingDto[];
}

export class SubmitReadingsDto {
  @IsId() deviceId!: string;
  /** base64 of the bytes the device signed: UTF-8 JSON of a SignedReadingsDto, verified and parsed as sent */
  @IsString() @IsBase64() @Length(4, MAX_PAYLOAD_B64) payload!: string;
  /** base64 DER ECDSA P-256 / SHA-256 signature over the payload bytes */
  @IsString() @IsBase64() @Length(8, 200) signature!: string;
}

export class AckAlarmDto {
  @IsString() @Matches(/^[A-Za-z0-9_-]{1,64}\/\d{1,16}\/\d{1,4}$/) alarmId!: string;
  @IsString() @Length(0, 512) comment!: string;
  @IsActor() actor?: string;
}

export class DeviceRefDto {
  @IsId() deviceId!: string;
}

export class DevicePageDto extends PageDto {
  @IsId() deviceId!: string;
}
