import type { DataItem, Task, Template } from '@trace/chaincode';
import { parseRef, ruleRefs } from '@trace/chaincode/dist/src/rules/cross-validation';
import type { Violation } from '@trace/chaincode/dist/src/rules/cross-validation';
import { ConsoleError } from './errors';

/** What the stage entry page renders: the stage as its template version froze it, and the rules that read it. */
export interface StageForm {
  taskId: string;
  template: { id: string; version: number; name: string };
  stage: { stage: string; name: string; bizStep: string; role: string; after: string[] };
  items: DataItem[];
  /** rules touching this stage, with the fields of this stage each one reads (reject blocks, flag warns) */
  rules: { id: string; kind: string; severity: string; message?: string; fields: string[] }[];
  /** the current record when the stage was recorded: the page then amends it (with a reason) */
  current?: CurrentRecord;
}

export interface CurrentRecord {
  version: number;
  eventTime: string;
  location?: string;
  data: Record<string, unknown>;
  flags: Violation[];
}

export function templateStage(template: Template, stage: string) {
  return template.stages.find((s) => s.stage === stage) ?? notInTemplate(template, stage);
}

function notInTemplate(template: Template, stage: string): never {
  throw new ConsoleError(404, 'ERR_NOT_FOUND', `stage '${stage}' is not part of template ${template.id} v${template.version}`);
}

/** This stage's fields a rule reads (item ids, or eventTime). */
function fieldsOf(rule: Template['rules'][number], stage: string): string[] {
  return ruleRefs(rule)
    .map(parseRef)
    .filter((r) => r.stage === stage)
    .map((r) => r.item);
}

export function stageForm(task: Task, template: Template, stage: string, current?: CurrentRecord): StageForm {
  const node = templateStage(template, stage);
  return {
    taskId: task.taskId,
    template: { id: template.id, version: template.version, name: template.name },
    stage: { stage: node.stage, name: node.name, bizStep: node.bizStep, role: node.role, after: node.after },
    items: node.items,
    rules: template.rules
      .map((r) => ({ id: r.id, kind: r.kind, severity: r.severity, message: r.message, fields: fieldsOf(r, stage) }))
      .filter((r) => r.fields.length > 0),
    current,
  };
}

/** The record's own fields next to the items: the DTO's messages start with the property's name too. */
const META_FIELDS = ['eventTime', 'location', 'reason'];

/**
 * Which fields a chain refusal concerns: ERR_CROSS_VALIDATION names its rule (`rule 'id': message`),
 * whose references in this stage are the fields; ERR_VALIDATION lists `item problem; item problem` (or the DTO's `location must …`).
 */
export function fieldsOfChainError(template: Template, stage: string, code: string, message: string): Record<string, string> {
  const fields: Record<string, string> = {};
  if (code === 'ERR_CROSS_VALIDATION') {
    const m = /^rule '([^']+)': (.*)$/s.exec(message);
    const rule = m && template.rules.find((r) => r.id === m[1]);
    if (m && rule) for (const f of fieldsOf(rule, stage)) fields[f] = m[2];
  } else if (code === 'ERR_VALIDATION' || code === 'ERR_STAGE_ORDER') {
    const ids = new Set([...META_FIELDS, ...templateStage(template, stage).items.map((i) => i.id)]);
    const body = message.replace(/^stage '[^']+': /, '');
    for (const problem of body.split('; ')) {
      // most problems start with the item's id; a missing required item is quoted
      const id = (/^required item '([^']+)' is missing/.exec(problem) ?? /^([A-Za-z0-9_-]+)/.exec(problem))?.[1];
      if (id && ids.has(id)) fields[id] = problem;
      else if (/eventTime/.test(problem)) fields.eventTime = problem;
    }
  }
  return fields;
}

/** The warnings (flag rules) a record carries, per field of the stage. */
export function fieldsOfFlags(template: Template, stage: string, flags: Violation[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const f of flags) {
    const rule = template.rules.find((r) => r.id === f.ruleId);
    if (rule) for (const field of fieldsOf(rule, stage)) fields[field] = f.message;
  }
  return fields;
}
