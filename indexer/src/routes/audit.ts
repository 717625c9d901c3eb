import { canonicalJson, Ledger, LedgerError, TraceChainClient } from '@trace/client';
import { callerOf } from '../access';
import { codeHexOrNull, codeKey } from '../code-key';
import { z } from 'zod';
import { ApiError, route, RouteModule, sha256 } from '../http';
import { Doc, Hash, Id, Int } from '../schemas';
import { handle } from '../validation';

/** Compares the chain's copy of a record with the index's, field by field and as one canonical hash. */
function compare(chain: Record<string, unknown> | null, index: Record<string, unknown> | null) {
  const hash = (v: Record<string, unknown> | null) => (v ? sha256(canonicalJson(v)) : null);
  const fields = [...new Set([...Object.keys(chain ?? {}), ...Object.keys(index ?? {})])].sort();
  const differences = chain && index ? fields.filter((f) => canonicalJson(chain[f] ?? null) !== canonicalJson(index[f] ?? null)) : fields;
  const chainHash = hash(chain);
  return { matches: chainHash !== null && chainHash === hash(index), chainHash, indexHash: hash(index), differences, chain, index };
}

/** Drops absent optional fields so that "missing" and "null" compare equal. */
const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

async function fromChain<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof LedgerError && e.code === 'ERR_NOT_FOUND') return null;
    throw new ApiError(503, 'ERR_UNAVAILABLE', `the chain could not be read: ${(e as Error).message}`);
  }
}

const Comparison = z.object({
  matches: z.boolean(),
  chainHash: Hash.nullable(),
  indexHash: Hash.nullable(),
  differences: z.array(z.string()).describe('fields whose values differ (all fields when one side is missing)'),
  chain: Doc.nullable(),
  index: Doc.nullable(),
});
const AUDIT = { scope: 'auditor', errors: [404, 503], rateLimit: { budget: 'audit' } } as const;

const R = {
  tx: route({
    method: 'get', path: '/api/audit/tx/{txId}', ...AUDIT,
    summary: "Re-reads the transaction's block from the chain: block hashes, validation code, creator and the SHA-256 of its event against the index",
    params: z.object({ txId: Hash }),
    response: { description: 'the comparison', schema: Comparison.extend({ txId: Hash, block: Int }) },
  }),
  task: route({
    method: 'get', path: '/api/audit/task/{taskId}', ...AUDIT, scope: 'public',
    summary: "Every current stage record of a task against the chain's trace (read once per task and cached while the index has nothing newer, at most 30 s); the consumer page shows it per stage. Auditors also get each side's hash (hashes of private data are not public)",
    params: z.object({ taskId: Id }),
    response: {
      description: 'per stage: whether the index matches the chain',
      schema: z.object({ taskId: z.string(), matches: z.boolean(), stages: z.array(z.object({ stage: z.string(), matches: z.boolean(), differences: z.array(z.string()), chainHash: Hash.nullable().optional(), indexHash: Hash.nullable().optional() })) }),
    },
  }),
  record: route({
    method: 'get', path: '/api/audit/record/{taskId}/{stage}', ...AUDIT,
    summary: 'Re-reads the current stage record from the chain (trace:getTrace) and compares it with the index',
    params: z.object({ taskId: Id, stage: Id }),
    response: { description: 'the comparison', schema: Comparison },
  }),
  code: route({
    method: 'get', path: '/api/audit/code/{hash}', ...AUDIT,
    summary: 'Re-reads a code from the chain (codes:verifyCode) and compares it with the index',
    params: z.object({ hash: Hash }),
    response: { description: 'the comparison', schema: Comparison },
  }),
};

