import { expect } from 'chai';
import type { DataItem, Form, StageDefinition, Template } from '@trace/chaincode';
import { checkRuleShape, RULE_KINDS } from '@trace/chaincode/dist/src/rules/cross-validation';
import { tea } from '@trace/contract-templates';
import { cleanItem, cleanRule, conditionValue, DesignerBase, editorFromVersion, emptyEditor, fieldsOfDesignerError, operandChoices, publishPlan, revisedId, summarize, RULE_FIELDS } from '../src/designer-model';

const AT = '2026-11-30T12:00:00Z';

/** The tea package as the chain publishes it: stages resolved to their items, forms and stages as defined. */
function published(): DesignerBase {
  const items = tea.items as DataItem[];
  const forms: Form[] = tea.forms.map((f) => ({ ...f, definedBy: 'Org1MSP', definedAt: AT }));
  const defs: StageDefinition[] = tea.stages.map((s) => ({ ...s, definedBy: 'Org1MSP', definedAt: AT }) as StageDefinition);
  const t = tea.template;
  const template = {
    ...t,
    stages: t.stages.map((node) => {
      const def = defs.find((d) => d.id === node.stage) as StageDefinition;
      const ids = [...new Set(def.forms.flatMap((f) => forms.find((x) => x.id === f)?.items ?? []))];
      return { stage: node.stage, after: node.after, name: def.name, role: def.role, requiresAudit: def.requiresAudit, bizStep: def.bizStep, items: ids.map((i) => items.find((x) => x.id === i) as DataItem) };
    }),
    authorizedRegions: t.authorizedRegions ?? [],
    publishedBy: 'Org1MSP',
    publishedAt: AT,
  } as Template;
  return { template, stages: defs.filter((d) => t.stages.some((s) => s.stage === d.id)), forms: forms.filter((f) => defs.some((d) => t.stages.some((s) => s.stage === d.id) && d.forms.includes(f.id))) };
}

