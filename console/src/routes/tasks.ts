import type { Member, Product } from '@trace/chaincode';
import { allPages } from '@trace/client';
import { PAGES } from '../access';
import { ConsoleError } from '../errors';
import { IndexedTask } from '../indexer-client';
import { Call, chainWrite, ConsoleRoute, id, indexerPage, user } from '../route-kit';
import { taskTimeline } from '../task-timeline';

/** A page of my org's tasks (owned, or with a stage assigned to it), newest first. */
async function listTasks(call: Call): Promise<unknown> {
  const { rows, ...page } = await indexerPage(call, `/api/tasks?org=${encodeURIComponent(call.deps.chain.org)}`);
  return { tasks: rows, ...page };
}

/** The task, its stages (assigned org, current version) and its timeline. */
async function taskDetail(call: Call): Promise<unknown> {
  const taskId = id(call.params.taskId, 'taskId');
  const detail = await call.deps.indexer.get<IndexedTask>(`/api/tasks/${encodeURIComponent(taskId)}`);
  const { task } = detail;
  const template = await call.deps.chain.template(task.template, task.version);
  const current = (stage: string) => Math.max(0, ...detail.records.filter((r) => r.stage === stage).map((r) => r.version)) || undefined;
  return {
    task,
    templateName: template.name,
    stages: template.stages.map((s) => ({ stage: s.stage, name: s.name, assignedTo: task.assignments[s.stage], requiresAudit: s.requiresAudit, version: current(s.stage) })),
    timeline: taskTimeline(detail, template),
  };
}

/** What the new task form offers, read from the chain: the products this org may open tasks for, published template versions, active members with their roles. */
async function taskOptions(call: Call): Promise<unknown> {
  const { client, org } = call.deps.chain;
  const [products, templates, members] = await Promise.all([
    allPages((p) => client.catalog.listProducts(p)),
    allPages((p) => client.process.listTemplates(p)),
    allPages((p) => client.consortium.listMembers(p)),
  ]);
  return {
    org,
    products: products.filter((p: Product) => p.status === 'active' && (p.ownerMsp === org || (p.delegates ?? []).includes(org))).map((p) => ({ gtin: p.gtin, name: p.name })),
    templates: templates.map((t) => ({ id: t.id, version: t.version, name: t.name })),
    members: members.filter((m: Member) => m.status === 'active').map((m) => ({ mspId: m.mspId, name: m.name, roles: m.roles })),
  };
}

/** A template version's stages (with the role each needs, for its assignment) and default regions, as published. */
async function templateVersion(call: Call): Promise<unknown> {
  const version = Number(call.params.version);
  if (!Number.isInteger(version) || version < 1) throw new ConsoleError(400, 'ERR_VALIDATION', 'version must be a positive integer');
  const t = await call.deps.chain.template(id(call.params.id, 'template'), version);
  return { id: t.id, version: t.version, name: t.name, authorizedRegions: t.authorizedRegions, stages: t.stages.map((s) => ({ stage: s.stage, name: s.name, role: s.role })) };
}

const TASK_FIELDS = ['taskId', 'template', 'version', 'product', 'lot', 'plannedQuantity', 'unit', 'assignments', 'authorizedRegions'];

/** The form field a createTask refusal concerns: a DTO problem names its property, an assignment problem its stage. */
export function fieldsOfTaskError(code: string, message: string): Record<string, string> {
  const stage = /^stage '([^']+)'/.exec(message)?.[1];
  if (stage) return { [`assignments.${stage}`]: message };
  if (code === 'ERR_CONFLICT') return /^lot /.test(message) ? { lot: message } : { taskId: message };
  const fields: Record<string, string> = {};
  for (const problem of message.split('; ')) {
    const field = /^([A-Za-z]+)/.exec(problem)?.[1];
    if (field && TASK_FIELDS.includes(field)) fields[field] ??= problem;
  }
  return fields;
}

/** Opens a task on chain; the chain checks the template version, the product, the lot and every assignment. */
async function createTask(call: Call): Promise<unknown> {
  const b = call.body;
  const product = b.product as { gtin?: unknown; name?: unknown } | undefined;
  if (typeof product !== 'object' || product === null) throw new ConsoleError(400, 'ERR_VALIDATION', 'product {gtin, name} is required', { product: 'required' });
  const dto = {
    taskId: b.taskId, template: b.template, version: b.version, product: { gtin: product.gtin, name: product.name }, lot: b.lot,
    plannedQuantity: b.plannedQuantity, unit: b.unit, assignments: b.assignments, authorizedRegions: b.authorizedRegions, actor: user(call).username,
  } as Parameters<typeof call.deps.chain.client.trace.createTask>[0];
  return chainWrite(call, 'trace:createTask', String(b.taskId), () => call.deps.chain.client.trace.createTask(dto), fieldsOfTaskError);
}

export const taskRoutes: ConsoleRoute[] = [
  { method: 'get', path: '/api/tasks', access: PAGES.tasks, summary: "A page of my org's tasks from the indexer (offset)", handle: listTasks },
  { method: 'get', path: '/api/tasks/:taskId', access: PAGES.tasks, summary: 'A task with its stages and its timeline of records, amendments and audits', handle: taskDetail },
  { method: 'get', path: '/api/task-options', access: PAGES.taskCreate, summary: 'Products, template versions and members for a new task', handle: taskOptions },
  { method: 'get', path: '/api/templates/:id/versions/:version', access: PAGES.taskCreate, summary: "A template version's stages and default regions", handle: templateVersion },
  { method: 'post', path: '/api/tasks', access: PAGES.taskCreate, summary: 'Create a task {taskId, template, version, product {gtin, name}, lot, plannedQuantity, unit, assignments, authorizedRegions?}', handle: createTask },
];
