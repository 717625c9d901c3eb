import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Template } from '@trace/chaincode';
import { chainError, OrgChain } from '../chain';
import { Db, logWrite } from '../db';
import { ConsoleError } from '../errors';
import { IndexedTask, IndexerClient } from '../indexer-client';
import type { User } from '../user-store';
import { CAPTURE_ROLES, CaptureLookup, CaptureMapper, CaptureTask, PlannedWrite, Unmapped } from './capture-mapping';

/**
 * EPCIS capture jobs (the REST binding's `/capture/{captureID}`), kept in the console's SQLite so they survive a
 * restart. A job maps every event first (a refusal there submits nothing), then submits them one by one in order as
 * the console's org; the first refusal stops it and the rest are not submitted. The chain cannot roll back what it
 * committed, so the job says exactly which events went on chain (with their transaction) and which one stopped it.
 * Each event's state is stored before and after its submission: a job interrupted by a restart reports the event in
 * flight as `unknown` (its transaction may or may not have been committed) and the rest as not submitted.
 */

export type EventStatus = 'pending' | 'submitting' | 'recorded' | 'refused' | 'not_submitted' | 'unknown';
export type JobState = 'running' | 'success' | 'failure' | 'interrupted';

export interface EventOutcome {
  index: number;
  type: string;
  eventID?: string;
  status: EventStatus;
  transaction?: string;
  subject?: string;
  txId?: string;
  block?: number;
  error?: { code: string; message: string };
}

interface JobRow {
  id: string;
  username: string;
  state: JobState;
  created_at: string;
  finished_at: string | null;
  events: string;
}

export interface CaptureJobsDeps {
  db: Db;
  chain: OrgChain;
  indexer: IndexerClient;
  log: Logger;
}

/** The capture job as the REST binding describes it (captureID, running, success, errors), with each event's outcome. */
export function jobDocument(row: JobRow) {
  const events = JSON.parse(row.events) as EventOutcome[];
  const errors = events
    .filter((e) => e.error)
    .map((e) => ({
      type: e.status === 'unknown' ? 'epcisException:ImplementationException' : 'epcisException:ValidationException',
      title: e.error!.code,
      detail: e.error!.message,
      instance: `/epcisBody/eventList/${e.index}`,
    }));
  return {
    captureID: row.id,
    createdAt: row.created_at,
    ...(row.finished_at ? { finishedAt: row.finished_at } : {}),
    running: row.state === 'running',
    success: row.state === 'success' || (row.state === 'running' && errors.length === 0),
    // what went on chain stays there; after a refusal nothing more is submitted
    captureErrorBehaviour: 'proceed',
    state: row.state,
    user: row.username,
    errors,
    events,
  };
}

