import { Context } from 'fabric-contract-api';
import { canonicalJson } from '../rules/canonical-json';
import { KeyTypeName } from './keys';

/** Reads a JSON state object; undefined when absent. */
export async function getJson<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

/** Writes a state object as canonical JSON, so every endorser writes identical bytes. */
export async function putJson(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.stub.putState(key, Buffer.from(canonicalJson(value)));
}

/** All objects of a type under a partial key, in key order, at most limit. */
export async function listJson<T>(ctx: Context, type: KeyTypeName, attrs: string[], limit = 10_000): Promise<T[]> {
  const out: T[] = [];
  const iter = ctx.stub.getStateByPartialCompositeKey(type, attrs);
  for await (const kv of iter) {
    out.push(JSON.parse(Buffer.from(kv.value).toString('utf8')) as T);
    if (out.length >= limit) break;
  }
  return out;
}
