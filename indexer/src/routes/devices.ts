import { ApiError, ID, oneOf, page, param, parseJson, RouteModule } from '../http';

interface AlarmRow {
  bounds: string;
}
const alarm = (a: AlarmRow) => ({ ...a, bounds: JSON.parse(a.bounds) as object });

/** IoT devices, their reading batches (digest and per-metric stats) and the alarms they raised. */
export const deviceRoutes: RouteModule = {
  routes: [
    { method: 'get', path: '/api/devices', scope: 'member', summary: 'Devices with their open alarm count (owner, status, limit, offset)', query: ['owner', 'status', 'limit', 'offset'] },
    { method: 'get', path: '/api/devices/{deviceId}', scope: 'member', summary: 'A device with its latest reading batches and its alarms' },
    { method: 'get', path: '/api/alarms', scope: 'member', summary: 'Sensor alarms, newest first (taskId, acked=true|false, limit, offset)', query: ['taskId', 'acked', 'limit', 'offset'] },
  ],
  register(router, { db }) {
    router.get('/api/devices', (ctx) => {
      const { limit, offset } = page(ctx.query);
      const owner = ctx.query.owner === undefined ? null : param(String(ctx.query.owner), ID, 'owner');
      const status = oneOf(ctx.query.status, ['active', 'disabled'], 'status') ?? null;
      ctx.body = (
        db
          .prepare(
            `SELECT d.*, (SELECT count(*) FROM alarms a WHERE a.device_id = d.device_id AND a.acked_by IS NULL) AS open_alarms
             FROM devices d WHERE (? IS NULL OR owner_msp = ?) AND (? IS NULL OR status = ?) ORDER BY device_id LIMIT ? OFFSET ?`,
          )
          .all(owner, owner, status, status, limit, offset) as { thresholds: string }[]
      ).map((d) => ({ ...d, thresholds: JSON.parse(d.thresholds) as object }));
    });
    router.get('/api/devices/:deviceId', (ctx) => {
      const deviceId = param(ctx.params.deviceId, ID, 'deviceId');
      const device = db.prepare('SELECT * FROM devices WHERE device_id = ?').get(deviceId) as { thresholds: string } | undefined;
      if (!device) throw new ApiError(404, 'ERR_NOT_FOUND', `device ${deviceId} is not indexed`);
      const readings = (db.prepare('SELECT * FROM readings WHERE device_id = ? ORDER BY seq DESC LIMIT 100').all(deviceId) as { stats: string }[]).map((r) => ({ ...r, stats: JSON.parse(r.stats) as object }));
      const alarms = (db.prepare('SELECT * FROM alarms WHERE device_id = ? ORDER BY at DESC LIMIT 100').all(deviceId) as AlarmRow[]).map(alarm);
      ctx.body = { ...device, thresholds: parseJson(device.thresholds), readings, alarms };
    });
    router.get('/api/alarms', (ctx) => {
      const { limit, offset } = page(ctx.query);
      const taskId = ctx.query.taskId === undefined ? null : param(String(ctx.query.taskId), ID, 'taskId');
      const acked = oneOf(ctx.query.acked, ['true', 'false'], 'acked');
      const ackedFilter = acked === undefined ? '' : acked === 'true' ? 'AND acked_by IS NOT NULL' : 'AND acked_by IS NULL';
      ctx.body = (db.prepare(`SELECT * FROM alarms WHERE (? IS NULL OR task_id = ?) ${ackedFilter} ORDER BY at DESC, alarm_id LIMIT ? OFFSET ?`).all(taskId, taskId, limit, offset) as AlarmRow[]).map(alarm);
    });
  },
};
