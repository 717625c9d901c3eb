import { expect } from 'chai';
import { tea } from '@trace/contract-templates';
import type { Template } from '@trace/chaincode';
import { LoginThrottle } from '../src/login-throttle';
import { hashPassword, verifyPassword } from '../src/passwords';
import { fieldsOfChainError, fieldsOfFlags } from '../src/stage-entry';

/** The tea template as published: each stage resolved to its items (the console reads only stage ids, items and rules). */
const template = {
  id: tea.template.id,
  version: 1,
  name: tea.template.name,
  rules: tea.template.rules,
  stages: tea.template.stages.map((n) => ({
    stage: n.stage,
    after: n.after,
    items: tea.stages.find((s) => s.id === n.stage)!.forms.flatMap((f) => tea.forms.find((x) => x.id === f)?.items ?? []).map((id) => ({ id })),
  })),
} as unknown as Template;

describe('console units: chain refusals mapped to fields, the login throttle, password hashes', () => {
  it('puts a cross-validation refusal on the fields of this stage its rule reads, and item problems on their items', () => {
    expect(fieldsOfChainError(template, 'tea_warehousing', 'ERR_CROSS_VALIDATION', "rule 'stored_all': the warehouse confirms every packed cake (599 ≠ 600)")).to.deep.equal({
      tea_stored_cakes: 'the warehouse confirms every packed cake (599 ≠ 600)',
    });
    expect(fieldsOfChainError(template, 'tea_warehousing', 'ERR_VALIDATION', "stage 'tea_warehousing': storage_temp_c = 90 is above the maximum 80; tea_stored_cakes must be an integer")).to.deep.equal({
      storage_temp_c: 'storage_temp_c = 90 is above the maximum 80',
      tea_stored_cakes: 'tea_stored_cakes must be an integer',
    });
    expect(fieldsOfChainError(template, 'tea_warehousing', 'ERR_VALIDATION', "stage 'tea_warehousing': required item 'tea_stored_cakes' is missing"), 'a missing required item').to.deep.equal({
      tea_stored_cakes: "required item 'tea_stored_cakes' is missing",
    });
    expect(fieldsOfChainError(template, 'tea_warehousing', 'ERR_CROSS_VALIDATION', "rule 'no_such_rule': x"), 'unknown rule: no field').to.deep.equal({});
    expect(fieldsOfChainError(template, 'tea_warehousing', 'ERR_VALIDATION', 'location must match /^\\d{13}$/ regular expression')).to.deep.equal({ location: 'location must match /^\\d{13}$/ regular expression' });
    expect(fieldsOfFlags(template, 'tea_warehousing', [{ ruleId: 'storage_temp', severity: 'flag', message: 'Pu’er ages at 10–30 °C' }])).to.deep.equal({ storage_temp_c: 'Pu’er ages at 10–30 °C' });
  });

  it('throttles a key after five failures, for as long as one token takes to refill, and a success clears only that key', () => {
    const t = new LoginThrottle(5, 60);
    const keys = ['user:a', 'ip:1'];
    for (let i = 0; i < 4; i++) t.fail(keys, 0);
    expect(t.wait(keys, 0)).to.equal(0);
    t.fail(keys, 0);
    expect(t.wait(keys, 0)).to.equal(60);
    expect(t.wait(keys, 30_000)).to.equal(30);
    expect(t.wait(keys, 60_000)).to.equal(0);
    t.fail(keys, 60_000);
    t.succeed('user:a');
    expect(t.wait(['user:a'], 60_000)).to.equal(0);
    expect(t.wait(['ip:1'], 60_000)).to.equal(60);
    const small = new LoginThrottle(1, 60, 2);
    for (const k of ['a', 'b', 'c']) small.fail([k], 0);
    expect(['a', 'b', 'c'].map((k) => small.wait([k], 0) === 0), 'the oldest dropped beyond maxKeys').to.deep.equal([true, false, false]);
  });

  it('hashes passwords with a per-user salt and verifies only the right one', async () => {
    const [a, b] = await Promise.all([hashPassword('correct horse battery'), hashPassword('correct horse battery')]);
    expect(a).to.match(/^scrypt\$32768\$8\$1\$/);
    expect(a).to.not.equal(b);
    expect(await verifyPassword('correct horse battery', a)).to.equal(true);
    expect(await verifyPassword('correct horse batterY', a)).to.equal(false);
  });
});
