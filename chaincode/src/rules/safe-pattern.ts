/**
 * Member-defined item patterns, matched in linear time. A JavaScript RegExp backtracks: a pattern
 * such as `(a+)+$` against 4,096 characters stalls every endorser for everyone. Patterns here are
 * parsed by our own grammar (a subset of JavaScript's `u`-mode syntax: literals, `.`, classes,
 * `\d \w \s` and their negations, groups, alternation, `* + ? {n} {n,} {n,m}`; no backreferences,
 * lookarounds or inner anchors) into a Thompson NFA whose simulation costs O(value × states).
 * A pattern always matches the whole value.
 */

export class PatternError extends Error {}

type Range = [number, number];
interface CharSet {
  ranges: Range[];
  negate: boolean;
}
type Node =
  | { kind: 'char'; set: CharSet }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

/** Largest count in {n,m}, and largest NFA a pattern may compile to. */
export const MAX_REPEAT = 1000;
export const MAX_STATES = 20_000;

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Range[] = [[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff]];
const NEWLINES: Range[] = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];
const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split('').map((c) => c.codePointAt(0)!));
const CONTROL: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b, '0': 0 };

class Parser {
  private pos = 0;
  private readonly cps: number[];

  constructor(pattern: string) {
    this.cps = Array.from(pattern, (c) => c.codePointAt(0)!);
    // Anchors are accepted at the very ends only, where the whole-value match makes them redundant.
    if (this.cps[0] === 0x5e) this.cps.shift();
    if (this.cps[this.cps.length - 1] === 0x24 && this.cps[this.cps.length - 2] !== 0x5c) this.cps.pop();
  }

  parse(): Node {
    const node = this.alt();
    if (this.pos < this.cps.length) this.fail(`unexpected '${this.ch()}'`);
    return node;
  }

  private fail(why: string): never {
    throw new PatternError(`${why} at position ${this.pos}`);
  }
  private peek(): number | undefined {
    return this.cps[this.pos];
  }
  private ch(): string {
    return String.fromCodePoint(this.cps[this.pos]);
  }
  private eat(c: string): boolean {
    if (this.peek() !== c.codePointAt(0)) return false;
    this.pos++;
    return true;
  }

  private alt(): Node {
    const options = [this.seq()];
    while (this.eat('|')) options.push(this.seq());
    return options.length === 1 ? options[0] : { kind: 'alt', options };
  }

  private seq(): Node {
    const items: Node[] = [];
    while (this.pos < this.cps.length && this.peek() !== 0x7c && this.peek() !== 0x29) items.push(this.quantified(this.atom()));
    return { kind: 'seq', items };
  }

  private atom(): Node {
    const c = this.peek()!;
    if (this.eat('(')) {
      if (this.eat('?')) {
        if (!this.eat(':')) this.fail('only (?:…) groups are supported (no lookarounds or named groups)');
      }
      const inner = this.alt();
      if (!this.eat(')')) this.fail("missing ')'");
      return inner;
    }
    if (this.eat('[')) return { kind: 'char', set: this.charClass() };
    if (this.eat('.')) return { kind: 'char', set: { ranges: NEWLINES, negate: true } };
    if (this.eat('\\')) return { kind: 'char', set: this.escape(false) };
    if ('*+?{'.includes(String.fromCodePoint(c))) this.fail('nothing to repeat');
    if (c === 0x5e || c === 0x24) this.fail('anchors are allowed only at the start and end');
    if (c === 0x29 || c === 0x5d || c === 0x7d) this.fail(`lone '${this.ch()}'`);
    this.pos++;
    return { kind: 'char', set: { ranges: [[c, c]], negate: false } };
  }

  private quantified(node: Node): Node {
    let min: number;
    let max: number;
    if (this.eat('*')) [min, max] = [0, Infinity];
    else if (this.eat('+')) [min, max] = [1, Infinity];
    else if (this.eat('?')) [min, max] = [0, 1];
    else if (this.eat('{')) {
      min = this.int();
      max = min;
      if (this.eat(',')) max = this.peek() === 0x7d ? Infinity : this.int();
      if (!this.eat('}')) this.fail("missing '}'");
      if (max < min) this.fail(`{${min},${max}} counts backwards`);
    } else return node;
    this.eat('?'); // a lazy quantifier matches the same whole values
    if ('*+?{'.includes(String.fromCodePoint(this.peek() ?? 0x20))) this.fail('nested quantifier');
    return { kind: 'repeat', node, min, max };
  }

  private int(): number {
    const start = this.pos;
    while (this.peek() !== undefined && this.peek()! >= 0x30 && this.peek()! <= 0x39) this.pos++;
    if (this.pos === start) this.fail('expected a count');
    const n = Number(String.fromCodePoint(...this.cps.slice(start, this.pos)));
    if (n > MAX_REPEAT) this.fail(`counts above ${MAX_REPEAT} are not supported`);
    return n;
  }

  private escape(inClass: boolean): CharSet {
    const c = this.peek();
    if (c === undefined) this.fail('pattern ends in \\');
    const s = String.fromCodePoint(c);
    this.pos++;
    const cls: Record<string, Range[]> = { d: DIGIT, w: WORD, s: SPACE };
    if (cls[s.toLowerCase()] && s.toLowerCase() !== s.toUpperCase()) return { ranges: cls[s.toLowerCase()], negate: s === s.toUpperCase() };
    if (s in CONTROL) return single(CONTROL[s]);
    if (s === 'u' || s === 'x') return single(this.hexEscape(s));
    if (SYNTAX.has(c) || (inClass && c === 0x2d)) return single(c);
    return this.fail(`unsupported escape \\${s}${/[1-9]/.test(s) ? ' (no backreferences)' : ''}`);
  }

