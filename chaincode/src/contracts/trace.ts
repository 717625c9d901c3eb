import { Info, Returns, Transaction } from 'fabric-contract-api';
import { getMember, requireMember } from '../ledger/access';
import { actorOf } from '../ledger/actor';
import { TraceContext } from '../ledger/context';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key, pad } from '../ledger/keys';
import { getJson, listJson, putJson } from '../ledger/state';
import { Role } from '../model/consortium';
import { Template, TemplateStage } from '../model/process';
import { AmendStageDto, AuditStageDto, AuditTaskDto, CreateTaskDto, RecordStageDto, StageAudit, StageRecord, Task, TaskAudit, TaskRefDto } from '../model/trace';
import { auditRefusal, standingAudit } from '../rules/audits';
import { mayCreateTask } from '../rules/authority';
import { canonical, CanonicalJson, canonicalJson } from '../rules/canonical-json';
import { evaluateRules, parseRef, ruleRefs, RuleReferenceError, StageValues, Value, Violation } from '../rules/cross-validation';
import { checkStageData, ItemValue } from '../rules/items';
import { checkStageOrder, RecordedStage } from '../rules/stage-order';
import { getLocation, getProduct } from './catalog';
import { getRetirement, getTemplate } from './process';
import { BaseContract } from './base';
import { msOf } from '../rules/time';

const AUDITORS: readonly Role[] = ['inspector', 'auditor', 'regulator'];
const TASK_CREATORS: readonly Role[] = ['brand', 'operator', 'producer'];

export async function loadTask(ctx: TraceContext, taskId: string): Promise<Task> {
  return (await getJson<Task>(ctx, key(ctx, KeyType.task, taskId))) ?? fail('ERR_NOT_FOUND', `task ${taskId} does not exist`);
}

async function loadTemplate(ctx: TraceContext, task: Task): Promise<Template> {
  return (await getTemplate(ctx, task.template, task.version)) ?? fail('ERR_NOT_FOUND', `template ${task.template} version ${task.version} is not published`);
}

export function getRecord(ctx: TraceContext, taskId: string, stage: string): Promise<StageRecord | undefined> {
  return getJson<StageRecord>(ctx, key(ctx, KeyType.record, taskId, stage));
}

/** The audit that decides the stage's standing for its current record version (see standingAudit). */
async function effectiveAudit(ctx: TraceContext, record: StageRecord | undefined): Promise<StageAudit | undefined> {
  if (!record) return undefined;
  return standingAudit(await listJson<StageAudit>(ctx, KeyType.audit, [record.taskId, record.stage]), record.version);
}

export async function getTaskAudit(ctx: TraceContext, taskId: string): Promise<TaskAudit | undefined> {
  return getJson<TaskAudit>(ctx, key(ctx, KeyType.taskAudit, taskId));
}

function stageOf(template: Template, stage: string): TemplateStage {
  return template.stages.find((s) => s.stage === stage) ?? fail('ERR_NOT_FOUND', `stage '${stage}' is not part of template ${template.id} v${template.version}`);
}

/** Runs every rule touching `stage`, with `values` standing in for that stage; rejects on the first reject rule. */
async function crossValidate(ctx: TraceContext, template: Template, taskId: string, stage: string, values: StageValues): Promise<Violation[]> {
  const touching = template.rules.filter((r) => ruleRefs(r).some((ref) => parseRef(ref).stage === stage));
  const stages: Record<string, StageValues | undefined> = { [stage]: values };
  for (const rule of touching) {
    for (const ref of ruleRefs(rule)) {
      const s = parseRef(ref).stage;
      if (s in stages) continue;
      const rec = await getRecord(ctx, taskId, s);
      stages[s] = rec ? { eventTime: rec.eventTime, data: rec.data as Record<string, Value> } : undefined;
    }
  }
  let violations: Violation[];
  try {
    violations = evaluateRules(touching, stage, stages);
  } catch (e) {
    if (e instanceof RuleReferenceError) fail('ERR_VALIDATION', e.message);
    throw e;
  }
  const rejected = violations.find((v) => v.severity === 'reject');
  if (rejected) fail('ERR_CROSS_VALIDATION', `rule '${rejected.ruleId}': ${rejected.message}`);
  return violations;
}