/** Re-reads a record from the chain and reports whether the indexed copy matches it. */
export const auditRoutes: RouteModule = {
  routes: Object.values(R),
  register(router, { db, ledger }) {
    const chain = (): Ledger => {
      if (!ledger) throw new ApiError(503, 'ERR_UNAVAILABLE', 'this indexer has no connection to the chain');
      return ledger;
    };

    handle(router, R.tx, async (ctx, { params: { txId } }) => {
      const tx = await db.get<{ block: number; idx: number; validation_code: string; creator_msp: string; event_name: string | null }>('SELECT * FROM transactions WHERE tx_id = ? ORDER BY block, idx LIMIT 1', txId);
      if (!tx) throw new ApiError(404, 'ERR_NOT_FOUND', `transaction ${txId} is not indexed`);
      const block = (await db.get<{ hash: string; previous_hash: string; data_hash: string }>('SELECT hash, previous_hash, data_hash FROM blocks WHERE number = ?', tx.block))!;
      const event = await db.get<{ payload: string }>('SELECT payload FROM events WHERE block = ? AND idx = ?', tx.block, tx.idx);
      const onChain = await fromChain(async () => {
        const stream = await chain().blocks(BigInt(tx.block));
        try {
          for await (const b of stream) return b;
          return null;
        } finally {
          stream.close();
        }
      });
      const chainTx = onChain?.transactions[tx.idx];
      ctx.body = {
        txId,
        block: tx.block,
        ...compare(
          onChain && chainTx
            ? defined({
                blockHash: onChain.hash,
                previousHash: onChain.previousHash,
                dataHash: onChain.dataHash,
                txId: chainTx.transactionId,
                validationCode: chainTx.validationCode,
                creatorMsp: chainTx.creatorMspId,
                eventName: chainTx.event?.name,
                eventSha256: chainTx.event && chainTx.validationCode === 'VALID' ? sha256(Buffer.from(chainTx.event.payload).toString('utf8')) : undefined,
              })
            : null,
          defined({
            blockHash: block.hash,
            previousHash: block.previous_hash,
            dataHash: block.data_hash,
            txId,
            validationCode: tx.validation_code,
            creatorMsp: tx.creator_msp,
            eventName: tx.event_name,
            eventSha256: event ? sha256(event.payload) : undefined,
          }),
        ),
      };
    });

    type RecordRow = { stage: string; version: number; event_time: string; location: string | null; data: string; recorded_by: string; actor: string | null; tx_id: string; flags: string; reason: string | null };
    type Comparable = { version: number; eventTime: string; location?: string | null; data: unknown; recordedBy: string; actor?: string | null; txId: string; flags: unknown; reason?: string | null };
    const pick = (taskId: string, stage: string, r: Comparable) =>
      defined({ taskId, stage, version: r.version, eventTime: r.eventTime, location: r.location, data: r.data, recordedBy: r.recordedBy, actor: r.actor, txId: r.txId, flags: r.flags, reason: r.reason });
    const fromRow = (r: RecordRow): Comparable => ({ version: r.version, eventTime: r.event_time, location: r.location, data: JSON.parse(r.data), recordedBy: r.recorded_by, actor: r.actor, txId: r.tx_id, flags: JSON.parse(r.flags), reason: r.reason });
    const currentRows = (taskId: string) =>
      db.all<RecordRow>('SELECT r.* FROM stage_records r WHERE r.task_id = ? AND r.version = (SELECT max(version) FROM stage_records WHERE task_id = r.task_id AND stage = r.stage)', taskId);

    // A consumer page audits its task's records on every view: the chain's trace is read once per
    // task and kept while the index has no newer record of it (at most TRACE_TTL_MS), so page views
    // cost the chain (and a 20 requests/s TBaaS account) little. The index side is always read fresh.
    const TRACE_TTL_MS = 30_000;
    const traces = new Map<string, { key: string; at: number; trace: Awaited<ReturnType<TraceChainClient['trace']['getTrace']>> | null }>();
    const chainTrace = async (taskId: string, rows: RecordRow[]) => {
      // the current records, each by its stage, version and transaction: a record of a new stage, a
      // new version of a stage (or a record replaced by another transaction) changes the key
      const key = rows.map((r) => `${r.stage}/${r.version}/${r.tx_id}`).sort().join(',');
      const hit = traces.get(taskId);
      if (hit && hit.key === key && Date.now() - hit.at < TRACE_TTL_MS) return hit.trace;
      const trace = await fromChain(() => new TraceChainClient(chain()).trace.getTrace(taskId));
      if (traces.size > 10_000) traces.clear();
      traces.set(taskId, { key, at: Date.now(), trace });
      return trace;
    };

    handle(router, R.task, async (ctx, { params: { taskId } }) => {
      const auditor = callerOf(ctx).scope === 'auditor';
      const current = await currentRows(taskId);
      const rows = new Map(current.map((r) => [r.stage, r]));
      const trace = await chainTrace(taskId, current);
      if (!trace && rows.size === 0) throw new ApiError(404, 'ERR_NOT_FOUND', `task ${taskId} is unknown, on chain and in the index`);
      const onChain = new Map((trace?.stages ?? []).filter((s) => s.record).map((s) => [s.stage, s.record!]));
      const stages = [...new Set([...onChain.keys(), ...rows.keys()])].sort().map((stage) => {
        const record = onChain.get(stage);
        const row = rows.get(stage);
        const c = compare(record ? pick(taskId, stage, record) : null, row ? pick(taskId, stage, fromRow(row)) : null);
        return { stage, matches: c.matches, differences: c.differences, ...(auditor ? { chainHash: c.chainHash, indexHash: c.indexHash } : {}) };
      });
      ctx.body = { taskId, matches: stages.every((s) => s.matches), stages };
    });

    handle(router, R.record, async (ctx, { params: { taskId, stage } }) => {
      const row = (await currentRows(taskId)).find((r) => r.stage === stage);
      const trace = await fromChain(() => new TraceChainClient(chain()).trace.getTrace(taskId));
      const record = trace?.stages.find((s) => s.stage === stage)?.record;
      if (!row && !record) throw new ApiError(404, 'ERR_NOT_FOUND', `no record of stage ${stage} in task ${taskId}, on chain or indexed`);
      ctx.body = compare(record ? pick(taskId, stage, record) : null, row ? pick(taskId, stage, fromRow(row)) : null);
    });

    handle(router, R.code, async (ctx, { params: { hash } }) => {
      const row = await db.get<{ task_id: string; gtin: string; lot: string; level: string; status: string; parent: Buffer | null; suspect_since: string | null; diverted_since: string | null; issued_by: string; issued_at: string }>(
        'SELECT * FROM codes WHERE hash = ?',
        codeKey(hash),
      );
      const v = await fromChain(() => new TraceChainClient(chain()).codes.verifyCode(hash));
      const code = v && v.genuine ? v.code : null;
      if (!row && !code) throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown code, on chain and in the index');
      ctx.body = compare(
        code && defined({ hash, taskId: code.taskId, gtin: code.gtin, lot: code.lot, level: code.level, status: code.status, parent: code.parent, suspectSince: code.suspectSince, divertedSince: code.divertedSince, issuedBy: code.issuedBy, issuedAt: code.issuedAt }),
        row ? defined({ hash, taskId: row.task_id, gtin: row.gtin, lot: row.lot, level: row.level, status: row.status, parent: codeHexOrNull(row.parent), suspectSince: row.suspect_since, divertedSince: row.diverted_since, issuedBy: row.issued_by, issuedAt: row.issued_at }) : null,
      );
    });
  },
};
