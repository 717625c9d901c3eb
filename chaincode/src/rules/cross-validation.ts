import { parseRfc3339 } from './time';
/**
 * Declarative cross-validation rules between stages of one production task, evaluated on chain.
 * Pure and deterministic: inputs are the stage records, output is the list of violations.
 *
 * A reference is `stage.item`, or `stage.eventTime` for the record's event time.
 */

export type Severity = 'reject' | 'flag';

interface RuleBase {
  id: string;
  severity: Severity;
  /** shown in errors and alerts instead of the generated text */
  message?: string;
}

/** left ≤ right × factor (factor defaults to 1) */
export interface LteRule extends RuleBase {
  kind: 'lte';
  left: string;
  right: string;
  factor?: number;
}
/** |left − right| ≤ tolerance (numbers; default 0) */
export interface EqRule extends RuleBase {
  kind: 'eq';
  left: string;
  right: string;
  tolerance?: number;
}
/** min ≤ left / right ≤ max */
export interface RatioRule extends RuleBase {
  kind: 'ratio';
  left: string;
  right: string;
  min?: number;
  max?: number;
}
/** minHours ≤ (right − left) in hours ≤ maxHours: right happens after left */
export interface TimeOrderRule extends RuleBase {
  kind: 'timeOrder';
  left: string;
  right: string;
  minHours?: number;
  maxHours?: number;
}
/** left and right are the same value (strings, numbers or booleans) */
export interface SameValueRule extends RuleBase {
  kind: 'sameValue';
  left: string;
  right: string;
}
/** min ≤ left ≤ max */
export interface WithinRangeRule extends RuleBase {
  kind: 'withinRange';
  left: string;
  min?: number;
  max?: number;
}
/** left must be present when `when` holds: `when.ref` equals `when.equals` (or is present when equals is absent) */
export interface RequiredIfRule extends RuleBase {
  kind: 'requiredIf';
  left: string;
  when: { ref: string; equals?: string | number | boolean };
}

export type Rule = LteRule | EqRule | RatioRule | TimeOrderRule | SameValueRule | WithinRangeRule | RequiredIfRule;
export const RULE_KINDS: readonly Rule['kind'][] = ['lte', 'eq', 'ratio', 'timeOrder', 'sameValue', 'withinRange', 'requiredIf'];

export type Value = string | number | boolean;

/** What the rules see of a recorded stage. */
export interface StageValues {
  /** ISO-8601 event time */
  eventTime: string;
  data: Record<string, Value | undefined>;
}

export interface Violation {
  ruleId: string;
  severity: Severity;
  message: string;
}

export class RuleReferenceError extends Error {}

/** Relative tolerance for float comparisons: 0.1 + 0.2 ≤ 0.3 must hold. */
const EPSILON = 1e-9;

function leq(a: number, b: number): boolean {
  return a <= b + EPSILON * Math.max(1, Math.abs(a), Math.abs(b));
}

export function parseRef(ref: string): { stage: string; item: string } {
  const dot = ref.indexOf('.');
  if (dot <= 0 || dot === ref.length - 1) throw new RuleReferenceError(`reference '${ref}' must be 'stage.item'`);
  return { stage: ref.slice(0, dot), item: ref.slice(dot + 1) };
}

/** The references a rule reads, in order. */
export function ruleRefs(rule: Rule): string[] {
  switch (rule.kind) {
    case 'withinRange':
      return [rule.left];
    case 'requiredIf':
      return [rule.left, rule.when.ref];
    default:
      return [rule.left, rule.right];
  }
}

/**
 * Checks that every reference names a stage of the template and an item of that stage's forms
 * (or eventTime). Returns the problems; empty when the rules are sound.
 */
export function checkRuleReferences(rules: Rule[], itemsByStage: Record<string, readonly string[]>): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const rule of rules) {
    if (ids.has(rule.id)) problems.push(`duplicate rule id '${rule.id}'`);
    ids.add(rule.id);
    for (const ref of ruleRefs(rule)) {
      try {
        const { stage, item } = parseRef(ref);
        const items = itemsByStage[stage];
        if (!items) problems.push(`rule '${rule.id}': unknown stage '${stage}'`);
        else if (item !== 'eventTime' && !items.includes(item)) problems.push(`rule '${rule.id}': stage '${stage}' has no item '${item}'`);
      } catch (e) {
        problems.push(`rule '${rule.id}': ${(e as Error).message}`);
      }
    }
  }
  return problems;
}