export class CaptureJobs {
  /** one job at a time: the org's writes go to the chain in the order they were captured */
  private queue: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly deps: CaptureJobsDeps) {
    // a job still running in the database was cut by a restart of the console
    const interrupted = deps.db.prepare("SELECT * FROM capture_jobs WHERE state = 'running'").all() as JobRow[];
    for (const row of interrupted) {
      const events = (JSON.parse(row.events) as EventOutcome[]).map((e): EventOutcome => {
        if (e.status === 'submitting') return { ...e, status: 'unknown', error: { code: 'ERR_INTERRUPTED', message: 'the console stopped while this event was submitted: its transaction may be on chain (see the lot\'s export)' } };
        return e.status === 'pending' ? { ...e, status: 'not_submitted' } : e;
      });
      this.save(row.id, events, 'interrupted');
      deps.log.warn({ evt: 'console.capture_interrupted', captureID: row.id, user: row.username });
    }
  }

  /** Queues a document's events for capture as the user (whose roles decide which kinds of event it may capture); the job's id. */
  start(events: Record<string, unknown>[], context: unknown, user: Pick<User, 'username' | 'roles'>): string {
    const { username } = user;
    const id = randomBytes(12).toString('base64url');
    const outcomes: EventOutcome[] = events.map((e, index) => ({ index, type: String(e.type), ...(typeof e.eventID === 'string' ? { eventID: e.eventID } : {}), status: 'pending' }));
    this.deps.db.prepare("INSERT INTO capture_jobs (id, username, state, created_at, events) VALUES (?, ?, 'running', ?, ?)").run(id, username, new Date().toISOString(), JSON.stringify(outcomes));
    this.deps.log.info({ evt: 'console.capture_started', captureID: id, user: username, org: this.deps.chain.org, events: events.length });
    this.queue = this.queue.then(() => this.run(id, events, context, user, outcomes));
    return id;
  }

  get(id: string) {
    const row = this.deps.db.prepare('SELECT * FROM capture_jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) throw new ConsoleError(404, 'ERR_NOT_FOUND', `no capture job ${id}`);
    return jobDocument(row);
  }

  list(limit = 100) {
    return (this.deps.db.prepare('SELECT * FROM capture_jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as JobRow[]).map(jobDocument);
  }

  /** Stops after the event being submitted: the job stays running in the database and is reported interrupted on the next start. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.queue;
  }

  private save(id: string, events: EventOutcome[], state: JobState = 'running'): void {
    this.deps.db.prepare('UPDATE capture_jobs SET events = ?, state = ?, finished_at = ? WHERE id = ?').run(JSON.stringify(events), state, state === 'running' ? null : new Date().toISOString(), id);
  }

  private async run(id: string, events: Record<string, unknown>[], context: unknown, { username, roles }: Pick<User, 'username' | 'roles'>, outcomes: EventOutcome[]): Promise<void> {
    if (this.stopping) return;
    const { log, chain, db } = this.deps;
    try {
      // 1. map every event: a refusal here means nothing is submitted
      const mapper = new CaptureMapper(this.lookup(), context, username);
      const planned: (PlannedWrite | undefined)[] = [];
      for (const [i, e] of events.entries()) {
        try {
          const write = await mapper.map(e);
          const role = CAPTURE_ROLES[write.transaction];
          if (!roles.includes(role)) throw new ConsoleError(403, 'ERR_FORBIDDEN_ROLE', `this event is a ${write.transaction}: capturing it needs the ${role} role, which ${username} lacks`);
          planned.push(write);
        } catch (err) {
          if (!(err instanceof Unmapped) && !(err instanceof ConsoleError)) throw err;
          planned.push(undefined);
          outcomes[i] = { ...outcomes[i], status: 'refused', error: { code: err.code, message: err.message } };
        }
      }
      if (planned.some((p) => !p)) {
        for (const o of outcomes) if (o.status === 'pending') o.status = 'not_submitted';
        this.save(id, outcomes, 'failure');
        log.info({ evt: 'console.capture_done', captureID: id, user: username, outcome: 'unmapped', refused: outcomes.filter((o) => o.status === 'refused').map((o) => o.index) });
        return;
      }
      // 2. submit in order; the first refusal stops the rest
      for (const [i, write] of (planned as PlannedWrite[]).entries()) {
        if (this.stopping) return;
        outcomes[i] = { ...outcomes[i], status: 'submitting', transaction: write.transaction, subject: write.subject };
        this.save(id, outcomes);
        try {
          const done = await chain.client.ledger.submit(write.transaction, JSON.stringify(write.dto));
          outcomes[i] = { ...outcomes[i], status: 'recorded', txId: done.transactionId, block: Number(done.blockNumber) };
          logWrite(db, { username, org: chain.org, action: write.transaction, subject: write.subject, outcome: 'ok', txId: done.transactionId });
          log.info({ evt: 'console.write', user: username, org: chain.org, action: write.transaction, subject: write.subject, outcome: 'ok', txId: done.transactionId, captureID: id, index: i });
        } catch (err) {
          const refusal = chainError(err);
          outcomes[i] = { ...outcomes[i], status: 'refused', error: { code: refusal.code, message: refusal.message } };
          logWrite(db, { username, org: chain.org, action: write.transaction, subject: write.subject, outcome: refusal.code });
          log.info({ evt: 'console.write', user: username, org: chain.org, action: write.transaction, subject: write.subject, outcome: refusal.code, captureID: id, index: i });
          for (const o of outcomes) if (o.status === 'pending') o.status = 'not_submitted';
          this.save(id, outcomes, 'failure');
          return;
        }
        this.save(id, outcomes);
      }
      this.save(id, outcomes, 'success');
      log.info({ evt: 'console.capture_done', captureID: id, user: username, outcome: 'success', events: outcomes.length });
    } catch (err) {
      // a fault of the console itself: reported on the job, never left running
      log.error({ evt: 'console.capture_failed', captureID: id, err: (err as Error).message });
      for (const o of outcomes) if (o.status === 'pending') o.status = 'not_submitted';
      this.save(id, outcomes, 'failure');
    }
  }

  /** Lots and tasks from the indexer (the org's member key), template versions from the chain. */
  private lookup(): CaptureLookup {
    const { indexer, chain } = this.deps;
    return {
      async taskIdOfLot(gtin, lot) {
        const rows = await indexer.get<{ task_id: string }[]>(`/api/tasks?gtin=${gtin}&lot=${encodeURIComponent(lot)}&limit=2`);
        if (rows.length !== 1) throw new Unmapped('ERR_EPCIS_TASK', `no task of lot ${gtin}/${lot} is indexed`);
        return rows[0].task_id;
      },
      async task(taskId): Promise<CaptureTask> {
        const found = await indexer.get<IndexedTask>(`/api/tasks/${encodeURIComponent(taskId)}`).catch((e: unknown) => {
          throw e instanceof ConsoleError && e.status === 404 ? new Unmapped('ERR_EPCIS_TASK', `task ${taskId} is not indexed`) : e;
        });
        const template: Template = await chain.template(found.task.template, found.task.version);
        // records come in event order: the last version of each stage is its current data
        const current = new Map(found.records.map((r) => [r.stage, { data: r.data, version: r.version }]));
        return { taskId, template, current };
      },
    };
  }
}
