import { expect } from 'chai';
import { IsString } from 'class-validator';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Context } from 'fabric-contract-api';
import { CertificateAuthority } from '@trace/test-network';
// Through the package's entry, as the peer loads it: it installs the caches.
import { RecordStageDto } from '../../src';
import { parseDto } from '../../src/ledger/dto';
import { ChaincodeError } from '../../src/ledger/errors';
import { rememberParsedCertificates } from '../../src/ledger/shim-certificates';
import { skipAlwaysTrueStringChecks } from '../../src/ledger/shim-parameters';
import { getImmutableJson, getJson } from '../../src/ledger/state';

interface Cert {
  subject: { attributes: { shortName: string; value: string }[] };
  issuer: object;
  extensions: object[];
}
interface X509 {
  Certificate: { fromPEM(pem: string): Cert; fromPEMs(pem: string): Cert[] };
}

/** The @fidm/x509 the workspace's shim 2.5 parses with, and the TBaaS package's (built by package:tbaas). */
const X509S = {
  workspace: require.resolve('@fidm/x509', { paths: [dirname(require.resolve('fabric-shim'))] }),
  tbaas: resolve(__dirname, '../../../../build/tbaas/node_modules/@fidm/x509'),
};

/** The shim's and contract API's directories in the workspace (shim 2.5) and in the TBaaS package (2.3). */
const SHIMS = {
  workspace: { shim: dirname(require.resolve('fabric-shim')), api: dirname(require.resolve('fabric-contract-api')) },
  tbaas: { shim: resolve(__dirname, '../../../../build/tbaas/node_modules/fabric-shim'), api: resolve(__dirname, '../../../../build/tbaas/node_modules/fabric-contract-api') },
};

interface Marshall {
  ajv: { compile(schema: object): unknown };
  handleParameters(fn: object, parameters: Buffer[], prefix: string): unknown[];
}

