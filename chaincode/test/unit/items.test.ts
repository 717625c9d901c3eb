import { expect } from 'chai';
import { checkItemDefinition, checkItemValue, checkStageData, DataItem, MAX_CIPHER_B64 } from '../../src/rules/items';

const item = (over: Partial<DataItem>): DataItem => ({ id: 'x', name: 'X', type: 'string', privacy: 'plain', ...over });

describe('data item checks', () => {
  it('numbers: finite, with inclusive bounds; integers must be whole', () => {
    const n = item({ type: 'number', min: 0, max: 10 });
    expect(checkItemValue(n, 0)).to.equal(undefined);
    expect(checkItemValue(n, 10)).to.equal(undefined);
    expect(checkItemValue(n, 10.0001)).to.contain('above the maximum 10');
    expect(checkItemValue(n, -1)).to.contain('below the minimum 0');
    expect(checkItemValue(n, '5')).to.contain('finite number');
    expect(checkItemValue(n, Number.NaN)).to.contain('finite number');
    const i = item({ type: 'integer' });
    expect(checkItemValue(i, 3)).to.equal(undefined);
    expect(checkItemValue(i, 3.5)).to.contain('integer');
  });

  it('strings: length bound and full-match pattern', () => {
    const s = item({ pattern: '[A-Z]{2}\\d{4}', maxLength: 6 });
    expect(checkItemValue(s, 'AB1234')).to.equal(undefined);
    expect(checkItemValue(s, 'xAB1234')).to.contain('longer than 6');
    expect(checkItemValue(s, 'AB12345'.slice(0, 6).replace('A', 'a'))).to.contain('pattern');
    expect(checkItemValue(item({}), 'y'.repeat(1025))).to.contain('longer than 1024');
    expect(checkItemValue(item({}), 5)).to.contain('must be a string');
  });

  it('enum, boolean, datetime, geo and hash types', () => {
    expect(checkItemValue(item({ type: 'enum', values: ['A', 'B'] }), 'B')).to.equal(undefined);
    expect(checkItemValue(item({ type: 'enum', values: ['A', 'B'] }), 'C')).to.contain('one of A, B');
    expect(checkItemValue(item({ type: 'boolean' }), false)).to.equal(undefined);
    expect(checkItemValue(item({ type: 'boolean' }), 'false')).to.contain('true or false');
    expect(checkItemValue(item({ type: 'datetime' }), '2026-05-01T08:00:00+08:00')).to.equal(undefined);
    expect(checkItemValue(item({ type: 'datetime' }), '2026-05-01 08:00')).to.contain('RFC 3339');
    expect(checkItemValue(item({ type: 'datetime' }), '2026-13-45T08:00:00Z')).to.contain('RFC 3339');
    expect(checkItemValue(item({ type: 'geo' }), { lat: 22.5, lon: 100.8 })).to.equal(undefined);
    expect(checkItemValue(item({ type: 'geo' }), { lat: 91, lon: 0 })).to.contain('lat, lon');
    expect(checkItemValue(item({ type: 'geo' }), { lat: 1, lon: 2, alt: 3 })).to.contain('lat, lon');
    expect(checkItemValue(item({ type: 'hash' }), 'a'.repeat(64))).to.equal(undefined);
    expect(checkItemValue(item({ type: 'hash' }), 'A'.repeat(64))).to.contain('hex');
  });

  it('privacy: hash items carry a SHA-256, cipher items bounded base64', () => {
    const h = item({ type: 'number', privacy: 'hash' });
    expect(checkItemValue(h, 'f'.repeat(64))).to.equal(undefined);
    expect(checkItemValue(h, 42)).to.contain('hashed item');
    const c = item({ privacy: 'cipher' });
    expect(checkItemValue(c, Buffer.from('secret').toString('base64'))).to.equal(undefined);
    expect(checkItemValue(c, 'not base64!')).to.contain('base64');
    expect(checkItemValue(c, 'A'.repeat(MAX_CIPHER_B64 + 4))).to.contain('larger than');
  });

  it('stage data: unknown items, missing required ones, and every bad value', () => {
    const items = [item({ id: 'qty', type: 'number', required: true, min: 0 }), item({ id: 'note' })];
    expect(checkStageData(items, { qty: 1 })).to.deep.equal([]);
    expect(checkStageData(items, { note: 'n', extra: 1 })).to.deep.equal(["unknown item 'extra'", "required item 'qty' is missing"]);
    expect(checkStageData(items, { qty: -1, note: 3 })).to.deep.equal(['qty = -1 is below the minimum 0', 'note must be a string']);
  });

  it('item definitions: bounds, enum values, patterns and privacy conflicts', () => {
    expect(checkItemDefinition(item({ type: 'number', min: 1, max: 1 }))).to.deep.equal([]);
    expect(checkItemDefinition(item({ type: 'number', min: 2, max: 1 }))).to.deep.equal(['x: min is greater than max']);
    expect(checkItemDefinition(item({ type: 'enum' }))).to.deep.equal(['x: an enum item needs values']);
    expect(checkItemDefinition(item({ pattern: '(' }))).to.deep.equal(["x: pattern is not supported: missing ')' at position 1"]);
    expect(checkItemDefinition(item({ type: 'number', privacy: 'cipher', max: 3 }))[0]).to.contain('cannot carry range');
  });
});
