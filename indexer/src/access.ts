import type { Context, Next } from 'koa';
import type { Db } from './db';
import { ApiError, parseJson, RouteDoc, routeMatcher } from './http';
import { authenticate, Caller, Scope, SCOPES } from './keys';

const RANK: Record<Scope, number> = { public: 0, member: 1, auditor: 2 };

/** The caller of this request, set by `enforceScopes`. */
export const callerOf = (ctx: Context): Caller => ctx.state.caller as Caller;

/**
 * Authenticates the caller and enforces the scope each route declares in the route table: without
 * a key 401, with a key of a lower scope 403. A request no route matches goes on (to a 404 or 405).
 */
export function enforceScopes(db: Db, routes: RouteDoc[]): (ctx: Context, next: Next) => Promise<void> {
  const routeOf = routeMatcher(routes);
  return async (ctx, next) => {
    const caller = await authenticate(db, ctx.get('authorization') || undefined);
    ctx.state.caller = caller;
    const route = routeOf(ctx.method, ctx.path);
    if (route && RANK[caller.scope] < RANK[route.scope]) {
      if (caller.scope === 'public') throw new ApiError(401, 'ERR_UNAUTHORIZED', `this route needs a ${route.scope} API key (Authorization: Bearer <key>)`);
      throw new ApiError(403, 'ERR_FORBIDDEN', `this route needs the ${route.scope} scope; the key has ${caller.scope}`);
    }
    await next();
  };
}

/** Every route must declare one of the scopes; checked when the app is built, so none is left open by mistake. */
export function checkDeclared(routes: RouteDoc[], registered: { method: string; path: string }[]): void {
  for (const r of routes) if (!SCOPES.includes(r.scope)) throw new Error(`route ${r.method} ${r.path} declares no scope`);
  const declared = new Set(routes.map((r) => `${r.method.toUpperCase()} ${r.path}`));
  for (const r of registered) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    if (!declared.has(`${r.method} ${path}`)) throw new Error(`route ${r.method} ${path} is not in the route table`);
  }
}

interface TaskParties {
  owner: string;
  assignments: Record<string, string>;
}

/** Whether the caller sees a task in full: auditors always, members when their org owns the task or records one of its stages. */
export function seesTaskInFull(caller: Caller, task: TaskParties | undefined): boolean {
  if (caller.scope === 'auditor') return true;
  if (caller.scope !== 'member' || !task || !caller.org) return false;
  return task.owner === caller.org || Object.values(task.assignments ?? {}).includes(caller.org);
}

/**
 * Stage data as the caller may see it: in full for the task's own orgs and auditors, otherwise only
 * the items the template's public view lists for the stage (what the consumer page shows). `full`
 * says which: the users (actor) of the task's orgs are shown only in full too.
 */
export async function stageDataFilter(db: Db, caller: Caller, taskId: string): Promise<((stage: string, data: Record<string, unknown>) => Record<string, unknown>) & { full: boolean }> {
  const task = await db.get<{ json: string; template: string; version: number }>('SELECT json, template, version FROM tasks WHERE task_id = ?', taskId);
  if (task && seesTaskInFull(caller, parseJson<TaskParties>(task.json))) return Object.assign((_stage: string, data: Record<string, unknown>) => data, { full: true });
  const tpl = task && parseJson<{ publicView: Record<string, string[]> }>(await db.value<string>('SELECT json FROM templates WHERE id = ? AND version = ?', task.template, task.version));
  return Object.assign((stage: string, data: Record<string, unknown>) => publicItems(tpl?.publicView, stage, data), { full: false });
}

/** An object without its actor unless the caller sees its task in full. */
export const withActorIf = <T extends object>(full: boolean, o: T): T => {
  if (full || !('actor' in o)) return o;
  const { actor: _, ...rest } = o as T & { actor?: unknown };
  return rest as T;
};

/** The items of a stage's data that the template's public view lists (none without a template). */
export function publicItems(publicView: Record<string, string[]> | undefined, stage: string, data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries((publicView?.[stage] ?? []).filter((k) => k in data).map((k) => [k, data[k]]));
}