/** Checks who may write a stage: the assigned org, an active member holding the stage's role. */
async function requireAssignee(ctx: TraceContext, task: Task, node: TemplateStage): Promise<void> {
  const member = await requireMember(ctx);
  const assigned = task.assignments[node.stage];
  if (assigned !== ctx.callerMsp) fail('ERR_FORBIDDEN', `stage '${node.stage}' of task ${task.taskId} is assigned to ${assigned}, not ${ctx.callerMsp}`);
  if (!member.roles.includes(node.role)) fail('ERR_FORBIDDEN', `stage '${node.stage}' needs the role ${node.role}`);
}

async function checkLocation(ctx: TraceContext, id: string | undefined): Promise<void> {
  if (id === undefined) return;
  const location = (await getLocation(ctx, id)) ?? fail('ERR_NOT_FOUND', `location ${id} is not defined`);
  if (location.status !== 'active') fail('ERR_STATE', `location ${id} is ${location.status}`);
}

function checkData(node: TemplateStage, data: Record<string, unknown>): Record<string, ItemValue> {
  const problems = checkStageData(node.items, data);
  if (problems.length > 0) fail('ERR_VALIDATION', `stage '${node.stage}': ${problems.join('; ')}`);
  return data as Record<string, ItemValue>;
}

/** Writes a stage record version as current and into the version history; answers it serialised once, for the event and the answer. */
async function saveRecord(
  ctx: TraceContext,
  dto: RecordStageDto,
  data: Record<string, ItemValue>,
  flags: Violation[],
  version: number,
  reason?: string,
): Promise<CanonicalJson> {
  const record: StageRecord = {
    taskId: dto.taskId,
    stage: dto.stage,
    version,
    eventTime: dto.eventTime,
    location: dto.location,
    data,
    recordedBy: ctx.callerMsp,
    ...actorOf(dto),
    recordedAt: ctx.txTime,
    txId: ctx.stub.getTxID(),
    flags,
    reason,
  };
  const json = canonical(record);
  await putJson(ctx, key(ctx, KeyType.record, record.taskId, record.stage), json);
  await putJson(ctx, key(ctx, KeyType.recordVersion, record.taskId, record.stage, pad(record.version)), json);
  return json;
}

/** The task, its template and the stage node, once the caller may write that stage of an open task. */
async function openStage(ctx: TraceContext, taskId: string, stage: string): Promise<{ task: Task; template: Template; node: TemplateStage }> {
  const task = await loadTask(ctx, taskId);
  const template = await loadTemplate(ctx, task);
  const node = stageOf(template, stage);
  await requireAssignee(ctx, task, node);
  if ((await getTaskAudit(ctx, task.taskId))?.verdict === 'approved') fail('ERR_LOCKED', `task ${task.taskId} is audited and closed`);
  return { task, template, node };
}

function taskRef(task: Task) {
  return { taskId: task.taskId, template: task.template, version: task.version, gtin: task.product.gtin, lot: task.lot };
}

function alerts(flags: Violation[]) {
  return flags.map((f) => ({ type: 'cross-validation', ruleId: f.ruleId, message: f.message }));
}

/** 任务 / 数据采集 / 审核 / 交叉验证: production tasks, stage records checked on chain, audits. */
@Info({ title: 'trace', description: 'Production tasks, stage records, cross-validation and audits' })
export class TraceContract extends BaseContract {
  constructor() {
    super('trace');
  }

