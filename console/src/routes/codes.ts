import type { Task } from '@trace/chaincode';
import { codeHash, isValidCode } from '@trace/client';
import { PAGES } from '../access';
import { labelSheet } from '../code-labels';
import { CODE_LEVELS, CodeLevel, MAX_CODES_PER_JOB } from '../code-jobs';
import { ConsoleError } from '../errors';
import { Call, chainWrite, ConsoleRoute, id, str, user } from '../route-kit';

const HASH = /^[0-9a-f]{64}$/;
const JOB_ID = /^[0-9a-f]{16}$/;
/** children one aggregate call packs (the chain's limit per call) */
const MAX_CHILDREN = 1000;
const CLEARABLE = ['clone', 'diversion'] as const;

/** A printed code (its check character verified) or its SHA-256 as on chain, to the hash; else a 400 on the field. */
function hashOf(input: unknown, field: string): string {
  if (typeof input !== 'string' || input.trim() === '') throw new ConsoleError(400, 'ERR_VALIDATION', `${field} is required`, { [field]: 'required' });
  const v = input.trim();
  if (HASH.test(v)) return v;
  if (!isValidCode(v)) throw new ConsoleError(400, 'ERR_VALIDATION', `${v} is not a valid code (21 characters with a matching check character) nor a code hash`, { [field]: `${v}: not a valid code` });
  return codeHash(v);
}

function jobId(call: Call): string {
  if (!JOB_ID.test(call.params.jobId)) throw new ConsoleError(400, 'ERR_VALIDATION', 'jobId is not a job id');
  return call.params.jobId;
}

/** A task as the indexer serves it, 404 when it is not indexed (yet). */
async function indexedTask(call: Call, taskId: string): Promise<Task> {
  return (await call.deps.indexer.get<{ task: Task }>(`/api/tasks/${encodeURIComponent(taskId)}`)).task;
}

/** The org's tasks it may issue codes for: it owns them or packs them (the chain checks again on each batch). */
async function issuableTasks(call: Call): Promise<unknown> {
  const { indexer, chain } = call.deps;
  const rows = await indexer.get<{ task_id: string }[]>('/api/tasks?limit=50');
  const out = [];
  for (const r of rows) {
    const task = await indexedTask(call, r.task_id);
    const template = await chain.template(task.template, task.version);
    const packs = template.stages.some((s) => s.bizStep === 'packing' && task.assignments[s.stage] === chain.org);
    if (task.owner === chain.org || packs) out.push({ taskId: task.taskId, product: task.product, lot: task.lot, owner: task.owner });
  }
  return out;
}

async function startJob(call: Call): Promise<unknown> {
  const taskId = id(str(call.body, 'taskId') as string, 'taskId');
  const level = call.body.level ?? 'item';
  if (!(CODE_LEVELS as readonly unknown[]).includes(level)) throw new ConsoleError(400, 'ERR_VALIDATION', `level must be one of ${CODE_LEVELS.join(', ')}`, { level: 'item, case or pallet' });
  const count = call.body.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_CODES_PER_JOB) {
    throw new ConsoleError(400, 'ERR_VALIDATION', `count must be a whole number from 1 to ${MAX_CODES_PER_JOB}`, { count: `1 – ${MAX_CODES_PER_JOB}` });
  }
  const task = await indexedTask(call, taskId);
  const job = call.deps.codeJobs.start({ taskId, gtin: task.product.gtin, lot: task.lot, level: level as CodeLevel, count, user: user(call).username });
  call.deps.log.info({ evt: 'console.codes_job', user: user(call).username, org: call.deps.chain.org, job: job.id, taskId, count, level });
  return job;
}

/** The finished job's codes as labels: code and Digital Link from its print file. */
async function labels(call: Call): Promise<Buffer> {
  const jobs = call.deps.codeJobs;
  const job = jobs.get(jobId(call));
  const rows = jobs
    .printFile(job.id)
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => l.split(','));
  const pdf = await labelSheet(
    rows.map(([code, , url]) => ({ code, url })),
    { title: `${job.taskId} ${job.gtin} ${job.lot}: ${job.count} ${job.level} codes`, gtin: job.gtin, lot: job.lot },
  );
  call.ctx.type = 'application/pdf';
  call.ctx.attachment(`codes-${job.taskId}-${job.id}.pdf`);
  return pdf;
}

function childrenOf(call: Call, optional: boolean): string[] | undefined {
  const list = call.body.children;
  if (list === undefined && optional) return undefined;
  if (!Array.isArray(list) || list.length === 0) throw new ConsoleError(400, 'ERR_VALIDATION', 'children must list at least one code', { children: 'required' });
  if (list.length > MAX_CHILDREN) throw new ConsoleError(400, 'ERR_VALIDATION', `at most ${MAX_CHILDREN} children per call`, { children: `at most ${MAX_CHILDREN}` });
  return list.map((c) => hashOf(c, 'children'));
}

interface AlertRow {
  id: number;
  type: string;
  code_hash: string | null;
  task_id: string | null;
  message: string | null;
  region: string | null;
  at: string;
  tx_id: string;
}

/**
 * Clone and diversion alerts on the codes of the org's own tasks (only a task's owner clears them), newest first. An
 * alert is open while its code is still marked since that alert (a cleared alert unmarks the code; a later alert marks it
 * again): clone alerts by suspect_since, diversion alerts by diverted_since. With openWanted, it stops once that many
 * open alerts are found (the workbench shows only the newest few).
 */
