import { z } from 'zod';
import { callerOf } from '../access';
import { ApiError, parseJson, route, RouteModule } from '../http';
import { Caller } from '../keys';
import { AlarmRow, BoolWord, DeviceRow, Id, Int, PAGE, ReadingRow } from '../schemas';
import { handle } from '../validation';

interface StoredAlarm {
  bounds: string;
  acked_by: string | null;
  acked_actor: string | null;
}
/** An alarm as the caller sees it: the acknowledging org's user only for that org and auditors. */
const alarm = (caller: Caller, a: StoredAlarm) => ({ ...a, bounds: JSON.parse(a.bounds) as object, acked_actor: caller.scope === 'auditor' || caller.org === a.acked_by ? a.acked_actor : null });

const R = {
  devices: route({
    method: 'get', path: '/api/devices', scope: 'member', summary: 'Devices with their open alarm count (owner, status, limit, offset)',
    query: z.object({ owner: Id.optional(), status: z.enum(['active', 'disabled']).optional(), ...PAGE }),
    response: { description: 'devices', schema: z.array(DeviceRow.extend({ open_alarms: Int })) },
  }),
  device: route({
    method: 'get', path: '/api/devices/{deviceId}', scope: 'member', summary: 'A device with its latest reading batches and its alarms', errors: [404],
    params: z.object({ deviceId: Id }),
    response: { description: 'the device', schema: DeviceRow.extend({ readings: z.array(ReadingRow), alarms: z.array(AlarmRow) }) },
  }),
  alarms: route({
    method: 'get', path: '/api/alarms', scope: 'member', summary: 'Sensor alarms, newest first (taskId, acked=true|false, limit, offset)',
    query: z.object({ taskId: Id.optional(), acked: BoolWord.optional(), ...PAGE }),
    response: { description: 'alarms', schema: z.array(AlarmRow) },
  }),
};

/** IoT devices, their reading batches (digest and per-metric stats) and the alarms they raised. */
export const deviceRoutes: RouteModule = {
  routes: Object.values(R),
  register(router, { db }) {
    handle(router, R.devices, async (ctx, { query: { limit, offset, ...q } }) => {
      const owner = q.owner ?? null;
      const status = q.status ?? null;
      ctx.body = (
        await db.all<{ thresholds: string }>(
          `SELECT d.*, (SELECT count(*) FROM alarms a WHERE a.device_id = d.device_id AND a.acked_by IS NULL) AS open_alarms
           FROM devices d WHERE (CAST(? AS TEXT) IS NULL OR owner_msp = ?) AND (CAST(? AS TEXT) IS NULL OR status = ?) ORDER BY device_id LIMIT ? OFFSET ?`,
          owner, owner, status, status, limit, offset,
        )
      ).map((d) => ({ ...d, thresholds: JSON.parse(d.thresholds) as object }));
    });
    handle(router, R.device, async (ctx, { params: { deviceId } }) => {
      const device = await db.get<{ thresholds: string }>('SELECT * FROM devices WHERE device_id = ?', deviceId);
      if (!device) throw new ApiError(404, 'ERR_NOT_FOUND', `device ${deviceId} is not indexed`);
      const readings = (await db.all<{ stats: string }>('SELECT * FROM readings WHERE device_id = ? ORDER BY seq DESC LIMIT 100', deviceId)).map((r) => ({ ...r, stats: JSON.parse(r.stats) as object }));
      const alarms = (await db.all<StoredAlarm>('SELECT * FROM alarms WHERE device_id = ? ORDER BY at DESC LIMIT 100', deviceId)).map((a) => alarm(callerOf(ctx), a));
      ctx.body = { ...device, thresholds: parseJson(device.thresholds), readings, alarms };
    });
    handle(router, R.alarms, async (ctx, { query: { limit, offset, acked, ...q } }) => {
      const taskId = q.taskId ?? null;
      const ackedFilter = acked === undefined ? '' : acked === 'true' ? 'AND acked_by IS NOT NULL' : 'AND acked_by IS NULL';
      ctx.body = (await db.all<StoredAlarm>(`SELECT * FROM alarms WHERE (CAST(? AS TEXT) IS NULL OR task_id = ?) ${ackedFilter} ORDER BY at DESC, alarm_id LIMIT ? OFFSET ?`, taskId, taskId, limit, offset)).map((a) => alarm(callerOf(ctx), a));
    });
  },
};
