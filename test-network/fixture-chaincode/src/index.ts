import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';

/** A small contract for the devnet's tests and benchmark: each transaction exercises one ledger feature. */
@Info({ title: 'Fixture', description: 'devnet test fixture' })
export class FixtureContract extends Contract {
  constructor() {
    super('fixture');
  }

  @Transaction(false)
  @Returns('string')
  async get(ctx: Context, key: string): Promise<string> {
    return Buffer.from(await ctx.stub.getState(key)).toString('utf8');
  }

  @Transaction()
  async put(ctx: Context, key: string, value: string): Promise<void> {
    await ctx.stub.putState(key, Buffer.from(value));
  }

  @Transaction()
  async del(ctx: Context, key: string): Promise<void> {
    await ctx.stub.deleteState(key);
  }

  /** One read and one write of the same key: the benchmark's transaction. */
  @Transaction()
  @Returns('string')
  async readWrite(ctx: Context, key: string, value: string): Promise<string> {
    const before = Buffer.from(await ctx.stub.getState(key)).toString('utf8');
    await ctx.stub.putState(key, Buffer.from(value));
    return before;
  }

  /** Reads the keys in [start, end) and writes their count to target. */
  @Transaction()
  @Returns('number')
  async countRange(ctx: Context, start: string, end: string, target: string): Promise<number> {
    let n = 0;
    for await (const kv of ctx.stub.getStateByRange(start, end)) if (kv.key) n++;
    await ctx.stub.putState(target, Buffer.from(String(n)));
    return n;
  }

  /** Non-deterministic on purpose: each endorser writes a different value. */
  @Transaction()
  async wallClock(ctx: Context, key: string): Promise<void> {
    await ctx.stub.putState(key, Buffer.from(`${Date.now()}-${process.pid}-${Math.random()}`));
  }

  @Transaction()
  async fail(_ctx: Context, message: string): Promise<void> {
    throw new Error(message);
  }

  @Transaction()
  async emit(ctx: Context, key: string, name: string, payload: string): Promise<void> {
    await ctx.stub.putState(key, Buffer.from(payload));
    ctx.stub.setEvent(name, Buffer.from(payload));
  }

  @Transaction(false)
  async sleep(_ctx: Context, ms: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
  }

  @Transaction(false)
  @Returns('string')
  async history(ctx: Context, key: string): Promise<string> {
    const out: { txId: string; value: string; isDelete: boolean; seconds: number }[] = [];
    for await (const m of ctx.stub.getHistoryForKey(key)) {
      out.push({ txId: m.txId, value: Buffer.from(m.value).toString('utf8'), isDelete: m.isDelete, seconds: Number(m.timestamp.seconds) });
    }
    return JSON.stringify(out);
  }

  /** An object result: breaks if class-transformer lacks classToPlain (see the npm override). */
  @Transaction(false)
  async whoami(ctx: Context): Promise<{ mspId: string; id: string; role: string | null; txTime: number }> {
    const ts = ctx.stub.getTxTimestamp();
    return {
      mspId: ctx.clientIdentity.getMSPID(),
      id: ctx.clientIdentity.getID(),
      role: ctx.clientIdentity.getAttributeValue('role'),
      txTime: Number(ts.seconds),
    };
  }
}

export const contracts = [FixtureContract];
