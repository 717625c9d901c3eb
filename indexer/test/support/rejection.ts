import { expect } from 'chai';

/**
 * The error `f` throws or rejects with; fails the test if it succeeds. chai's `.throw` sees only
 * synchronous throws, and the database calls are async.
 */
export async function rejection(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  return expect.fail('expected an error');
}