type Lookup = { status: 'stageMissing' } | { status: 'itemMissing' } | { status: 'ok'; value: Value };

function lookup(ref: string, stages: Record<string, StageValues | undefined>): Lookup {
  const { stage, item } = parseRef(ref);
  const rec = stages[stage];
  if (!rec) return { status: 'stageMissing' };
  const value = item === 'eventTime' ? rec.eventTime : rec.data[item];
  return value === undefined || value === null || value === '' ? { status: 'itemMissing' } : { status: 'ok', value };
}

function num(ref: string, v: Value): number {
  const n = typeof v === 'number' ? v : NaN;
  if (!Number.isFinite(n)) throw new RuleReferenceError(`'${ref}' is not a number`);
  return n;
}

function hours(ref: string, v: Value): number {
  const ms = parseRfc3339(v) ?? NaN;
  if (!Number.isFinite(ms)) throw new RuleReferenceError(`'${ref}' is not a date-time`);
  return ms / 3_600_000;
}

const fmt = (n: number) => String(Math.round(n * 1e6) / 1e6);

/** One rule against the current values; undefined = satisfied or not yet applicable. */
function check(rule: Rule, stages: Record<string, StageValues | undefined>): string | undefined {
  const refs = ruleRefs(rule);
  const found = refs.map((r) => lookup(r, stages));
  if (rule.kind === 'requiredIf') {
    const [target, cond] = found;
    if (cond.status !== 'ok') return undefined;
    if (rule.when.equals !== undefined && cond.value !== rule.when.equals) return undefined;
    if (target.status === 'stageMissing') return undefined;
    return target.status === 'itemMissing' ? `${rule.left} is required when ${rule.when.ref} is ${JSON.stringify(cond.value)}` : undefined;
  }
  // A rule applies once every stage it names is recorded; until then the later stage checks it.
  if (found.some((f) => f.status === 'stageMissing')) return undefined;
  const missing = refs.filter((_, i) => found[i].status === 'itemMissing');
  if (missing.length > 0) return `${missing.join(', ')} missing`;
  const vals = found.map((f) => (f as { value: Value }).value);
  switch (rule.kind) {
    case 'lte': {
      const l = num(rule.left, vals[0]);
      const r = num(rule.right, vals[1]) * (rule.factor ?? 1);
      return leq(l, r) ? undefined : `${rule.left} (${fmt(l)}) exceeds ${rule.right}${rule.factor !== undefined ? ` × ${rule.factor}` : ''} (${fmt(r)})`;
    }
    case 'eq': {
      const l = num(rule.left, vals[0]);
      const r = num(rule.right, vals[1]);
      const tol = rule.tolerance ?? 0;
      return leq(Math.abs(l - r), tol) ? undefined : `${rule.left} (${fmt(l)}) differs from ${rule.right} (${fmt(r)}) by more than ${tol}`;
    }
    case 'ratio': {
      const l = num(rule.left, vals[0]);
      const r = num(rule.right, vals[1]);
      if (r === 0) return `${rule.right} is zero, the ratio is undefined`;
      const q = l / r;
      if (rule.min !== undefined && !leq(rule.min, q)) return `${rule.left} / ${rule.right} = ${fmt(q)} is below ${rule.min}`;
      if (rule.max !== undefined && !leq(q, rule.max)) return `${rule.left} / ${rule.right} = ${fmt(q)} is above ${rule.max}`;
      return undefined;
    }
    case 'timeOrder': {
      const d = hours(rule.right, vals[1]) - hours(rule.left, vals[0]);
      const min = rule.minHours ?? 0;
      if (!leq(min, d)) return `${rule.right} is ${fmt(d)} h after ${rule.left}, less than ${min} h`;
      if (rule.maxHours !== undefined && !leq(d, rule.maxHours)) return `${rule.right} is ${fmt(d)} h after ${rule.left}, more than ${rule.maxHours} h`;
      return undefined;
    }
    case 'sameValue':
      return vals[0] === vals[1] ? undefined : `${rule.left} (${JSON.stringify(vals[0])}) differs from ${rule.right} (${JSON.stringify(vals[1])})`;
    case 'withinRange': {
      const v = num(rule.left, vals[0]);
      if (rule.min !== undefined && !leq(rule.min, v)) return `${rule.left} (${fmt(v)}) is below ${rule.min}`;
      if (rule.max !== undefined && !leq(v, rule.max)) return `${rule.left} (${fmt(v)}) is above ${rule.max}`;
      return undefined;
    }
  }
}

