import { Info, Returns, Transaction } from 'fabric-contract-api';
import { requireMember } from '../ledger/access';
import { TraceContext } from '../ledger/context';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key, pad } from '../ledger/keys';
import { countKeys, getJson, listJson, putJson } from '../ledger/state';
import { AggregateDto, CodeAlert, CodeRecord, CodeRefDto, DisaggregateDto, IssueCodesDto, RecordScansDto, ScanRecord, SetCodeStatusDto } from '../model/codes';
import { Role } from '../model/consortium';
import { Template } from '../model/process';
import { Task } from '../model/trace';
import { mayChangeCodeStatus, mayIssueCodes, mayPack } from '../rules/authority';
import { canonicalJson } from '../rules/canonical-json';
import { canContain, canTransition, crossesThreshold, isDiverted } from '../rules/codes';
import { BaseContract } from './base';
import { getTemplate } from './process';
import { getRecord, loadTask } from './trace';

const PACKERS: readonly Role[] = ['brand', 'processor', 'logistics', 'warehouse'];
/** verifyCode counts scans up to this many */
const MAX_COUNT = 10_000;

export function getCode(ctx: TraceContext, hash: string): Promise<CodeRecord | undefined> {
  return getJson<CodeRecord>(ctx, key(ctx, KeyType.code, hash));
}

async function requireCode(ctx: TraceContext, hash: string): Promise<CodeRecord> {
  return (await getCode(ctx, hash)) ?? fail('ERR_NOT_FOUND', `code ${hash} is not issued`);
}

interface TaskView {
  task: Task;
  stages: Template['stages'];
}

async function ownedTask(ctx: TraceContext, taskId: string): Promise<TaskView> {
  const task = await loadTask(ctx, taskId);
  const template = (await getTemplate(ctx, task.template, task.version)) ?? fail('ERR_NOT_FOUND', `template ${task.template} version ${task.version} is not published`);
  return { task, stages: template.stages };
}

/** Tasks of the codes one call touches, each read once. */
function taskCache(ctx: TraceContext): (taskId: string) => Promise<TaskView> {
  const seen = new Map<string, Promise<TaskView>>();
  return (taskId) => {
    if (!seen.has(taskId)) seen.set(taskId, ownedTask(ctx, taskId));
    return seen.get(taskId)!;
  };
}

/** Fails unless the caller may pack or unpack the code (its task's owner or a handling stage's org). */
function packingCheck(ctx: TraceContext): (code: CodeRecord) => Promise<void> {
  const tasks = taskCache(ctx);
  return async (code) => {
    const { task, stages } = await tasks(code.taskId);
    if (!mayPack(task, stages, ctx.callerMsp)) fail('ERR_FORBIDDEN', `org ${ctx.callerMsp} handles no stage of task ${task.taskId}, so it may not pack or unpack code ${code.hash}`);
  };
}

function firstDuplicate(values: string[]): string | undefined {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}

/** Where a lot may be sold: the shipping stage's destination when recorded, else the task's regions. */
async function authorizedRegions(ctx: TraceContext, task: Task): Promise<string[]> {
  const shipped = await getRecord(ctx, task.taskId, 'shipping');
  const dest = shipped?.data.dest_region;
  return typeof dest === 'string' ? [dest] : task.authorizedRegions;
}

/** 一物一码: code issuance, lifecycle, packaging hierarchy, scans with clone and diversion alerts. */
@Info({ title: 'codes', description: 'One item, one code: issuance, aggregation, scans and verification' })
export class CodesContract extends BaseContract {
  constructor() {
    super('codes');
  }

  /** Up to 1,000 SHA-256 code hashes for a task, each unique on chain and in the call. */
  @Transaction()
  @Returns('string')
  async issueCodes(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(IssueCodesDto, json);
    await requireMember(ctx);
    const { task, stages } = await ownedTask(ctx, dto.taskId);
    if (!mayIssueCodes(task, stages, ctx.callerMsp)) fail('ERR_FORBIDDEN', `only ${task.owner} (the product's owner) or the org assigned to the packing stage of task ${task.taskId} issues its codes`);
    const dup = firstDuplicate(dto.codeHashes);
    if (dup) fail('ERR_CONFLICT', `code ${dup} appears twice in the call`);
    for (const hash of dto.codeHashes) {
      const existing = await getCode(ctx, hash);
      if (existing) fail('ERR_CONFLICT', `code ${hash} is already issued (task ${existing.taskId})`);
    }
    for (const hash of dto.codeHashes) {
      const code: CodeRecord = { hash, taskId: task.taskId, gtin: task.product.gtin, lot: task.lot, level: dto.level, status: 'issued', issuedBy: ctx.callerMsp, issuedAt: ctx.txTime, updatedAt: ctx.txTime };
      await putJson(ctx, key(ctx, KeyType.code, hash), code);
    }
    ctx.emit('codes.Issued', { taskId: task.taskId, gtin: task.product.gtin, lot: task.lot, level: dto.level, codeHashes: dto.codeHashes, issuedBy: ctx.callerMsp });
    return canonicalJson({ taskId: task.taskId, level: dto.level, issued: dto.codeHashes.length });
  }

