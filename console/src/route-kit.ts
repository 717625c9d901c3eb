import type { Context } from 'koa';
import type { Logger } from 'pino';
import { Access } from './access';
import { chainError, OrgChain } from './chain';
import { CodeJobs } from './code-jobs';
import { Db, logWrite } from './db';
import type { CaptureJobs } from './epcis/capture-jobs';
import { ConsoleError } from './errors';
import { IndexerClient } from './indexer-client';
import { LoginThrottle } from './login-throttle';
import type { NetworkSource } from './network/view';
import type { OrgKeys } from './cipher/org-keys';
import { Session } from './sessions';
import { User } from './user-store';

/** What the API's handlers share: the route shape, the request as a handler sees it, and input and write helpers. */
export interface Deps {
  db: Db;
  chain: OrgChain;
  indexer: IndexerClient;
  throttle: LoginThrottle;
  log: Logger;
  codeJobs: CodeJobs;
  capture: CaptureJobs;
  /** 区块链管理's source: Fabric's system chaincodes or the TBaaS client file */
  networkSource: NetworkSource;
  /** the deploy command's JSON lines record of this org's deployments */
  deploymentsFile?: string;
  /** recipients' encryption keys and this org's decryption key, for `cipher` items */
  orgKeys: OrgKeys;
}

export interface Call {
  ctx: Context;
  deps: Deps;
  /** present on every session route but public ones */
  session?: Session;
  /** the user of the bearer token, on token routes */
  tokenUser?: User;
  body: Record<string, unknown>;
  params: Record<string, string>;
}

/** One API route: who may call it is declared here and enforced from here (writes also need the CSRF token). */
export interface ConsoleRoute {
  method: 'get' | 'post';
  path: string;
  access: Access;
  /**
   * 'token': a machine route for members' systems, authenticated by an API token (`Authorization: Bearer`) and never by
   * the session cookie, so no CSRF token; the token's user's roles still apply. Default: the session.
   */
  auth?: 'token';
  /** bodies larger than the default 64 KiB, and the media types accepted besides application/json */
  body?: { maxBytes: number; types?: string[] };
  summary: string;
  handle(call: Call): Promise<unknown> | unknown;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function id(value: string, name: string): string {
  if (!ID.test(value)) throw new ConsoleError(400, 'ERR_VALIDATION', `${name} is not a valid id`);
  return value;
}

export function str(body: Record<string, unknown>, name: string, optional = false): string | undefined {
  const v = body[name];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new ConsoleError(400, 'ERR_VALIDATION', `${name} is required`, { [name]: 'required' });
  return v;
}

/** Rows per page of the console's tables. */
export const PAGE_SIZE = 20;

/** One page of an indexer listing at the request's `offset`: asking one row more tells whether another page follows. */
export async function indexerPage<T>(call: Call, path: string): Promise<{ rows: T[]; offset: number; pageSize: number; more: boolean }> {
  const offset = Number(call.ctx.query.offset ?? 0);
  if (!Number.isInteger(offset) || offset < 0 || offset > 1_000_000) throw new ConsoleError(400, 'ERR_VALIDATION', 'offset must be a non-negative integer');
  const rows = await call.deps.indexer.get<T[]>(`${path}${path.includes('?') ? '&' : '?'}limit=${PAGE_SIZE + 1}&offset=${offset}`);
  return { rows: rows.slice(0, PAGE_SIZE), offset, pageSize: PAGE_SIZE, more: rows.length > PAGE_SIZE };
}

export const user = (call: Call): User => (call.session?.user ?? call.tokenUser) as User;

export function audit(call: Call, action: string, subject: string, outcome: string, txId?: string): void {
  logWrite(call.deps.db, { username: user(call).username, org: call.deps.chain.org, action, subject, outcome, txId });
}

/**
 * A chain write on behalf of the signed-in user: kept in the audit log and the structured log with its outcome,
 * refusals included; a refusal is answered with the chain's code (and the fields it concerns, when `fields` tells them).
 */
export async function chainWrite<T>(call: Call, action: string, subject: string, write: () => Promise<T>, fields?: (code: string, message: string) => Record<string, string>): Promise<T> {
  const { chain, log } = call.deps;
  const username = user(call).username;
  try {
    const done = await write();
    // records and audits carry their transaction; a task does not
    const carried = (done as { txId?: unknown } | undefined)?.txId;
    const txId = typeof carried === 'string' ? carried : undefined;
    audit(call, action, subject, 'ok', txId);
    log.info({ evt: 'console.write', user: username, org: chain.org, action, subject, outcome: 'ok', txId });
    return done;
  } catch (e) {
    const err = chainError(e, fields);
    audit(call, action, subject, err.code);
    log.info({ evt: 'console.write', user: username, org: chain.org, action, subject, outcome: err.code });
    throw err;
  }
}
