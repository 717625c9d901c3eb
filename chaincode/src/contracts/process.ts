import { Info, Returns, Transaction } from 'fabric-contract-api';
import { requireMember } from '../ledger/access';
import { actorOf } from '../ledger/actor';
import { TraceContext } from '../ledger/context';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key, pad } from '../ledger/keys';
import { PageDto } from '../model/page';
import { firstJson, getImmutableJson, getJson, pageJson, putJson } from '../ledger/state';
import { DefineFormDto, DefineItemDto, DefineStageDto, DefineTemplateDto, Form, IdRefDto, RetireTemplateDto, StageDefinition, Template, TemplateRefDto, TemplateRetirement, TemplateStage } from '../model/process';
import { canonicalJson } from '../rules/canonical-json';
import { checkRuleReferences, checkRuleShape, parseRef, ruleRefs } from '../rules/cross-validation';
import { checkEpcisMapping } from '../rules/epcis-mapping';
import { checkItemDefinition, DataItem } from '../rules/items';
import { checkStageGraph } from '../rules/stage-order';
import { BaseContract } from './base';

const DEFINERS = ['operator', 'brand'] as const;

/** A published template version (immutable: parsed once per process, deep-frozen, see getImmutableJson). */
export async function getTemplate(ctx: TraceContext, id: string, version: number): Promise<Template | undefined> {
  return getImmutableJson<Template>(ctx, key(ctx, KeyType.template, id, pad(version, 4)));
}

export function getRetirement(ctx: TraceContext, id: string): Promise<TemplateRetirement | undefined> {
  return getJson<TemplateRetirement>(ctx, key(ctx, KeyType.templateRetired, id));
}

/** A template's owner: the org that published its first version (only it publishes the next ones). */
async function templateOwner(ctx: TraceContext, id: string): Promise<string | undefined> {
  return (await firstJson<Template>(ctx, KeyType.template, [id]))?.publishedBy;
}

/** 流程模板 / 阶段 / 表单 / 数据项: reusable items, forms and stages, and immutable template versions. */
@Info({ title: 'process', description: 'Data items, forms, stages and process templates' })
export class ProcessContract extends BaseContract {
  constructor() {
    super('process');
  }

