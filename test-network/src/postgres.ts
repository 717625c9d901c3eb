import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PostgreSQL server of our own, in a temporary data directory: for tests and benchmarks. */
export interface PostgresServer {
  /** the URL of its `postgres` database (user postgres, no password: trust on 127.0.0.1) */
  url: string;
  /** the server's processes: the postmaster and its children (backends, writers) */
  pids(): number[];
  /** stops the server and deletes its data directory */
  stop(): Promise<void>;
}

/** Where the server's programs are: PG_BIN, else the newest Debian postgresql-N, else the PATH. */
function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian) ? readdirSync(debian).filter((v) => existsSync(join(debian, v, 'bin', 'initdb'))) : [];
  if (versions.length > 0) return join(debian, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0) return join(which.stdout.trim(), '..');
  throw new Error('PostgreSQL server programs not found (install Debian package postgresql, or set PG_BIN to the folder holding initdb and pg_ctl)');
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * Starts a throwaway PostgreSQL server on a free local port (initdb, then pg_ctl). PostgreSQL will
 * not run as root: as root, the data directory is given to the `postgres` user (Debian's package
 * makes it) and the programs run as that user. `durable: false` (tests) turns fsync off.
 */
export async function startPostgres({ durable = true }: { durable?: boolean } = {}): Promise<PostgresServer> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    execFileSync('chown', ['postgres:postgres', dir]);
    chmodSync(dir, 0o755);
  }
  const run = (program: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${program} failed (${r.status}): ${(r.stderr || r.stdout).trim()}`);
  };
  const port = await freePort();
  const settings = ['-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...(durable ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off'])];
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', settings.join(' '), '-w', 'start']);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // pg_ctl leaves the server running on its own: a test run that dies without stopping it stops it on exit
  const stopNow = () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // stopped already
    }
  };
  process.once('exit', stopNow);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    pids: () => {
      const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      return [postmaster, ...children];
    },
    stop: async () => {
      process.removeListener('exit', stopNow);
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
