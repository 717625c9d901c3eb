import { RunningDevnet } from '@trace/test-network';
import { UsageError } from '../demo/roles';
import { profileMsps } from '../e2e/connections';

/** Where a benchmark's workload runs: a devnet it started, or an existing network named by connection profiles. */
export interface BenchTarget {
  /** the connection profile to reach an org through */
  profileFor(msp: string): string;
  /** the benchmark's own org, and a second org for the steps that need a partner */
  orgs: [string, string];
  /** the local devnet's process, whose CPU time and memory are reported; absent on an existing network */
  pid?: number;
}

/** The devnet's first two orgs, each through its own connection profile. */
export function devnetTarget(devnet: RunningDevnet): BenchTarget {
  return { profileFor: (msp) => devnet.profiles[msp], orgs: ['Org1MSP', 'Org2MSP'], pid: devnet.proc.pid };
}

/** An existing network: its first two orgs, in the order the profiles name them. */
export function networkTarget(paths: string[]): BenchTarget {
  const byMsp = new Map<string, string>();
  for (const path of paths) for (const msp of profileMsps(path)) if (!byMsp.has(msp)) byMsp.set(msp, path);
  const orgs = [...byMsp.keys()];
  if (orgs.length < 2) throw new UsageError('ERR_PROFILE', `the benchmarks need two orgs; the --connection profiles name ${orgs.join(', ') || 'none'}`);
  return { profileFor: (msp) => byMsp.get(msp)!, orgs: [orgs[0], orgs[1]] };
}

/** CPU time per transaction, when the devnet is local: `n/a` elsewhere. */
export const cpuText = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${Math.round(ms * 100) / 100}`);