  @Transaction()
  @Returns('string')
  async defineItem(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DefineItemDto, json);
    await requireMember(ctx, DEFINERS);
    // an item has no metadata (who defined it is in its event): its record is the definition alone
    const { actor: _, ...item }: DataItem & { actor?: string } = dto;
    const problems = checkItemDefinition(item);
    if (problems.length > 0) fail('ERR_VALIDATION', problems.join('; '));
    const k = key(ctx, KeyType.item, dto.id);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `item ${dto.id} is already defined; items are immutable, define a new id`);
    await putJson(ctx, k, item);
    ctx.emit('process.ItemDefined', { item, definedBy: ctx.callerMsp, ...actorOf(dto) });
    return canonicalJson(item);
  }

  @Transaction()
  @Returns('string')
  async defineForm(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DefineFormDto, json);
    await requireMember(ctx, DEFINERS);
    for (const id of dto.items) if (!(await getJson(ctx, key(ctx, KeyType.item, id)))) fail('ERR_NOT_FOUND', `item ${id} is not defined`);
    const k = key(ctx, KeyType.form, dto.id);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `form ${dto.id} is already defined; forms are immutable, define a new id`);
    const form: Form = { ...dto, definedBy: ctx.callerMsp, ...actorOf(dto), definedAt: ctx.txTime };
    await putJson(ctx, k, form);
    ctx.emit('process.FormDefined', { form });
    return canonicalJson(form);
  }

  @Transaction()
  @Returns('string')
  async defineStage(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DefineStageDto, json);
    await requireMember(ctx, DEFINERS);
    for (const id of dto.forms) if (!(await getJson(ctx, key(ctx, KeyType.form, id)))) fail('ERR_NOT_FOUND', `form ${id} is not defined`);
    const k = key(ctx, KeyType.stage, dto.id);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', `stage ${dto.id} is already defined; stages are immutable, define a new id`);
    const stage: StageDefinition = { ...dto, definedBy: ctx.callerMsp, ...actorOf(dto), definedAt: ctx.txTime };
    await putJson(ctx, k, stage);
    ctx.emit('process.StageDefined', { stage });
    return canonicalJson(stage);
  }

  /** Publishes a template version: stages resolved to their items and frozen with the rules. */
  @Transaction()
  @Returns('string')
  async defineTemplate(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DefineTemplateDto, json);
    await requireMember(ctx, DEFINERS);
    const problems = [...checkStageGraph(dto.stages), ...dto.rules.flatMap((r) => checkRuleShape(r))];
    if (problems.length > 0) fail('ERR_VALIDATION', problems.join('; '));
    if (await getTemplate(ctx, dto.id, dto.version)) fail('ERR_CONFLICT', `template ${dto.id} version ${dto.version} is published and immutable`);
    const owner = await templateOwner(ctx, dto.id);
    if (owner !== undefined && owner !== ctx.callerMsp) fail('ERR_FORBIDDEN', `template ${dto.id} belongs to ${owner}; only it publishes new versions`);
    if (await getRetirement(ctx, dto.id)) fail('ERR_STATE', `template ${dto.id} is retired`);

    const stages: TemplateStage[] = [];
    for (const node of dto.stages) {
      const def = (await getJson<StageDefinition>(ctx, key(ctx, KeyType.stage, node.stage))) ?? fail('ERR_NOT_FOUND', `stage ${node.stage} is not defined`);
      const items: DataItem[] = [];
      for (const formId of def.forms) {
        const form = (await getJson<Form>(ctx, key(ctx, KeyType.form, formId))) ?? fail('ERR_NOT_FOUND', `form ${formId} is not defined`);
        for (const itemId of form.items) {
          if (items.some((i) => i.id === itemId)) continue;
          items.push((await getJson<DataItem>(ctx, key(ctx, KeyType.item, itemId))) ?? fail('ERR_NOT_FOUND', `item ${itemId} is not defined`));
        }
      }
      stages.push({ stage: node.stage, after: node.after, name: def.name, role: def.role, requiresAudit: def.requiresAudit, bizStep: def.bizStep, items });
    }
    const itemsOf = (stage: string) => stages.find((s) => s.stage === stage)?.items ?? [];
    const refProblems = checkRuleReferences(dto.rules, Object.fromEntries(stages.map((s) => [s.stage, s.items.map((i) => i.id)])));
    for (const rule of dto.rules) {
      // requiredIf only tests the presence of its target, so that one may be hashed or encrypted.
      for (const ref of rule.kind === 'requiredIf' ? [rule.when.ref] : ruleRefs(rule)) {
        const { stage, item } = parseRef(ref);
        const def = itemsOf(stage).find((i) => i.id === item);
        if (def && def.privacy !== 'plain') refProblems.push(`rule '${rule.id}': ${ref} is a ${def.privacy} item; rules compare plain values only`);
      }
    }
    for (const [stage, items] of Object.entries(dto.publicView)) {
      if (!Array.isArray(items) || items.some((i) => typeof i !== 'string')) {
        refProblems.push(`publicView.${stage} must be a list of item ids`);
        continue;
      }
      if (!stages.some((s) => s.stage === stage)) refProblems.push(`publicView names unknown stage '${stage}'`);
      for (const item of items) {
        const def = itemsOf(stage).find((i) => i.id === item);
        if (!def) refProblems.push(`publicView.${stage}: unknown item '${item}'`);
        else if (def.privacy === 'cipher') refProblems.push(`publicView.${stage}: ${item} is encrypted and cannot be public`);
      }
    }
    if (dto.assetQuantity) {
      const { stage, item } = parseRef(dto.assetQuantity);
      const def = itemsOf(stage).find((i) => i.id === item);
      if (!def || (def.type !== 'integer' && def.type !== 'number') || def.privacy !== 'plain') refProblems.push(`assetQuantity ${dto.assetQuantity} is not a plain numeric item of the template`);
    }
    if (dto.epcis) refProblems.push(...checkEpcisMapping(dto.epcis, stages));
    if (refProblems.length > 0) fail('ERR_VALIDATION', refProblems.join('; '));

    const template: Template = {
      id: dto.id,
      version: dto.version,
      name: dto.name,
      category: dto.category,
      stages,
      rules: dto.rules,
      scanAlertThreshold: dto.scanAlertThreshold,
      publicView: dto.publicView,
      authorizedRegions: dto.authorizedRegions ?? [],
      assetQuantity: dto.assetQuantity,
      epcis: dto.epcis,
      publishedBy: ctx.callerMsp,
      ...actorOf(dto),
      publishedAt: ctx.txTime,
    };
    await putJson(ctx, key(ctx, KeyType.template, dto.id, pad(dto.version, 4)), template);
    ctx.emit('process.TemplatePublished', { template });
    return canonicalJson(template);
  }

  /** Retires every version of a template, by its owner: tasks already open go on; no new task uses it. */
  @Transaction()
  @Returns('string')
  async retireTemplate(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(RetireTemplateDto, json);
    await requireMember(ctx, DEFINERS);
    const owner = (await templateOwner(ctx, dto.id)) ?? fail('ERR_NOT_FOUND', `template ${dto.id} is not published`);
    if (owner !== ctx.callerMsp) fail('ERR_FORBIDDEN', `template ${dto.id} belongs to ${owner}; only it retires the template`);
    if (await getRetirement(ctx, dto.id)) fail('ERR_STATE', `template ${dto.id} is already retired`);
    const retirement: TemplateRetirement = { id: dto.id, reason: dto.reason, by: ctx.callerMsp, ...actorOf(dto), at: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.templateRetired, dto.id), retirement);
    ctx.emit('process.TemplateRetired', { retirement });
    return canonicalJson(retirement);
  }

  @Transaction(false)
  @Returns('string')
  async getTemplate(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(TemplateRefDto, json);
    return canonicalJson((await getTemplate(ctx, dto.id, dto.version)) ?? fail('ERR_NOT_FOUND', `template ${dto.id} version ${dto.version} is not published`));
  }

  /** A template's retirement, or `{}` while it is in use (so consoles can show its status). */
  @Transaction(false)
  @Returns('string')
  async getRetirement(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(IdRefDto, json);
    return canonicalJson((await getRetirement(ctx, dto.id)) ?? {});
  }

  @Transaction(false)
  @Returns('string')
  async listTemplates(ctx: TraceContext, json: string): Promise<string> {
    const page = await pageJson<Template>(ctx, KeyType.template, [], parseDto(PageDto, json));
    return canonicalJson({ ...page, items: page.items.map((t) => ({ id: t.id, version: t.version, name: t.name, category: t.category, stages: t.stages.map((s) => s.stage), publishedAt: t.publishedAt })) });
  }

  @Transaction(false)
  @Returns('string')
  async getItem(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(IdRefDto, json);
    return canonicalJson((await getJson(ctx, key(ctx, KeyType.item, dto.id))) ?? fail('ERR_NOT_FOUND', `item ${dto.id} is not defined`));
  }

  @Transaction(false)
  @Returns('string')
  async getForm(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(IdRefDto, json);
    return canonicalJson((await getJson(ctx, key(ctx, KeyType.form, dto.id))) ?? fail('ERR_NOT_FOUND', `form ${dto.id} is not defined`));
  }

  @Transaction(false)
  @Returns('string')
  async getStage(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(IdRefDto, json);
    return canonicalJson((await getJson(ctx, key(ctx, KeyType.stage, dto.id))) ?? fail('ERR_NOT_FOUND', `stage ${dto.id} is not defined`));
  }
}
