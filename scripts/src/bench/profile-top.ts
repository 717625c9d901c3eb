import { readFileSync } from 'node:fs';

/**
 * Summarises a .cpuprofile: the functions with the most self time, and the share of total time
 * spent inside each (inclusive); with a focus, only the samples with that function on the stack.
 * Usage: node scripts/dist/src/bench/profile-top.js <file.cpuprofile> [rows=30] [focus function name]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg, focus] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-top <file.cpuprofile> [rows=30] [focus function name]');
  process.exit(2);
}
const rows = Number(rowsArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode) => {
  const f = n.callFrame;
  const where = f.url.replace(/^.*node_modules\//, '').replace(/^.*\/(dist|src)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
const stack = (leaf: ProfileNode) => {
  const out: ProfileNode[] = [];
  for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) out.push(n);
  return out;
};
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const leaf = byId.get(id)!;
  const frames = stack(leaf);
  if (focus && !frames.some((n) => n.callFrame.functionName === focus)) return;
  total += dt;
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
  // Count each function once per sample, however deep it recurses.
  const seen = new Set<string>();
  for (const n of frames) {
    const l = label(n);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
  }
});

const busy = total - (self.get('(idle) :0') ?? 0);
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
console.log(`${file}${focus ? ` inside ${focus}` : ''}: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms sampled`);
console.log('\nself time');
for (const [l, us] of [...self].filter(([l]) => l !== '(idle) :0').sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${pct(us)}  ${l}`);
console.log('\ninclusive time');
for (const [l, us] of [...inclusive].filter(([l]) => !l.startsWith('(root)') && l !== '(idle) :0').sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${pct(us)}  ${l}`);
