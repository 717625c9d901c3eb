import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Server } from 'node:http';
import type { ChainBlock } from '@trace/client';
import { applyBlock, codeHex, codeKey, createApiKey, createApp, Db, openDb } from '../src';
import { newDbLocation } from './support/databases';
import { rejection } from './support/rejection';

/** Code hashes as 32-byte keys on the engine under test (code-keys.sqlite.test.ts: SQLite files of older schemas). */

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const [A, D] = ['item-a', 'unknown-d'].map(hex);
const AT = '2026-01-01T00:00:00.000Z';

describe('code hashes as 32-byte keys (schema version 14)', () => {
  it('refuses a hash bound as hex text (a missed conversion) or a key of the wrong length, rather than storing a key that never matches', async () => {
    const db = await openDb(await newDbLocation('code-keys-check'));
    try {
      const refused = db.engine === 'sqlite' ? /CHECK constraint failed/ : /violates check constraint/;
      const insert = (hash: string | Buffer) => db.run("INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_at) VALUES (?, 'T1', 'g', 'l', 'item', 'issued', 'Org1MSP', ?)", hash, AT);
      expect((await rejection(() => insert(A))).message).to.match(refused);
      expect((await rejection(() => insert(codeKey(A).subarray(1)))).message).to.match(refused);
      expect((await rejection(() => db.run("INSERT INTO scans (code_hash, tx_id, idx, channel, at, recorded_by) VALUES (?, 'tx', 0, 'consumer', ?, 'Org1MSP')", A, AT))).message).to.match(refused);
      await insert(codeKey(A));
      expect((await db.column<Buffer>('SELECT hash FROM codes')).map(codeHex)).to.deep.equal([A]);
    } finally {
      await db.close();
    }
  });

  it('the helpers take and give 64 lowercase hex characters only', () => {
    expect(codeHex(codeKey(A))).to.equal(A);
    for (const bad of [A.toUpperCase(), A.slice(1), `${A}0`, 'x'.repeat(64), undefined as unknown as string]) expect(() => codeKey(bad), String(bad)).to.throw(/not a code hash/);
    expect(() => codeHex(Buffer.alloc(31))).to.throw(/not a 32-byte code key/);
  });
});

