import { expect } from 'chai';
import { LedgerError } from '../src';

/** Awaits p, expecting it to fail with a LedgerError, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<LedgerError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').to.be.instanceOf(LedgerError);
  return e as LedgerError;
}
