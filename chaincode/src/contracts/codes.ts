import { Info, Returns, Transaction } from 'fabric-contract-api';
import { requireMember } from '../ledger/access';
import { actorOf, NO_ACTOR } from '../ledger/actor';
import { TraceContext } from '../ledger/context';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key } from '../ledger/keys';
import { getJson, listJson, pageJson, putJson } from '../ledger/state';
import { AggregateDto, ClearAlertDto, CodeAlert, CodePageDto, CodeRecord, CodeRefDto, DisaggregateDto, IssueCodesDto, RecordScansDto, ScanCounter, ScanOutcome, ScanRecord, SetCodeStatusDto } from '../model/codes';
import { Role } from '../model/consortium';
import { Template } from '../model/process';
import { Task } from '../model/trace';
import { mayChangeCodeStatus, mayIssueCodes, mayPack } from '../rules/authority';
import { canonicalJson } from '../rules/canonical-json';
import { canContain, canTransition, crossesThreshold, isDiverted, mayDeclareChannel, SCANNING_ROLES } from '../rules/codes';
import { BaseContract } from './base';
import { getTemplate } from './process';
import { getRecord, loadTask } from './trace';

const PACKERS: readonly Role[] = ['brand', 'processor', 'logistics', 'warehouse'];
/** scan counters of one code: one per scanning org, so a consortium's member count bounds the range */
const MAX_SCANNING_ORGS = 1000;

export function getCode(ctx: TraceContext, hash: string): Promise<CodeRecord | undefined> {
  return getJson<CodeRecord>(ctx, key(ctx, KeyType.code, hash));
}

async function requireCode(ctx: TraceContext, hash: string): Promise<CodeRecord> {
  return (await getCode(ctx, hash)) ?? fail('ERR_NOT_FOUND', `code ${hash} is not issued`);
}

interface TaskView {
  task: Task;
  stages: Template['stages'];
  template: Template;
}

