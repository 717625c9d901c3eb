import { RunningDevnet } from '@trace/test-network';
import { UsageError } from '../demo/roles';
import { profileMsps } from '../e2e/connections';
import { childPids } from './stats';

/** Where a benchmark's workload runs: a devnet it started, or an existing network named by connection profiles. */
export interface BenchTarget {
  /** the connection profile to reach an org through */
  profileFor(msp: string): string;
  /** the benchmark's own org, and a second org for the steps that need a partner */
  orgs: [string, string];
  /** the local devnet's process, whose CPU time and memory are reported; absent on an existing network */
  pid?: number;
  /**
   * The chaincode processes whose CPU time is measured, read at the start of each phase (the devnet
   * restarts a chaincode that dies); absent when unknown, and the chaincode's CPU is then not reported.
   */
  chaincodePids?: () => number[];
  /** how many of those processes execute each submitted transaction (the endorsing orgs) */
  endorsementsPerTx?: number;
}

/**
 * The devnet's first two orgs, each through its own connection profile. Its chaincode processes are
 * its children (one per org); `endorsers` is what its `--endorsers` was, else MAJORITY of its orgs.
 */
export function devnetTarget(devnet: RunningDevnet, endorsers?: number): BenchTarget {
  const pid = devnet.proc.pid!;
  const orgCount = Object.keys(devnet.peerEndpoints).length;
  return {
    profileFor: (msp) => devnet.profiles[msp],
    orgs: ['Org1MSP', 'Org2MSP'],
    pid,
    chaincodePids: () => childPids(pid),
    endorsementsPerTx: endorsers ?? Math.floor(orgCount / 2) + 1,
  };
}

/** What an existing network's benchmark run is told about its chaincode processes. */
export interface NetworkChaincode {
  /** the chaincode processes of the endorsing peers, on this machine */
  pids?: number[];
  /** endorsements per transaction (the endorsement policy's count) */
  endorsements?: number;
}

/** An existing network: its first two orgs, in the order the profiles name them. */
export function networkTarget(paths: string[], chaincode: NetworkChaincode = {}): BenchTarget {
  const byMsp = new Map<string, string>();
  for (const path of paths) for (const msp of profileMsps(path)) if (!byMsp.has(msp)) byMsp.set(msp, path);
  const orgs = [...byMsp.keys()];
  if (orgs.length < 2) throw new UsageError('ERR_PROFILE', `the benchmarks need two orgs; the --connection profiles name ${orgs.join(', ') || 'none'}`);
  const { pids, endorsements } = chaincode;
  const measured = pids && pids.length > 0 && endorsements !== undefined;
  return { profileFor: (msp) => byMsp.get(msp)!, orgs: [orgs[0], orgs[1]], chaincodePids: measured ? () => pids : undefined, endorsementsPerTx: measured ? endorsements : undefined };
}

/** Parses `--chaincode-pids 123,456` and `--endorsements 2`: bad values are usage errors. */
export function networkChaincode(pids: string | undefined, endorsements: string | undefined): NetworkChaincode {
  const list = pids?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  for (const p of list) if (!/^\d+$/.test(p)) throw new UsageError('ERR_ARGS', `--chaincode-pids takes process ids separated by commas; got ${JSON.stringify(p)}`);
  if (endorsements !== undefined && !/^[1-9]\d*$/.test(endorsements)) throw new UsageError('ERR_ARGS', `--endorsements takes a positive integer; got ${JSON.stringify(endorsements)}`);
  if (list.length > 0 && endorsements === undefined) throw new UsageError('ERR_ARGS', '--chaincode-pids needs --endorsements (how many of those processes execute each transaction)');
  return { pids: list.map(Number), endorsements: endorsements === undefined ? undefined : Number(endorsements) };
}

/** What the run measures on an existing network, for its first output line. */
export function measuredText(target: BenchTarget): string {
  return target.chaincodePids
    ? `chaincode CPU from pids ${target.chaincodePids().join(', ')}, ${target.endorsementsPerTx} executions per tx`
    : 'chaincode CPU is not measured (give --chaincode-pids and --endorsements): reported as null';
}

/** CPU time per transaction, when the devnet is local: `n/a` elsewhere. */
export const cpuText = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${Math.round(ms * 100) / 100}`);
