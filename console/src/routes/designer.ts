import type { Form, StageDefinition, TemplateRetirement } from '@trace/chaincode';
import { ROLES as MEMBER_ROLES } from '@trace/chaincode/dist/src/model/consortium';
import { ID } from '@trace/chaincode/dist/src/model/validators';
import { RULE_KINDS } from '@trace/chaincode/dist/src/rules/cross-validation';
import { ITEM_TYPES, PRIVACY } from '@trace/chaincode/dist/src/rules/items';
import { allPages, LedgerError } from '@trace/client';
import { loadTemplatePackage, LoadStep, LoadStepError } from '@trace/contract-templates';
import { PAGES } from '../access';
import { DesignerBase, DesignerState, fieldsOfDesignerError, publishPlan, TemplateSummary } from '../designer-model';
import { ConsoleError } from '../errors';
import { Call, chainWrite, ConsoleRoute, id, str, user } from '../route-kit';

/**
 * Every chain body the designer writes, built here: the definitions and version of a publish (the editor model's plan)
 * and a retirement, each naming the console user who acts (`actor`).
 */
const chainBodies = {
  publish: (state: DesignerState, base?: DesignerBase) => publishPlan(state, base),
  retire: (templateId: string, reason: string, actor: string) => ({ id: templateId, reason, actor }),
};

/** The published versions of each template (newest first) and whether the template is retired. */
async function listTemplates(call: Call): Promise<TemplateSummary[]> {
  const { client } = call.deps.chain;
  const versions = await allPages((p) => client.process.listTemplates(p));
  const ids = [...new Set(versions.map((v) => v.id))];
  const retirements = await Promise.all(ids.map((t) => client.process.getRetirement(t)));
  return ids.map((t, i) => {
    const mine = versions.filter((v) => v.id === t).sort((a, b) => b.version - a.version);
    const r = retirements[i];
    const retired = 'by' in r ? (r as TemplateRetirement) : undefined;
    return { id: t, name: mine[0].name, category: mine[0].category, versions: mine.map((v) => ({ version: v.version, publishedAt: v.publishedAt, stages: v.stages.length })), retired: retired && { reason: retired.reason, by: retired.by, at: retired.at } };
  });
}

function versionParam(value: unknown): number {
  const version = Number(value);
  if (!Number.isInteger(version) || version < 1 || version > 9999) throw new ConsoleError(400, 'ERR_VALIDATION', 'version must be an integer from 1 to 9999', { 'template:version': 'an integer from 1 to 9999' });
  return version;
}

function templateIdOf(value: unknown): string {
  if (typeof value !== 'string' || !ID.test(value)) throw new ConsoleError(400, 'ERR_VALIDATION', 'the template id is 1-64 letters, digits, _ and -', { 'template:id': '1-64 letters, digits, _ and -' });
  return value;
}

/** A published version with the stage and form definitions it names: the version view, and where an editor starts. */
async function versionBase(call: Call, templateId: string, version: number): Promise<DesignerBase> {
  const { chain } = call.deps;
  const template = await chain.template(templateId, version);
  const stages: StageDefinition[] = await Promise.all(template.stages.map((s) => chain.client.process.getStage(s.stage)));
  const formIds = [...new Set(stages.flatMap((s) => s.forms))];
  const forms: Form[] = await Promise.all(formIds.map((f) => chain.client.process.getForm(f)));
  return { template, stages, forms };
}

