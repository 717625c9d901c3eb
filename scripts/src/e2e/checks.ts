import { codeHash } from '@trace/client';
import { DemoRoles } from '../demo/roles';
import { DemoSummary } from '../demo/seed';

/** One line of the pass/fail table. */
export interface CheckResult {
  name: string;
  ok: boolean;
  expected: string;
  actual: string;
}

type Get = <T>(path: string) => Promise<T>;
const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What the demo seed leaves in the index, checked through the indexer's API: counts, verdicts,
 * alerts, stages and the audit routes that re-read the chain. Each check runs on its own, so one
 * failure does not hide the others.
 */
export async function checkDemo(get: Get, demo: DemoSummary, roles: DemoRoles, lastTxId: string | undefined): Promise<CheckResult[]> {
  const checks: [string, unknown, () => Promise<unknown>][] = [
    ['members are the mapped orgs', [...new Set(Object.values(roles))].sort(), async () => (await get<{ msp_id: string }[]>('/api/members')).map((m) => m.msp_id).sort()],
    [
      'counts (tasks, records, codes, scans, devices, asset classes)',
      { tasks: 2, stage_records: 18, codes: 19, scans: 14, devices: 3, asset_classes: 2 },
      async () => {
        const s = await get<Record<string, number>>('/api/stats');
        return { tasks: s.tasks, stage_records: s.stage_records, codes: s.codes, scans: s.scans, devices: s.devices, asset_classes: s.asset_classes };
      },
    ],
    [
      "the product chaincode's transactions are counted",
      'more than 60',
      async () => {
        const n = (await get<{ transactions: number }>('/api/stats')).transactions;
        return n > 60 ? 'more than 60' : n;
      },
    ],
    ['alerts by type', [{ type: 'clone', n: 1 }, { type: 'diversion', n: 1 }, { type: 'sensor', n: 1 }], async () => (await get<{ byType: unknown[] }>('/api/stats/alerts')).byType],
    [
      'verdicts (genuine, cloned, diverted, unscanned)',
      ['genuine', 'suspect', 'genuine/diverted', 'genuine/0 scans'],
      async () => {
        const code = async (c: string) => (await get<{ code: { verdict: string; divertedSince: string | null; scans: number } }>(`/api/trace/code/${codeHash(c)}`)).code;
        const [g, c, d, f] = await Promise.all([demo.codes.genuine, demo.codes.cloned, demo.codes.diverted, demo.codes.fresh].map(code));
        return [g.verdict, c.verdict, `${d.verdict}${d.divertedSince ? '/diverted' : ''}`, `${f.verdict}/${f.scans} scans`];
      },
    ],
    ['lots by stage', [{ template: 'baijiu', stage: 'audited', lots: 1 }, { template: 'puer_tea', stage: 'audited', lots: 1 }], async () => await get('/api/stats/lots')],
    [
      'stages of each lot match the chain (audit/task)',
      [`${demo.teaTask}: 10 stages, matches`, `${demo.liquorTask}: 8 stages, matches`],
      async () =>
        Promise.all(
          [demo.teaTask, demo.liquorTask].map(async (t) => {
            const a = await get<{ matches: boolean; stages: unknown[] }>(`/api/audit/task/${t}`);
            return `${t}: ${a.stages.length} stages, ${a.matches ? 'matches' : 'differs'}`;
          }),
        ),
    ],
    ['stage record matches the chain (audit/record)', { matches: true, differences: [] }, async () => pick(await get(`/api/audit/record/${demo.teaTask}/tea_picking`), 'matches', 'differences')],
    ['cloned code matches the chain (audit/code)', { matches: true }, async () => pick(await get(`/api/audit/code/${codeHash(demo.codes.cloned)}`), 'matches')],
    ['last transaction matches its block (audit/tx)', { matches: true, validationCode: 'VALID' }, async () => {
      const a = await get<{ matches: boolean; chain: { validationCode: string } }>(`/api/audit/tx/${lastTxId}`);
      return { matches: a.matches, validationCode: a.chain.validationCode };
    }],
  ];
  const results: CheckResult[] = [];
  for (const [name, expected, run] of checks) {
    try {
      const actual = await run();
      results.push({ name, ok: same(actual, expected), expected: show(expected), actual: show(actual) });
    } catch (e) {
      results.push({ name, ok: false, expected: show(expected), actual: `error: ${(e as Error).message}` });
    }
  }
  return results;
}

function pick(o: unknown, ...keys: string[]): Record<string, unknown> {
  const r = o as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, r[k]]));
}

/** The table printed at the end of a run. */
export function formatTable(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  return results.map((r) => `${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.ok ? r.actual : `expected ${r.expected}, got ${r.actual}`}`).join('\n');
}
