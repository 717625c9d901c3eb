import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { issueCodesResumable, LedgerError } from '@trace/client';
import { OrgChain } from './chain';
import { Db, logWrite } from './db';
import { ConsoleError } from './errors';

/** codes per transaction: small enough that a page of a few hundred codes shows its progress */
export const CODE_BATCH = 50;
/** codes one job may issue (its print file and label sheet stay a few MB) */
export const MAX_CODES_PER_JOB = 10_000;
export const CODE_LEVELS = ['item', 'case', 'pallet'] as const;
export type CodeLevel = (typeof CODE_LEVELS)[number];

export interface CodeJob {
  id: string;
  taskId: string;
  gtin: string;
  lot: string;
  level: CodeLevel;
  count: number;
  issued: number;
  /** interrupted: the console stopped while it ran; resuming finishes it without issuing a code twice */
  state: 'running' | 'done' | 'failed' | 'interrupted';
  error: string | null;
  createdBy: string;
  createdAt: string;
}

interface JobRow {
  id: string;
  task_id: string;
  gtin: string;
  lot: string;
  level: CodeLevel;
  count: number;
  issued: number;
  state: CodeJob['state'];
  error: string | null;
  created_by: string;
  created_at: string;
}

/** Thrown between batches when the console stops: the job stays running in the database, so it reads interrupted on the next start. */
class Stopping extends Error {}

const toJob = (r: JobRow): CodeJob => ({ id: r.id, taskId: r.task_id, gtin: r.gtin, lot: r.lot, level: r.level, count: r.count, issued: r.issued, state: r.state, error: r.error, createdBy: r.created_by, createdAt: r.created_at });

/**
 * Code issuing jobs run in the console process, in batches, through the CLI's resumable issuer: each batch's codes are
 * written (synced) to the job's print file before they are submitted, so every printed code is on chain and none is
 * issued twice, even across a restart (the job reads as interrupted until someone resumes it).
 */
export class CodeJobs {
  private readonly running = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    private readonly db: Db,
    private readonly chain: OrgChain,
    /** where the print files live (code, SHA-256, Digital Link, batch; with their journals) */
    private readonly dir: string,
    /** the resolver domain of the printed GS1 Digital Links */
    readonly domain: string,
    private readonly log: Logger,
  ) {
    mkdirSync(dir, { recursive: true });
    db.prepare("UPDATE code_jobs SET state = 'interrupted' WHERE state = 'running'").run();
  }

  start(job: { taskId: string; gtin: string; lot: string; level: CodeLevel; count: number; user: string }): CodeJob {
    const id = randomBytes(8).toString('hex');
    this.db
      .prepare("INSERT INTO code_jobs (id, task_id, gtin, lot, level, count, state, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)")
      .run(id, job.taskId, job.gtin, job.lot, job.level, job.count, job.user, new Date().toISOString());
    this.launch(id);
    return this.get(id);
  }

  resume(id: string): CodeJob {
    const job = this.get(id);
    if (job.state !== 'interrupted' && job.state !== 'failed') throw new ConsoleError(409, 'ERR_STATE', `job ${id} is ${job.state}`);
    this.db.prepare("UPDATE code_jobs SET state = 'running', error = NULL WHERE id = ?").run(id);
    this.launch(id);
    return this.get(id);
  }

  get(id: string): CodeJob {
    const row = this.db.prepare('SELECT * FROM code_jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) throw new ConsoleError(404, 'ERR_NOT_FOUND', `no code job ${id}`);
    return toJob(row);
  }

  recent(): CodeJob[] {
    return (this.db.prepare('SELECT * FROM code_jobs ORDER BY created_at DESC LIMIT 20').all() as JobRow[]).map(toJob);
  }

  /** The finished job's print file (CSV: code, hash, url, batch). */
  printFile(id: string): string {
    const job = this.get(id);
    if (job.state !== 'done') throw new ConsoleError(409, 'ERR_STATE', `job ${id} is ${job.state}: its codes are not all on chain yet`);
    const path = this.csvPath(id);
    if (!existsSync(path)) throw new ConsoleError(404, 'ERR_NOT_FOUND', `the print file of job ${id} is gone`);
    return readFileSync(path, 'utf8');
  }

  /** Ends the running jobs after their current batch (before the console closes its ledger and database). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running]);
  }

  private launch(id: string): void {
    const run = this.run(id).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private csvPath(id: string): string {
    return join(this.dir, `${id}.csv`);
  }

  private async run(id: string): Promise<void> {
    const job = this.get(id);
    const setIssued = this.db.prepare('UPDATE code_jobs SET issued = ? WHERE id = ?');
    const audit = (outcome: string) => logWrite(this.db, { username: job.createdBy, org: this.chain.org, action: 'codes:issueCodes', subject: `${job.taskId} ${job.count} ${job.level} (job ${id})`, outcome });
    try {
      await issueCodesResumable(
        this.chain.client,
        { taskId: job.taskId, level: job.level, count: job.count, batchSize: CODE_BATCH, csvPath: this.csvPath(id), domain: this.domain, gtin: job.gtin, lot: job.lot, actor: job.createdBy },
        (p) => {
          setIssued.run(p.issued, id);
          if (this.stopping) throw new Stopping();
        },
      );
      this.db.prepare("UPDATE code_jobs SET state = 'done', issued = count WHERE id = ?").run(id);
      audit('ok');
      this.log.info({ evt: 'console.codes_issued', job: id, taskId: job.taskId, count: job.count, user: job.createdBy });
    } catch (e) {
      if (e instanceof Stopping) {
        this.log.info({ evt: 'console.codes_interrupted', job: id, taskId: job.taskId, user: job.createdBy });
        return;
      }
      const error = e instanceof LedgerError ? `${e.code}: ${e.message}` : (e as Error).message;
      audit(e instanceof LedgerError ? e.code : 'ERR_LEDGER');
      this.db.prepare("UPDATE code_jobs SET state = 'failed', error = ? WHERE id = ?").run(error, id);
      this.log.warn({ evt: 'console.codes_failed', job: id, taskId: job.taskId, user: job.createdBy, err: error });
    }
  }
}
