import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DevnetAccess, devnetAccess } from './layout';

const CLI = resolve(__dirname, 'cli.js');
/** The devnet's own test contract, used unless args name another chaincode. */
export const FIXTURE_CHAINCODE = resolve(__dirname, '../../../fixture-chaincode');

export interface RunningDevnet extends DevnetAccess {
  /** the main listener: the Gateway and Deliver for any org, and the orderer's Broadcast */
  endpoint: string;
  /** each org peer's own endpoint (protos.Endorser and Deliver, for pre-2.4 clients) */
  peerEndpoints: Record<string, string>;
  /** the orderer's endpoint (orderer.AtomicBroadcast) */
  ordererEndpoint: string;
  /** the first org's common connection profile */
  connection: string;
  /** each org's common connection profile */
  profiles: Record<string, string>;
  proc: ChildProcess;
  /** graceful stop (SIGTERM) */
  stop(): Promise<void>;
  /** SIGKILL, as a crash */
  kill(): Promise<void>;
}

/** Starts `devnet start` as its own process on free ports and waits for its ready line (`--tls` / `--mtls` in args for TLS). */
export async function startDevnet(args: string[] = [], dataDir = mkdtempSync(join(tmpdir(), 'devnet-'))): Promise<RunningDevnet> {
  const log = openSync(join(dataDir, 'devnet.log'), 'a');
  const chaincode = args.includes('--chaincode-path') ? [] : ['--chaincode-path', FIXTURE_CHAINCODE, '--chaincode-name', 'fixture'];
  const proc = spawn(process.execPath, [CLI, 'start', '--data', dataDir, '--port', '0', ...chaincode, ...args], { stdio: ['ignore', 'pipe', log] });
  closeSync(log);
  const ready = await new Promise<{ endpoint: string; peers: Record<string, string>; orderer: string; connection: string; profiles: Record<string, string> }>((res, rej) => {
    let buf = '';
    // a devnet that does not come up is stopped, not left running behind the caller's failure
    const timer = setTimeout(() => {
      proc.kill('SIGTERM');
      rej(new Error(`devnet did not start within a minute; see ${dataDir}/devnet.log`));
    }, 60_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      for (const line of buf.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const msg = JSON.parse(line) as { ready?: boolean; endpoint: string; peers: Record<string, string>; orderer: string; connection: string; profiles: Record<string, string> };
          if (msg.ready) {
            clearTimeout(timer);
            res(msg);
          }
        } catch {
          // partial line
        }
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`devnet exited with ${code}; see ${dataDir}/devnet.log`));
    });
  });
  const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
  return {
    ...devnetAccess(dataDir),
    endpoint: ready.endpoint,
    peerEndpoints: ready.peers,
    ordererEndpoint: ready.orderer,
    connection: ready.connection,
    profiles: ready.profiles,
    proc,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Pids of processes whose command line contains text (read from /proc, no procps needed). */
export function findPids(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').includes(text)) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}
