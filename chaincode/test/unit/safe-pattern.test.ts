import { expect } from 'chai';
import { MAX_STATES, PatternError, safePattern } from '../../src/rules/safe-pattern';

/** Whole-value match by JavaScript's own engine, the meaning our subset keeps. */
const js = (pattern: string, value: string) => new RegExp(`^(?:${pattern})$`, 'u').test(value);

describe('item patterns in linear time', () => {
  it('means what JavaScript means for the supported syntax (differential check)', () => {
    const patterns = [
      '[A-Z]{2}-\\d{3}', '[A-Za-z0-9-]{6,40}', '[A-Z]{2}(-[A-Z0-9]{1,3})?', 'a|bc|', '(?:ab)+c*', 'x{2,}', 'x{0,2}?y', '[^\\d\\s]+', '\\w+\\.\\w+',
      '[\\D]', '.+', '[.]', '\\u{1F375}+茶', '[一-龥]{2,4}', '[a\\]]', '^abc$', '\\x41\\u0042', '(a|ab)(c|bcd)(d*)', '[-a]', '[a-]', '[a\\-z]',
    ];
    const values = ['', 'AB-123', 'AB-12', 'ab-123', 'CN', 'CN-53', 'CN-5300', 'a', 'bc', 'abab', 'ababccc', 'xx', 'xxxx', 'y', 'xxy', 'abc', 'abc-d', 'a.b', '5', '.', '\n',
      '🍵🍵茶', '普洱茶', 'a-b', ']', 'AB', 'abcd', 'abcdd', '-', 'SF1234567890', 'x y'];
    for (const p of patterns) for (const v of values) expect(safePattern(p).matches(v), `/${p}/ on ${JSON.stringify(v)}`).to.equal(js(p, v));
  });

  it('refuses what it cannot match in linear time or does not support, with a reason', () => {
    const refusals: [string, RegExp][] = [
      ['(a)\\1', /backreferences/], ['(?=a)a', /lookarounds/], ['(?<n>a)', /lookarounds or named groups/], ['a**', /nested quantifier/], ['*a', /nothing to repeat/],
      ['a^b', /anchors/], ['(ab', /missing '\)'/], ['ab)', /unexpected '\)'/], ['[]', /empty character class/], ['[z-a]', /out of order/], ['a{3,1}', /backwards/],
      ['a{1001}', /above 1000/], ['\\p{L}', /unsupported escape/], ['\\b', /unsupported escape/], ['a\\-b', /unsupported escape/], ['[a', /missing '\]'/], ['a{2', /missing '}'/],
    ];
    for (const [p, why] of refusals) expect(() => safePattern(p), p).to.throw(PatternError, why);
    expect(() => safePattern('(((a{1000}){1000}){1000})')).to.throw(PatternError, new RegExp(`more than ${MAX_STATES} states`));
  });

  it('answers catastrophic backtracking patterns on long values (a RegExp would run for ages)', () => {
    const long = 'a'.repeat(4096);
    expect(safePattern('(a+)+b').matches(long)).to.equal(false);
    expect(safePattern('(a|a)*b').matches(long)).to.equal(false);
    expect(safePattern('(a*)*').matches(long)).to.equal(true);
    expect(safePattern('a*a*a*a*a*a*a*a*b').matches(long)).to.equal(false);
  });
});
