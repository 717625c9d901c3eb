import { expect } from 'chai';
import { canonical, canonicalJson } from '../../src/rules/canonical-json';
import { checkStageGraph, checkStageOrder, StageNode } from '../../src/rules/stage-order';

const nodes: StageNode[] = [
  { stage: 'picking', after: [] },
  { stage: 'withering', after: ['picking'] },
  { stage: 'inspection', after: ['withering'] },
  { stage: 'packing', after: ['inspection', 'withering'] },
];
const tx = Date.parse('2026-05-03T00:00:00Z');
const audited = (s: string) => s === 'inspection';

describe('stage order', () => {
  it('accepts a stage whose predecessors are recorded and approved', () => {
    const rec = { picking: { eventTime: '2026-05-01T00:00:00Z' }, withering: { eventTime: '2026-05-01T06:00:00Z' }, inspection: { eventTime: '2026-05-02T00:00:00Z', audit: 'approved' as const } };
    expect(checkStageOrder(nodes, 'packing', '2026-05-02T00:00:00Z', tx, rec, audited)).to.equal(undefined);
  });

  it('names the missing predecessor, the missing audit and the earlier event time', () => {
    expect(checkStageOrder(nodes, 'withering', '2026-05-01T00:00:00Z', tx, {}, audited)).to.deep.equal({ code: 'ERR_STAGE_ORDER', message: "stage 'withering' needs 'picking' first" });
    const rec = { picking: { eventTime: '2026-05-01T00:00:00Z' }, withering: { eventTime: '2026-05-01T06:00:00Z' }, inspection: { eventTime: '2026-05-02T00:00:00Z', audit: 'rejected' as const } };
    expect(checkStageOrder(nodes, 'packing', '2026-05-02T01:00:00Z', tx, rec, audited)?.message).to.contain("approved audit of 'inspection'");
    const ok = { ...rec, inspection: { ...rec.inspection, audit: 'approved' as const } };
    expect(checkStageOrder(nodes, 'packing', '2026-05-01T23:59:59Z', tx, ok, audited)?.message).to.contain("precedes 'inspection'");
  });

  it('refuses event times in the future beyond the tolerance, and unknown stages', () => {
    expect(checkStageOrder(nodes, 'picking', '2026-05-03T00:05:00Z', tx, {}, audited)).to.equal(undefined);
    expect(checkStageOrder(nodes, 'picking', '2026-05-03T00:05:01Z', tx, {}, audited)?.code).to.equal('ERR_VALIDATION');
    expect(checkStageOrder(nodes, 'roasting', '2026-05-01T00:00:00Z', tx, {}, audited)?.code).to.equal('ERR_NOT_FOUND');
  });

  it('validates the graph: duplicates, unknown predecessors, cycles', () => {
    expect(checkStageGraph(nodes)).to.deep.equal([]);
    expect(checkStageGraph([...nodes, { stage: 'picking', after: [] }])).to.deep.equal(["stage 'picking' appears twice"]);
    expect(checkStageGraph([{ stage: 'a', after: ['z'] }])).to.deep.equal(["stage 'a' comes after unknown stage 'z'"]);
    expect(checkStageGraph([{ stage: 'a', after: ['b'] }, { stage: 'b', after: ['a'] }])).to.deep.equal(['the stage order has a cycle']);
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: null }], c: 'é' } })).to.equal('{"a":{"c":"é","d":[3,{"x":null,"z":1}]},"b":1}');
    expect(() => canonicalJson({ n: Infinity })).to.throw(/non-finite/);
    expect(canonicalJson({ a: undefined, b: [undefined, ''], c: {} })).to.equal('{"b":[null,""],"c":{}}');
  });

  it('writes a value serialised once as the same bytes as the value itself', () => {
    const record = { z: [1, { y: 'é', x: undefined }], a: null };
    const event = { txId: 't', record, alerts: [] };
    expect(canonicalJson({ ...event, record: canonical(record) })).to.equal(canonicalJson(event));
    expect(canonicalJson([canonical(record)])).to.equal(`[${canonicalJson(record)}]`);
  });
});