  private hexEscape(kind: string): number {
    let digits: string;
    if (kind === 'u' && this.eat('{')) {
      const start = this.pos;
      while (this.peek() !== undefined && this.peek() !== 0x7d) this.pos++;
      digits = String.fromCodePoint(...this.cps.slice(start, this.pos));
      if (!this.eat('}')) this.fail("missing '}'");
    } else {
      const n = kind === 'u' ? 4 : 2;
      digits = String.fromCodePoint(...this.cps.slice(this.pos, this.pos + n));
      this.pos += n;
    }
    if (!/^[0-9A-Fa-f]{1,6}$/.test(digits) || parseInt(digits, 16) > 0x10ffff) this.fail(`bad \\${kind} escape`);
    return parseInt(digits, 16);
  }

  private charClass(): CharSet {
    const negate = this.eat('^');
    const ranges: Range[] = [];
    const negated: Range[][] = [];
    let first = true;
    while (!this.eat(']')) {
      if (this.peek() === undefined) this.fail("missing ']'");
      const lo = this.classAtom();
      if (this.peek() === 0x2d && this.cps[this.pos + 1] !== 0x5d && this.cps[this.pos + 1] !== undefined) {
        this.pos++;
        const hi = this.classAtom();
        if (lo.negate || hi.negate || lo.ranges.length !== 1 || hi.ranges.length !== 1 || lo.ranges[0][0] !== lo.ranges[0][1] || hi.ranges[0][0] !== hi.ranges[0][1]) this.fail('a range needs single characters at both ends');
        if (hi.ranges[0][0] < lo.ranges[0][0]) this.fail('range out of order');
        ranges.push([lo.ranges[0][0], hi.ranges[0][0]]);
      } else if (lo.negate) negated.push(lo.ranges);
      else ranges.push(...lo.ranges);
      first = false;
    }
    if (first) this.fail('empty character class');
    // [\D] and the like: keep the class a plain union by turning each negated set into ranges.
    for (const n of negated) ranges.push(...complement(n));
    return { ranges, negate };
  }

  private classAtom(): CharSet {
    if (this.eat('\\')) return this.escape(true);
    const c = this.peek()!;
    this.pos++;
    return single(c);
  }
}

function single(c: number): CharSet {
  return { ranges: [[c, c]], negate: false };
}

function complement(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

function inSet(set: CharSet, c: number): boolean {
  let hit = false;
  for (const [lo, hi] of set.ranges) {
    if (c >= lo && c <= hi) {
      hit = true;
      break;
    }
  }
  return hit !== set.negate;
}

/** NFA states: a character step, an epsilon split, or the accepting state. */
type State = { kind: 'char'; set: CharSet; next: number } | { kind: 'split'; next: number[] } | { kind: 'match' };

class Nfa {
  readonly states: State[] = [];

  add(s: State): number {
    if (this.states.length >= MAX_STATES) throw new PatternError(`pattern is too large (more than ${MAX_STATES} states)`);
    this.states.push(s);
    return this.states.length - 1;
  }

  /** Compiles node so that it continues at `next`; returns its entry state. */
  build(node: Node, next: number): number {
    switch (node.kind) {
      case 'char':
        return this.add({ kind: 'char', set: node.set, next });
      case 'seq':
        return node.items.reduceRight((to, item) => this.build(item, to), next);
      case 'alt':
        return this.add({ kind: 'split', next: node.options.map((o) => this.build(o, next)) });
      case 'repeat': {
        let entry = next;
        if (node.max === Infinity) {
          const loop = this.add({ kind: 'split', next: [] });
          (this.states[loop] as { next: number[] }).next = [this.build(node.node, loop), next];
          entry = loop;
        } else {
          for (let i = node.min; i < node.max; i++) entry = this.add({ kind: 'split', next: [this.build(node.node, entry), next] });
        }
        for (let i = 0; i < node.min; i++) entry = this.build(node.node, entry);
        return entry;
      }
    }
  }
}

export interface SafePattern {
  matches(value: string): boolean;
}

function compile(pattern: string): SafePattern {
  const nfa = new Nfa();
  const accept = nfa.add({ kind: 'match' });
  const start = nfa.build(new Parser(pattern).parse(), accept);
  const states = nfa.states;
  const closure = (from: number[], mark: Int32Array, gen: number): number[] => {
    const out: number[] = [];
    const stack = [...from];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (mark[s] === gen) continue;
      mark[s] = gen;
      const st = states[s];
      if (st.kind === 'split') for (let i = st.next.length - 1; i >= 0; i--) stack.push(st.next[i]);
      else out.push(s);
    }
    return out;
  };
  return {
    matches(value: string): boolean {
      const mark = new Int32Array(states.length);
      let gen = 1;
      let current = closure([start], mark, gen);
      for (const ch of value) {
        const c = ch.codePointAt(0)!;
        const next: number[] = [];
        for (const s of current) {
          const st = states[s];
          if (st.kind === 'char' && inSet(st.set, c)) next.push(st.next);
        }
        if (next.length === 0) return false;
        current = closure(next, mark, ++gen);
      }
      return current.some((s) => states[s].kind === 'match');
    },
  };
}

const cache = new Map<string, SafePattern>();

/** The compiled pattern (cached per process; a cache hit gives the same answer a compile would). Throws PatternError. */
export function safePattern(pattern: string): SafePattern {
  let p = cache.get(pattern);
  if (!p) {
    p = compile(pattern);
    if (cache.size >= 256) cache.clear();
    cache.set(pattern, p);
  }
  return p;
}