/**
 * Evaluates the rules that touch `stage` with that stage's new values in place. Rules naming a
 * stage that is not recorded yet wait for it; the stage recorded last checks them.
 */
export function evaluateRules(rules: Rule[], stage: string, stages: Record<string, StageValues | undefined>): Violation[] {
  const out: Violation[] = [];
  for (const rule of rules) {
    if (!ruleRefs(rule).some((r) => parseRef(r).stage === stage)) continue;
    const problem = check(rule, stages);
    if (problem !== undefined) out.push({ ruleId: rule.id, severity: rule.severity, message: rule.message ? `${rule.message} (${problem})` : problem });
  }
  return out;
}

const NUMERIC_FIELDS: Record<Rule['kind'], string[]> = {
  lte: ['factor'],
  eq: ['tolerance'],
  ratio: ['min', 'max'],
  timeOrder: ['minHours', 'maxHours'],
  sameValue: [],
  withinRange: ['min', 'max'],
  requiredIf: [],
};

/** Problems with a rule as received (JSON): kind, fields, references and numbers. Empty when sound. */
export function checkRuleShape(plain: unknown): string[] {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return ['a rule must be an object'];
  const r = plain as Record<string, unknown>;
  const id = typeof r.id === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(r.id) ? r.id : undefined;
  const at = `rule '${id ?? '?'}'`;
  const out: string[] = [];
  if (!id) out.push('every rule needs an id of 1-64 letters, digits, _ . -');
  if (!RULE_KINDS.includes(r.kind as Rule['kind'])) return [...out, `${at}: kind must be one of ${RULE_KINDS.join(', ')}`];
  const kind = r.kind as Rule['kind'];
  if (r.severity !== 'reject' && r.severity !== 'flag') out.push(`${at}: severity must be reject or flag`);
  if (r.message !== undefined && (typeof r.message !== 'string' || r.message.length > 256)) out.push(`${at}: message must be a string of at most 256 characters`);
  const refFields = kind === 'withinRange' || kind === 'requiredIf' ? ['left'] : ['left', 'right'];
  const allowed = new Set(['id', 'kind', 'severity', 'message', ...refFields, ...NUMERIC_FIELDS[kind], ...(kind === 'requiredIf' ? ['when'] : [])]);
  for (const k of Object.keys(r)) if (!allowed.has(k)) out.push(`${at}: unknown field '${k}'`);
  for (const f of refFields) if (typeof r[f] !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(r[f] as string)) out.push(`${at}: ${f} must be 'stage.item'`);
  for (const f of NUMERIC_FIELDS[kind]) if (r[f] !== undefined && (typeof r[f] !== 'number' || !Number.isFinite(r[f]))) out.push(`${at}: ${f} must be a finite number`);
  if (kind === 'requiredIf') {
    const w = r.when as Record<string, unknown> | undefined;
    if (!w || typeof w !== 'object' || typeof w.ref !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(w.ref)) out.push(`${at}: when.ref must be 'stage.item'`);
    else if (w.equals !== undefined && !['string', 'number', 'boolean'].includes(typeof w.equals)) out.push(`${at}: when.equals must be a string, number or boolean`);
  }
  const lo = (kind === 'timeOrder' ? r.minHours : r.min) as number | undefined;
  const hi = (kind === 'timeOrder' ? r.maxHours : r.max) as number | undefined;
  if (typeof lo === 'number' && typeof hi === 'number' && lo > hi) out.push(`${at}: the lower bound is greater than the upper bound`);
  return out;
}