async function ownedTask(ctx: TraceContext, taskId: string): Promise<TaskView> {
  const task = await loadTask(ctx, taskId);
  const template = (await getTemplate(ctx, task.template, task.version)) ?? fail('ERR_NOT_FOUND', `template ${task.template} version ${task.version} is not published`);
  return { task, stages: template.stages, template };
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

/**
 * Where a lot may be sold: the destinations recorded by the template's shipping stages (bizStep
 * shipping, in the item the template marks as the destination region), else the task's regions.
 */
async function authorizedRegions(ctx: TraceContext, { task, stages }: TaskView): Promise<string[]> {
  const destinations: string[] = [];
  for (const stage of stages.filter((s) => s.bizStep === 'shipping')) {
    const item = stage.items.find((i) => i.destinationRegion);
    if (!item) continue;
    const dest = (await getRecord(ctx, task.taskId, stage.stage))?.data[item.id];
    if (typeof dest === 'string' && !destinations.includes(dest)) destinations.push(dest);
  }
  return destinations.length > 0 ? destinations : task.authorizedRegions;
}

/** Every scanning org's count of a code: a range over one key per org, never over the scans. */
async function scanCounts(ctx: TraceContext, hash: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const iter = ctx.stub.getStateByPartialCompositeKey(KeyType.scanCount, [hash]);
  for await (const kv of iter) {
    const org = ctx.stub.splitCompositeKey(kv.key).attributes[1];
    out.set(org, (JSON.parse(Buffer.from(kv.value).toString('utf8')) as ScanCounter).count);
    if (out.size >= MAX_SCANNING_ORGS) break;
  }
  return out;
}

/** scanbatch/<msp>/<batchId>: the transaction that recorded a batch, and the scans it refused (by index) */
interface RecordedBatch {
  txId: string;
  refused: Record<number, ScanOutcome>;
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
      const code: CodeRecord = { hash, taskId: task.taskId, gtin: task.product.gtin, lot: task.lot, level: dto.level, status: 'issued', issuedBy: ctx.callerMsp, issuedAt: ctx.txTime, ...actorOf(dto), updatedAt: ctx.txTime };
      await putJson(ctx, key(ctx, KeyType.code, hash), code);
    }
    ctx.emit('codes.Issued', { taskId: task.taskId, gtin: task.product.gtin, lot: task.lot, level: dto.level, codeHashes: dto.codeHashes, issuedBy: ctx.callerMsp, ...actorOf(dto) });
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
      updated.push({ ...code, status: dto.status, ...actorOf(dto), updatedAt: ctx.txTime });
    }
    for (const code of updated) await putJson(ctx, key(ctx, KeyType.code, code.hash), code);
    ctx.emit('codes.StatusChanged', { codeHashes: dto.codeHashes, status: dto.status, ...actorOf(dto) });
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
      children.push({ ...child, parent: parent.hash, ...actorOf(dto), updatedAt: ctx.txTime });
    }
    for (const child of children) {
      await putJson(ctx, key(ctx, KeyType.code, child.hash), child);
      await putJson(ctx, key(ctx, KeyType.codeChild, parent.hash, child.hash), { parent: parent.hash, child: child.hash });
    }
    ctx.emit('codes.Aggregated', { parent: parent.hash, parentLevel: parent.level, children: dto.children, ...actorOf(dto) });
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
      await putJson(ctx, key(ctx, KeyType.code, hash), { ...rest, ...actorOf(dto), updatedAt: ctx.txTime });
      await ctx.stub.deleteState(key(ctx, KeyType.codeChild, dto.parent, hash));
    }
    ctx.emit('codes.Disaggregated', { parent: dto.parent, children: hashes, ...actorOf(dto) });
    return canonicalJson({ parent: dto.parent, children: hashes.length });
  }

  /**
   * A batch of scans from an org holding a scanning role (or a code's own task owner). Each scan
   * gets an outcome: recorded, unknown code (an alert), or refused (a channel the org may not
   * declare, a code another owner's), and a refused scan does not fail the others.
   *
   * A scan is kept in the transaction's codes.Scanned event (in the block, signed by the endorsers),
   * not in a state key of its own: state holds what contracts read, the counts. Counting reads no
   * range: each (code, scanning org) has one counter key, read and written only by that org's scans
   * of that code (3 shim round trips per code with the code's own key). MVCC checks every key a
   * transaction read at commit and invalidates the whole transaction if one changed since, so a
   * batch can only lose to a concurrent batch of the same org on the same code (or to that code's
   * record changing at once), never to another org's scans. The org's count passing the template's
   * scanAlertThreshold marks the code suspect (clone alert); a scan outside the lot's authorized
   * regions raises a diversion alert.
   */
  @Transaction()
  @Returns('string')
  async recordScans(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(RecordScansDto, json);
    const member = await requireMember(ctx);
    const scansAnyCode = SCANNING_ROLES.some((r) => member.roles.includes(r));
    if (!scansAnyCode && !member.roles.includes('brand')) fail('ERR_FORBIDDEN', `org ${ctx.callerMsp} needs one of the roles ${SCANNING_ROLES.join(', ')} to record scans (a brand scans only its own codes)`);
    const txId = ctx.stub.getTxID();
    const batchKey = dto.batchId === undefined ? undefined : key(ctx, KeyType.scanBatch, ctx.callerMsp, dto.batchId);
    if (batchKey) {
      const earlier = await getJson<RecordedBatch>(ctx, batchKey);
      // Nothing counts twice; the sender learns which of its scans that transaction refused.
      if (earlier) return canonicalJson({ recorded: 0, alerts: [], outcomes: dto.scans.map((_, i) => earlier.refused[i] ?? { status: 'recorded' }), alreadyRecorded: { txId: earlier.txId } });
    }
    const alerts: CodeAlert[] = [];
    const recorded: ScanRecord[] = [];
    const outcomes: ScanOutcome[] = dto.scans.map(() => ({ status: 'recorded' }));
    const refuse = (i: number, message: string): void => {
      outcomes[i] = { status: 'refused', code: 'ERR_FORBIDDEN', message };
    };
    const byCode = new Map<string, number[]>();
    dto.scans.forEach((s, i) => byCode.set(s.codeHash, [...(byCode.get(s.codeHash) ?? []), i]));
    const tasks = taskCache(ctx);
    const regionsOf = new Map<string, Promise<string[]>>();
    for (const [hash, indexes] of byCode) {
      const code = await getCode(ctx, hash);
      if (!code) {
        for (const i of indexes) outcomes[i] = { status: 'unknown' };
        alerts.push({ type: 'unknown', codeHash: hash, taskId: '' });
        continue;
      }
      const view = await tasks(code.taskId);
      if (!scansAnyCode && view.task.owner !== ctx.callerMsp) {
        for (const i of indexes) refuse(i, `code ${hash} belongs to ${view.task.owner}: org ${ctx.callerMsp} scans only its own codes`);
        continue;
      }
      const accepted: number[] = [];
      for (const i of indexes) {
        if (mayDeclareChannel(member.roles, dto.scans[i].channel)) accepted.push(i);
        else refuse(i, `org ${ctx.callerMsp} may not declare a ${dto.scans[i].channel} scan without that role`);
      }
      if (accepted.length === 0) continue;
      if (!regionsOf.has(code.taskId)) regionsOf.set(code.taskId, authorizedRegions(ctx, view));
      const regions = await regionsOf.get(code.taskId)!;
      const threshold = view.template.scanAlertThreshold;
      const counterKey = key(ctx, KeyType.scanCount, hash, ctx.callerMsp);
      const before = (await getJson<ScanCounter>(ctx, counterKey))?.count ?? 0;
      let updated = code;
      for (const i of accepted) {
        const s = dto.scans[i];
        const scan: ScanRecord = { codeHash: hash, channel: s.channel, region: s.region, at: s.at, location: s.location, recordedBy: ctx.callerMsp, txId };
        recorded.push(scan);
        if (s.region !== undefined && isDiverted(s.region, regions)) {
          alerts.push({ type: 'diversion', codeHash: hash, taskId: code.taskId, region: s.region, authorizedRegions: regions });
          if (!updated.divertedSince) updated = { ...updated, divertedSince: ctx.txTime };
        }
      }
      const count = before + accepted.length;
      await putJson(ctx, counterKey, { count } as ScanCounter);
      if (crossesThreshold(before, accepted.length, threshold) && !code.suspectSince) {
        alerts.push({ type: 'clone', codeHash: hash, taskId: code.taskId, count, threshold, scannedBy: ctx.callerMsp });
        updated = { ...updated, suspectSince: ctx.txTime };
      }
      if (updated !== code) await putJson(ctx, key(ctx, KeyType.code, hash), { ...updated, ...NO_ACTOR, updatedAt: ctx.txTime });
    }
    if (batchKey) {
      const refused: RecordedBatch['refused'] = {};
      outcomes.forEach((o, i) => o.status === 'refused' && (refused[i] = o));
      await putJson(ctx, batchKey, { txId, refused } as RecordedBatch);
    }
    ctx.emit('codes.Scanned', { scans: recorded, alerts });
    return canonicalJson({ recorded: recorded.length, alerts, outcomes });
  }

  /**
   * The task's owner clears a clone or diversion alert it judges unfounded, with a reason kept in
   * the code's history. Clearing a clone alert restarts the per-org counts (the total is kept), so
   * the threshold guards the code again.
   */
  @Transaction()
  @Returns('string')
  async clearAlert(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(ClearAlertDto, json);
    await requireMember(ctx);
    const code = await requireCode(ctx, dto.codeHash);
    const { task } = await ownedTask(ctx, code.taskId);
    if (task.owner !== ctx.callerMsp) fail('ERR_FORBIDDEN', `only ${task.owner} (the owner of task ${task.taskId}) clears alerts on its codes`);
    const { suspectSince, divertedSince, ...rest } = code;
    const since = dto.type === 'clone' ? suspectSince : divertedSince;
    if (!since) fail('ERR_STATE', `code ${code.hash} has no open ${dto.type} alert`);
    const cleared = { type: dto.type, since: since!, reason: dto.reason, clearedBy: ctx.callerMsp, ...actorOf(dto), clearedAt: ctx.txTime, txId: ctx.stub.getTxID() };
    const updated: CodeRecord = { ...rest, clearedAlerts: [...(code.clearedAlerts ?? []), cleared], ...actorOf(dto), updatedAt: ctx.txTime };
    if (dto.type === 'clone') {
      if (divertedSince) updated.divertedSince = divertedSince;
      let counted = 0;
      for (const [org, n] of await scanCounts(ctx, code.hash)) {
        counted += n;
        await putJson(ctx, key(ctx, KeyType.scanCount, code.hash, org), { count: 0 } as ScanCounter);
      }
      updated.scansBeforeClear = (code.scansBeforeClear ?? 0) + counted;
    } else if (suspectSince) updated.suspectSince = suspectSince;
    await putJson(ctx, key(ctx, KeyType.code, code.hash), updated);
    ctx.emit('codes.AlertCleared', { codeHash: code.hash, taskId: task.taskId, ...cleared });
    return canonicalJson(updated);
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
    const scansByOrg = Object.fromEntries(await scanCounts(ctx, code.hash));
    const scanCount = Object.values(scansByOrg).reduce((sum, n) => sum + n, code.scansBeforeClear ?? 0);
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
      scansByOrg,
      scanAlertThreshold: template.scanAlertThreshold,
    });
  }

  @Transaction(false)
  @Returns('string')
  async listChildren(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(CodePageDto, json);
    const page = await pageJson<{ child: string }>(ctx, KeyType.codeChild, [dto.codeHash], dto);
    return canonicalJson({ ...page, items: page.items.map((l) => l.child) });
  }
}
