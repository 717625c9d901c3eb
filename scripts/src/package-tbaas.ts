import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from 'acorn';
import { ZipFile } from 'yazl';

/**
 * package:tbaas — the chaincode as TBaaS (Fabric 2.3, Node 12.16) takes it: compiled to ES2019,
 * fabric-contract-api and fabric-shim 2.3.0, no node_modules (the peer's builder installs them),
 * zipped for upload in the console. Every shipped JavaScript file is parsed as ES2019.
 * With --install, the package's dependencies are installed next to it and checked too, so the
 * devnet can run it under shim 2.3.0.
 */

const ROOT = resolve(__dirname, '../../..');
const OUT = join(ROOT, 'build', 'tbaas');
const ZIP = join(ROOT, 'build', 'trace-chaincode-tbaas.zip');

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

async function zip(dir: string, target: string): Promise<void> {
  const z = new ZipFile();
  const add = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (name === 'node_modules' || name === 'package-lock.json') continue;
      if (statSync(p).isDirectory()) add(p);
      else z.addFile(p, relative(dir, p));
    }
  };
  add(dir);
  z.end();
  await new Promise<void>((res, rej) => z.outputStream.pipe(createWriteStream(target)).on('close', res).on('error', rej));
}

async function main(): Promise<void> {
  const install = process.argv.includes('--install');
  rmSync(join(OUT, 'dist'), { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'chaincode', 'tsconfig.tbaas.json')], { stdio: 'inherit' });
  const own = JSON.parse(readFileSync(join(ROOT, 'chaincode', 'package.json'), 'utf8')) as { version: string };
  const installed = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const pkg = {
    name: 'trace-chaincode',
    version: own.version,
    description: 'Traceability chaincode for Fabric 2.3 (TBaaS): consortium, catalog, process, trace, codes, devices, assets',
    main: 'dist/index.js',
    engines: { node: '>=12.16.1' },
    scripts: { start: 'fabric-chaincode-node start' },
    dependencies: {
      'fabric-contract-api': '2.3.0',
      'fabric-shim': '2.3.0',
      'class-transformer': installed('class-transformer'),
      'class-validator': installed('class-validator'),
    },
  };
  writeFileSync(join(OUT, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  const problems = es2019Problems(jsFiles(join(OUT, 'dist')));
  if (install) {
    if (!existsSync(join(OUT, 'node_modules', 'fabric-shim'))) {
      console.log('installing the package dependencies (fabric-shim 2.3.0) …');
      execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: OUT, stdio: 'inherit' });
    }
    // What the chaincode itself loads at run time must parse as ES2019 too.
    for (const dep of ['class-transformer/cjs', 'class-validator/cjs']) {
      const dir = join(OUT, 'node_modules', dep);
      if (existsSync(dir)) problems.push(...es2019Problems(jsFiles(dir)));
    }
  }
  if (problems.length > 0) {
    console.error(`not ES2019 (${problems.length}):\n  ${problems.slice(0, 20).join('\n  ')}`);
    process.exit(1);
  }
  await zip(OUT, ZIP);
  console.log(`package: ${relative(ROOT, OUT)} (ES2019, fabric-shim 2.3.0)\nupload:  ${relative(ROOT, ZIP)} (${statSync(ZIP).size} bytes)`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(`package:tbaas: ${e.message}`);
    process.exit(1);
  });
}
