import { allows, PAGES, pagesFor } from './access';
import { ConsoleError } from './errors';
import { IndexedTask } from './indexer-client';
import { dummyHash, verifyPassword } from './passwords';
import { audit, Call, chainWrite, ConsoleRoute, id, str, user } from './route-kit';
import { apiTokenRoutes } from './routes/api-tokens';
import { auditRoutes } from './routes/audits';
import { epcisCaptureRoutes } from './routes/epcis-capture';
import { taskRoutes } from './routes/tasks';
import { closeSession, openSession, Session, SESSION_COOKIE, SESSION_HOURS } from './sessions';
import { CurrentRecord, fieldsOfChainError, fieldsOfFlags, stageForm, templateStage } from './stage-entry';
import { cipherOptions, encryptCipherItems, revealCipherItems } from './cipher/stage-cipher';
import { checkRoles, createUser, findUser, listUsers, setDisabled } from './user-store';
import { CODE_ROUTES, orgAlerts } from './routes/codes';
import { DEVICE_ROUTES, orgAlarms } from './routes/devices';
import { CATALOG_ROUTES } from './routes/catalog';
import { MEMBER_ROUTES } from './routes/members';
import { NETWORK_ROUTES } from './routes/network';
import { ASSET_ROUTES } from './routes/assets';
import { DESIGNER_ROUTES } from './routes/designer';

export { Call, Deps } from './route-kit';

async function login(call: Call): Promise<unknown> {
  const { ctx, deps } = call;
  const username = str(call.body, 'username') as string;
  if (username.length > 64) throw new ConsoleError(400, 'ERR_VALIDATION', 'username is at most 64 characters', { username: 'too long' });
  const password = str(call.body, 'password') as string;
  const keys = [`user:${username}`, `ip:${ctx.ip}`];
  const wait = deps.throttle.wait(keys);
  if (wait > 0) {
    deps.log.warn({ evt: 'console.login_throttled', username, ip: ctx.ip, retryAfter: wait });
    throw new ConsoleError(429, 'ERR_THROTTLED', `too many wrong passwords: try again in ${wait} s`, undefined, wait);
  }
  const found = findUser(deps.db, username);
  const ok = await verifyPassword(password, found?.passwordHash ?? (await dummyHash()));
  if (!found || !ok || found.disabled) {
    // only wrong passwords count towards the throttle: a disabled user's right one is refused the same way
    if (!found || !ok) deps.throttle.fail(keys);
    deps.log.info({ evt: 'console.login', username, ip: ctx.ip, outcome: found?.disabled && ok ? 'disabled' : 'refused' });
    throw new ConsoleError(401, 'ERR_LOGIN', 'wrong username or password, or the user is disabled');
  }
  deps.throttle.succeed(keys[0]);
  const { token, csrf } = openSession(deps.db, found.id);
  ctx.cookies.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: '/', maxAge: SESSION_HOURS * 3_600_000, overwrite: true });
  deps.log.info({ evt: 'console.login', username, ip: ctx.ip, outcome: 'ok' });
  return { user: { username: found.username, roles: found.roles }, org: deps.chain.org, csrf, pages: pagesFor(found.roles) };
}

/** An open task of my org (owned or assigned) and a stage of one that waits for my org, as the indexer lists them. */
interface OpenTask {
  task_id: string;
  gtin: string;
  product_name: string;
  lot: string;
  template: string;
  version: number;
  owner: string;
  stages_recorded: number;
  stages_total: number;
}
interface WaitingStage {
  task_id: string;
  stage: string;
  name: string;
  ready: boolean;
}

/** how many of the newest open alerts and unacknowledged alarms the workbench shows */
const RECENT = 5;

/**
 * My org's open tasks and the stages in them assigned to it and not recorded yet (two indexer calls, three for QA,
 * however many tasks), and the newest open alerts on its codes and unacknowledged alarms of its devices.
 */
