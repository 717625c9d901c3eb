import { expect } from 'chai';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { signReadings, TraceChainClient } from '@trace/client';
import { tea } from '@trace/contract-templates';
import { testClock } from '@trace/test-network';
import { RunningConsole } from '../src';
import { launchChromium, VIEWPORTS } from './support/browser';
import { fillNumber, PASSWORD, shoot, signIn as signInAt, until } from './support/pages';
import { ConsoleStack, startStack } from './support/stack';
import { GTIN, TASK, teaLotAwaitingWarehousing } from './support/tea-lot';

const STAGE = 'tea_warehousing';
const STAGE_API = `/api/tasks/${TASK}/stages/${STAGE}`;

describe('member console: the farm org through the devnet, the indexer and headless Chromium', function () {
  this.timeout(300_000);
  let stack: ConsoleStack;
  let farm: TraceChainClient;
  let app: RunningConsole;
  let browser: Browser;
  let consoleDb: string;
  const readDb = <T>(sql: string, ...args: unknown[]) => {
    const db = new Database(consoleDb, { readonly: true });
    try {
      return db.prepare(sql).all(...args) as T[];
    } finally {
      db.close();
    }
  };
  const warehousing = async () => (await farm.trace.getTrace(TASK)).stages.find((s) => s.stage === STAGE)?.record;
  const indexed = async () => {
    const res = await stack.indexed(`/api/tasks/${TASK}`, 'Org2MSP');
    return res.ok ? ((await res.json()) as { records: { stage: string; version: number }[] }).records : [];
  };
  const signIn = (username: string, password = PASSWORD): Promise<{ context: BrowserContext; page: Page }> => signInAt(browser, app.url, username, password);

  before(async () => {
    stack = await startStack({ seed: (c) => teaLotAwaitingWarehousing(c.Org1MSP, c.Org2MSP) });
    farm = stack.clients.Org2MSP;
    await until('the indexer to hold the packed lot', async () => (await indexed()).some((r) => r.stage === 'tea_packing'));
    consoleDb = join(stack.dir, 'console.sqlite');
    app = await stack.startConsole('Org2MSP', [['admin', ['admin']], ['clerk', ['data_entry']]], consoleDb);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("a farm clerk's count that breaks a cross-validation rule is refused on chain and shown on its field; fixed, it is recorded (with the flag rule's warning); then amended with a reason", async () => {
    const { context, page } = await signIn('clerk');
    await page.goto(`${app.url}/login`);
    await shoot(page, 'login');
    await page.goto(app.url);
    const waiting = page.locator(`[data-waiting="${TASK}/${STAGE}"] a`);
    await waiting.waitFor();
    await shoot(page, 'workbench');
    await waiting.click();
    await page.locator('[data-field="tea_stored_cakes"] input').waitFor();
    await fillNumber(page, 'tea_stored_cakes', '599');
    await fillNumber(page, 'storage_temp_c', '35');
    await fillNumber(page, 'storage_humidity_pct', '65');
    await page.click('[data-testid=stage-submit]');
    const fieldError = page.locator('[data-field="tea_stored_cakes"] .el-form-item__error');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).to.contain('the warehouse confirms every packed cake');
    await shoot(page, 'stage-entry-refused');
    expect(await warehousing(), 'nothing recorded').to.equal(undefined);

    await fillNumber(page, 'tea_stored_cakes', '600');
    await page.click('[data-testid=stage-submit]');
    await page.locator('[data-testid=saved]').waitFor();
    await fieldError.waitFor({ state: 'detached' });
    expect(await page.locator('[data-field="storage_temp_c"] [data-testid=field-warning]').textContent()).to.contain('Pu’er ages at 10–30 °C');
    await shoot(page, 'stage-entry-recorded');
    const record = await warehousing();
    expect(record?.data).to.deep.equal({ tea_stored_cakes: 600, storage_temp_c: 35, storage_humidity_pct: 65 });
    expect(record?.version).to.equal(1);
    expect(record?.flags.map((f) => f.ruleId)).to.deep.equal(['storage_temp']);
    // who did it: the chain names the console user beside the org; the console's log also holds the refusal
    expect([record?.actor, record?.recordedBy]).to.deep.equal(['clerk', 'Org2MSP']);
    const log = readDb<{ username: string; action: string; outcome: string; tx_id: string | null }>('SELECT username, action, outcome, tx_id FROM audit_log ORDER BY id');
    expect(log).to.deep.equal([
      { username: 'clerk', action: 'trace:recordStage', outcome: 'ERR_CROSS_VALIDATION', tx_id: null },
      { username: 'clerk', action: 'trace:recordStage', outcome: 'ok', tx_id: record?.txId },
    ]);

    await until('the indexer to hold the record', async () => (await indexed()).some((r) => r.stage === STAGE));
    await page.reload();
    await page.locator('[data-testid=current-version]').waitFor();
    await fillNumber(page, 'storage_temp_c', '24');
    await page.fill('[data-field="reason"] textarea', '温度计复核 thermometer re-read');
    await page.click('[data-testid=stage-submit]');
    await page.locator('[data-testid=saved]').waitFor();
    const amended = await warehousing();
    expect([amended?.version, amended?.reason, amended?.data.storage_temp_c, amended?.flags]).to.deep.equal([2, '温度计复核 thermometer re-read', 24, []]);
    await context.close();
  });

  it("a farm clerk's certificate file is hashed in the browser (only its SHA-256 goes on chain), and the farm's own device readings for the task are shown beside the form", async () => {
    const clock = testClock(48);
    const brand = stack.clients.Org1MSP;
    const taskId = 'console-tea-files';
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, ['tea_plantation', 'tea_picking', 'tea_warehousing'].includes(s.stage) ? 'Org2MSP' : 'Org1MSP']));
    await brand.trace.createTask({ taskId, template: 'puer_tea', version: 1, product: { gtin: GTIN, name: '景迈古树普洱 357g' }, lot: 'CON-FILES', plannedQuantity: 600, unit: 'cake', assignments });
    // a farm probe's batch for this task, and one for another task the form must leave out
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await farm.devices.registerDevice({ deviceId: 'garden-probe', type: 'temperature', publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(), thresholds: {} });
    const probe = (seq: number, task: string, values: number[]) =>
      farm.devices.submitReadings(signReadings(privateKey, { deviceId: 'garden-probe', seq, taskId: task, readings: values.map((value, i) => ({ at: clock.at(i + 1), metric: 'soil_temp_c', value, unit: '°C' })) }));
    await probe(1, taskId, [18.5, 21]);
    await probe(2, TASK, [40]);
    await until('the indexer to hold both batches', async () => ((await (await stack.indexed('/api/devices/garden-probe', 'Org2MSP')).json()) as { readings?: unknown[] }).readings?.length === 2);

    const { context, page } = await signIn('clerk');
    await page.goto(`${app.url}/tasks/${taskId}/stages/tea_plantation`);
    const rows = page.locator('[data-testid=readings] .el-table__body tr');
    await rows.first().waitFor();
    expect(await rows.count(), "only this task's batch").to.equal(1);
    expect(await rows.first().textContent()).to.contain('garden-probe').and.to.contain('soil_temp_c 18.5 – 21 (2)');
    const certificate = Buffer.from('有机认证 No. 2026-JM-0042\n', 'utf8');
    await page.locator('[data-field="tea_garden"] input').fill('景迈山古茶园');
    await page.setInputFiles('[data-testid=file-tea_organic_cert]', { name: 'organic.pdf', mimeType: 'application/pdf', buffer: certificate });
    const digest = createHash('sha256').update(certificate).digest('hex');
    await until('the browser to hash the file', async () => (await page.locator('input[name=tea_organic_cert]').inputValue()) === digest);
    await shoot(page, 'stage-entry-file-readings');
    await page.click('[data-testid=stage-submit]');
    await page.locator('[data-testid=saved]').waitFor();
    const record = (await farm.trace.getTrace(taskId)).stages.find((s) => s.stage === 'tea_plantation')?.record;
    expect(record?.data).to.deep.include({ tea_garden: '景迈山古茶园', tea_organic_cert: digest });
    await context.close();
  });

  it('a data-entry user cannot open the user admin page, and the API answers 403 to its calls (no user created)', async () => {
    const { context, page } = await signIn('clerk');
    expect(await page.locator('[data-nav=users]').count(), 'no menu entry').to.equal(0);
    await page.goto(`${app.url}/users`);
    await page.locator('[data-testid=forbidden]').waitFor();
    await shoot(page, 'forbidden');
    const list = await context.request.get(`${app.url}/api/users`);
    expect([list.status(), ((await list.json()) as { error: { code: string } }).error.code]).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    const { csrf } = (await (await context.request.get(`${app.url}/api/session`)).json()) as { csrf: string };
    const create = await context.request.post(`${app.url}/api/users`, { headers: { 'x-csrf-token': csrf }, data: { username: 'mallory', password: PASSWORD, roles: ['admin'] } });
    expect([create.status(), ((await create.json()) as { error: { code: string } }).error.code]).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    expect(readDb('SELECT 1 FROM users WHERE username = ?', 'mallory')).to.have.length(0);
    await context.close();
  });

  it('an admin creates a user on the users page and disables it: its session ends and it cannot log in', async () => {
    const { context, page } = await signIn('admin');
    await page.click('[data-nav=users]');
    await page.locator('[data-testid=users]').waitFor();
    await page.locator('[data-testid=audit-log]', { hasText: 'ERR_CROSS_VALIDATION' }).waitFor();
    expect(await page.locator('[data-testid=audit-log] tbody tr', { hasText: 'trace:amendStage' }).count()).to.equal(1);
    await page.fill('input[name=new-username]', 'qa1');
    await page.fill('input[name=new-password]', PASSWORD);
    await page.click('[data-role=qa]');
    await page.click('[data-testid=create-user]');
    await page.locator('[data-toggle=qa1]').waitFor();
    expect(readDb<{ roles: string; disabled: number }>('SELECT roles, disabled FROM users WHERE username = ?', 'qa1')).to.deep.equal([{ roles: '["qa"]', disabled: 0 }]);
    const qa = await signIn('qa1');
    expect((await qa.context.request.get(`${app.url}/api/session`)).status()).to.equal(200);

    await page.click('[data-toggle=qa1]');
    await until('qa1 to be disabled', async () => readDb<{ disabled: number }>('SELECT disabled FROM users WHERE username = ?', 'qa1')[0].disabled === 1);
    expect((await qa.context.request.get(`${app.url}/api/session`)).status(), 'session ended').to.equal(401);
    const again = await qa.context.request.post(`${app.url}/api/login`, { data: { username: 'qa1', password: PASSWORD } });
    expect([again.status(), ((await again.json()) as { error: { code: string } }).error.code]).to.deep.equal([401, 'ERR_LOGIN']);
    await page.click('[data-testid=lang]');
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await shoot(page, 'users');
    await page.click('[data-testid=lang]');
    await Promise.all([context.close(), qa.context.close()]);
  });

  it('a write without the CSRF token, or with a wrong one, is refused and changes nothing', async () => {
    const { context } = await signIn('clerk');
    const before = await warehousing();
    const body = { eventTime: new Date().toISOString(), data: { tea_stored_cakes: 600, storage_temp_c: 20, storage_humidity_pct: 60 }, reason: 'forged' };
    const attempts: Record<string, string>[] = [{}, { 'x-csrf-token': 'not-the-token' }];
    for (const headers of attempts) {
      const res = await context.request.post(`${app.url}${STAGE_API}`, { headers, data: body });
      expect([res.status(), ((await res.json()) as { error: { code: string } }).error.code]).to.deep.equal([403, 'ERR_CSRF']);
    }
    expect((await warehousing())?.version).to.equal(before?.version);
    await context.close();
  });

  // last: the five wrong passwords also throttle this client address
  it('five wrong passwords throttle the user: the sixth try answers 429 with Retry-After, even with the right password', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    await page.goto(`${app.url}/login`);
    await page.fill('input[name=username]', 'clerk');
    for (let i = 0; i < 5; i++) {
      await page.fill('input[name=password]', `wrong password ${i}`);
      await page.click('[data-testid=login-submit]');
      await page.locator('[data-testid=login-error]', { hasText: 'ERR_LOGIN' }).waitFor();
    }
    const res = await context.request.post(`${app.url}/api/login`, { data: { username: 'clerk', password: PASSWORD } });
    expect([res.status(), ((await res.json()) as { error: { code: string } }).error.code]).to.deep.equal([429, 'ERR_THROTTLED']);
    expect(Number(res.headers()['retry-after'])).to.be.within(1, 60);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('[data-testid=login-submit]');
    await page.locator('[data-testid=login-error]', { hasText: 'ERR_THROTTLED' }).waitFor();
    await shoot(page, 'login-throttled');
    await context.close();
  });
});