export async function orgAlerts(call: Call, openWanted = Infinity): Promise<(AlertRow & { open: boolean })[]> {
  const { indexer, chain } = call.deps;
  const alerts = (await Promise.all(CLEARABLE.map((type) => indexer.get<AlertRow[]>(`/api/alerts?type=${type}&limit=100`)))).flat().sort((a, b) => b.id - a.id);
  const owners = new Map<string, Promise<string>>();
  const codes = new Map<string, Promise<{ suspect_since: string | null; diverted_since: string | null }>>();
  const out = [];
  for (const a of alerts) {
    if (!a.task_id || !a.code_hash) continue;
    if (!owners.has(a.task_id)) owners.set(a.task_id, indexedTask(call, a.task_id).then((t) => t.owner));
    if ((await owners.get(a.task_id)) !== chain.org) continue;
    if (!codes.has(a.code_hash)) codes.set(a.code_hash, indexer.get(`/api/codes/${a.code_hash}`));
    const code = await codes.get(a.code_hash)!;
    const since = a.type === 'clone' ? code.suspect_since : code.diverted_since;
    out.push({ ...a, open: since !== null && a.at >= since });
    // newest first: once enough open ones are found, older alerts need no lookups
    if (out.filter((x) => x.open).length >= openWanted) break;
  }
  return out;
}

async function clearAlert(call: Call): Promise<unknown> {
  const codeHash = hashOf(call.body.codeHash, 'codeHash');
  const type = call.body.type;
  if (!(CLEARABLE as readonly unknown[]).includes(type)) throw new ConsoleError(400, 'ERR_VALIDATION', 'type must be clone or diversion', { type: 'clone or diversion' });
  const reason = (str(call.body, 'reason') as string).trim();
  if (reason.length === 0 || reason.length > 512) throw new ConsoleError(400, 'ERR_VALIDATION', 'a reason of 1 to 512 characters is required', { reason: '1 – 512 characters' });
  const cleared = await chainWrite(call, 'codes:clearAlert', `${codeHash} ${type as string}`, () => call.deps.chain.client.codes.clearAlert({ codeHash, type: type as (typeof CLEARABLE)[number], reason, actor: user(call).username }));
  return { codeHash, type, cleared: cleared.clearedAlerts?.at(-1) };
}

async function lookup(call: Call): Promise<unknown> {
  const hash = hashOf(call.params.code, 'code');
  const { indexer } = call.deps;
  const [code, trace] = await Promise.all([indexer.get<Record<string, unknown>>(`/api/codes/${hash}`), indexer.get<Record<string, unknown>>(`/api/trace/code/${hash}`)]);
  return { hash, code, trace };
}

const access = PAGES.codes;

/** 一物一码: issue codes in jobs with their print file and label sheet, pack, look codes up, clear alerts. */
export const CODE_ROUTES: ConsoleRoute[] = [
  { method: 'get', path: '/api/codes/tasks', access, summary: 'The tasks this org may issue codes for (it owns or packs them)', handle: issuableTasks },
  { method: 'get', path: '/api/codes/jobs', access, summary: 'Recent code issuing jobs', handle: (c) => c.deps.codeJobs.recent() },
  { method: 'post', path: '/api/codes/jobs', access, summary: `Issue codes for a task {taskId, level?, count (1 – ${MAX_CODES_PER_JOB})}: a job, issued in batches; poll it for progress`, handle: startJob },
  { method: 'get', path: '/api/codes/jobs/:jobId', access, summary: 'A job and its progress (issued of count, state)', handle: (c) => c.deps.codeJobs.get(jobId(c)) },
  { method: 'post', path: '/api/codes/jobs/:jobId/resume', access, summary: 'Finish an interrupted or failed job (no code is issued twice)', handle: (c) => c.deps.codeJobs.resume(jobId(c)) },
  {
    method: 'get', path: '/api/codes/jobs/:jobId/codes.csv', access, summary: "A finished job's print file (CSV: code, hash, Digital Link url, batch)",
    handle: (c) => {
      const csv = c.deps.codeJobs.printFile(jobId(c));
      c.ctx.type = 'text/csv; charset=utf-8';
      c.ctx.attachment(`codes-${c.params.jobId}.csv`);
      return csv;
    },
  },
  { method: 'get', path: '/api/codes/jobs/:jobId/labels.pdf', access, summary: "A finished job's printable sheet of QR labels (A4, 24 a page)", handle: labels },
  {
    method: 'post', path: '/api/codes/aggregate', access, summary: 'Pack codes into a case or pallet {parent, children: printed codes or hashes}',
    handle: (c) => {
      const parent = hashOf(c.body.parent, 'parent');
      const children = childrenOf(c, false) as string[];
      return chainWrite(c, 'codes:aggregate', `${parent} ${children.length}`, () => c.deps.chain.client.codes.aggregate({ parent, children, actor: user(c).username }));
    },
  },
  {
    method: 'post', path: '/api/codes/disaggregate', access, summary: 'Unpack a case or pallet {parent, children? (all when absent)}',
    handle: (c) => {
      const parent = hashOf(c.body.parent, 'parent');
      const children = childrenOf(c, true);
      return chainWrite(c, 'codes:disaggregate', `${parent} ${children?.length ?? 'all'}`, () => c.deps.chain.client.codes.disaggregate({ parent, children, actor: user(c).username }));
    },
  },
  { method: 'get', path: '/api/codes/lookup/:code', access, summary: 'A code (printed, or its hash): its indexed state and its trace', handle: lookup },
  { method: 'get', path: '/api/codes/alerts', access, summary: "Clone and diversion alerts on the org's codes, open or cleared", handle: orgAlerts },
  { method: 'post', path: '/api/codes/alerts/clear', access, summary: 'Clear an open alert the org judges unfounded {codeHash, type, reason}', handle: clearAlert },
];
