import { createHash } from 'crypto';
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { requireMember } from '../ledger/access';
import { actorOf, NO_ACTOR } from '../ledger/actor';
import { TraceContext } from '../ledger/context';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key, pad } from '../ledger/keys';
import { p256Key, verifies } from '../ledger/signatures';
import { getJson, pageJson, putJson } from '../ledger/state';
import { AckAlarmDto, Alarm, Bounds, Device, DevicePageDto, DeviceRefDto, ReadingBatch, RegisterDeviceDto, RotateDeviceKeyDto, SetDeviceStatusDto, SignedReadingsDto, SubmitReadingsDto } from '../model/devices';
import { Template } from '../model/process';
import { canonicalJson } from '../rules/canonical-json';
import { parseRef } from '../rules/cross-validation';
import { checkThresholds, metricStats, outOfBounds } from '../rules/readings';
import { BaseContract } from './base';
import { getTemplate } from './process';
import { loadTask } from './trace';

async function loadDevice(ctx: TraceContext, deviceId: string): Promise<Device> {
  return (await getJson<Device>(ctx, key(ctx, KeyType.device, deviceId))) ?? fail('ERR_NOT_FOUND', `device ${deviceId} is not registered`);
}

/** withinRange rules of the task's template whose item carries the metric's name: metric → bounds. */
function templateBounds(template: Template): Map<string, { bounds: Bounds; source: string }> {
  const out = new Map<string, { bounds: Bounds; source: string }>();
  for (const rule of template.rules) {
    if (rule.kind !== 'withinRange') continue;
    out.set(parseRef(rule.left).item, { bounds: { min: rule.min, max: rule.max }, source: `rule ${rule.id}` });
  }
  return out;
}

/** 物联子系统: devices sign their readings; out-of-range readings become alarms. */
@Info({ title: 'devices', description: 'IoT devices, signed readings and alarms' })
export class DevicesContract extends BaseContract {
  constructor() {
    super('devices');
  }

