import { expect } from 'chai';
// Through the package's entry, as the peer loads it (fabric-contract-api brings the decorators' metadata).
import { CreateTaskDto, RecordStageDto, SignedReadingsDto } from '../../src';
import { parseDto } from '../../src/ledger/dto';
import { ChaincodeError } from '../../src/ledger/errors';
import { RESERVED_KEYS } from '../../src/model/validators';

function refused(fn: () => unknown, detail: RegExp): void {
  expect(fn).to.throw(ChaincodeError).that.satisfies((e: ChaincodeError) => e.code === 'ERR_VALIDATION' && detail.test(e.detail));
}

describe('DTO parsing: maps keyed by member-chosen names', () => {
  const stage = (data: string) => `{"taskId":"t1","stage":"s1","eventTime":"2026-10-01T00:00:00Z","data":${data}}`;

  it('refuses every Object.prototype name as a key, at any depth, naming where it is', () => {
    for (const name of RESERVED_KEYS) refused(() => parseDto(RecordStageDto, stage(`{"ok":1,"${name}":2}`)), new RegExp(`'data\\.${name}' uses a reserved name`));
    refused(() => parseDto(RecordStageDto, stage('{"a":[{"b":{"__proto__":{"polluted":true}}}]}')), /'data\.a\[0\]\.b\.__proto__'/);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('refuses reserved ids where ids become keys, and reserved metric names', () => {
    const task = (template: string) => JSON.stringify({ taskId: 't1', template, version: 1, product: { gtin: '06901234567892', name: 'p' }, lot: 'L1', plannedQuantity: 1, unit: 'kg', assignments: { s: 'Org1MSP' } });
    expect(parseDto(CreateTaskDto, task('tpl')).template).to.equal('tpl');
    refused(() => parseDto(CreateTaskDto, task('constructor')), /template must be an id/);
    refused(() => parseDto(RecordStageDto, JSON.stringify({ taskId: 't1', stage: 'toString', eventTime: '2026-10-01T00:00:00Z', data: {} })), /stage must be an id/);
    const readings = (metric: string) => JSON.stringify({ deviceId: 'd1', seq: 1, readings: [{ at: '2026-10-01T00:00:00Z', metric, value: 1, unit: 'C' }] });
    refused(() => parseDto(SignedReadingsDto, readings('constructor')), /metric/);
    expect(parseDto(SignedReadingsDto, readings('temp_c')).readings[0].metric).to.equal('temp_c');
  });

  it('keeps ordinary keys that merely look like prototype names', () => {
    const dto = parseDto(RecordStageDto, stage('{"Constructor":1,"proto":2,"to_string":3}'));
    expect(dto.data).to.deep.equal({ Constructor: 1, proto: 2, to_string: 3 });
  });
});