async function workbench(call: Call): Promise<unknown> {
  const { indexer, chain } = call.deps;
  const org = encodeURIComponent(chain.org);
  // a QA user also sees how many records wait for the org's audit
  const auditing = allows(PAGES.audit, user(call).roles);
  const [open, waiting, audits, alerts, alarms] = await Promise.all([
    indexer.get<OpenTask[]>(`/api/tasks?org=${org}&audited=false&limit=50`),
    indexer.get<WaitingStage[]>(`/api/stages?assignedTo=${org}&status=waiting&limit=500`),
    auditing ? indexer.get<unknown[]>(`/api/stages?awaitingAuditBy=${org}&limit=500`) : undefined,
    orgAlerts(call, RECENT),
    orgAlarms(call),
  ]);
  const tasks = open.map((t) => ({
    taskId: t.task_id, product: { gtin: t.gtin, name: t.product_name }, lot: t.lot, template: t.template, version: t.version, owner: t.owner, recorded: t.stages_recorded, stages: t.stages_total,
    waiting: waiting.filter((w) => w.task_id === t.task_id).map((w) => ({ stage: w.stage, name: w.name, ready: w.ready })),
  }));
  return {
    org: chain.org,
    tasks,
    auditsWaiting: audits?.length,
    alerts: alerts.filter((a) => a.open).slice(0, RECENT).map((a) => ({ type: a.type, codeHash: a.code_hash, taskId: a.task_id, message: a.message, at: a.at })),
    alarms: alarms.filter((a) => !a.acked_at).slice(0, RECENT).map((a) => ({ deviceId: a.device_id, taskId: a.task_id, metric: a.metric, value: a.value, at: a.at })),
  };
}

async function taskAndTemplate(call: Call) {
  const taskId = id(call.params.taskId, 'taskId');
  const stage = id(call.params.stage, 'stage');
  const { task, records, audits } = await call.deps.indexer.get<IndexedTask>(`/api/tasks/${encodeURIComponent(taskId)}`);
  const template = await call.deps.chain.template(task.template, task.version);
  const last = records.filter((r) => r.stage === stage).sort((a, b) => a.version - b.version).pop();
  const current: CurrentRecord | undefined = last && { version: last.version, eventTime: last.event_time, location: last.location ?? undefined, data: last.data, flags: last.flags };
  return { task, template, stage, current, audits: audits.filter((a) => a.stage === stage) };
}

interface IndexedReading {
  device_id: string;
  seq: number;
  task_id: string | null;
  count: number;
  stats: Record<string, { count: number; min: number; max: number }>;
  submitted_at: string;
}

/** The org's own devices' reading batches for the task (the clerk compares them with what the form says). */
async function taskReadings(call: Call, taskId: string) {
  const { indexer, chain } = call.deps;
  const devices = await indexer.get<{ device_id: string }[]>(`/api/devices?owner=${encodeURIComponent(chain.org)}&limit=100`);
  const details = await Promise.all(devices.map((d) => indexer.get<{ readings: IndexedReading[] }>(`/api/devices/${encodeURIComponent(d.device_id)}`)));
  return details
    .flatMap((d) => d.readings)
    .filter((r) => r.task_id === taskId)
    .map((r) => ({ deviceId: r.device_id, seq: r.seq, submittedAt: r.submitted_at, count: r.count, stats: r.stats }))
    .sort((a, b) => a.submittedAt.localeCompare(b.submittedAt));
}

async function getStageForm(call: Call): Promise<unknown> {
  const { task, template, stage, current, audits } = await taskAndTemplate(call);
  if (task.assignments[stage] !== call.deps.chain.org) throw new ConsoleError(403, 'ERR_NOT_ASSIGNED', `stage '${stage}' of task ${task.taskId} is assigned to ${task.assignments[stage]}, not ${call.deps.chain.org}`);
  const items = templateStage(template, stage).items;
  // encrypted items: the current values this org can read, and whom new values may be encrypted for
  const revealed = current && revealCipherItems(items, current.data, call.deps.orgKeys);
  const form = stageForm(task, template, stage, current && revealed && { ...current, data: revealed.data });
  // the audits of the stage tell the clerk why an amendment is needed (a rejection's comment)
  return {
    ...form,
    cipher: await cipherOptions(items, task.owner, current?.data, call.deps),
    encryptedFor: revealed?.encryptedFor ?? {},
    warnings: current ? fieldsOfFlags(template, stage, current.flags) : {},
    audits: audits.map((a) => ({ verdict: a.verdict, comment: a.comment, auditor: a.auditor, at: a.at, recordVersion: a.record_version })),
    readings: await taskReadings(call, task.taskId),
  };
}

