// Builds the front end with vite unless dist/web is newer than every source file, so `npm start` stays quick.
/* global process, console */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'vite';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'dist/web/index.html');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}

// the front end also bundles the holder signer, the chaincode rules it signs with and the designer's editor model
const shared = ['src/holder-signing.ts', 'src/holder-key-backup.ts', 'src/designer-model.ts', '../chaincode/src/rules'].map((p) => newest(join(root, p)));
const sources = Math.max(newest(join(root, 'web')), newest(join(root, 'vite.config.mjs')), newest(join(root, 'package.json')), ...shared);
if (existsSync(out) && statSync(out).mtimeMs >= sources && !process.argv.includes('--force')) {
  console.log('console front end is up to date');
} else {
  await build({ configFile: join(root, 'vite.config.mjs') });
  console.log('console front end built into dist/web');
}