  @Transaction()
  @Returns('string')
  async createTask(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(CreateTaskDto, json);
    await requireMember(ctx, TASK_CREATORS);
    if (await getJson(ctx, key(ctx, KeyType.task, dto.taskId))) fail('ERR_CONFLICT', `task ${dto.taskId} already exists`);
    const template = (await getTemplate(ctx, dto.template, dto.version)) ?? fail('ERR_NOT_FOUND', `template ${dto.template} version ${dto.version} is not published`);
    if (await getRetirement(ctx, dto.template)) fail('ERR_STATE', `template ${dto.template} is retired`);
    const product = (await getProduct(ctx, dto.product.gtin)) ?? fail('ERR_NOT_FOUND', `product ${dto.product.gtin} is not defined`);
    if (!mayCreateTask(product, ctx.callerMsp)) fail('ERR_FORBIDDEN', `product ${dto.product.gtin} belongs to ${product.ownerMsp}, which has not delegated it to ${ctx.callerMsp}`);
    if (product.status !== 'active') fail('ERR_STATE', `product ${dto.product.gtin} is ${product.status}`);
    // (GTIN, lot) names one lot, so a Digital Link /01/{gtin}/10/{lot} resolves to one task.
    const lotKey = key(ctx, KeyType.lot, product.gtin, dto.lot);
    const sameLot = await getJson<{ taskId: string }>(ctx, lotKey);
    if (sameLot) fail('ERR_CONFLICT', `lot ${dto.lot} of GTIN ${product.gtin} is already task ${sameLot.taskId}`);
    const stages = new Set(template.stages.map((s) => s.stage));
    const extra = Object.keys(dto.assignments).filter((s) => !stages.has(s));
    if (extra.length > 0) fail('ERR_VALIDATION', `assignments name stages outside the template: ${extra.join(', ')}`);
    for (const node of template.stages) {
      const mspId = dto.assignments[node.stage];
      if (typeof mspId !== 'string') fail('ERR_VALIDATION', `stage '${node.stage}' has no assigned org`);
      const member = await getMember(ctx, mspId);
      if (!member) fail('ERR_NOT_MEMBER', `stage '${node.stage}' is assigned to ${mspId}, which is not a member`);
      if (!member!.roles.includes(node.role)) fail('ERR_FORBIDDEN', `stage '${node.stage}' needs the role ${node.role}, which ${mspId} does not hold`);
    }
    const task: Task = {
      taskId: dto.taskId,
      template: dto.template,
      version: dto.version,
      product: { gtin: product.gtin, name: dto.product.name },
      lot: dto.lot,
      plannedQuantity: dto.plannedQuantity,
      unit: dto.unit,
      assignments: dto.assignments,
      authorizedRegions: dto.authorizedRegions ?? template.authorizedRegions,
      owner: product.ownerMsp,
      createdBy: ctx.callerMsp,
      ...actorOf(dto),
      createdAt: ctx.txTime,
    };
    await putJson(ctx, key(ctx, KeyType.task, task.taskId), task);
    await putJson(ctx, lotKey, { gtin: product.gtin, lot: task.lot, taskId: task.taskId });
    ctx.emit('trace.TaskCreated', { task });
    return canonicalJson(task);
  }

  @Transaction()
  @Returns('string')
  async recordStage(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(RecordStageDto, json);
    const { task, template, node } = await openStage(ctx, dto.taskId, dto.stage);
    if (await getRecord(ctx, task.taskId, dto.stage)) fail('ERR_CONFLICT', `stage '${dto.stage}' of task ${task.taskId} is already recorded; amend it instead`);
    const recorded: Record<string, RecordedStage | undefined> = {};
    for (const before of node.after) {
      const rec = await getRecord(ctx, task.taskId, before);
      recorded[before] = rec && { eventTime: rec.eventTime, audit: (await effectiveAudit(ctx, rec))?.verdict };
    }
    const order = checkStageOrder(template.stages, dto.stage, dto.eventTime, ctx.txTimeMs, recorded, (s) => stageOf(template, s).requiresAudit);
    if (order) fail(order.code, order.message);
    await checkLocation(ctx, dto.location);
    const data = checkData(node, dto.data);
    const flags = await crossValidate(ctx, template, task.taskId, dto.stage, { eventTime: dto.eventTime, data: data as Record<string, Value> });
    const saved = await saveRecord(ctx, dto, data, flags, 1);
    ctx.emit('trace.StageRecorded', { task: taskRef(task), record: saved, bizStep: node.bizStep, alerts: alerts(flags) });
    return saved.text;
  }

