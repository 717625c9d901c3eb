import type { Context } from 'koa';
import type { StageRecord, Task } from '@trace/chaincode';
import type { Violation } from '@trace/chaincode/dist/src/rules/cross-validation';
import type { Logger } from 'pino';
import { Access, PAGES, pagesFor } from './access';
import { chainError, OrgChain } from './chain';
import { Db, logWrite } from './db';
import { ConsoleError } from './errors';
import { IndexerClient } from './indexer-client';
import { LoginThrottle } from './login-throttle';
import { dummyHash, verifyPassword } from './passwords';
import { closeSession, openSession, Session, SESSION_COOKIE, SESSION_HOURS } from './sessions';
import { CurrentRecord, fieldsOfChainError, fieldsOfFlags, stageForm, waitingStages } from './stage-entry';
import { checkRoles, createUser, findUser, listUsers, setDisabled } from './user-store';
import { CodeJobs } from './code-jobs';
import { CODE_ROUTES } from './routes/codes';
import { DEVICE_ROUTES } from './routes/devices';

export interface Deps {
  db: Db;
  chain: OrgChain;
  indexer: IndexerClient;
  throttle: LoginThrottle;
  log: Logger;
  codeJobs: CodeJobs;
}

export interface Call {
  ctx: Context;
  deps: Deps;
  /** present on every route but public ones */
  session?: Session;
  body: Record<string, unknown>;
  params: Record<string, string>;
}

/** One API route: who may call it is declared here and enforced from here (writes also need the CSRF token). */
export interface ConsoleRoute {
  method: 'get' | 'post';
  path: string;
  access: Access;
  summary: string;
  handle(call: Call): Promise<unknown> | unknown;
}

/** The indexer's task detail: the task as on chain, its records as indexed rows (every version, in event order). */
interface IndexedTask {
  task: Task;
  records: { stage: string; version: number; event_time: string; location: string | null; data: Record<string, unknown>; flags: Violation[] }[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function id(value: string, name: string): string {
  if (!ID.test(value)) throw new ConsoleError(400, 'ERR_VALIDATION', `${name} is not a valid id`);
  return value;
}

export function str(body: Record<string, unknown>, name: string, optional = false): string | undefined {
  const v = body[name];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new ConsoleError(400, 'ERR_VALIDATION', `${name} is required`, { [name]: 'required' });
  return v;
}

export const user = (call: Call) => call.session?.user as NonNullable<Call['session']>['user'];

export function audit(call: Call, action: string, subject: string, outcome: string, txId?: string): void {
  logWrite(call.deps.db, { username: user(call).username, org: call.deps.chain.org, action, subject, outcome, txId });
}

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

/** My org's open tasks (from the indexer) and the stages in them assigned to this org that are not recorded yet. */
async function workbench(call: Call): Promise<unknown> {
  const { indexer, chain } = call.deps;
  const open = await indexer.get<{ task_id: string }[]>('/api/tasks?audited=false&limit=50');
  const tasks = [];
  for (const t of open) {
    const { task, records } = await indexer.get<IndexedTask>(`/api/tasks/${encodeURIComponent(t.task_id)}`);
    const mine = task.owner === chain.org || Object.values(task.assignments).includes(chain.org);
    if (!mine) continue;
    const template = await chain.template(task.template, task.version);
    const recorded = new Set(records.map((r) => r.stage));
    tasks.push({ taskId: task.taskId, product: task.product, lot: task.lot, template: task.template, version: task.version, owner: task.owner, recorded: recorded.size, stages: template.stages.length, waiting: waitingStages(task, template, recorded, chain.org) });
  }
  return { org: chain.org, tasks };
}

async function taskAndTemplate(call: Call) {
  const taskId = id(call.params.taskId, 'taskId');
  const stage = id(call.params.stage, 'stage');
  const { task, records } = await call.deps.indexer.get<IndexedTask>(`/api/tasks/${encodeURIComponent(taskId)}`);
  const template = await call.deps.chain.template(task.template, task.version);
  const last = records.filter((r) => r.stage === stage).sort((a, b) => a.version - b.version).pop();
  const current: CurrentRecord | undefined = last && { version: last.version, eventTime: last.event_time, location: last.location ?? undefined, data: last.data, flags: last.flags };
  return { task, template, stage, current };
}

async function getStageForm(call: Call): Promise<unknown> {
  const { task, template, stage, current } = await taskAndTemplate(call);
  if (task.assignments[stage] !== call.deps.chain.org) throw new ConsoleError(403, 'ERR_NOT_ASSIGNED', `stage '${stage}' of task ${task.taskId} is assigned to ${task.assignments[stage]}, not ${call.deps.chain.org}`);
  const form = stageForm(task, template, stage, current);
  return { ...form, warnings: current ? fieldsOfFlags(template, stage, current.flags) : {} };
}

/** Records the stage, or amends it when a reason is given; the chain checks everything, the console maps its refusal to fields. */
async function submitStage(call: Call): Promise<unknown> {
  const { template, stage, task } = await taskAndTemplate(call);
  const eventTime = str(call.body, 'eventTime') as string;
  const location = str(call.body, 'location', true);
  const reason = str(call.body, 'reason', true);
  const data = call.body.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConsoleError(400, 'ERR_VALIDATION', 'data must be an object of item values');
  const action = reason === undefined ? 'trace:recordStage' : 'trace:amendStage';
  const subject = `${task.taskId}/${stage}`;
  const { chain, log } = call.deps;
  let record: StageRecord;
  try {
    record = await chain.record({ taskId: task.taskId, stage, eventTime, location, data: data as Record<string, unknown>, reason, actor: user(call).username });
  } catch (e) {
    const err = chainError(e, (code, message) => fieldsOfChainError(template, stage, code, message));
    audit(call, action, subject, err.code);
    log.info({ evt: 'console.write', user: user(call).username, org: chain.org, action, subject, outcome: err.code });
    throw err;
  }
  audit(call, action, subject, 'ok', record.txId);
  log.info({ evt: 'console.write', user: user(call).username, org: chain.org, action, subject, outcome: 'ok', txId: record.txId });
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
];
