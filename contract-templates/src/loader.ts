import { isDeepStrictEqual } from 'node:util';
import { LedgerError, TraceChainClient } from '@trace/client';
import { TemplatePackage } from './template-package';

export type Outcome = 'defined' | 'existing';

export interface LoadReport {
  template: string;
  items: Record<string, Outcome>;
  forms: Record<string, Outcome>;
  stages: Record<string, Outcome>;
  published: Outcome;
}

export type Progress = (done: number, total: number, what: string, outcome: Outcome) => void;

/** What a package defines, one object at a time: the step a refusal belongs to. */
export interface LoadStep {
  kind: 'item' | 'form' | 'stage' | 'template';
  id: string;
}

/** A refusal while loading a package, naming the object it concerns (same code and message as the chain's). */
export class LoadStepError extends LedgerError {
  constructor(
    readonly step: LoadStep,
    cause: LedgerError,
  ) {
    super(cause.code, cause.message, cause.details);
  }
}

/** Defines one object; an identical existing definition counts as done, a different one is an ERR_CONFLICT naming it. */
async function ensure<T extends { id: string }>(step: LoadStep, define: () => Promise<unknown>, existing: () => Promise<T>, wanted: T): Promise<Outcome> {
  try {
    await define();
    return 'defined';
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    if (e.code !== 'ERR_CONFLICT') throw new LoadStepError(step, e);
    const current = (await existing()) as unknown as Record<string, unknown>;
    const same = Object.entries(wanted).every(([k, v]) => isDeepStrictEqual(current[k], v));
    if (!same) throw new LoadStepError(step, new LedgerError('ERR_CONFLICT', `${wanted.id} is already defined on chain with a different definition; give the new one another id`));
    return 'existing';
  }
}

/**
 * Defines a template package on chain through the process contract, in dependency order
 * (items, forms, stages, then the template), skipping what is already there. `actor`, the member's own
 * user, goes with each write; an existing definition is compared without it (who wrote it is not what it is).
 */
export async function loadTemplatePackage(client: TraceChainClient, pkg: TemplatePackage, progress: Progress = () => undefined, actor?: string): Promise<LoadReport> {
  const by = actor === undefined ? {} : { actor };
  const total = pkg.items.length + pkg.forms.length + pkg.stages.length + 1;
  let done = 0;
  const step = (what: string, outcome: Outcome) => progress(++done, total, what, outcome);
  const report: LoadReport = { template: `${pkg.template.id} v${pkg.template.version}`, items: {}, forms: {}, stages: {}, published: 'defined' };
  // Items are independent keys: define them concurrently, a few at a time.
  for (let i = 0; i < pkg.items.length; i += 8) {
    await Promise.all(
      pkg.items.slice(i, i + 8).map(async (item) => {
        const outcome = await ensure({ kind: 'item', id: item.id }, () => client.process.defineItem({ ...item, ...by }), () => client.process.getItem(item.id) as Promise<typeof item>, item);
        report.items[item.id] = outcome;
        step(`item ${item.id}`, outcome);
      }),
    );
  }
  for (const form of pkg.forms) {
    report.forms[form.id] = await ensure({ kind: 'form', id: form.id }, () => client.process.defineForm({ ...form, ...by }), () => client.process.getForm(form.id), form);
    step(`form ${form.id}`, report.forms[form.id]);
  }
  for (const stage of pkg.stages) {
    report.stages[stage.id] = await ensure({ kind: 'stage', id: stage.id }, () => client.process.defineStage({ ...stage, ...by }), () => client.process.getStage(stage.id), stage);
    step(`stage ${stage.id}`, report.stages[stage.id]);
  }
  try {
    await client.process.defineTemplate({ ...pkg.template, ...by });
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    if (e.code !== 'ERR_CONFLICT') throw new LoadStepError({ kind: 'template', id: pkg.template.id }, e);
    report.published = 'existing';
  }
  step(`template ${report.template}`, report.published);
  return report;
}