describe('projections write code keys in multi-row inserts; the API answers hex', () => {
  const TX = (n: number) => n.toString(16).padStart(64, '0');
  let height = 0n;
  /** one block per event, of the product chaincode */
  const block = async (db: Db, ...events: { name: string; payload: object }[]) => {
    const transactions = events.map((e, i) => ({
      transactionId: TX(Number(height) * 100 + i),
      validationCode: 'VALID',
      creatorMspId: 'Org1MSP',
      timestampMs: Date.parse(AT),
      chaincodeName: 'trace',
      event: { name: e.name, payload: Buffer.from(JSON.stringify({ ...e.payload, txId: TX(Number(height) * 100 + i), txTime: AT })) },
    }));
    const b: ChainBlock = { number: height, hash: TX(1e6 + Number(height)), previousHash: TX(1e6 + Number(height) - 1), dataHash: TX(2e6), transactions };
    height++;
    await applyBlock(db, b);
  };
  const issued = Array.from({ length: 1300 }, (_, i) => hex(`code-${i}`));
  const [box, ...items] = issued.slice(0, 13);

  it('issues 1,300 codes (statements of 512, 512, 256, 16 and 4 rows), packs, scans and alerts with keys', async () => {
    const db = await openDb(await newDbLocation('code-keys-issue'));
    try {
      await block(db, { name: 'codes.Issued', payload: { taskId: 'T1', gtin: '06901234567892', lot: 'L1', level: 'item', codeHashes: issued, issuedBy: 'Org1MSP', actor: 'alice' } });
      await block(db, { name: 'codes.Aggregated', payload: { parent: box, parentLevel: 'case', children: items } });
      await block(db, {
        name: 'codes.Scanned',
        payload: {
          scans: [items[0], items[0], D].map((codeHash, i) => ({ codeHash, channel: 'consumer', region: i === 1 ? undefined : 'CN-53', at: AT, recordedBy: 'Org1MSP' })),
          alerts: [
            { type: 'clone', codeHash: items[0], taskId: 'T1', count: 11, threshold: 10 },
            { type: 'unknown', codeHash: D, taskId: '' },
          ],
        },
      });
      expect(await db.value('SELECT count(*) FROM dead_letters')).to.equal(0);
      const codes = await db.all<{ hash: Buffer }>('SELECT hash, task_id, level, status, issued_by, issued_actor, issued_at FROM codes');
      expect(codes.map((c) => codeHex(c.hash)).sort()).to.deep.equal([...issued].sort());
      expect(new Set(codes.map(({ hash: _h, ...rest }) => JSON.stringify(rest)))).to.deep.equal(new Set([JSON.stringify({ task_id: 'T1', level: 'item', status: 'issued', issued_by: 'Org1MSP', issued_actor: 'alice', issued_at: AT })]));
      expect((await db.column<Buffer>('SELECT parent FROM codes WHERE parent IS NOT NULL')).map(codeHex)).to.deep.equal(items.map(() => box));
      const scans = await db.all<{ code_hash: Buffer; idx: number; region: string | null }>('SELECT code_hash, idx, region FROM scans ORDER BY tx_id, idx');
      expect(scans.map((s) => [codeHex(s.code_hash), s.idx, s.region])).to.deep.equal([
        [items[0], 0, 'CN-53'],
        [items[0], 1, null],
        [D, 2, 'CN-53'],
      ]);
      expect(await db.value('SELECT suspect_since FROM codes WHERE hash = ?', codeKey(items[0]))).to.equal(AT);
      expect((await db.column<Buffer>('SELECT code_hash FROM alerts ORDER BY id')).map(codeHex)).to.deep.equal([items[0], D]);
    } finally {
      await db.close();
    }
  });

  it('sends an event with a malformed or repeated hash to the dead letters whole (no code of it is inserted)', async () => {
    const db = await openDb(await newDbLocation('code-keys-dead'));
    try {
      const issue = (codeHashes: string[]) => block(db, { name: 'codes.Issued', payload: { taskId: 'T1', gtin: '06901234567892', lot: 'L1', level: 'item', codeHashes, issuedBy: 'Org1MSP' } });
      await issue([...issued.slice(0, 600), A.toUpperCase()]);
      // the repeat fails the fourth statement, after 512 + 64 + 16 rows went in
      await issue([...issued.slice(0, 600), issued[0]]);
      // each engine words the violated UNIQUE constraint its own way
      const repeated = db.engine === 'sqlite' ? 'UNIQUE constraint failed: codes.hash' : 'duplicate key value violates unique constraint "codes_hash_key"';
      expect(await db.column('SELECT error FROM dead_letters ORDER BY block')).to.deep.equal([`not a code hash (64 lowercase hex characters): "${A.toUpperCase()}"`, repeated]);
      expect(await db.value('SELECT count(*) FROM codes')).to.equal(0);
    } finally {
      await db.close();
    }
  });

  it('answers codes, parents and alerts in lowercase hex over the API', async () => {
    const db = await openDb(await newDbLocation('code-keys-api'));
    let server: Server | undefined;
    try {
      await block(db, { name: 'codes.Issued', payload: { taskId: 'T1', gtin: '06901234567892', lot: 'L1', level: 'item', codeHashes: [box, ...items], issuedBy: 'Org1MSP' } });
      await block(db, { name: 'codes.Aggregated', payload: { parent: box, parentLevel: 'case', children: items } });
      await block(db, { name: 'codes.Scanned', payload: { scans: [{ codeHash: items[1], channel: 'consumer', region: 'US', at: AT, recordedBy: 'Org1MSP' }], alerts: [{ type: 'diversion', codeHash: items[1], taskId: 'T1', region: 'US' }] } });
      const authorization = `Bearer ${(await createApiKey(db, { org: 'Org1MSP', scope: 'member' })).key}`;
      const app = createApp(db, () => ({ ready: true, next: height }));
      server = await new Promise<Server>((res) => {
        const s = app.listen(0, '127.0.0.1', () => res(s));
      });
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const get = async (path: string) => (await fetch(`${base}${path}`, { headers: { authorization } })).json() as Promise<Record<string, unknown>>;
      expect(await get(`/api/codes/${items[1]}`)).to.deep.include({ hash: items[1], parent: box, diverted_since: AT, scans: 1 });
      expect(await get(`/api/codes/${box}`)).to.deep.include({ hash: box, parent: null, scans: 0 });
      expect(((await get('/api/alerts')) as unknown as { type: string; code_hash: string }[]).map((a) => [a.type, a.code_hash])).to.deep.equal([['diversion', items[1]]]);
      const verified = (await (await fetch(`${base}/api/verify`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ codeHash: items[2], region: 'CN-53', scanId: 'scan-1' }) })).json()) as Record<string, unknown>;
      expect(verified).to.deep.include({ codeHash: items[2], verdict: 'genuine', scans: { onChain: 0, pending: 1, total: 1 } });
      expect((await db.value<Buffer>("SELECT code_hash FROM scan_ids WHERE scan_id = 'scan-1'"))!.equals(codeKey(items[2]))).to.equal(true);
    } finally {
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      await db.close();
    }
  });
});
