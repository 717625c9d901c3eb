import { expect } from 'chai';
import { checkRuleReferences, evaluateRules, Rule, StageValues } from '../../src/rules/cross-validation';

const at = (iso: string, data: StageValues['data']): StageValues => ({ eventTime: iso, data });

describe('cross-validation rules', () => {
  const stages = {
    drying: at('2026-05-01T08:00:00Z', { outputKg: 100, grade: 'A', moisture: 0.3 }),
    packing: at('2026-05-02T08:00:00Z', { quantity: 250, grade: 'A', moisture: 0.1 + 0.2 }),
  };

  it('lte with factor: equal to the bound passes, above fails naming the values', () => {
    const rule: Rule = { id: 'yield', kind: 'lte', left: 'packing.quantity', right: 'drying.outputKg', factor: 2.5, severity: 'reject' };
    expect(evaluateRules([rule], 'packing', stages)).to.deep.equal([]);
    const over = { ...stages, packing: at('2026-05-02T08:00:00Z', { quantity: 250.01 }) };
    const [v] = evaluateRules([rule], 'packing', over);
    expect(v).to.include({ ruleId: 'yield', severity: 'reject' });
    expect(v.message).to.contain('exceeds drying.outputKg × 2.5 (250)');
  });

  it('eq honours its tolerance and tolerates float noise', () => {
    const rule: Rule = { id: 'm', kind: 'eq', left: 'packing.moisture', right: 'drying.moisture', severity: 'flag' };
    expect(evaluateRules([rule], 'packing', stages)).to.deep.equal([]); // 0.1 + 0.2 vs 0.3
    const off = { ...stages, packing: at('2026-05-02T08:00:00Z', { moisture: 0.35 }) };
    expect(evaluateRules([rule], 'packing', off)).to.have.length(1);
    expect(evaluateRules([{ ...rule, tolerance: 0.05 }], 'packing', off)).to.deep.equal([]);
  });

  it('ratio checks both bounds, equal bounds included, and refuses a zero denominator', () => {
    const rule: Rule = { id: 'r', kind: 'ratio', left: 'packing.quantity', right: 'drying.outputKg', min: 2.5, max: 2.5, severity: 'reject' };
    expect(evaluateRules([rule], 'packing', stages)).to.deep.equal([]);
    expect(evaluateRules([{ ...rule, min: 2.6, max: 3 }], 'packing', stages)[0].message).to.contain('below 2.6');
    expect(evaluateRules([{ ...rule, min: 1, max: 2 }], 'packing', stages)[0].message).to.contain('above 2');
    const zero = { ...stages, drying: at('2026-05-01T08:00:00Z', { outputKg: 0 }) };
    expect(evaluateRules([rule], 'packing', zero)[0].message).to.contain('zero');
  });

  it('timeOrder measures hours between event times or datetime items', () => {
    const rule: Rule = { id: 't', kind: 'timeOrder', left: 'drying.eventTime', right: 'packing.eventTime', minHours: 24, maxHours: 48, severity: 'reject' };
    expect(evaluateRules([rule], 'packing', stages)).to.deep.equal([]);
    expect(evaluateRules([{ ...rule, minHours: 25 }], 'packing', stages)[0].message).to.contain('less than 25 h');
    expect(evaluateRules([{ ...rule, maxHours: 23 }], 'packing', stages)[0].message).to.contain('more than 23 h');
    const backwards = { ...stages, packing: at('2026-04-30T08:00:00Z', {}) };
    expect(evaluateRules([{ ...rule, minHours: undefined, maxHours: undefined }], 'packing', backwards)).to.have.length(1);
  });

  it('sameValue compares strings strictly', () => {
    const rule: Rule = { id: 's', kind: 'sameValue', left: 'packing.grade', right: 'drying.grade', severity: 'flag' };
    expect(evaluateRules([rule], 'packing', stages)).to.deep.equal([]);
    const other = { ...stages, packing: at('2026-05-02T08:00:00Z', { grade: 'a' }) };
    expect(evaluateRules([rule], 'packing', other)[0]).to.include({ severity: 'flag', ruleId: 's' });
  });

  it('withinRange with zero and equal bounds', () => {
    const rule: Rule = { id: 'w', kind: 'withinRange', left: 'drying.outputKg', min: 0, max: 100, severity: 'reject' };
    expect(evaluateRules([rule], 'drying', stages)).to.deep.equal([]);
    const zero = { drying: at('2026-05-01T08:00:00Z', { outputKg: 0 }) };
    expect(evaluateRules([rule], 'drying', zero)).to.deep.equal([]);
    const neg = { drying: at('2026-05-01T08:00:00Z', { outputKg: -0.0001 }) };
    expect(evaluateRules([rule], 'drying', neg)[0].message).to.contain('below 0');
  });

  it('requiredIf demands the item only when the condition holds', () => {
    const rule: Rule = { id: 'q', kind: 'requiredIf', left: 'packing.reason', when: { ref: 'packing.grade', equals: 'B' }, severity: 'reject' };
    expect(evaluateRules([rule], 'packing', stages)).to.deep.equal([]);
    const b = { packing: at('2026-05-02T08:00:00Z', { grade: 'B' }) };
    expect(evaluateRules([rule], 'packing', b)[0].message).to.contain('packing.reason is required');
    const withReason = { packing: at('2026-05-02T08:00:00Z', { grade: 'B', reason: 'rain' }) };
    expect(evaluateRules([rule], 'packing', withReason)).to.deep.equal([]);
  });

  it('waits for an unrecorded stage, and reports a missing item of a recorded one', () => {
    const rule: Rule = { id: 'y', kind: 'lte', left: 'packing.quantity', right: 'drying.outputKg', severity: 'reject' };
    expect(evaluateRules([rule], 'packing', { packing: stages.packing })).to.deep.equal([]);
    const noOutput = { ...stages, drying: at('2026-05-01T08:00:00Z', {}) };
    expect(evaluateRules([rule], 'packing', noOutput)[0].message).to.equal('drying.outputKg missing');
    // Rules that do not touch the stage are not evaluated for it.
    expect(evaluateRules([rule], 'inspection', noOutput)).to.deep.equal([]);
  });

  it('uses the rule message when given', () => {
    const rule: Rule = { id: 'y', kind: 'lte', left: 'packing.quantity', right: 'drying.outputKg', severity: 'reject', message: 'packed more than dried' };
    expect(evaluateRules([rule], 'packing', stages)[0].message).to.match(/^packed more than dried \(/);
  });

  it('finds unknown stages, unknown items, bad references and duplicate ids', () => {
    const rules: Rule[] = [
      { id: 'a', kind: 'lte', left: 'packing.quantity', right: 'drying.outputKg', severity: 'reject' },
      { id: 'a', kind: 'eq', left: 'nosuch.x', right: 'drying.nope', severity: 'flag' },
      { id: 'c', kind: 'withinRange', left: 'noDot', severity: 'flag' },
    ];
    const problems = checkRuleReferences(rules, { packing: ['quantity'], drying: ['outputKg'] });
    expect(problems).to.deep.equal([
      "duplicate rule id 'a'",
      "rule 'a': unknown stage 'nosuch'",
      "rule 'a': stage 'drying' has no item 'nope'",
      "rule 'c': reference 'noDot' must be 'stage.item'",
    ]);
    expect(checkRuleReferences([rules[0], { id: 't', kind: 'timeOrder', left: 'drying.eventTime', right: 'packing.eventTime', severity: 'flag' }], { packing: ['quantity'], drying: ['outputKg'] })).to.deep.equal([]);
  });

  it('throws on a value of the wrong type rather than guessing', () => {
    const rule: Rule = { id: 'y', kind: 'lte', left: 'packing.grade', right: 'drying.outputKg', severity: 'reject' };
    expect(() => evaluateRules([rule], 'packing', stages)).to.throw(/not a number/);
  });
});
