import type { StageRecord, Template } from '@trace/chaincode';
import { LedgerError, TraceChainClient } from '@trace/client';
import { ConsoleError } from './errors';

/** Chain refusals the user can act on, by status; any other failure is the chain's side (502). */
const STATUS: Record<string, number> = {
  ERR_VALIDATION: 422,
  ERR_CROSS_VALIDATION: 422,
  ERR_STAGE_ORDER: 422,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_STATE: 409,
  ERR_EXISTS: 409,
  ERR_CONFLICT: 409,
  ERR_LOCKED: 409,
  ERR_NOT_MEMBER: 422,
  ERR_INSUFFICIENT: 409,
  ERR_SIGNATURE: 403,
  ERR_REPLAY: 409,
};

/** The org's view of the chain: its client, and template versions (immutable once published, so cached). */
export class OrgChain {
  private readonly templates = new Map<string, Promise<Template>>();

  constructor(
    readonly client: TraceChainClient,
    readonly org: string,
  ) {}

  template(id: string, version: number): Promise<Template> {
    const key = `${id}/${version}`;
    let t = this.templates.get(key);
    if (!t) {
      t = this.client.process.getTemplate(id, version);
      this.templates.set(key, t);
      t.catch(() => this.templates.delete(key));
    }
    return t;
  }

  /** actor: the console user, whom the record names on chain beside the org */
  async record(dto: { taskId: string; stage: string; eventTime: string; location?: string; data: Record<string, unknown>; reason?: string; actor: string }): Promise<StageRecord> {
    const { reason, ...rest } = dto;
    return reason === undefined ? this.client.trace.recordStage(rest) : this.client.trace.amendStage({ ...rest, reason });
  }
}

/** A LedgerError as the console answers it: the chain's stable code, with a status the user can act on. */
export function chainError(e: unknown, fields?: (code: string, message: string) => Record<string, string>): ConsoleError {
  if (e instanceof ConsoleError) return e;
  if (!(e instanceof LedgerError)) return new ConsoleError(502, 'ERR_LEDGER', (e as Error).message);
  const status = STATUS[e.code] ?? 502;
  return new ConsoleError(status, e.code, e.message, fields?.(e.code, e.message));
}
