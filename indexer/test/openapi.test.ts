import { expect } from 'chai';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Server } from 'node:http';
import { createApiKey, createApp, openApi, openDb, ROUTES } from '../src';
import type { Store } from '../src/db';
import { newDbLocation } from './support/databases';

type Operation = { security: unknown[]; parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[]; requestBody?: unknown; responses: Record<string, unknown> };

describe('indexer route table: schemas for every route, the OpenAPI document generated from them, validation and body limits', function () {
  this.timeout(60_000);
  const doc = openApi(ROUTES) as { openapi: string; paths: Record<string, Record<string, Operation>> };
  const op = (path: string, method = 'get') => doc.paths[path][method];

  it('declares a schema for every path parameter and every answer of every route', () => {
    for (const r of ROUTES) {
      const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(Object.keys(r.params?.shape ?? {}), `${r.method} ${r.path} params`).to.deep.equal(names);
      if (r.response.status !== 302) expect(r.response.schema, `${r.method} ${r.path} response`).to.not.equal(undefined);
      if (r.method === 'post') expect(r.body, `${r.method} ${r.path} body`).to.not.equal(undefined);
    }
  });

  it('is a valid OpenAPI 3.0 document', async () => {
    expect(doc.openapi).to.match(/^3\.0\./);
    // validated against the OpenAPI 3.0 schema (a copy: the validator dereferences in place)
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.keys(doc.paths).sort()).to.deep.equal([...new Set(ROUTES.map((r) => r.path))].sort());
  });

  it('documents parameter types and patterns, request bodies, response schemas and every error status', () => {
    const blocks = op('/api/blocks');
    expect(blocks.parameters.find((p) => p.name === 'limit')).to.deep.include({ in: 'query', required: false, schema: { default: 50, type: 'integer', minimum: 1, maximum: 500 } });
    expect(op('/api/codes/{hash}').parameters).to.deep.equal([{ name: 'hash', in: 'path', required: true, description: 'SHA-256, lowercase hex', schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }]);
    expect(op('/api/verify', 'post').requestBody).to.have.nested.property('content.application/json.schema.properties.code.pattern');
    expect(op('/api/trace/code/{hash}').responses['200']).to.have.nested.property('content.application/json.schema.properties.stages.type', 'array');
    const statuses = (path: string, method = 'get') => Object.keys(op(path, method).responses);
    expect(statuses('/api/verify', 'post')).to.have.members(['200', '400', '401', '403', '409', '413', '415', '429']);
    expect(statuses('/api/audit/record/{taskId}/{stage}')).to.have.members(['200', '400', '401', '403', '404', '429', '503']);
    expect(statuses('/healthz')).to.have.members(['200', '401', '503']);
    expect(statuses('/')).to.have.members(['302', '401']);
    for (const r of ROUTES) {
      const o = op(r.path, r.method);
      // scoped routes: a key of their scope, 401 without one, 403 with a lower one; public ones need none
      expect(o.security, r.path).to.deep.equal(r.scope === 'public' ? [] : [{ apiKey: [r.scope] }]);
      if (r.scope !== 'public') expect(o.responses, r.path).to.include.keys('401', '403');
      if (r.rateLimit) expect(o.responses, r.path).to.include.keys('429');
      for (const s of Object.keys(o.responses).filter((s) => s >= '400')) expect(o.responses[s], `${r.path} ${s}`).to.have.nested.property('content.application/json.schema.properties.error');
    }
  });

  describe('served', () => {
    let db: Store;
    let server: Server;
    let base: string;
    let member: string;
    const queued = () => db.value<number>('SELECT count(*) FROM scan_queue');
    const post = (body: string, type = 'application/json', headers: Record<string, string> = {}) => fetch(`${base}/api/verify`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
    const answer = async (r: Response) => [r.status, ((await r.json()) as { error?: { code: string } }).error?.code];

    before(async () => {
      db = await openDb(await newDbLocation('openapi'));
      member = (await createApiKey(db, { org: 'Org1MSP', scope: 'member' })).key;
      server = createApp(db, () => ({ ready: true, next: 0n }), { perClientPerMinute: { verify: 600, audit: 600 } }).listen(0);
      await new Promise((r) => server.once('listening', r));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(async () => {
      server?.close();
      await db?.close();
    });

    it('serves the generated document', async () => {
      expect(await (await fetch(`${base}/openapi.json`)).json()).to.deep.equal(JSON.parse(JSON.stringify(doc)));
    });

    it('reads only JSON bodies within the size limit: 415, 413 and 400 with their stable codes, nothing queued; a good body is', async () => {
      const good = JSON.stringify({ code: 'ABCDE-FGHJK', region: 'CN-53' });
      expect(await answer(await post(good, 'text/plain'))).to.deep.equal([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
      expect(await answer(await post(JSON.stringify({ code: 'ABCDE-FGHJK', pad: 'x'.repeat(16 * 1024) })))).to.deep.equal([413, 'ERR_VALIDATION']);
      for (const bad of ['{', '"ABCDE-FGHJK"', '[]', '', '{"code":"no"}', '{"code":"ABCDE-FGHJK","channel":"mail"}', '{"code":"ABCDE-FGHJK","at":"yesterday"}', '{"code":"ABCDE-FGHJK","region":"china"}'])
        expect(await answer(await post(bad)), bad).to.deep.equal([400, 'ERR_VALIDATION']);
      // verifying by hash needs a key; a malformed hash is refused even with one
      expect(await answer(await post(JSON.stringify({ codeHash: 'a'.repeat(64) })))).to.deep.equal([401, 'ERR_UNAUTHORIZED']);
      expect(await answer(await post(JSON.stringify({ codeHash: 'A'.repeat(64) }), 'application/json', { authorization: `Bearer ${member}` }))).to.deep.equal([400, 'ERR_VALIDATION']);
      expect(await queued()).to.equal(0);
      const ok = await post(good, 'application/json; charset=utf-8');
      expect(ok.status).to.equal(200);
      expect(ROUTES.find((r) => r.path === '/api/verify')!.response.schema!.safeParse(await ok.json()).success).to.equal(true);
      expect(await queued()).to.equal(1);
    });

    it('validates path parameters and queries against the declared schemas (400 ERR_VALIDATION), and types them for the handler', async () => {
      const auth = { headers: { authorization: `Bearer ${member}` } };
      for (const path of ['/api/blocks/-1', '/api/blocks/x', '/api/tasks?limit=501', '/api/tasks?limit=2&limit=3', '/api/tasks?gtin=12', '/api/devices?status=gone', '/api/stats/throughput?minutes=0', '/api/stats/sensors', '/api/assets/accounts/xyz', '/c/ab', '/01/06901234567892/10/%20bad'])
        expect(await answer(await fetch(base + path, auth)), path).to.deep.equal([400, 'ERR_VALIDATION']);
      const tasks = await fetch(`${base}/api/tasks?limit=5&offset=0&audited=false&gtin=6901234567892`, auth);
      expect([tasks.status, await tasks.json()]).to.deep.equal([200, []]);
      expect((await fetch(`${base}/api/blocks/7`, auth)).status).to.equal(404);
    });
  });
});
