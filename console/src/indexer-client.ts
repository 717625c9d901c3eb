import type { Task, TaskAudit } from '@trace/chaincode';
import type { Violation } from '@trace/chaincode/dist/src/rules/cross-validation';
import { ConsoleError } from './errors';

/** The indexer's task detail: the task as on chain, its records as indexed rows (every version, in event order) and its audits. */
export interface IndexedTask {
  task: Task;
  audit?: TaskAudit;
  records: { stage: string; version: number; event_time: string; location: string | null; data: Record<string, unknown>; flags: Violation[]; recorded_by: string; actor: string | null; reason: string | null; tx_id: string; recorded_at: string | null }[];
  /** stage '*': an audit of the whole task */
  audits: { stage: string; verdict: 'approved' | 'rejected'; comment: string; auditor: string; actor: string | null; at: string; record_version: number | null; tx_id: string }[];
}

/** Reads from the indexer's API with the org's member-scoped key (the key stays on the server). */
export class IndexerClient {
  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
  ) {}

  async get<T>(path: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { headers: { authorization: `Bearer ${this.key}` }, signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new ConsoleError(502, 'ERR_INDEXER', `the indexer did not answer: ${(e as Error).message}`);
    }
    const body = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
    if (res.status === 404) throw new ConsoleError(404, 'ERR_NOT_FOUND', body?.error?.message ?? `${path} not found`);
    if (!res.ok) throw new ConsoleError(502, 'ERR_INDEXER', `the indexer answered ${res.status} ${body?.error?.code ?? ''} for ${path}`);
    return body as T;
  }
}
