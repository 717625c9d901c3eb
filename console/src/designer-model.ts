import type { DataItem, EpcisMapping, Form, Rule, StageDefinition, Template } from '@trace/chaincode';
import type { LoadStep, TemplatePackage } from '@trace/contract-templates';

/**
 * The 流程模板 designer's editor model, pure (the browser and the server both use it): the editor state, built from
 * a published version or empty; the package of definitions that publishes it; a summary of what changes; and a chain
 * refusal mapped back to the editor field it concerns.
 *
 * Items, forms and stages are immutable on chain and templates name them by id. Items keep their ids (an item id is
 * the key of the recorded value), so a changed item is the chain's conflict to report; a form or stage whose
 * definition changed is published under a fresh id (`<id>_v<version>`), renamed everywhere the template names it.
 */

/** A form as the editor holds it: its definition on chain without who defined it and when. */
export type DraftForm = Pick<Form, 'id' | 'name' | 'items'>;

export interface DraftStage extends Pick<StageDefinition, 'id' | 'name' | 'forms' | 'role' | 'requiresAudit' | 'bizStep'> {
  /** stages recorded before this one */
  after: string[];
}

export interface DesignerState {
  id: string;
  version: number;
  name: string;
  category: string;
  scanAlertThreshold: number;
  authorizedRegions: string[];
  assetQuantity?: string;
  publicView: Record<string, string[]>;
  epcis?: EpcisMapping;
  items: DataItem[];
  forms: DraftForm[];
  stages: DraftStage[];
  rules: Rule[];
}

/** A published version with the stage and form definitions its stages name: where a new version starts. */
export interface DesignerBase {
  template: Template;
  stages: StageDefinition[];
  forms: Form[];
}

/** A template as the designer lists it: its published versions, newest first, and its retirement. */
export interface TemplateSummary {
  id: string;
  name: string;
  category: string;
  versions: { version: number; publishedAt: string; stages: number }[];
  retired?: { reason: string; by: string; at: string };
}

/** What each rule kind reads (`stage.item` operands) and its numeric bounds, for the rule editor. */
export const RULE_FIELDS: Record<Rule['kind'], { refs: ('left' | 'right')[]; numbers: string[] }> = {
  lte: { refs: ['left', 'right'], numbers: ['factor'] },
  eq: { refs: ['left', 'right'], numbers: ['tolerance'] },
  ratio: { refs: ['left', 'right'], numbers: ['min', 'max'] },
  timeOrder: { refs: ['left', 'right'], numbers: ['minHours', 'maxHours'] },
  sameValue: { refs: ['left', 'right'], numbers: [] },
  withinRange: { refs: ['left'], numbers: ['min', 'max'] },
  requiredIf: { refs: ['left'], numbers: [] },
};

export function emptyEditor(): DesignerState {
  return { id: '', version: 1, name: '', category: '', scanAlertThreshold: 50, authorizedRegions: [], publicView: {}, items: [], forms: [], stages: [], rules: [] };
}

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const blank = (v: unknown) => v === undefined || v === null || v === '';

/** The editor for the next version of a published one: every definition it names, as published. */
export function editorFromVersion(base: DesignerBase): DesignerState {
  const t = base.template;
  const items: DataItem[] = [];
  for (const s of t.stages) for (const i of s.items) if (!items.some((x) => x.id === i.id)) items.push(copy(i));
  return {
    id: t.id,
    version: t.version + 1,
    name: t.name,
    category: t.category,
    scanAlertThreshold: t.scanAlertThreshold,
    authorizedRegions: [...t.authorizedRegions],
    assetQuantity: t.assetQuantity,
    publicView: copy(t.publicView),
    epcis: t.epcis && copy(t.epcis),
    items,
    forms: base.forms.map((f) => ({ id: f.id, name: f.name, items: [...f.items] })),
    stages: t.stages.map((s) => {
      const def = base.stages.find((d) => d.id === s.stage);
      return { id: s.stage, name: s.name, forms: def ? [...def.forms] : [], role: s.role, requiresAudit: s.requiresAudit, bizStep: s.bizStep, after: [...s.after] };
    }),
    rules: copy(t.rules),
  };
}

const ITEM_KEYS = ['id', 'name', 'type', 'unit', 'required', 'min', 'max', 'pattern', 'values', 'maxLength', 'destinationRegion', 'privacy'] as const;

