import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { codeHash, digitalLink, generateCode } from './codes';
import { TraceChainClient } from './contracts';

/**
 * Issues `count` codes for a task in batches, resumably. Every batch is first written to the CSV
 * print file (synced) and marked pending in a journal, then submitted, then marked issued. After an
 * interruption the same command finds the pending batch on chain or submits the same codes again,
 * so no code is issued twice and every printed code is on chain.
 */
export interface IssueJob {
  taskId: string;
  level: 'item' | 'case' | 'pallet';
  count: number;
  /** codes per transaction, at most 1,000 */
  batchSize: number;
  csvPath: string;
  /** resolver domain for the GS1 Digital Link printed in the CSV */
  domain: string;
  gtin: string;
  lot: string;
  /** the org's user issuing them, named on chain in each code and each batch's event */
  actor?: string;
}

interface Journal {
  taskId: string;
  level: string;
  count: number;
  batches: { index: number; size: number; state: 'pending' | 'issued' }[];
}

export interface IssueProgress {
  issued: number;
  count: number;
  batch: number;
  resumed: boolean;
}

const HEADER = 'code,hash,url,batch\n';

function writeSynced(path: string, text: string, append: boolean): void {
  const fd = openSync(path, append ? 'a' : 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function saveJournal(path: string, journal: Journal): void {
  writeSynced(`${path}.tmp`, JSON.stringify(journal, null, 1), false);
  renameSync(`${path}.tmp`, path);
}

export async function issueCodesResumable(client: TraceChainClient, job: IssueJob, progress: (p: IssueProgress) => void = () => undefined): Promise<{ issued: number; batches: number; resumedBatches: number }> {
  if (job.batchSize < 1 || job.batchSize > 1000) throw new Error('batch size must be between 1 and 1000');
  const journalPath = `${job.csvPath}.journal.json`;
  let journal: Journal = { taskId: job.taskId, level: job.level, count: job.count, batches: [] };
  const rows = new Map<number, { code: string; hash: string }[]>();
  if (existsSync(journalPath)) {
    journal = JSON.parse(readFileSync(journalPath, 'utf8')) as Journal;
    if (journal.taskId !== job.taskId || journal.level !== job.level || journal.count !== job.count) {
      throw new Error(`${journalPath} belongs to another job (task ${journal.taskId}, ${journal.count} ${journal.level} codes)`);
    }
    for (const line of readFileSync(job.csvPath, 'utf8').split('\n').slice(1)) {
      const [code, hash, , batch] = line.split(',');
      if (!code || !hash || batch === undefined) continue;
      const b = Number(batch);
      rows.set(b, [...(rows.get(b) ?? []), { code, hash }]);
    }
  }
  // A pending batch whose rows were not all written was never submitted: drop it and its rows.
  journal.batches = journal.batches.filter((b) => b.state === 'issued' || rows.get(b.index)?.length === b.size);
  const kept = journal.batches.map((b) => b.index);
  writeSynced(job.csvPath, HEADER + kept.flatMap((i) => rows.get(i)!.map((r) => `${r.code},${r.hash},${digitalLink(job.domain, job.gtin, job.lot, r.code)},${i}\n`)).join(''), false);
  saveJournal(journalPath, journal);

  let issued = journal.batches.filter((b) => b.state === 'issued').reduce((n, b) => n + b.size, 0);
  let resumedBatches = 0;
  const submit = async (index: number, hashes: string[], resumed: boolean) => {
    await client.codes.issueCodes({ taskId: job.taskId, level: job.level, codeHashes: hashes, actor: job.actor });
    journal.batches.find((b) => b.index === index)!.state = 'issued';
    saveJournal(journalPath, journal);
    issued += hashes.length;
    progress({ issued, count: job.count, batch: index, resumed });
  };
  for (const b of journal.batches.filter((x) => x.state === 'pending')) {
    const hashes = rows.get(b.index)!.map((r) => r.hash);
    resumedBatches++;
    const onChain = await client.codes.verifyCode(hashes[0]);
    if (onChain.genuine) {
      b.state = 'issued';
      saveJournal(journalPath, journal);
      issued += b.size;
      progress({ issued, count: job.count, batch: b.index, resumed: true });
    } else await submit(b.index, hashes, true);
  }
  let index = journal.batches.reduce((m, b) => Math.max(m, b.index + 1), 0);
  while (issued < job.count) {
    const size = Math.min(job.batchSize, job.count - issued);
    const codes = Array.from({ length: size }, () => generateCode());
    const hashes = codes.map(codeHash);
    journal.batches.push({ index, size, state: 'pending' });
    saveJournal(journalPath, journal);
    writeSynced(job.csvPath, codes.map((c, i) => `${c},${hashes[i]},${digitalLink(job.domain, job.gtin, job.lot, c)},${index}\n`).join(''), true);
    await submit(index, hashes, false);
    index++;
  }
  return { issued, batches: journal.batches.length, resumedBatches };
}