describe('per-transaction caches: the same answers as without them', () => {
  let dir: string;
  let pem: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cert-cache-'));
    const ca = await CertificateAuthority.open(dir, 'Org1MSP', 'org1.example.com');
    pem = readFileSync((await ca.issue('User1', { attrs: { role: 'auditor' } })).certPath, 'utf8');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, path] of Object.entries(X509S)) it(`parses a creator certificate once per PEM text, as a fresh parse would (${name} @fidm/x509)`, () => {
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`node scripts/dist/src/package-tbaas.js --install\` (npm test does)`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const x509 = require(path) as X509;
    rememberParsedCertificates(x509);
    rememberParsedCertificates(x509); // idempotent: one wrapper, not two
    const first = x509.Certificate.fromPEM(pem);
    const fresh = x509.Certificate.fromPEMs(pem)[0];
    expect(first.subject).to.deep.equal(fresh.subject);
    expect(first.issuer).to.deep.equal(fresh.issuer);
    expect(first.extensions).to.deep.equal(fresh.extensions);
    expect(first.subject.attributes.find((a) => a.shortName === 'CN')?.value).to.equal('User1');
    expect(x509.Certificate.fromPEM(Buffer.from(pem) as unknown as string), 'the same text as bytes').to.equal(first);
    expect(Object.isFrozen(first)).to.equal(true);
    // A bad certificate fails every time; nothing is remembered for it.
    const bad = pem.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n');
    expect(() => x509.Certificate.fromPEM(bad)).to.throw();
    expect(() => x509.Certificate.fromPEM(bad)).to.throw();
  });

  for (const [name, dirs] of Object.entries(SHIMS)) it(`reads string arguments as the shim does, without compiling their always-true check (${name} shim)`, () => {
    if (!existsSync(dirs.shim)) throw new Error(`${dirs.shim} is missing: run \`node scripts/dist/src/package-tbaas.js --install\` (npm test does)`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const DataMarshall = require(join(dirs.shim, 'lib/contract-spi/datamarshall.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const serializer = require(join(dirs.api, 'lib/jsontransactionserializer.js'));
    const marshall = (): Marshall => new DataMarshall('json', { json: serializer }, {});
    const fn = { name: 'recordStage', parameters: [{ name: 'json', schema: { type: 'string' } }] };
    const args = [Buffer.from('{"taskId":"茶-1","data":{"a":1}}')];
    const before = marshall().handleParameters(fn, args, '[p]');
    const wrongCount = (() => {
      try {
        marshall().handleParameters(fn, [...args, Buffer.from('x')], '[p]');
      } catch (e) {
        return (e as Error).message;
      }
    })();
    skipAlwaysTrueStringChecks(DataMarshall);
    skipAlwaysTrueStringChecks(DataMarshall); // idempotent
    const m = marshall();
    let compiled = 0;
    const compile = m.ajv.compile.bind(m.ajv);
    m.ajv.compile = (schema: object) => (compiled++, compile(schema));
    expect(m.handleParameters(fn, args, '[p]')).to.deep.equal(before).and.deep.equal(['{"taskId":"茶-1","data":{"a":1}}']);
    expect(compiled).to.equal(0);
    // Anything else is the shim's own path: its count error, its checks of other schemas.
    expect(() => m.handleParameters(fn, [...args, Buffer.from('x')], '[p]')).to.throw(wrongCount);
    expect(wrongCount).to.match(/Expected 1 parameters, but 2/);
    const numberFn = { name: 'n', parameters: [{ name: 'n', schema: { type: 'number', minimum: 5 } }] };
    expect(() => m.handleParameters(numberFn, [Buffer.from('3')], '[p]')).to.throw(/Unable to validate parameter/);
    expect(compiled).to.be.greaterThan(0);
  });

  it('validates with metadata added after a class was first validated (no stale lookups)', () => {
    class LateDto {
      @IsString() name!: string;
      extra?: unknown;
    }
    const json = '{"name":"a","extra":1}';
    expect(() => parseDto(LateDto, json)).to.throw(ChaincodeError, /property extra should not exist/);
    IsString()(LateDto.prototype, 'extra');
    expect(() => parseDto(LateDto, json)).to.throw(ChaincodeError, /extra must be a string/);
    expect(parseDto(LateDto, '{"name":"a","extra":"b"}')).to.deep.include({ name: 'a', extra: 'b' });
    // The product's DTOs still refuse what they refused.
    expect(() => parseDto(RecordStageDto, '{"taskId":"t1","stage":"s1","eventTime":"2026-10-01T00:00:00Z","data":{},"x":1}')).to.throw(ChaincodeError, /property x should not exist/);
  });

  it('parses an immutable state object once per content: equal to a fresh parse, deep-frozen, never stale', async () => {
    const state = new Map<string, Buffer>();
    // Only getState: what getImmutableJson reads; the bytes are what a peer would hand the chaincode.
    // contract-api makes a context per transaction: a later transaction is a new one
    const transaction = () => ({ stub: { getState: async (k: string) => state.get(k) ?? Buffer.alloc(0) } }) as unknown as Context;
    const ctx = transaction();
    const v1 = { id: 'tea', stages: [{ stage: 'picking', items: [{ id: 'weight', max: 10 }] }], version: 1 };
    state.set('a', Buffer.from(JSON.stringify(v1)));
    state.set('b', Buffer.from(JSON.stringify(v1)));
    const a = await getImmutableJson<typeof v1>(ctx, 'a');
    expect(a).to.deep.equal(v1);
    expect(await getImmutableJson(ctx, 'b'), 'the same bytes under another key').to.equal(a);
    expect(() => {
      a!.stages[0].items[0].max = 11;
    }).to.throw(TypeError);
    expect(() => a!.stages.push({ stage: 'x', items: [] })).to.throw(TypeError);
    const v2 = { ...v1, version: 2 };
    state.set('a', Buffer.from(JSON.stringify(v2)));
    expect(await getImmutableJson(transaction(), 'a'), 'other bytes under the same key').to.deep.equal(v2);
    expect(await getImmutableJson(ctx, 'missing')).to.equal(undefined);
  });

  it('reads a key once per transaction, as Fabric answers every read of it within one: the committed bytes', async () => {
    const state = new Map<string, Buffer>([['k', Buffer.from('{"v":1}')]]);
    const reads: string[] = [];
    const transaction = () => ({ stub: { getState: async (k: string) => (reads.push(k), state.get(k) ?? Buffer.alloc(0)) } }) as unknown as Context;
    const tx1 = transaction();
    expect([await getJson(tx1, 'k'), await getJson(tx1, 'k'), await getJson(tx1, 'none'), await getJson(tx1, 'none')]).to.deep.equal([{ v: 1 }, { v: 1 }, undefined, undefined]);
    expect(reads, 'one round trip per key').to.deep.equal(['k', 'none']);
    // each read is parsed afresh: a caller changing what it got does not change the next read
    (await getJson<{ v: number }>(tx1, 'k'))!.v = 5;
    expect(await getJson(tx1, 'k')).to.deep.equal({ v: 1 });
    // the next transaction reads the ledger again
    state.set('k', Buffer.from('{"v":2}'));
    expect(await getJson(transaction(), 'k')).to.deep.equal({ v: 2 });
    expect(reads).to.deep.equal(['k', 'none', 'k']);
  });
});