describe('console units: the template designer builds the definitions from the editor and maps chain refusals back', () => {
  it('publishes an unchanged version as the same definitions under the next version, renaming nothing', () => {
    const base = published();
    const state = editorFromVersion(base);
    expect(state.version).to.equal(2);
    const { pkg, renamed } = publishPlan(state, base);
    expect(renamed).to.deep.equal({ forms: {}, stages: {} });
    expect(pkg.template).to.deep.equal({ ...tea.template, version: 2 });
    expect(pkg.stages).to.have.deep.members(tea.stages.filter((s) => base.stages.some((d) => d.id === s.id)));
    expect(pkg.forms).to.have.deep.members(tea.forms.filter((f) => base.forms.some((d) => d.id === f.id)));
    const used = new Set(pkg.forms.flatMap((f) => f.items));
    expect(pkg.items).to.have.deep.members(tea.items.filter((i) => used.has(i.id)));
    const summary = summarize(state, base);
    for (const part of [summary.items, summary.forms, summary.stages, summary.rules]) expect(part).to.deep.equal({ added: [], changed: [], removed: [] });
  });

  it('gives a form and the stage whose items changed fresh ids, renamed in the order, rules, public view, asset quantity and EPCIS mapping', () => {
    const base = published();
    const state = editorFromVersion(base);
    state.items.push({ id: 'tea_sorter', name: '挑拣人 sorter', type: 'string', required: true, privacy: 'plain', unit: '', pattern: '' });
    state.forms.find((f) => f.id === 'tea_warehousing_form')?.items.push('tea_sorter');
    const { pkg, renamed } = publishPlan(state, base);
    expect(renamed).to.deep.equal({ forms: { tea_warehousing_form: 'tea_warehousing_form_v2' }, stages: { tea_warehousing: 'tea_warehousing_v2' } });
    expect(pkg.items.find((i) => i.id === 'tea_sorter'), 'blank inputs left out').to.deep.equal({ id: 'tea_sorter', name: '挑拣人 sorter', type: 'string', required: true, privacy: 'plain' });
    expect(pkg.stages.find((s) => s.id === 'tea_warehousing_v2')?.forms).to.deep.equal(['tea_warehousing_form_v2', 'storage_form']);
    const t = pkg.template;
    expect(t.stages.find((s) => s.stage === 'shipping')?.after).to.deep.equal(['tea_warehousing_v2']);
    expect(t.rules.find((r) => r.id === 'stored_all')).to.include({ left: 'tea_warehousing_v2.tea_stored_cakes', right: 'tea_packing.tea_cakes' });
    expect(t.assetQuantity).to.equal('tea_warehousing_v2.tea_stored_cakes');
    expect(t.epcis).to.have.property('tea_warehousing_v2').and.not.to.have.property('tea_warehousing');
    expect(state.rules.find((r) => r.id === 'stored_all')?.left, 'the editor state is left as it was').to.equal('tea_warehousing.tea_stored_cakes');
    const summary = summarize(state, base);
    expect(summary).to.deep.include({ from: 1, version: 2, items: { added: ['tea_sorter'], changed: [], removed: [] }, forms: { added: [], changed: ['tea_warehousing_form'], removed: [] } });
    expect(summary.stages).to.deep.equal({ added: [], changed: [], removed: [] });
    expect(summary.renamed).to.deep.equal(renamed);
  });

  it('starts empty at version 1 with nothing to rename, and revises ids without stacking versions', () => {
    const state = { ...emptyEditor(), id: 'new_tpl', name: 'n', category: 'c' };
    state.items.push({ id: 'x', name: 'x', type: 'number', min: 0, max: undefined, values: [], required: false, privacy: 'plain' } as unknown as DataItem);
    state.forms.push({ id: 'f', name: 'f', items: ['x'] });
    state.stages.push({ id: 's', name: 's', forms: ['f'], role: 'producer', requiresAudit: false, bizStep: 'commissioning', after: [] });
    expect(publishPlan(state).renamed).to.deep.equal({ forms: {}, stages: {} });
    expect(publishPlan(state).pkg.items).to.deep.equal([{ id: 'x', name: 'x', type: 'number', min: 0, privacy: 'plain' }]);
    expect(summarize(state).stages.added).to.deep.equal(['s']);
    state.items.push({ id: 'ok', name: 'ok', type: 'boolean', privacy: 'plain' }, { id: 'grade', name: 'g', type: 'enum', values: ['1', 'A'], privacy: 'plain' });
    expect(conditionValue(state, 's.ok', 'true'), 'a boolean item: the chain compares with ===').to.equal(true);
    expect(conditionValue(state, 's.x', '2.5')).to.equal(2.5);
    expect(conditionValue(state, 's.grade', '1'), 'an enum value stays text').to.equal('1');
    expect(conditionValue(state, 's.x', '')).to.equal(undefined);
    expect(revisedId('tea_packing_v2', 3)).to.equal('tea_packing_v3');
    expect(revisedId('a'.repeat(64), 12)).to.have.length(64);
    expect(cleanItem({ id: 'b', name: 'b', type: 'boolean', required: true, privacy: 'hash' })).to.deep.equal({ id: 'b', name: 'b', type: 'boolean', required: true, privacy: 'hash' });
    expect(operandChoices(state).map((o) => o.ref)).to.deep.equal(['s.eventTime', 's.x']);
    const cleared = { id: 'r', kind: 'requiredIf', severity: 'flag', left: 's.x', when: { ref: 's.eventTime', equals: '' }, message: '' } as unknown as Parameters<typeof cleanRule>[0];
    expect(cleanRule(cleared), 'cleared inputs left out').to.deep.equal({ id: 'r', kind: 'requiredIf', severity: 'flag', left: 's.x', when: { ref: 's.eventTime' } });
    expect(cleanRule({ id: 'w', kind: 'withinRange', severity: 'reject', left: 's.x', min: 0, max: null } as unknown as Parameters<typeof cleanRule>[0])).to.deep.equal({ id: 'w', kind: 'withinRange', severity: 'reject', left: 's.x', min: 0 });
  });

  it('puts a refusal on the editor field it names: the definition being defined, or each problem of a template', () => {
    const base = published();
    const state = editorFromVersion(base);
    state.forms.find((f) => f.id === 'tea_packing_form')?.items.pop();
    const plan = publishPlan(state, base);
    expect(plan.renamed.stages).to.deep.equal({ tea_packing: 'tea_packing_v2' });
    expect(fieldsOfDesignerError(plan, { kind: 'item', id: 'tea_cakes' }, 'ERR_CONFLICT', 'item tea_cakes is already defined; items are immutable, define a new id')).to.deep.equal({ 'item:tea_cakes': 'item tea_cakes is already defined; items are immutable, define a new id' });
    expect(fieldsOfDesignerError(plan, { kind: 'form', id: 'tea_packing_form_v2' }, 'ERR_NOT_FOUND', 'item nope is not defined')).to.deep.equal({ 'form:tea_packing_form': 'item nope is not defined' });
    const message = [
      "rule 'bad': tea_plantation.tea_organic_cert is a hash item; rules compare plain values only",
      "rule 'bad': stage 'tea_packing_v2' has no item 'x'",
      "stage 'tea_packing_v2' comes after unknown stage 'gone'",
      "publicView names unknown stage 'gone'",
      'scanAlertThreshold must not be greater than 100000',
      'the stage order has a cycle',
      'something new',
    ].join('; ');
    expect(fieldsOfDesignerError(plan, undefined, 'ERR_VALIDATION', message)).to.deep.equal({
      'rule:bad': "rule 'bad': tea_plantation.tea_organic_cert is a hash item; rules compare plain values only; rule 'bad': stage 'tea_packing_v2' has no item 'x'",
      'stage:tea_packing': "stage 'tea_packing_v2' comes after unknown stage 'gone'",
      'template:publicView': "publicView names unknown stage 'gone'",
      'template:scanAlertThreshold': 'scanAlertThreshold must not be greater than 100000',
      'template:stages': 'the stage order has a cycle',
      'template:other': 'something new',
    });
    expect(fieldsOfDesignerError(plan, undefined, 'ERR_NOT_FOUND', 'stage tea_packing_v2 is not defined')).to.deep.equal({ 'stage:tea_packing': 'stage tea_packing_v2 is not defined' });
    expect(fieldsOfDesignerError(plan, { kind: 'template', id: 'puer_tea' }, 'ERR_CONFLICT', 'template puer_tea version 2 is published and immutable')).to.deep.equal({ 'template:version': 'template puer_tea version 2 is published and immutable' });
    expect(fieldsOfDesignerError(plan, undefined, 'ERR_STATE', 'template puer_tea is retired')).to.deep.equal({ 'template:id': 'template puer_tea is retired' });
  });

  it("covers each of the chain's rule kinds with the operands and numbers the chain accepts for it", () => {
    expect(Object.keys(RULE_FIELDS)).to.have.members([...RULE_KINDS]);
    for (const kind of RULE_KINDS) {
      const { refs, numbers } = RULE_FIELDS[kind];
      const rule: Record<string, unknown> = { id: 'r', kind, severity: 'reject', ...Object.fromEntries(refs.map((f) => [f, 's.i'])), ...Object.fromEntries(numbers.map((n) => [n, 1])) };
      if (kind === 'requiredIf') rule.when = { ref: 's.j' };
      expect(checkRuleShape(rule), kind).to.deep.equal([]);
      expect(checkRuleShape({ ...rule, extra: 1 }), `${kind}: the chain names what it does not take`).to.deep.equal(["rule 'r': unknown field 'extra'"]);
    }
  });
});
