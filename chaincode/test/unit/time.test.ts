import { expect } from 'chai';
// Through the package's entry, as the peer loads it (fabric-contract-api brings the decorators' metadata).
import { RecordStageDto } from '../../src';
import { parseDto } from '../../src/ledger/dto';
import { ChaincodeError } from '../../src/ledger/errors';
import { parseRfc3339 } from '../../src/rules/time';

describe('RFC 3339 date-times', () => {
  it('gives the instant of real date-times, honouring fractions and offsets', () => {
    expect(parseRfc3339('2026-10-01T00:00:00Z')).to.equal(Date.UTC(2026, 9, 1));
    expect(parseRfc3339('2026-10-01T08:00:00+08:00')).to.equal(Date.UTC(2026, 9, 1));
    expect(parseRfc3339('2026-09-30T19:30:00.250-04:30')).to.equal(Date.UTC(2026, 9, 1, 0, 0, 0, 250));
    expect(parseRfc3339('2028-02-29T23:59:59.999999999Z')).to.equal(Date.UTC(2028, 1, 29, 23, 59, 59, 999));
    expect(parseRfc3339('2000-02-29T00:00:00Z')).to.equal(Date.UTC(2000, 1, 29));
  });

  it('refuses dates that Date.parse would roll over, and shapes RFC 3339 does not have', () => {
    expect(Number.isFinite(Date.parse('2026-02-30T00:00:00Z'))).to.equal(true); // what the chaincode no longer trusts
    for (const bad of [
      '2026-02-30T00:00:00Z', '2026-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z',
      '2026-10-01T24:00:00Z', '2026-10-01T23:60:00Z', '2026-10-01T23:59:60Z', '2026-10-01T00:00:00+24:00', '2026-10-01T00:00:00+05:60',
      '2026-10-01T00:00:00', '2026-10-01 00:00:00Z', '2026-10-01', '2026-10-01T00:00:00.Z', '+02026-10-01T00:00:00Z', 20261001, undefined,
    ]) {
      expect(parseRfc3339(bad), String(bad)).to.equal(undefined);
    }
  });

  it('is what the DTOs check: a stage record on 30 February is ERR_VALIDATION', () => {
    const dto = (eventTime: string) => JSON.stringify({ taskId: 't1', stage: 's1', eventTime, data: {} });
    expect(parseDto(RecordStageDto, dto('2026-02-28T10:00:00+08:00')).eventTime).to.equal('2026-02-28T10:00:00+08:00');
    expect(() => parseDto(RecordStageDto, dto('2026-02-30T10:00:00+08:00')))
      .to.throw(ChaincodeError)
      .that.satisfies((e: ChaincodeError) => e.code === 'ERR_VALIDATION' && /eventTime must be an RFC 3339 date-time/.test(e.detail));
  });
});
