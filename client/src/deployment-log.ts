import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The deploy command's record of what an org deployed, one JSON object a line (appended, never rewritten), which the
 * member console reads by path to show the org's deployments.
 */
export interface DeploymentRecord {
  /** ISO time of the deployment */
  at: string;
  target: 'devnet' | 'tbaas' | 'fabric';
  chaincode: string;
  /** the org that ran it, where the command knows it (the devnet's --msp, the Fabric network's orgs) */
  orgs?: string[];
  channel?: string;
  version?: string;
  sequence?: number;
  /** SHA-256 of the package file installed or uploaded (the devnet runs chaincode/ itself: none) */
  packageHash?: string;
  packageFile?: string;
  /** Fabric's package ID (label:hash) */
  packageId?: string;
}

export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function appendDeployment(file: string, record: DeploymentRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o640 });
}

const TARGETS = new Set(['devnet', 'tbaas', 'fabric']);

/** The records of the file, newest first; lines that are not records (a torn last write) are counted, not thrown. */
export function readDeployments(file: string): { records: DeploymentRecord[]; unreadable: number } {
  if (!existsSync(file)) return { records: [], unreadable: 0 };
  const records: DeploymentRecord[] = [];
  let unreadable = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as DeploymentRecord;
      if (typeof r.at !== 'string' || !TARGETS.has(r.target) || typeof r.chaincode !== 'string') throw new Error('not a record');
      records.push(r);
    } catch {
      unreadable++;
    }
  }
  return { records: records.reverse(), unreadable };
}