/** The editor state as sent: its lists and fields are checked by the chain, only their shape here. */
function editorState(value: unknown): DesignerState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConsoleError(400, 'ERR_VALIDATION', 'state must be the editor state object');
  const s = value as Record<string, unknown>;
  for (const list of ['items', 'forms', 'stages', 'rules', 'authorizedRegions']) {
    if (!Array.isArray(s[list]) || (s[list] as unknown[]).some((x) => (list === 'authorizedRegions' ? typeof x !== 'string' : typeof x !== 'object' || x === null))) {
      throw new ConsoleError(400, 'ERR_VALIDATION', `state.${list} must be a list`, { [`template:${list}`]: 'a list' });
    }
  }
  if (typeof s.publicView !== 'object' || s.publicView === null) throw new ConsoleError(400, 'ERR_VALIDATION', 'state.publicView must be an object', { 'template:publicView': 'stage → item ids' });
  for (const f of s.forms as Record<string, unknown>[]) if (!Array.isArray(f.items)) throw new ConsoleError(400, 'ERR_VALIDATION', 'every form needs a list of items', { [`form:${String(f.id)}`]: 'a list of items' });
  for (const st of s.stages as Record<string, unknown>[]) {
    if (!Array.isArray(st.forms) || !Array.isArray(st.after)) throw new ConsoleError(400, 'ERR_VALIDATION', 'every stage needs lists of forms and predecessors', { [`stage:${String(st.id)}`]: 'lists of forms and predecessors' });
  }
  return s as unknown as DesignerState;
}

/**
 * Publishes the editor's version: the definitions it adds (the identical ones on chain are kept), then the version.
 * A refusal answers with the chain's code on the editor field it names; the version is then not published.
 */
async function publish(call: Call): Promise<unknown> {
  const state = editorState(call.body.state);
  const from = call.body.from as { id?: unknown; version?: unknown } | undefined;
  const base = from ? await versionBase(call, id(String(from.id), 'from.id'), versionParam(from.version)) : undefined;
  const plan = chainBodies.publish(state, base);
  const { client } = call.deps.chain;
  const subject = `${state.id}@${state.version}`;
  // defineTemplate answers an existing version as done: the editor must not take someone else's version for its own
  const taken = await client.process.getTemplate(templateIdOf(state.id), versionParam(state.version)).then(
    () => true,
    (e: unknown) => (e instanceof LedgerError && e.code === 'ERR_NOT_FOUND' ? false : Promise.reject(e)),
  );
  if (taken) throw new ConsoleError(409, 'ERR_CONFLICT', `template ${state.id} version ${state.version} is already published`, { 'template:version': 'already published' });
  let step: LoadStep | undefined;
  const load = () =>
    loadTemplatePackage(client, plan.pkg, undefined, user(call).username).catch((e: unknown) => {
      if (e instanceof LoadStepError) step = e.step;
      throw e;
    });
  const report = await chainWrite(call, 'process:defineTemplate', subject, load, (code, message) => fieldsOfDesignerError(plan, step, code, message));
  return { report, renamed: plan.renamed, template: await call.deps.chain.template(state.id, state.version) };
}

/** 流程模板 designer: templates are defined by their owner (brand or operator, as the chain allows): the org's admins. */
export const DESIGNER_ROUTES: ConsoleRoute[] = [
  { method: 'get', path: '/api/designer/templates', access: PAGES.designer, summary: 'Templates with their published versions and retirement', handle: listTemplates },
  {
    method: 'get', path: '/api/designer/options', access: PAGES.designer, summary: "The chain's item types, privacy forms, member roles and rule kinds",
    handle: () => ({ itemTypes: ITEM_TYPES, privacy: PRIVACY, roles: MEMBER_ROLES, ruleKinds: RULE_KINDS }),
  },
  {
    method: 'get', path: '/api/designer/templates/:id/versions/:version', access: PAGES.designer, summary: 'A published version with the stage and form definitions it names',
    handle: (c) => versionBase(c, id(c.params.id, 'id'), versionParam(c.params.version)),
  },
  { method: 'post', path: '/api/designer/publish', access: PAGES.designer, body: { maxBytes: 512 * 1024 }, summary: 'Publish the editor state {state, from?: {id, version}} as a new version', handle: publish },
  {
    method: 'post', path: '/api/designer/templates/:id/retire', access: PAGES.designer, summary: 'Retire a template {reason}: no new task may use any of its versions',
    handle: (c) => {
      const templateId = id(c.params.id, 'id');
      const reason = str(c.body, 'reason') as string;
      return chainWrite(c, 'process:retireTemplate', templateId, () => c.deps.chain.client.process.retireTemplate(chainBodies.retire(templateId, reason, user(c).username)), (code, message): Record<string, string> => (code === 'ERR_VALIDATION' ? { reason: message } : { 'template:id': message }));
    },
  },
];
