import { execFileSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parse } from 'acorn';
import { ZipFile } from 'yazl';
import { ensureNode12Runtime, node12Env, NODE12_VERSION, NPM6_VERSION } from './node12-runtime';

/**
 * package:tbaas — the chaincode as TBaaS (Fabric 2.3, Node 12.16.1, npm 6.13.4) takes it: compiled to
 * ES2019, with the committed manifest and npm-6 lockfile of chaincode/packaging/tbaas (fabric-shim
 * 2.3.0 and a dependency tree that runs on Node 12), no node_modules (the peer's builder installs
 * them), zipped for upload in the console.
 * With --install, the dependencies are installed as Fabric's Node builder does (`npm ci
 * --only=production` with npm 6.13.4 on Node 12.16.1), and Node 12.16.1 loads every contract through
 * the shim's own CLI; the devnet then runs this install under that Node.
 */

const ROOT = resolve(__dirname, '../../..');
const PACKAGING = join(ROOT, 'chaincode', 'packaging', 'tbaas');
const OUT = join(ROOT, 'build', 'tbaas');
const ZIP = join(ROOT, 'build', 'trace-chaincode-tbaas.zip');
/** written after a complete install: the lockfile's hash, so an unchanged install is reused */
const INSTALL_STAMP = join(OUT, 'node_modules', '.trace-lockfile-sha256');
const CONTRACTS = ['consortium', 'catalog', 'process', 'trace', 'codes', 'devices', 'assets'];

function jsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsFiles(p));
    else if (name.endsWith('.js')) out.push(p);
  }
  return out;
}

/** Parses each file as an ES2019 script; returns the problems as `file:line: message`. */
export function es2019Problems(files: string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    try {
      parse(readFileSync(file, 'utf8'), { ecmaVersion: 2019, sourceType: 'script', allowHashBang: true, allowReturnOutsideFunction: true });
    } catch (e) {
      const err = e as Error & { loc?: { line: number } };
      problems.push(`${relative(ROOT, file)}:${err.loc?.line ?? '?'}: ${err.message}`);
    }
  }
  return problems;
}

/** `require("node:…")` throws on Node 12, where the `node:` scheme does not exist. */
function nodeSchemeProblems(files: string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/require\(\s*["']node:/.test(line)) problems.push(`${relative(ROOT, file)}:${i + 1}: require of a node: specifier`);
      });
  }
  return problems;
}

async function zip(dir: string, target: string): Promise<void> {
  const z = new ZipFile();
  const add = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (name === 'node_modules') continue;
      if (statSync(p).isDirectory()) add(p);
      else z.addFile(p, relative(dir, p));
    }
  };
  add(dir);
  z.end();
  await new Promise<void>((res, rej) => z.outputStream.pipe(createWriteStream(target)).on('close', res).on('error', rej));
}

/** `npm ci --only=production` with npm 6.13.4 on Node 12.16.1, skipped when this lockfile is already installed. */
function install(): void {
  const runtime = ensureNode12Runtime();
  const lockHash = createHash('sha256').update(readFileSync(join(OUT, 'package-lock.json'))).digest('hex');
  if (existsSync(INSTALL_STAMP) && readFileSync(INSTALL_STAMP, 'utf8') === lockHash) {
    console.log(`dependencies: installed from this lockfile already (${relative(ROOT, OUT)}/node_modules)`);
  } else {
    console.log(`installing the dependencies with npm ${NPM6_VERSION} on Node ${NODE12_VERSION} (npm ci --only=production) …`);
    execFileSync(runtime.node, [runtime.npmCli, 'ci', '--only=production', '--no-audit'], { cwd: OUT, stdio: 'inherit', env: node12Env(runtime) });
    writeFileSync(INSTALL_STAMP, lockHash);
  }
  // The shim's own CLI on Node 12 loads the package's main and every contract to write their metadata.
  const metaDir = mkdtempSync(join(tmpdir(), 'tbaas-metadata-'));
  try {
    const metaFile = join(metaDir, 'metadata.json');
    const shimCli = join(OUT, 'node_modules', 'fabric-shim', 'cli.js');
    try {
      execFileSync(runtime.node, [shimCli, 'metadata', 'generate', '--module-path', OUT, '--file', metaFile], { cwd: OUT, env: node12Env(runtime), stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new Error(`Node ${NODE12_VERSION} could not load the package: ${String((e as { stderr?: Buffer }).stderr ?? e).slice(-2000)}`);
    }
    const contracts = Object.keys((JSON.parse(readFileSync(metaFile, 'utf8')) as { contracts: Record<string, unknown> }).contracts);
    const missing = CONTRACTS.filter((c) => !contracts.includes(c));
    if (missing.length > 0) throw new Error(`Node ${NODE12_VERSION} loaded the package without the contracts ${missing.join(', ')}`);
    console.log(`loaded on Node ${NODE12_VERSION} through fabric-chaincode-node: ${CONTRACTS.join(', ')}`);
  } finally {
    rmSync(metaDir, { recursive: true, force: true });
  }
}

/** --founder MSPID: the org allowed to bootstrap the consortium (TBaaS sets no environment for a chaincode). */
function founderArg(): string | undefined {
  const i = process.argv.indexOf('--founder');
  if (i < 0) return undefined;
  const msp = process.argv[i + 1];
  if (!msp || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(msp)) throw new Error(`[ERR_ARGS] --founder needs an MSP ID, got ${msp ?? 'nothing'}`);
  return msp;
}

/** deployment.json in the package, which the chaincode reads (chaincode/src/ledger/deployment.ts); none without a founder. */
function writeDeployment(founderMsp: string | undefined): void {
  const file = join(OUT, 'deployment.json');
  rmSync(file, { force: true });
  if (founderMsp) writeFileSync(file, JSON.stringify({ founderMsp }) + '\n');
}

async function main(): Promise<void> {
  rmSync(join(OUT, 'dist'), { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'chaincode', 'tsconfig.tbaas.json')], { stdio: 'inherit' });
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(PACKAGING, file), join(OUT, file));
  writeDeployment(founderArg());
  const shipped = jsFiles(join(OUT, 'dist'));
  const problems = [...es2019Problems(shipped), ...nodeSchemeProblems(shipped)];
  if (problems.length > 0) {
    console.error(`not loadable on Node ${NODE12_VERSION} (${problems.length}):\n  ${problems.slice(0, 20).join('\n  ')}`);
    process.exit(1);
  }
  if (process.argv.includes('--install')) install();
  await zip(OUT, ZIP);
  console.log(`package: ${relative(ROOT, OUT)} (ES2019, fabric-shim 2.3.0, lockfile for npm ${NPM6_VERSION})\nupload:  ${relative(ROOT, ZIP)} (${statSync(ZIP).size} bytes)`);
  console.log(`founder: ${founderArg() ?? 'none: no org can bootstrap the consortium (give --founder MSPID)'}`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(`package:tbaas: ${e.message}`);
    process.exit(1);
  });
}