  /** issued → active → sold, and any of them → void; see mayChangeCodeStatus for who does which. */
  @Transaction()
  @Returns('string')
  async setCodeStatus(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(SetCodeStatusDto, json);
    await requireMember(ctx);
    const tasks = taskCache(ctx);
    const updated: CodeRecord[] = [];
    for (const hash of dto.codeHashes) {
      const code = await requireCode(ctx, hash);
      const { task, stages } = await tasks(code.taskId);
      if (!mayChangeCodeStatus(task, stages, ctx.callerMsp, dto.status)) fail('ERR_FORBIDDEN', `org ${ctx.callerMsp} may not set code ${hash} of task ${task.taskId} to ${dto.status}`);
      if (!canTransition(code.status, dto.status)) fail('ERR_STATE', `code ${hash} cannot go from ${code.status} to ${dto.status}`);
      updated.push({ ...code, status: dto.status, updatedAt: ctx.txTime });
    }
    for (const code of updated) await putJson(ctx, key(ctx, KeyType.code, code.hash), code);
    ctx.emit('codes.StatusChanged', { codeHashes: dto.codeHashes, status: dto.status });
    return canonicalJson({ status: dto.status, updated: updated.length });
  }

  /** Packs children into a parent of a higher level; a child has one parent at most. */
  @Transaction()
  @Returns('string')
  async aggregate(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AggregateDto, json);
    await requireMember(ctx, PACKERS);
    const mayPackCode = packingCheck(ctx);
    const parent = await requireCode(ctx, dto.parent);
    await mayPackCode(parent);
    if (parent.status === 'void') fail('ERR_STATE', `code ${parent.hash} is void`);
    if (dto.children.includes(dto.parent)) fail('ERR_VALIDATION', 'a code cannot contain itself');
    const children: CodeRecord[] = [];
    for (const hash of dto.children) {
      const child = await requireCode(ctx, hash);
      await mayPackCode(child);
      if (!canContain(parent.level, child.level)) fail('ERR_VALIDATION', `a ${parent.level} cannot contain a ${child.level} (${hash})`);
      if (child.parent) fail('ERR_CONFLICT', `code ${hash} is already packed in ${child.parent}`);
      if (child.status === 'void') fail('ERR_STATE', `code ${hash} is void`);
      children.push({ ...child, parent: parent.hash, updatedAt: ctx.txTime });
    }
    for (const child of children) {
      await putJson(ctx, key(ctx, KeyType.code, child.hash), child);
      await putJson(ctx, key(ctx, KeyType.codeChild, parent.hash, child.hash), { parent: parent.hash, child: child.hash });
    }
    ctx.emit('codes.Aggregated', { parent: parent.hash, parentLevel: parent.level, children: dto.children });
    return canonicalJson({ parent: parent.hash, children: dto.children.length });
  }

  @Transaction()
  @Returns('string')
  async disaggregate(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DisaggregateDto, json);
    await requireMember(ctx, PACKERS);
    const mayPackCode = packingCheck(ctx);
    await mayPackCode(await requireCode(ctx, dto.parent));
    const hashes = dto.children ?? (await listJson<{ child: string }>(ctx, KeyType.codeChild, [dto.parent])).map((l) => l.child);
    if (hashes.length === 0) fail('ERR_STATE', `code ${dto.parent} contains nothing`);
    for (const hash of hashes) {
      const child = await requireCode(ctx, hash);
      await mayPackCode(child);
      if (child.parent !== dto.parent) fail('ERR_STATE', `code ${hash} is not packed in ${dto.parent}`);
      const { parent: _, ...rest } = child;
      await putJson(ctx, key(ctx, KeyType.code, hash), { ...rest, updatedAt: ctx.txTime });
      await ctx.stub.deleteState(key(ctx, KeyType.codeChild, dto.parent, hash));
    }
    ctx.emit('codes.Disaggregated', { parent: dto.parent, children: hashes });
    return canonicalJson({ parent: dto.parent, children: hashes.length });
  }

  /**
   * A batch of scans: one key per scan (no counter key), the count read through a bounded range.
   * Passing the template's scanAlertThreshold marks the code suspect (clone alert); a scan outside
   * the lot's authorized regions raises a diversion alert; an unknown code raises an unknown alert.
   */
  @Transaction()
  @Returns('string')
  async recordScans(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(RecordScansDto, json);
    await requireMember(ctx);
    const txId = ctx.stub.getTxID();
    const alerts: CodeAlert[] = [];
    const recorded: (ScanRecord & { count: number })[] = [];
    const byCode = new Map<string, number[]>();
    dto.scans.forEach((s, i) => byCode.set(s.codeHash, [...(byCode.get(s.codeHash) ?? []), i]));
    const tasks = new Map<string, { task: Task; threshold: number; regions: string[] }>();
    for (const [hash, indexes] of byCode) {
      const code = await getCode(ctx, hash);
      if (!code) {
        alerts.push({ type: 'unknown', codeHash: hash, taskId: '' });
        continue;
      }
      if (!tasks.has(code.taskId)) {
        const task = await loadTask(ctx, code.taskId);
        const template = (await getTemplate(ctx, task.template, task.version)) as Template;
        tasks.set(code.taskId, { task, threshold: template.scanAlertThreshold, regions: await authorizedRegions(ctx, task) });
      }
      const { threshold, regions } = tasks.get(code.taskId)!;
      const before = await countKeys(ctx, KeyType.scan, [hash], threshold + 1);
      let updated = code;
      indexes.forEach((i, n) => {
        const s = dto.scans[i];
        const scan: ScanRecord = { codeHash: hash, channel: s.channel, region: s.region, at: s.at, location: s.location, recordedBy: ctx.callerMsp, txId };
        recorded.push({ ...scan, count: before + n + 1 });
        if (s.region !== undefined && isDiverted(s.region, regions)) {
          alerts.push({ type: 'diversion', codeHash: hash, taskId: code.taskId, region: s.region, authorizedRegions: regions });
          if (!updated.divertedSince) updated = { ...updated, divertedSince: ctx.txTime };
        }
      });
      if (crossesThreshold(before, indexes.length, threshold) && !code.suspectSince) {
        alerts.push({ type: 'clone', codeHash: hash, taskId: code.taskId, count: before + indexes.length, threshold });
        updated = { ...updated, suspectSince: ctx.txTime };
      }
      for (const [n, i] of indexes.entries()) {
        const { count: _, ...scan } = recorded[recorded.length - indexes.length + n];
        await putJson(ctx, key(ctx, KeyType.scan, hash, txId, pad(i, 4)), scan);
      }
      if (updated !== code) await putJson(ctx, key(ctx, KeyType.code, hash), { ...updated, updatedAt: ctx.txTime });
    }
    ctx.emit('codes.Scanned', { scans: recorded, alerts });
    return canonicalJson({ recorded: recorded.length, alerts });
  }

  /** Genuine or unknown; product, lot, key stages, scan count, status. */
  @Transaction(false)
  @Returns('string')
  async verifyCode(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(CodeRefDto, json);
    const code = await getCode(ctx, dto.codeHash);
    if (!code) return canonicalJson({ genuine: false, verdict: 'unknown', codeHash: dto.codeHash });
    const task = await loadTask(ctx, code.taskId);
    const template = (await getTemplate(ctx, task.template, task.version)) as Template;
    const stages = [];
    for (const node of template.stages) {
      const rec = await getRecord(ctx, task.taskId, node.stage);
      if (rec) stages.push({ stage: node.stage, name: node.name, bizStep: node.bizStep, eventTime: rec.eventTime, location: rec.location, recordedBy: rec.recordedBy });
    }
    const scanCount = await countKeys(ctx, KeyType.scan, [code.hash], MAX_COUNT);
    const verdict = code.status === 'void' ? 'void' : code.suspectSince ? 'suspect' : 'genuine';
    return canonicalJson({
      genuine: true,
      verdict,
      code,
      product: task.product,
      lot: task.lot,
      taskId: task.taskId,
      stages,
      scanCount,
      scanAlertThreshold: template.scanAlertThreshold,
    });
  }

  @Transaction(false)
  @Returns('string')
  async listChildren(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(CodeRefDto, json);
    return canonicalJson((await listJson<{ child: string }>(ctx, KeyType.codeChild, [dto.codeHash])).map((l) => l.child));
  }
}
