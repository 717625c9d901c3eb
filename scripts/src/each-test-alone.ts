/**
 * Runs every test of one compiled mocha file on its own (`--grep` on its exact full title), to show
 * that no `it` leans on state an earlier `it` made. Run it from the file's workspace:
 *
 *   node ../scripts/dist/src/each-test-alone.js dist/test/codes.test.js [--only <regexp>]
 *
 * Prints one JSON line per test and a summary; exits 1 when a test fails alone.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const MOCHA = require.resolve('mocha/bin/mocha.js', { paths: [process.cwd()] });
const BASE_ARGS = ['--no-config', '--timeout', '300000', '--exit'];

interface Listed {
  tests: { fullTitle: string }[];
}

/** The full titles of the file's tests, in order, from a dry run (no hooks, no test bodies). */
function listTests(file: string): string[] {
  const run = spawnSync(process.execPath, [MOCHA, ...BASE_ARGS, '--dry-run', '--reporter', 'json', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`listing ${file} failed (${run.status}): ${run.stderr.slice(-2000)}`);
  return (JSON.parse(run.stdout) as Listed).tests.map((t) => t.fullTitle);
}

/** A regexp that matches exactly this title (mocha greps the full title). */
function exactTitle(title: string): string {
  return `^${title.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`;
}

const DEVNET_DID_NOT_START = /devnet did not start within/;
const MAX_START_RETRIES = 2;

function runAlone(file: string, title: string) {
  return spawnSync(process.execPath, [MOCHA, ...BASE_ARGS, '--reporter', 'dot', '--grep', exactTitle(title), resolve(file)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function main(argv: string[]): number {
  const file = argv[0];
  if (!file) {
    process.stderr.write('usage: each-test-alone <compiled test file> [--only <regexp>]\n');
    return 2;
  }
  const only = argv[1] === '--only' && argv[2] ? new RegExp(argv[2]) : undefined;
  const titles = listTests(resolve(file)).filter((t) => !only || only.test(t));
  const failed: string[] = [];
  for (const title of titles) {
    const started = Date.now();
    let run = runAlone(file, title);
    // A devnet that could not start on a loaded machine says nothing about the test: try it again, and say so.
    let retries = 0;
    while (run.status !== 0 && retries < MAX_START_RETRIES && DEVNET_DID_NOT_START.test(run.stdout + run.stderr)) {
      retries++;
      run = runAlone(file, title);
    }
    // A title shared by two tests would run both: that must show, not pass silently.
    const passing = Number(/(\d+) passing/.exec(run.stdout)?.[1] ?? 0);
    const ok = run.status === 0 && passing === 1;
    if (!ok) failed.push(title);
    process.stdout.write(JSON.stringify({ event: 'test.alone', title, ok, passing, retries, ms: Date.now() - started, ...(ok ? {} : { output: (run.stdout + run.stderr).slice(-3000) }) }) + '\n');
  }
  process.stdout.write(JSON.stringify({ event: 'file.done', file, tests: titles.length, failed }) + '\n');
  return failed.length === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