/** An item as defineItem takes it: empty inputs (blank text, cleared numbers, no values, unticked flags) left out. */
export function cleanItem(item: DataItem): DataItem {
  const out: Record<string, unknown> = {};
  for (const k of ITEM_KEYS) {
    const v = item[k] as unknown;
    if (blank(v) || (Array.isArray(v) && v.length === 0)) continue;
    if ((k === 'required' || k === 'destinationRegion') && v === false) continue;
    out[k] = v;
  }
  return out as unknown as DataItem;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const formDef = (f: { name: string; items: string[] }) => ({ name: f.name, items: f.items });
const stageDef = (s: { name: string; forms: string[]; role: string; requiresAudit: boolean; bizStep: string }) => ({ name: s.name, forms: s.forms, role: s.role, requiresAudit: s.requiresAudit, bizStep: s.bizStep });

/** A fresh id for a revised definition: the id without an earlier `_vN`, then this version (at most 64 characters). */
export function revisedId(id: string, version: number): string {
  const suffix = `_v${version}`;
  return id.replace(/_v\d+$/, '').slice(0, 64 - suffix.length) + suffix;
}

export interface PublishPlan {
  pkg: TemplatePackage;
  /** editor id → published id, for the forms and stages whose definition changed */
  renamed: { forms: Record<string, string>; stages: Record<string, string> };
}

function renameRef(ref: string, stages: Record<string, string>): string {
  const dot = ref.indexOf('.');
  const stage = dot > 0 ? ref.slice(0, dot) : ref;
  return stages[stage] ? stages[stage] + ref.slice(stage.length) : ref;
}

/** A rule as defineTemplate takes it: cleared inputs (bounds, message, the condition's value) left out. */
export function cleanRule(rule: Rule): Rule {
  const r = Object.fromEntries(Object.entries(copy(rule)).filter(([, v]) => !blank(v))) as Rule;
  if (r.kind === 'requiredIf' && r.when && blank(r.when.equals)) r.when = { ref: r.when.ref };
  return r;
}

function renameRule(rule: Rule, stages: Record<string, string>): Rule {
  const r = cleanRule(rule) as Rule & { right?: string };
  r.left = renameRef(r.left, stages);
  if (typeof r.right === 'string') r.right = renameRef(r.right, stages);
  if (r.kind === 'requiredIf' && r.when) r.when.ref = renameRef(r.when.ref, stages);
  return r;
}

function renameEpcis(epcis: EpcisMapping, stages: Record<string, string>): EpcisMapping {
  return Object.fromEntries(
    Object.entries(epcis).map(([stage, m]) => [stages[stage] ?? stage, m.inputs ? { ...m, inputs: m.inputs.map((q) => ({ ...q, item: renameRef(q.item, stages) })) } : m]),
  );
}

/** The definitions that publish the editor's version, with changed forms and stages renamed where base defined them otherwise. */
export function publishPlan(state: DesignerState, base?: DesignerBase): PublishPlan {
  const forms: Record<string, string> = {};
  const stages: Record<string, string> = {};
  for (const f of state.forms) {
    const before = base?.forms.find((b) => b.id === f.id);
    if (before && !same(formDef(before), formDef(f))) forms[f.id] = revisedId(f.id, state.version);
  }
  const stageForms = (s: DraftStage) => s.forms.map((f) => forms[f] ?? f);
  for (const s of state.stages) {
    const before = base?.stages.find((b) => b.id === s.id);
    if (before && !same(stageDef(before), stageDef({ ...s, forms: stageForms(s) }))) stages[s.id] = revisedId(s.id, state.version);
  }
  const stageId = (id: string) => stages[id] ?? id;
  const pkg: TemplatePackage = {
    items: state.items.map(cleanItem),
    forms: state.forms.map((f) => ({ id: forms[f.id] ?? f.id, name: f.name, items: [...f.items] })),
    stages: state.stages.map((s) => ({ id: stageId(s.id), name: s.name, forms: stageForms(s), role: s.role, requiresAudit: s.requiresAudit, bizStep: s.bizStep })),
    template: {
      id: state.id,
      version: state.version,
      name: state.name,
      category: state.category,
      stages: state.stages.map((s) => ({ stage: stageId(s.id), after: s.after.map(stageId) })),
      rules: state.rules.map((r) => renameRule(r, stages)),
      scanAlertThreshold: state.scanAlertThreshold,
      publicView: Object.fromEntries(Object.entries(state.publicView).map(([s, items]) => [stageId(s), items])),
      authorizedRegions: state.authorizedRegions,
      ...(state.assetQuantity ? { assetQuantity: renameRef(state.assetQuantity, stages) } : {}),
      ...(state.epcis ? { epcis: renameEpcis(state.epcis, stages) } : {}),
    },
  };
  return { pkg, renamed: { forms, stages } };
}

/** The operands a rule may read: each stage's items, and its event time. */
export function operandChoices(state: DesignerState): { ref: string; label: string }[] {
  const out: { ref: string; label: string }[] = [];
  for (const s of state.stages) {
    out.push({ ref: `${s.id}.eventTime`, label: `${s.name} · eventTime` });
    const ids = new Set(state.forms.filter((f) => s.forms.includes(f.id)).flatMap((f) => f.items));
    for (const i of state.items) if (ids.has(i.id)) out.push({ ref: `${s.id}.${i.id}`, label: `${s.name} · ${i.name} (${i.type}, ${i.privacy})` });
  }
  return out;
}

/** A requiredIf condition's value as typed in, in the type of the item it tests (the chain compares with ===). */
export function conditionValue(state: DesignerState, ref: string, text: string): string | number | boolean | undefined {
  if (text === '') return undefined;
  const item = state.items.find((i) => i.id === ref.slice(ref.indexOf('.') + 1));
  if (item?.type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  if ((item?.type === 'number' || item?.type === 'integer') && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  return text;
}

export interface Changes {
  added: string[];
  changed: string[];
  removed: string[];
}

export interface Summary {
  id: string;
  version: number;
  /** the version it starts from */
  from?: number;
  items: Changes;
  forms: Changes;
  stages: Changes;
  rules: Changes;
  renamed: PublishPlan['renamed'];
}

function changes<T extends { id: string }>(now: T[], before: T[], def: (x: T) => unknown): Changes {
  return {
    added: now.filter((x) => !before.some((b) => b.id === x.id)).map((x) => x.id),
    changed: now.filter((x) => before.some((b) => b.id === x.id && !same(def(b), def(x)))).map((x) => x.id),
    removed: before.filter((b) => !now.some((x) => x.id === b.id)).map((b) => b.id),
  };
}

/** What publishing changes against the version the editor started from (everything is added when it started empty). */
export function summarize(state: DesignerState, base?: DesignerBase): Summary {
  const from = base ? editorFromVersion(base) : emptyEditor();
  return {
    id: state.id,
    version: state.version,
    from: base?.template.version,
    items: changes(state.items, from.items, cleanItem),
    forms: changes(state.forms, from.forms, formDef),
    stages: changes(state.stages, from.stages, (s) => ({ ...stageDef(s), after: s.after })),
    rules: changes(state.rules, from.rules, cleanRule),
    renamed: publishPlan(state, base).renamed,
  };
}

/** The template's own fields a refusal may name (the DTO's messages start with the property). */
const TEMPLATE_FIELDS = ['id', 'version', 'name', 'category', 'stages', 'rules', 'scanAlertThreshold', 'publicView', 'authorizedRegions', 'assetQuantity', 'epcis'];

/**
 * The editor fields a chain refusal concerns, keyed `item:<id>`, `form:<id>`, `stage:<id>`, `rule:<id>` or
 * `template:<field>` (editor ids: renamed forms and stages map back). A refusal of one definition belongs to it;
 * defineTemplate's lists its problems `a; b`, each naming its rule, stage, form, item or template field.
 */
export function fieldsOfDesignerError(plan: PublishPlan, step: LoadStep | undefined, code: string, message: string): Record<string, string> {
  const editorId = (kind: 'form' | 'stage', id: string) => Object.entries(plan.renamed[`${kind}s`]).find(([, to]) => to === id)?.[0] ?? id;
  const fields: Record<string, string> = {};
  const add = (field: string, problem: string) => (fields[field] = fields[field] ? `${fields[field]}; ${problem}` : problem);
  if (step && step.kind !== 'template') {
    add(`${step.kind}:${step.kind === 'item' ? step.id : editorId(step.kind, step.id)}`, message);
    return fields;
  }
  if (code === 'ERR_CONFLICT' || code === 'ERR_FORBIDDEN' || code === 'ERR_STATE') {
    add(/ version \d+ is published/.test(message) ? 'template:version' : 'template:id', message);
    return fields;
  }
  // problems are joined by '; ', which one of the chain's own problems contains
  for (const problem of message.split(/; (?!rules compare plain values only)/)) {
    const rule = /^(?:rule '([^']+)'|duplicate rule id '([^']+)')/.exec(problem);
    const stage = /^stage '?([A-Za-z0-9_-]+)'?/.exec(problem);
    const def = /^(form|item) ([A-Za-z0-9_-]+) is not defined/.exec(problem);
    const field = /^([A-Za-z]+)/.exec(problem)?.[1];
    if (rule) add(`rule:${rule[1] ?? rule[2]}`, problem);
    else if (stage) add(`stage:${editorId('stage', stage[1])}`, problem);
    else if (def) add(`${def[1]}:${def[1] === 'form' ? editorId('form', def[2]) : def[2]}`, problem);
    else add(`template:${field && TEMPLATE_FIELDS.includes(field) ? field : /cycle/.test(problem) ? 'stages' : 'other'}`, problem);
  }
  return fields;
}