/** Records the stage, or amends it when a reason is given; the chain checks everything, the console maps its refusal to fields. */
async function submitStage(call: Call): Promise<unknown> {
  const { template, stage, task } = await taskAndTemplate(call);
  const eventTime = str(call.body, 'eventTime') as string;
  const location = str(call.body, 'location', true);
  const reason = str(call.body, 'reason', true);
  const data = call.body.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConsoleError(400, 'ERR_VALIDATION', 'data must be an object of item values');
  const sealed = await encryptCipherItems(templateStage(template, stage).items, data as Record<string, unknown>, call.body.recipients, call.deps.orgKeys);
  const action = reason === undefined ? 'trace:recordStage' : 'trace:amendStage';
  const record = await chainWrite(
    call,
    action,
    `${task.taskId}/${stage}`,
    () => call.deps.chain.record({ taskId: task.taskId, stage, eventTime, location, data: sealed, reason, actor: user(call).username }),
    (code, message) => fieldsOfChainError(template, stage, code, message),
  );
  return { record, warnings: fieldsOfFlags(template, stage, record.flags) };
}

export const ROUTES: ConsoleRoute[] = [
  { method: 'post', path: '/api/login', access: 'public', summary: 'Log in {username, password}: a session cookie and the CSRF token', handle: login },
  {
    method: 'get', path: '/api/session', access: 'user', summary: 'The signed-in user, the org, the CSRF token and the pages the user may open',
    handle: (c) => ({ user: { username: user(c).username, roles: user(c).roles }, org: c.deps.chain.org, csrf: c.session?.csrf, pages: pagesFor(user(c).roles) }),
  },
  {
    method: 'post', path: '/api/logout', access: 'user', summary: 'End the session',
    handle: (c) => {
      closeSession(c.deps.db, c.session as Session);
      c.ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', secure: c.ctx.secure, path: '/', maxAge: 0 });
      return { ok: true };
    },
  },
  { method: 'get', path: '/api/workbench', access: PAGES.workbench, summary: "My org's open tasks and the stages waiting for it", handle: workbench },
  { method: 'get', path: '/api/tasks/:taskId/stages/:stage', access: PAGES.stageEntry, summary: 'The stage form from the on-chain template version, with the current record', handle: getStageForm },
  { method: 'post', path: '/api/tasks/:taskId/stages/:stage', access: PAGES.stageEntry, summary: 'Record the stage {eventTime, location?, data}, or amend it with {reason}', handle: submitStage },
  ...taskRoutes,
  ...auditRoutes,
  ...epcisCaptureRoutes, ...apiTokenRoutes,
  { method: 'get', path: '/api/users', access: PAGES.users, summary: "The org's console users", handle: (c) => listUsers(c.deps.db) },
  {
    method: 'post', path: '/api/users', access: PAGES.users, summary: 'Create a user {username, password, roles}',
    handle: async (c) => {
      const created = await createUser(c.deps.db, { username: c.body.username, password: c.body.password, roles: checkRoles(c.body.roles) }, user(c).username);
      audit(c, 'users:create', created.username, 'ok');
      return created;
    },
  },
  {
    method: 'post', path: '/api/users/:username/status', access: PAGES.users, summary: 'Disable or enable a user {disabled}',
    handle: (c) => {
      if (typeof c.body.disabled !== 'boolean') throw new ConsoleError(400, 'ERR_VALIDATION', 'disabled must be true or false');
      if (c.params.username === user(c).username) throw new ConsoleError(400, 'ERR_SELF', 'an admin cannot disable their own user');
      const changed = setDisabled(c.deps.db, c.params.username, c.body.disabled);
      audit(c, c.body.disabled ? 'users:disable' : 'users:enable', changed.username, 'ok');
      return changed;
    },
  },
  {
    method: 'get', path: '/api/audit-log', access: PAGES.users, summary: 'Who did which write, newest first, refusals included (the chain names the user of each accepted record too)',
    handle: (c) => c.deps.db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT 200').all(),
  },
  ...CODE_ROUTES,
  ...DEVICE_ROUTES,
  ...CATALOG_ROUTES,
  ...MEMBER_ROUTES,
  ...NETWORK_ROUTES,
  ...ASSET_ROUTES,
  ...DESIGNER_ROUTES,
];
