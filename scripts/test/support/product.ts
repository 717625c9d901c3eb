import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const START = resolve(__dirname, '../../src/start.js');

export interface RunningProduct {
  proc: ChildProcess;
  /** http://127.0.0.1:port of the indexer */
  base: string;
  /** host:port of the devnet gateway */
  gateway: string;
  stdout: string;
  /** the demo API keys the banner prints (new ones on each start) */
  keys: { member: string; auditor: string };
  /** Ctrl-C, as a person stops it; resolves with the exit code */
  interrupt(): Promise<number | null>;
}

/** Runs `npm start`'s program (devnet + indexer, with --demo) on free ports and waits for its banner. */
export async function startProduct(dataDir: string, timeoutMs = 240_000): Promise<RunningProduct> {
  const proc = spawn(process.execPath, [START, '--demo', '--data', dataDir, '--port', '0', '--devnet-port', '0'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LOG_LEVEL: 'warn', INDEXER_APP_ORIGINS: 'https://shop.example' } });
  let stdout = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`npm start did not come up:\n${stdout}`)), timeoutMs);
    proc.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('Ctrl-C stops')) {
        clearTimeout(timer);
        res();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`npm start exited with ${code}:\n${stdout}`));
    });
  });
  const base = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\/dashboard/.exec(stdout)![1];
  const gateway = /gateway\s+(\S+)/.exec(stdout)![1];
  const keys = { member: /member key\s+\S+ (\S+)/.exec(stdout)![1], auditor: /auditor key\s+\S+ (\S+)/.exec(stdout)![1] };
  return {
    proc,
    base,
    gateway,
    keys,
    get stdout() {
      return stdout;
    },
    interrupt: async () => {
      proc.kill('SIGINT');
      return exited;
    },
  };
}

/** Polls until check returns a value (not undefined), or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function getJson<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}