  /** A new version of a recorded stage, validated again; its audit no longer applies. */
  @Transaction()
  @Returns('string')
  async amendStage(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AmendStageDto, json);
    const { task, template, node } = await openStage(ctx, dto.taskId, dto.stage);
    const current = (await getRecord(ctx, task.taskId, dto.stage)) ?? fail('ERR_STATE', `stage '${dto.stage}' of task ${task.taskId} is not recorded yet`);
    const at = msOf(dto.eventTime);
    for (const before of node.after) {
      const rec = await getRecord(ctx, task.taskId, before);
      if (rec && msOf(rec.eventTime) > at) fail('ERR_STAGE_ORDER', `eventTime ${dto.eventTime} of '${dto.stage}' precedes '${before}' (${rec.eventTime})`);
    }
    for (const next of template.stages.filter((s) => s.after.includes(dto.stage))) {
      const rec = await getRecord(ctx, task.taskId, next.stage);
      if (rec && msOf(rec.eventTime) < at) fail('ERR_STAGE_ORDER', `eventTime ${dto.eventTime} of '${dto.stage}' would follow '${next.stage}' (${rec.eventTime})`);
    }
    const order = checkStageOrder(template.stages, dto.stage, dto.eventTime, ctx.txTimeMs, {}, () => false);
    if (order && order.code === 'ERR_VALIDATION') fail(order.code, order.message);
    await checkLocation(ctx, dto.location);
    const data = checkData(node, dto.data);
    const flags = await crossValidate(ctx, template, task.taskId, dto.stage, { eventTime: dto.eventTime, data: data as Record<string, Value> });
    const voided = await effectiveAudit(ctx, current);
    const saved = await saveRecord(ctx, dto, data, flags, current.version + 1, dto.reason);
    ctx.emit('trace.StageAmended', { task: taskRef(task), record: saved, previousVersion: current.version, auditVoided: voided !== undefined, bizStep: node.bizStep, alerts: alerts(flags) });
    return saved.text;
  }

  @Transaction()
  @Returns('string')
  async auditStage(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AuditStageDto, json);
    await requireMember(ctx, AUDITORS);
    const task = await loadTask(ctx, dto.taskId);
    stageOf(await loadTemplate(ctx, task), dto.stage);
    if (await getTaskAudit(ctx, task.taskId).then((a) => a?.verdict === 'approved')) fail('ERR_LOCKED', `task ${task.taskId} is audited and closed`);
    const record = (await getRecord(ctx, task.taskId, dto.stage)) ?? fail('ERR_STATE', `stage '${dto.stage}' of task ${task.taskId} is not recorded yet`);
    const auditKey = key(ctx, KeyType.audit, task.taskId, dto.stage, ctx.callerMsp);
    const refusal = auditRefusal(record, ctx.callerMsp, await getJson<StageAudit>(ctx, auditKey));
    if (refusal) fail(refusal.code, `stage '${dto.stage}' of task ${task.taskId}: ${refusal.message}`);
    const audit: StageAudit = {
      taskId: task.taskId,
      stage: dto.stage,
      verdict: dto.verdict,
      comment: dto.comment,
      auditor: ctx.callerMsp,
      ...actorOf(dto),
      at: ctx.txTime,
      recordVersion: record.version,
      txId: ctx.stub.getTxID(),
    };
    await putJson(ctx, auditKey, audit);
    ctx.emit('trace.StageAudited', { task: taskRef(task), audit });
    return canonicalJson(audit);
  }

  /** 流程审核: the whole task, once every stage is recorded and every audited stage approved. */
  @Transaction()
  @Returns('string')
  async auditTask(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AuditTaskDto, json);
    await requireMember(ctx, AUDITORS);
    const task = await loadTask(ctx, dto.taskId);
    const template = await loadTemplate(ctx, task);
    if (await getTaskAudit(ctx, task.taskId).then((a) => a?.verdict === 'approved')) fail('ERR_CONFLICT', `task ${task.taskId} is already approved`);
    for (const node of template.stages) {
      const record = await getRecord(ctx, task.taskId, node.stage);
      if (!record) fail('ERR_STATE', `stage '${node.stage}' is not recorded yet`);
      const audit = await effectiveAudit(ctx, record);
      if (audit?.verdict === 'rejected') fail('ERR_STATE', `stage '${node.stage}' was rejected by its audit`);
      if (node.requiresAudit && audit?.verdict !== 'approved') fail('ERR_STATE', `stage '${node.stage}' needs an approved audit`);
    }
    const audit: TaskAudit = { taskId: task.taskId, verdict: dto.verdict, comment: dto.comment, auditor: ctx.callerMsp, ...actorOf(dto), at: ctx.txTime, txId: ctx.stub.getTxID() };
    await putJson(ctx, key(ctx, KeyType.taskAudit, task.taskId), audit);
    ctx.emit('trace.TaskAudited', { task: taskRef(task), audit });
    return canonicalJson(audit);
  }

  /** The task with each stage's state: pending or recorded, version, audit, flags. */
  @Transaction(false)
  @Returns('string')
  async getTask(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(TaskRefDto, json);
    const task = await loadTask(ctx, dto.taskId);
    const template = await loadTemplate(ctx, task);
    const records = new Map((await listJson<StageRecord>(ctx, KeyType.record, [task.taskId])).map((r) => [r.stage, r]));
    const stages = [];
    for (const node of template.stages) {
      const rec = records.get(node.stage);
      const audit = await effectiveAudit(ctx, rec);
      stages.push({ stage: node.stage, name: node.name, assignedTo: task.assignments[node.stage], status: rec ? 'recorded' : 'pending', version: rec?.version, eventTime: rec?.eventTime, audit: audit?.verdict, flagged: (rec?.flags.length ?? 0) > 0 });
    }
    const taskAudit = await getTaskAudit(ctx, task.taskId);
    return canonicalJson({ task, stages, complete: stages.every((s) => s.status === 'recorded'), audit: taskAudit });
  }

  /** Everything about a task: records with their versions, audits and the template's public view. */
  @Transaction(false)
  @Returns('string')
  async getTrace(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(TaskRefDto, json);
    const task = await loadTask(ctx, dto.taskId);
    const template = await loadTemplate(ctx, task);
    const versions = await listJson<StageRecord>(ctx, KeyType.recordVersion, [task.taskId]);
    const audits = await listJson<StageAudit>(ctx, KeyType.audit, [task.taskId]);
    const stages = template.stages.map((node) => {
      const history = versions.filter((v) => v.stage === node.stage);
      const current = history[history.length - 1];
      const own = current ? audits.filter((a) => a.stage === node.stage && a.recordVersion === current.version) : [];
      const audit = current && standingAudit(own, current.version);
      return { stage: node.stage, name: node.name, bizStep: node.bizStep, assignedTo: task.assignments[node.stage], record: current, history: history.slice(0, -1), audit, audits: own };
    });
    return canonicalJson({
      task,
      template: { id: template.id, version: template.version, name: template.name, publicView: template.publicView, scanAlertThreshold: template.scanAlertThreshold },
      stages,
      audit: await getTaskAudit(ctx, task.taskId),
    });
  }
}