  @Transaction()
  @Returns('string')
  async registerDevice(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(RegisterDeviceDto, json);
    await requireMember(ctx);
    p256Key(dto.publicKeyPem);
    const problems = checkThresholds(dto.thresholds);
    if (problems.length > 0) fail('ERR_VALIDATION', problems.join('; '));
    const k = key(ctx, KeyType.device, dto.deviceId);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `device ${dto.deviceId} is already registered`);
    const device: Device = { deviceId: dto.deviceId, type: dto.type, ownerMsp: ctx.callerMsp, publicKeyPem: dto.publicKeyPem, keyVersion: 1, thresholds: dto.thresholds, status: 'active', lastSeq: 0, registeredAt: ctx.txTime, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, k, device);
    ctx.emit('devices.Registered', { device });
    return canonicalJson(device);
  }

  /** Enable or disable a device: its owner, or a regulator. */
  @Transaction()
  @Returns('string')
  async setDeviceStatus(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(SetDeviceStatusDto, json);
    const member = await requireMember(ctx);
    const current = await loadDevice(ctx, dto.deviceId);
    if (current.ownerMsp !== ctx.callerMsp && !member.roles.includes('regulator')) fail('ERR_FORBIDDEN', `device ${dto.deviceId} belongs to ${current.ownerMsp}`);
    if (current.status === dto.status) fail('ERR_STATE', `device ${dto.deviceId} is already ${dto.status}`);
    const device: Device = { ...current, status: dto.status, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.device, dto.deviceId), device);
    ctx.emit('devices.StatusChanged', { deviceId: device.deviceId, status: device.status, ...actorOf(dto) });
    return canonicalJson(device);
  }

  /** A new signing key; readings signed with the old one are refused from now on. */
  @Transaction()
  @Returns('string')
  async rotateDeviceKey(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(RotateDeviceKeyDto, json);
    await requireMember(ctx);
    const current = await loadDevice(ctx, dto.deviceId);
    if (current.ownerMsp !== ctx.callerMsp) fail('ERR_FORBIDDEN', `device ${dto.deviceId} belongs to ${current.ownerMsp}`);
    p256Key(dto.publicKeyPem);
    if (dto.publicKeyPem.trim() === current.publicKeyPem.trim()) fail('ERR_STATE', 'the new key is the current key');
    const device: Device = { ...current, publicKeyPem: dto.publicKeyPem, keyVersion: current.keyVersion + 1, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.device, dto.deviceId), device);
    ctx.emit('devices.KeyRotated', { deviceId: device.deviceId, keyVersion: device.keyVersion, ...actorOf(dto) });
    return canonicalJson(device);
  }

  /**
   * A signed batch of readings: the signature must verify with the registered key over the exact
   * payload bytes the device sent (which are then parsed as the readings, so firmware serialises
   * them as it likes), seq must grow, the chain keeps the batch digest and per-metric stats, and
   * each reading outside the device's thresholds or the task template's bounds becomes an alarm.
   */
  @Transaction()
  @Returns('string')
  async submitReadings(ctx: TraceContext, json: string): Promise<string> {
    const signed = parseDto(SubmitReadingsDto, json);
    await requireMember(ctx);
    const device = await loadDevice(ctx, signed.deviceId);
    if (device.ownerMsp !== ctx.callerMsp) fail('ERR_FORBIDDEN', `device ${signed.deviceId} belongs to ${device.ownerMsp}`);
    if (device.status !== 'active') fail('ERR_STATE', `device ${signed.deviceId} is ${device.status}`);
    const payload = Buffer.from(signed.payload, 'base64');
    if (!verifies(p256Key(device.publicKeyPem), payload, signed.signature)) fail('ERR_SIGNATURE', `the readings are not signed by device ${signed.deviceId}'s current key`);
    const dto = parseDto(SignedReadingsDto, payload.toString('utf8'));
    if (dto.deviceId !== signed.deviceId) fail('ERR_VALIDATION', `the signed payload is device ${dto.deviceId}'s, not ${signed.deviceId}'s`);
    if (dto.seq <= device.lastSeq) fail('ERR_REPLAY', `seq ${dto.seq} is not above the last accepted ${device.lastSeq}`);
    let bounds = new Map<string, { bounds: Bounds; source: string }>();
    if (dto.taskId) {
      const task = await loadTask(ctx, dto.taskId);
      if (!Object.values(task.assignments).includes(device.ownerMsp)) fail('ERR_FORBIDDEN', `task ${task.taskId} has no stage assigned to ${device.ownerMsp}`);
      bounds = templateBounds((await getTemplate(ctx, task.template, task.version)) as Template);
    }
    const txId = ctx.stub.getTxID();
    const alarms: Alarm[] = [];
    const codeLinks: { codeHash: string; at: string; lat?: number; lon?: number }[] = [];
    dto.readings.forEach((r, index) => {
      const limits = [
        ...(Object.prototype.hasOwnProperty.call(device.thresholds, r.metric) ? [{ bounds: device.thresholds[r.metric], source: 'device threshold' }] : []),
        ...(bounds.has(r.metric) ? [bounds.get(r.metric)!] : []),
      ];
      const broken = limits.find((l) => outOfBounds(r.value, l.bounds));
      if (broken) {
        alarms.push({ alarmId: `${dto.deviceId}/${dto.seq}/${index}`, deviceId: dto.deviceId, seq: dto.seq, index, taskId: dto.taskId, metric: r.metric, value: r.value, bounds: broken.bounds, source: broken.source, at: r.at, raisedAt: ctx.txTime });
      }
      if (r.code) codeLinks.push({ codeHash: r.code, at: r.at, lat: r.lat, lon: r.lon });
    });
    const batch: ReadingBatch = {
      deviceId: dto.deviceId,
      seq: dto.seq,
      taskId: dto.taskId,
      digest: createHash('sha256').update(payload).digest('hex'),
      count: dto.readings.length,
      stats: metricStats(dto.readings),
      keyVersion: device.keyVersion,
      submittedBy: ctx.callerMsp,
      submittedAt: ctx.txTime,
      txId,
    };
    await putJson(ctx, key(ctx, KeyType.device, device.deviceId), { ...device, lastSeq: dto.seq, ...NO_ACTOR, updatedAt: ctx.txTime });
    await putJson(ctx, key(ctx, KeyType.reading, device.deviceId, pad(dto.seq, 16)), batch);
    for (const a of alarms) await putJson(ctx, key(ctx, KeyType.alarm, a.deviceId, pad(a.seq, 16), pad(a.index, 4)), a);
    for (const [i, link] of codeLinks.entries()) {
      await putJson(ctx, key(ctx, KeyType.codeLocation, link.codeHash, txId, pad(i, 4)), { ...link, deviceId: dto.deviceId });
    }
    ctx.emit('devices.ReadingsSubmitted', { batch, alarms, codeLinks });
    return canonicalJson({ seq: dto.seq, digest: batch.digest, stats: batch.stats, alarms: alarms.map((a) => a.alarmId) });
  }

  /** Acknowledge an alarm: the device's owner, or a regulator. */
  @Transaction()
  @Returns('string')
  async ackAlarm(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AckAlarmDto, json);
    const member = await requireMember(ctx);
    const [deviceId, seq, index] = dto.alarmId.split('/');
    const k = key(ctx, KeyType.alarm, deviceId, pad(Number(seq), 16), pad(Number(index), 4));
    const alarm = (await getJson<Alarm>(ctx, k)) ?? fail('ERR_NOT_FOUND', `alarm ${dto.alarmId} does not exist`);
    const device = await loadDevice(ctx, deviceId);
    if (device.ownerMsp !== ctx.callerMsp && !member.roles.includes('regulator')) fail('ERR_FORBIDDEN', `alarm ${dto.alarmId} belongs to ${device.ownerMsp}`);
    if (alarm.acked) fail('ERR_STATE', `alarm ${dto.alarmId} was acknowledged by ${alarm.acked.by}`);
    const acked: Alarm = { ...alarm, acked: { by: ctx.callerMsp, ...actorOf(dto), at: ctx.txTime, comment: dto.comment } };
    await putJson(ctx, k, acked);
    ctx.emit('devices.AlarmAcked', { alarm: acked });
    return canonicalJson(acked);
  }

  @Transaction(false)
  @Returns('string')
  async getDevice(ctx: TraceContext, json: string): Promise<string> {
    return canonicalJson(await loadDevice(ctx, parseDto(DeviceRefDto, json).deviceId));
  }

  @Transaction(false)
  @Returns('string')
  async listAlarms(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DevicePageDto, json);
    return canonicalJson(await pageJson<Alarm>(ctx, KeyType.alarm, [dto.deviceId], dto));
  }

  @Transaction(false)
  @Returns('string')
  async listReadings(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DevicePageDto, json);
    return canonicalJson(await pageJson<ReadingBatch>(ctx, KeyType.reading, [dto.deviceId], dto));
  }
}
