import { createHash } from 'node:crypto';
import { canonicalJson, Ledger, LedgerError, TraceChainClient } from '@trace/client';
import { ApiError, HASH, ID, param, RouteModule } from '../http';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

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

/** Re-reads a record from the chain and reports whether the indexed copy matches it. */
export const auditRoutes: RouteModule = {
  routes: [
    { method: 'get', path: '/api/audit/tx/{txId}', summary: "Re-reads the transaction's block from the chain: block hashes, validation code, creator and the SHA-256 of its event against the index" },
    { method: 'get', path: '/api/audit/record/{taskId}/{stage}', summary: 'Re-reads the current stage record from the chain (trace:getTrace) and compares it with the index' },
    { method: 'get', path: '/api/audit/code/{hash}', summary: 'Re-reads a code from the chain (codes:verifyCode) and compares it with the index' },
  ],
  register(router, { db, ledger }) {
    const chain = (): Ledger => {
      if (!ledger) throw new ApiError(503, 'ERR_UNAVAILABLE', 'this indexer has no connection to the chain');
      return ledger;
    };

    router.get('/api/audit/tx/:txId', async (ctx) => {
      const txId = param(ctx.params.txId, HASH, 'txId');
      const tx = db.prepare('SELECT * FROM transactions WHERE tx_id = ? ORDER BY block, idx LIMIT 1').get(txId) as { block: number; idx: number; validation_code: string; creator_msp: string; event_name: string | null } | undefined;
      if (!tx) throw new ApiError(404, 'ERR_NOT_FOUND', `transaction ${txId} is not indexed`);
      const block = db.prepare('SELECT hash, previous_hash, data_hash FROM blocks WHERE number = ?').get(tx.block) as { hash: string; previous_hash: string; data_hash: string };
      const event = db.prepare('SELECT payload FROM events WHERE block = ? AND idx = ?').get(tx.block, tx.idx) as { payload: string } | undefined;
      const onChain = await fromChain(async () => {
        const stream = await chain().blocks(BigInt(tx.block));
        try {
          for await (const b of stream) return b;
          return null;
        } finally {
          stream.close();
        }
      });
      const ctx2 = onChain?.transactions[tx.idx];
      ctx.body = {
        txId,
        block: tx.block,
        ...compare(
          onChain && ctx2
            ? defined({
                blockHash: onChain.hash,
                previousHash: onChain.previousHash,
                dataHash: onChain.dataHash,
                txId: ctx2.transactionId,
                validationCode: ctx2.validationCode,
                creatorMsp: ctx2.creatorMspId,
                eventName: ctx2.event?.name,
                eventSha256: ctx2.event && ctx2.validationCode === 'VALID' ? sha256(Buffer.from(ctx2.event.payload).toString('utf8')) : undefined,
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

    router.get('/api/audit/record/:taskId/:stage', async (ctx) => {
      const taskId = param(ctx.params.taskId, ID, 'taskId');
      const stage = param(ctx.params.stage, ID, 'stage');
      const row = db
        .prepare('SELECT * FROM stage_records WHERE task_id = ? AND stage = ? ORDER BY version DESC LIMIT 1')
        .get(taskId, stage) as { version: number; event_time: string; location: string | null; data: string; recorded_by: string; tx_id: string; flags: string; reason: string | null } | undefined;
      const trace = await fromChain(() => new TraceChainClient(chain()).trace.getTrace(taskId));
      const record = trace?.stages.find((s) => s.stage === stage)?.record;
      if (!row && !record) throw new ApiError(404, 'ERR_NOT_FOUND', `no record of stage ${stage} in task ${taskId}, on chain or indexed`);
      const pick = (r: { version: number; eventTime: string; location?: string | null; data: unknown; recordedBy: string; txId: string; flags: unknown; reason?: string | null }) =>
        defined({ taskId, stage, version: r.version, eventTime: r.eventTime, location: r.location, data: r.data, recordedBy: r.recordedBy, txId: r.txId, flags: r.flags, reason: r.reason });
      ctx.body = compare(
        record ? pick(record) : null,
        row ? pick({ version: row.version, eventTime: row.event_time, location: row.location, data: JSON.parse(row.data), recordedBy: row.recorded_by, txId: row.tx_id, flags: JSON.parse(row.flags), reason: row.reason }) : null,
      );
    });

    router.get('/api/audit/code/:hash', async (ctx) => {
      const hash = param(ctx.params.hash, HASH, 'code hash');
      const row = db.prepare('SELECT * FROM codes WHERE hash = ?').get(hash) as
        | { task_id: string; gtin: string; lot: string; level: string; status: string; parent: string | null; suspect_since: string | null; diverted_since: string | null; issued_by: string; issued_at: string }
        | undefined;
      const v = await fromChain(() => new TraceChainClient(chain()).codes.verifyCode(hash));
      const code = v && v.genuine ? v.code : null;
      if (!row && !code) throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown code, on chain and in the index');
      ctx.body = compare(
        code && defined({ hash, taskId: code.taskId, gtin: code.gtin, lot: code.lot, level: code.level, status: code.status, parent: code.parent, suspectSince: code.suspectSince, divertedSince: code.divertedSince, issuedBy: code.issuedBy, issuedAt: code.issuedAt }),
        row ? defined({ hash, taskId: row.task_id, gtin: row.gtin, lot: row.lot, level: row.level, status: row.status, parent: row.parent, suspectSince: row.suspect_since, divertedSince: row.diverted_since, issuedBy: row.issued_by, issuedAt: row.issued_at }) : null,
      );
    });
  },
};
