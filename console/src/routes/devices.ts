import type { Device } from '@trace/chaincode';
import { PAGES } from '../access';
import { ConsoleError } from '../errors';
import { Call, chainWrite, ConsoleRoute, id, str, user } from '../route-kit';

/** Registering, disabling and re-keying a device decide whose readings the chain accepts: admins only. */
const DEVICE_ADMIN = ['admin'] as const;
/** chain alarm ids: deviceId/seq/index */
const ALARM_ID = /^[A-Za-z0-9_-]{1,64}\/\d{1,16}\/\d{1,4}$/;

/** A device refusal on the field it concerns: the key, the id or the type, else the thresholds the contract checks. */
function deviceFields(code: string, message: string): Record<string, string> {
  if (code !== 'ERR_VALIDATION') return code === 'ERR_CONFLICT' ? { deviceId: message } : {};
  const field = ['publicKeyPem', 'deviceId', 'type'].find((f) => message.includes(f)) ?? 'thresholds';
  return { [field]: message };
}

function pem(call: Call): string {
  const value = str(call.body, 'publicKeyPem') as string;
  if (!value.includes('-----BEGIN PUBLIC KEY-----')) throw new ConsoleError(400, 'ERR_VALIDATION', 'publicKeyPem must be a PEM public key (-----BEGIN PUBLIC KEY-----)', { publicKeyPem: 'a PEM public key' });
  return value;
}

export interface AlarmRow {
  alarm_id: string;
  device_id: string;
  task_id: string | null;
  metric: string;
  value: number;
  at: string;
  acked_at: string | null;
}

/** The org's devices (from the indexer) with their alarms, newest first. */
async function orgDevicesAndAlarms(call: Call) {
  const { indexer, chain } = call.deps;
  const [devices, alarms] = await Promise.all([indexer.get<{ device_id: string }[]>(`/api/devices?owner=${encodeURIComponent(chain.org)}&limit=200`), indexer.get<AlarmRow[]>('/api/alarms?limit=200')]);
  const mine = new Set(devices.map((d) => d.device_id));
  return { devices, alarms: alarms.filter((a) => mine.has(a.device_id)) };
}

/** The alarms of the org's devices, newest first. */
export const orgAlarms = async (call: Call): Promise<AlarmRow[]> => (await orgDevicesAndAlarms(call)).alarms;

async function register(call: Call): Promise<Device> {
  const deviceId = id(str(call.body, 'deviceId') as string, 'deviceId');
  const type = str(call.body, 'type') as string;
  const publicKeyPem = pem(call);
  const thresholds = call.body.thresholds ?? {};
  if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds)) throw new ConsoleError(400, 'ERR_VALIDATION', 'thresholds must be an object of metric → {min?, max?}', { thresholds: 'metric → {min?, max?}' });
  return chainWrite(call, 'devices:registerDevice', deviceId, () => call.deps.chain.client.devices.registerDevice({ deviceId, type: type as Device['type'], publicKeyPem, thresholds: thresholds as Device['thresholds'], actor: user(call).username }), deviceFields);
}

/** 设备: the org's devices, their keys and status, and their alarms. */
export const DEVICE_ROUTES: ConsoleRoute[] = [
  { method: 'get', path: '/api/devices', access: PAGES.devices, summary: "The org's devices and their alarms", handle: orgDevicesAndAlarms },
  { method: 'post', path: '/api/devices', access: DEVICE_ADMIN, summary: 'Register a device {deviceId, type, publicKeyPem (P-256), thresholds?}', handle: register },
  {
    method: 'post', path: '/api/devices/:deviceId/status', access: DEVICE_ADMIN, summary: 'Disable or enable a device {status: active | disabled}',
    handle: (c) => {
      const deviceId = id(c.params.deviceId, 'deviceId');
      const status = c.body.status;
      if (status !== 'active' && status !== 'disabled') throw new ConsoleError(400, 'ERR_VALIDATION', 'status must be active or disabled', { status: 'active or disabled' });
      return chainWrite(c, status === 'disabled' ? 'devices:disable' : 'devices:enable', deviceId, () => c.deps.chain.client.devices.setDeviceStatus({ deviceId, status, actor: user(c).username }));
    },
  },
  {
    method: 'post', path: '/api/devices/:deviceId/key', access: DEVICE_ADMIN, summary: "Rotate a device's key {publicKeyPem}: readings signed by the old key are refused from then on",
    handle: (c) => {
      const deviceId = id(c.params.deviceId, 'deviceId');
      const publicKeyPem = pem(c);
      return chainWrite(c, 'devices:rotateDeviceKey', deviceId, () => c.deps.chain.client.devices.rotateDeviceKey({ deviceId, publicKeyPem, actor: user(c).username }), deviceFields);
    },
  },
  {
    method: 'post', path: '/api/alarms/ack', access: PAGES.devices, summary: 'Acknowledge an alarm of one of the org\'s devices {alarmId, comment?}',
    handle: (c) => {
      const alarmId = str(c.body, 'alarmId') as string;
      if (!ALARM_ID.test(alarmId)) throw new ConsoleError(400, 'ERR_VALIDATION', 'alarmId is not an alarm id (deviceId/seq/index)', { alarmId: 'deviceId/seq/index' });
      const comment = c.body.comment ?? '';
      if (typeof comment !== 'string' || comment.length > 512) throw new ConsoleError(400, 'ERR_VALIDATION', 'comment is text of at most 512 characters', { comment: 'at most 512 characters' });
      return chainWrite(c, 'devices:ackAlarm', alarmId, () => c.deps.chain.client.devices.ackAlarm({ alarmId, comment, actor: user(c).username }));
    },
  },
];
