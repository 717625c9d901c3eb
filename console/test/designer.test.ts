import { expect } from 'chai';
import { Browser, Page } from 'playwright-core';
import { LedgerError, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { RunningConsole } from '../src';
import { launchChromium } from './support/browser';
import { refusal, shoot, signIn, until } from './support/pages';
import { ConsoleStack, startStack } from './support/stack';
import { testClock } from '@trace/test-network';

const GTIN = '06901234567892';
const NEW_ITEM = 'tea_wither_temp_c';
/** the roles the farm (Org2MSP) holds; the brand holds the others */
const FARM_ROLES = ['producer', 'warehouse', 'auditor'];
const { at } = testClock(100);

/** The brand's admin designs the Pu'er process in the browser: a new version with a new required item, a refused rule, retirement. */
describe('member console: the 流程模板 designer publishes, is refused on the field, and retires (devnet, indexer, headless Chromium)', function () {
  this.timeout(300_000);
  let stack: ConsoleStack;
  let brand: TraceChainClient;
  let farm: TraceChainClient;
  let brandConsole: RunningConsole;
  let farmConsole: RunningConsole;
  let browser: Browser;
  const chainCode = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof LedgerError ? `${e.code}: ${e.message}` : String(e)));
  /** a task on a version, each stage assigned to the org holding its role */
  const task = async (taskId: string, version: number) => {
    const { stages } = await brand.process.getTemplate('puer_tea', version);
    return brand.trace.createTask({
      taskId, template: 'puer_tea', version, product: { gtin: GTIN, name: '景迈古树普洱 357g' }, lot: taskId, plannedQuantity: 600, unit: 'cake',
      assignments: Object.fromEntries(stages.map((s) => [s.stage, FARM_ROLES.includes(s.role) ? 'Org2MSP' : 'Org1MSP'])),
    });
  };

  /** Picks an option of an Element Plus select by typing part of its label (the dropdown is teleported to the body). */
  async function pick(page: Page, select: string, text: string): Promise<void> {
    await page.click(select);
    await page.locator(`${select} input`).first().fill(text);
    await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click();
    await page.keyboard.press('Escape');
  }

  before(async () => {
    stack = await startStack({
      seed: async (c) => {
        await c.Org1MSP.consortium.bootstrap({ consortium: 'designer', name: 'Brand', roles: ['brand', 'processor', 'logistics', 'retailer', 'inspector'] });
        await c.Org1MSP.consortium.addMember({ mspId: 'Org2MSP', name: '景迈山茶园', roles: ['producer', 'warehouse', 'auditor'] });
        await c.Org1MSP.catalog.defineProduct({ gtin: GTIN, name: '景迈古树普洱 357g', category: 'tea', brand: 'Brand' });
        await loadTemplatePackage(c.Org1MSP, tea);
      },
    });
    ({ Org1MSP: brand, Org2MSP: farm } = stack.clients);
    brandConsole = await stack.startConsole('Org1MSP', [['designer', ['admin']], ['clerk', ['data_entry']], ['qa', ['qa']]]);
    farmConsole = await stack.startConsole('Org2MSP', [['farmadmin', ['admin']]]);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('publishes version 2 with a new required item from version 1, after a summary; a task on version 2 refuses a record without it, on its field', async () => {
    const { page } = await signIn(browser, brandConsole.url, 'designer');
    await page.click('[data-nav=designer]');
    await page.waitForSelector('[data-template=puer_tea]');
    expect(await page.textContent('[data-testid=status-puer_tea]')).to.contain('使用中');
    await shoot(page, 'designer-list');
    await page.click('[data-testid=version-puer_tea-1]');
    await page.waitForSelector('[data-testid=version-title]');
    await shoot(page, 'designer-version');

    await page.click('[data-testid=new-version]');
    await page.waitForURL(/\/designer\/edit\?from=puer_tea&version=1/);
    await until('the editor to load version 1', async () => (await page.inputValue('[data-testid=template-id]', { timeout: 500 }).catch(() => '')) === 'puer_tea');
    expect(await page.inputValue('[data-testid=template-version] input')).to.equal('2');
    await page.click('#tab-items');
    const n = await page.locator('[data-testid^=item-][data-field]').count();
    await page.click('[data-testid=add-item]');
    await page.fill(`[data-testid=item-${n}-id]`, NEW_ITEM);
    await page.fill(`[data-testid=item-${n}-name]`, '萎凋温度 withering temperature');
    await page.click(`[data-testid=item-${n}-required]`);
    await page.click('#tab-forms');
    await pick(page, '[data-testid=form-tea_withering_form-items]', NEW_ITEM);
    await shoot(page, 'designer-editor');
    await page.click('[data-testid=review]');
    await page.waitForSelector('[data-testid=summary]');
    expect(await page.textContent('[data-testid=summary-items]')).to.contain(NEW_ITEM);
    expect(await page.textContent('[data-testid=summary-forms]')).to.contain('tea_withering_form');
    expect(await page.locator('[data-testid=summary-renamed]').allTextContents()).to.have.members(['tea_withering_form → tea_withering_form_v2 (定义已变更，以新编号发布)', 'tea_withering → tea_withering_v2 (定义已变更，以新编号发布)']);
    await shoot(page, 'designer-summary');
    await page.click('[data-testid=publish]');
    await page.waitForURL(/\/designer\/puer_tea\/2$/);
    await page.waitForSelector('[data-testid=version-title]');

    const v2 = await brand.process.getTemplate('puer_tea', 2);
    const withering = v2.stages.find((s) => s.stage === 'tea_withering_v2');
    expect(withering?.items.find((i) => i.id === NEW_ITEM)).to.deep.equal({ id: NEW_ITEM, name: '萎凋温度 withering temperature', type: 'number', required: true, privacy: 'plain' });
    expect(v2.stages.find((s) => s.stage === 'tea_rolling')?.after).to.deep.equal(['tea_withering_v2']);
    expect(v2.rules.find((r) => r.id === 'wither_yield')?.left).to.equal('tea_withering_v2.tea_withered_kg');
    expect((await brand.process.getTemplate('puer_tea', 1)).stages.map((s) => s.stage), 'version 1 as it was').to.include('tea_withering');

    // a task on version 2: the farm records its stages, then the brand's clerk records withering through the console
    await task('designer-v2', 2);
    await farm.trace.recordStage({ taskId: 'designer-v2', stage: 'tea_plantation', eventTime: at(0), data: { tea_garden: '景迈山古茶园' } });
    await farm.trace.recordStage({ taskId: 'designer-v2', stage: 'tea_picking', eventTime: at(24), data: { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' } });
    await until('the indexer to hold the task', async () => (await stack.indexed('/api/tasks/designer-v2', 'Org1MSP')).ok);
    const clerk = await signIn(browser, brandConsole.url, 'clerk');
    const record = (data: Record<string, unknown>) => clerk.context.request.post(`${brandConsole.url}/api/tasks/designer-v2/stages/tea_withering_v2`, { headers: { 'x-csrf-token': clerk.csrf }, data: { eventTime: at(30), data } });
    const without = await record({ tea_withered_kg: 700 });
    expect(await refusal(without)).to.deep.equal([422, 'ERR_VALIDATION']);
    expect(((await without.json()) as { error: { fields: Record<string, string> } }).error.fields).to.deep.equal({ [NEW_ITEM]: `required item '${NEW_ITEM}' is missing` });
    expect((await brand.trace.getTrace('designer-v2')).stages.find((s) => s.stage === 'tea_withering_v2')?.record, 'nothing recorded').to.equal(undefined);
    const withIt = await record({ tea_withered_kg: 700, [NEW_ITEM]: 35 });
    expect(withIt.status()).to.equal(200);
    expect((await brand.trace.getTrace('designer-v2')).stages.find((s) => s.stage === 'tea_withering_v2')?.record?.data).to.deep.equal({ tea_withered_kg: 700, [NEW_ITEM]: 35 });
    await clerk.context.close();
    await page.context().close();
  });

  it('puts the chain’s refusal of a rule reading a hashed item on that rule, and publishes nothing', async () => {
    const { page, context } = await signIn(browser, brandConsole.url, 'designer');
    await page.goto(`${brandConsole.url}/designer/edit?from=puer_tea&version=2`);
    await until('the editor to load version 2', async () => (await page.inputValue('[data-testid=template-version] input', { timeout: 500 }).catch(() => '')) === '3');
    await page.click('#tab-rules');
    const n = await page.locator('[data-testid^=rule-][data-field]').count();
    await page.click('[data-testid=add-rule]');
    await page.fill(`[data-testid=rule-${n}-id]`, 'cert_vs_leaf');
    await pick(page, `[data-testid=rule-${n}-left]`, '有机认证');
    await pick(page, `[data-testid=rule-${n}-right]`, '鲜叶重量');
    await page.click('[data-testid=review]');
    await page.waitForSelector('[data-testid=summary]');
    expect(await page.textContent('[data-testid=summary-rules]')).to.contain('cert_vs_leaf');
    await page.click('[data-testid=publish]');
    await page.waitForSelector('[data-testid=form-error]');
    expect(await page.textContent('[data-testid=form-error]')).to.match(/^ERR_VALIDATION: /);
    expect(await page.textContent('[data-field="rule:cert_vs_leaf"] [data-testid=field-error]')).to.equal("rule 'cert_vs_leaf': tea_plantation.tea_organic_cert is a hash item; rules compare plain values only");
    expect(page.url()).to.contain('/designer/edit');
    await shoot(page, 'designer-refusal');
    expect(await chainCode(brand.process.getTemplate('puer_tea', 3))).to.match(/^ERR_NOT_FOUND/);

    // through the API: a version already published, and a template id the chain would not take, on their fields
    const csrf = ((await (await context.request.get(`${brandConsole.url}/api/session`)).json()) as { csrf: string }).csrf;
    const state = { id: 'puer_tea', version: 1, name: 'x', category: 'tea', scanAlertThreshold: 10, authorizedRegions: [], publicView: {}, items: [], forms: [], stages: [], rules: [] };
    const publish = (s: typeof state) => context.request.post(`${brandConsole.url}/api/designer/publish`, { headers: { 'x-csrf-token': csrf }, data: { state: s } });
    const taken = await publish(state);
    expect(await refusal(taken)).to.deep.equal([409, 'ERR_CONFLICT']);
    expect(((await taken.json()) as { error: { fields: object } }).error.fields).to.have.keys(['template:version']);
    const badId = await publish({ ...state, id: 'puer tea', version: 3 });
    expect(await refusal(badId)).to.deep.equal([400, 'ERR_VALIDATION']);
    expect(((await badId.json()) as { error: { fields: object } }).error.fields).to.have.keys(['template:id']);
    expect(await chainCode(brand.process.getTemplate('puer_tea', 3))).to.match(/^ERR_NOT_FOUND/);
    await context.close();
  });

  it('keeps data entry and QA out of the designer: 403 from the API, nothing published or retired, and the router sends them to /forbidden', async () => {
    for (const username of ['clerk', 'qa']) {
      const { page, context, csrf } = await signIn(browser, brandConsole.url, username);
      expect(await page.locator('[data-nav=designer]').count(), `${username}: no menu entry`).to.equal(0);
      expect(await refusal(await context.request.get(`${brandConsole.url}/api/designer/templates`))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
      expect(await refusal(await context.request.get(`${brandConsole.url}/api/designer/templates/puer_tea/versions/2`))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
      const state = { id: 'puer_tea', version: 3, name: 'x', category: 'tea', scanAlertThreshold: 10, authorizedRegions: [], publicView: {}, items: [], forms: [], stages: [], rules: [] };
      expect(await refusal(await context.request.post(`${brandConsole.url}/api/designer/publish`, { headers: { 'x-csrf-token': csrf }, data: { state } }))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
      expect(await refusal(await context.request.post(`${brandConsole.url}/api/designer/templates/puer_tea/retire`, { headers: { 'x-csrf-token': csrf }, data: { reason: 'not mine' } }))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
      for (const path of ['/designer', '/designer/edit', '/designer/puer_tea/2']) {
        await page.goto(`${brandConsole.url}${path}`);
        await page.waitForURL(/\/forbidden$/);
      }
      if (username === 'clerk') await shoot(page, 'designer-forbidden');
      await context.close();
    }
    expect(await chainCode(brand.process.getTemplate('puer_tea', 3))).to.match(/^ERR_NOT_FOUND/);
    expect(await brand.process.getRetirement('puer_tea')).to.deep.equal({});
  });

  it("refuses another org's admin with the chain's code, then retires the template for its owner: no task opens on any version", async () => {
    const farmAdmin = await signIn(browser, farmConsole.url, 'farmadmin');
    const theirs = await farmAdmin.context.request.post(`${farmConsole.url}/api/designer/templates/puer_tea/retire`, { headers: { 'x-csrf-token': farmAdmin.csrf }, data: { reason: 'not mine' } });
    expect(await refusal(theirs)).to.deep.equal([403, 'ERR_FORBIDDEN']);
    expect(await brand.process.getRetirement('puer_tea'), 'still in use').to.deep.equal({});
    await farmAdmin.context.close();

    const { page, context } = await signIn(browser, brandConsole.url, 'designer');
    await page.goto(`${brandConsole.url}/designer/puer_tea/2`);
    await page.click('[data-testid=retire]');
    await page.fill('input[name=reason]', '工艺改为 v3 以后的新流程');
    await page.click('[data-testid=confirm-retire]');
    await until('the page to show the retirement', async () => (await page.textContent('[data-testid=version-status]'))?.includes('已停用') ?? false);
    expect(await page.isDisabled('[data-testid=new-version]')).to.equal(true);
    await shoot(page, 'designer-retired');
    expect(await brand.process.getRetirement('puer_tea')).to.deep.include({ id: 'puer_tea', by: 'Org1MSP', reason: '工艺改为 v3 以后的新流程' });
    expect(await chainCode(task('designer-after-retire', 2))).to.equal('ERR_STATE: template puer_tea is retired');
    expect(await chainCode(task('designer-after-retire', 1))).to.equal('ERR_STATE: template puer_tea is retired');
    expect(await chainCode(brand.trace.getTask('designer-after-retire'))).to.match(/^ERR_NOT_FOUND/);
    await page.goto(`${brandConsole.url}/designer`);
    await until('the list to show the retirement', async () => (await page.textContent('[data-testid=status-puer_tea]').catch(() => ''))?.includes('已停用') ?? false);
    await context.close();
  });
});
