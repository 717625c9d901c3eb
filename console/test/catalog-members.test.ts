import { expect } from 'chai';
import { Browser, Page } from 'playwright-core';
import { TraceChainClient } from '@trace/client';
import { RunningConsole } from '../src';
import { launchChromium } from './support/browser';
import { chainCode, fillNumber, refusal, shoot, signIn, until } from './support/pages';
import { ConsoleStack, startStack } from './support/stack';
import { GTIN, TASK, teaLotAwaitingWarehousing } from './support/tea-lot';

const STAGE = 'tea_warehousing';

/** A GS1 key (GTIN, GLN) with its check digit: weights 3, 1, 3 … from the right of the body. */
function gs1(body: string): string {
  const sum = [...body].reverse().reduce((s, d, i) => s + Number(d) * (i % 2 === 0 ? 3 : 1), 0);
  return `${body}${(10 - (sum % 10)) % 10}`;
}
/** the same key with a wrong check digit */
const miskeyed = (key: string) => `${key.slice(0, -1)}${(Number(key.slice(-1)) + 1) % 10}`;

describe('member console: 产品与地点 and 成员与角色 (the operator suspends a member) through the devnet, the indexer and headless Chromium', function () {
  this.timeout(300_000);
  let stack: ConsoleStack;
  let brand: TraceChainClient;
  let farm: TraceChainClient;
  /** Org1MSP: the founding operator and brand; Org2MSP: the farm */
  let brandConsole: RunningConsole;
  let farmConsole: RunningConsole;
  let browser: Browser;

  const warehousing = async () => (await farm.trace.getTrace(TASK)).stages.find((s) => s.stage === STAGE)?.record;
  const fieldError = (page: Page, form: string, field: string) => page.locator(`[data-testid=${form}] [data-field="${field}"] .el-form-item__error`);

  before(async () => {
    stack = await startStack({ seed: (c) => teaLotAwaitingWarehousing(c.Org1MSP, c.Org2MSP) });
    [brand, farm] = [stack.clients.Org1MSP, stack.clients.Org2MSP];
    const users: [string, ('admin' | 'data_entry')[]][] = [['admin', ['admin']], ['clerk', ['data_entry']]];
    [brandConsole, farmConsole] = await Promise.all([stack.startConsole('Org1MSP', users), stack.startConsole('Org2MSP', users)]);
    await until('the indexer to hold the task', async () => (await stack.indexed(`/api/tasks/${TASK}`, 'Org2MSP')).ok);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("an admin creates a product and a location in the browser; a malformed or duplicate GTIN, a GLN with a wrong check digit and a bad region are refused by the chain on their fields, nothing written; a product is retired", async () => {
    const { context, page } = await signIn(browser, brandConsole.url, 'admin');
    await page.click('[data-nav=catalog]');
    await page.locator(`[data-product-status="${GTIN}"]`).waitFor();

    const product = async (gtin: string, name: string) => {
      await page.fill('input[name=gtin]', gtin);
      await page.fill('input[name=product-name]', name);
      await page.fill('input[name=category]', 'tea');
      await page.fill('input[name=brand]', 'Brand');
      await page.fill('textarea[name=spec]', 'net=200 g\ngrade=一级');
      await page.click('[data-testid=define-product]');
    };
    const fresh = gs1('690123456790');
    await product(miskeyed(fresh), '景迈春茶 200g');
    await fieldError(page, 'product-form', 'gtin').filter({ hasText: 'check digit' }).waitFor();
    expect(await chainCode(brand.catalog.getProduct(miskeyed(fresh))), 'nothing written').to.equal('ERR_NOT_FOUND');
    // the tea lot's product is defined already (as its GTIN-13 too): the chain's conflict, on the GTIN
    await product(GTIN.slice(1), '冒名产品');
    await fieldError(page, 'product-form', 'gtin').filter({ hasText: 'already defined' }).waitFor();
    expect((await brand.catalog.getProduct(GTIN)).name, 'unchanged').to.equal('景迈古树普洱 357g');

    await product(fresh, '景迈春茶 200g');
    const row = page.locator(`[data-product-status="0${fresh}"]`);
    await row.waitFor();
    await fieldError(page, 'product-form', 'gtin').waitFor({ state: 'detached' });
    const defined = await brand.catalog.getProduct(fresh);
    expect([defined.gtin, defined.name, defined.ownerMsp, defined.status, defined.spec]).to.deep.equal([`0${fresh}`, '景迈春茶 200g', 'Org1MSP', 'active', { net: '200 g', grade: '一级' }]);
    await page.click(`[data-product-toggle="0${fresh}"]`);
    await page.locator(`[data-product-status="0${fresh}"]`, { hasText: '已停用' }).waitFor();
    expect((await brand.catalog.getProduct(fresh)).status).to.equal('retired');
    // the list is the indexer's: after a reload it shows the product as the chain left it
    await until('the indexer to hold the retired product', async () => {
      const res = await stack.indexed('/api/products?owner=Org1MSP&status=retired', 'Org1MSP');
      return ((await res.json()) as { gtin: string }[]).some((p) => p.gtin === `0${fresh}`);
    });
    await page.reload();
    await page.locator(`[data-product-status="0${fresh}"]`, { hasText: '已停用' }).waitFor();
    await shoot(page, 'catalog-products');

    await page.getByRole('tab', { name: '地点' }).click();
    const gln = gs1('690123400001');
    const location = async (id: string, region: string) => {
      await page.fill('input[name=gln]', id);
      await page.fill('input[name=location-name]', '勐海仓库');
      await fillNumber(page, 'lat', '21.9572');
      await fillNumber(page, 'lon', '100.4528');
      await page.fill('input[name=region]', region);
      await page.click('[data-testid=define-location]');
    };
    await location(miskeyed(gln), 'CN-53');
    await fieldError(page, 'location-form', 'id').filter({ hasText: 'GLN' }).waitFor();
    expect(await chainCode(brand.catalog.getLocation(miskeyed(gln))), 'nothing written').to.equal('ERR_NOT_FOUND');
    await location(gln, 'Yunnan');
    await fieldError(page, 'location-form', 'region').waitFor();
    expect(await chainCode(brand.catalog.getLocation(gln)), 'nothing written').to.equal('ERR_NOT_FOUND');
    await location(gln, 'CN-53');
    await page.locator(`[data-location-status="${gln}"]`, { hasText: '启用' }).waitFor();
    const place = await brand.catalog.getLocation(gln);
    expect([place.name, place.type, place.region, place.geo, place.ownerMsp]).to.deep.equal(['勐海仓库', 'farm', 'CN-53', { lat: 21.9572, lon: 100.4528 }, 'Org1MSP']);
    await shoot(page, 'catalog-locations');
    await context.close();
  });

  it("the operator suspends the farm in the browser: the farm clerk's next stage submit is refused with the chain's ERR_NOT_MEMBER and nothing is recorded; reactivated, the same submit goes through", async () => {
    const clerk = await signIn(browser, farmConsole.url, 'clerk');
    await clerk.page.goto(`${farmConsole.url}/tasks/${TASK}/stages/${STAGE}`);
    await clerk.page.locator('[data-field="tea_stored_cakes"] input').waitFor();
    await fillNumber(clerk.page, 'tea_stored_cakes', '600');
    await fillNumber(clerk.page, 'storage_temp_c', '20');
    await fillNumber(clerk.page, 'storage_humidity_pct', '60');

    const operator = await signIn(browser, brandConsole.url, 'admin');
    const { page } = operator;
    await page.click('[data-nav=members]');
    await page.locator('[data-testid=operator-note][data-operator=true]').waitFor();
    await page.locator('[data-member-status=Org2MSP]', { hasText: '正常' }).waitFor();
    await page.click('[data-member-toggle=Org2MSP]');
    await page.locator('.el-message-box').waitFor();
    await shoot(page, 'members-suspend-confirm');
    await page.click('.el-message-box__btns .el-button--primary');
    await page.locator('[data-member-status=Org2MSP]', { hasText: '已暂停' }).waitFor();
    expect((await brand.consortium.getMember('Org2MSP')).status).to.equal('suspended');
    await shoot(page, 'members');

    await clerk.page.click('[data-testid=stage-submit]');
    const refused = clerk.page.locator('[data-testid=form-error]');
    await refused.waitFor();
    expect(await refused.textContent()).to.contain('已被运营方暂停').and.to.contain('ERR_NOT_MEMBER').and.to.contain('Org2MSP is suspended');
    await shoot(clerk.page, 'stage-entry-suspended');
    expect(await warehousing(), 'nothing recorded').to.equal(undefined);

    await page.click('[data-member-toggle=Org2MSP]');
    await page.locator('[data-member-status=Org2MSP]', { hasText: '正常' }).waitFor();
    expect((await brand.consortium.getMember('Org2MSP')).status).to.equal('active');
    await clerk.page.click('[data-testid=stage-submit]');
    await clerk.page.locator('[data-testid=saved]').waitFor();
    const record = await warehousing();
    expect([record?.version, record?.actor, record?.recordedBy, record?.data]).to.deep.equal([1, 'clerk', 'Org2MSP', { tea_stored_cakes: 600, storage_temp_c: 20, storage_humidity_pct: 60 }]);
    await Promise.all([clerk.context.close(), operator.context.close()]);
  });

  it("the operator adds a member and changes a member's roles in the browser; a duplicate MSP id is refused on its field and its own operator role cannot be dropped", async () => {
    const { context, page } = await signIn(browser, brandConsole.url, 'admin');
    await page.goto(`${brandConsole.url}/members`);
    await page.locator('[data-member-status=Org2MSP]').waitFor();
    const add = async (mspId: string, name: string, roles: string[]) => {
      await page.fill('input[name=msp-id]', mspId);
      await page.fill('input[name=member-name]', name);
      await page.click('[data-testid=member-roles] .el-select__suffix');
      for (const r of roles) await page.click(`.el-select-dropdown__item[data-option=${r}]:visible`);
      await page.click('h2'); // closes the dropdown
      await page.click('[data-testid=add-member]');
    };
    await add('Org2MSP', '冒名茶园', ['retailer']);
    await page.locator('[data-testid=member-form] [data-field=mspId] .el-form-item__error', { hasText: 'already a member' }).waitFor();
    expect((await brand.consortium.getMember('Org2MSP')).name, 'unchanged').to.equal('景迈山茶园');
    // the refused form keeps its input: clicking retailer again drops it
    await add('Org3MSP', '勐海物流', ['retailer', 'logistics', 'warehouse']);
    await page.locator('[data-member-status=Org3MSP]', { hasText: '正常' }).waitFor();
    const added = await brand.consortium.getMember('Org3MSP');
    expect([added.name, added.roles, added.status]).to.deep.equal(['勐海物流', ['logistics', 'warehouse'], 'active']);

    await page.click('[data-edit-roles=Org2MSP]');
    await page.click('[data-testid=edit-roles] .el-select__suffix');
    await page.click('.el-select-dropdown__item[data-option=retailer]:visible');
    await page.click('.el-dialog__title'); // closes the dropdown, not the dialog
    await page.click('[data-testid=save-roles]');
    await page.locator('[data-member-roles=Org2MSP] [data-role=retailer]').waitFor();
    expect((await brand.consortium.getMember('Org2MSP')).roles).to.deep.equal(['producer', 'warehouse', 'auditor', 'retailer']);

    // the operator's own operator role: the chain's ERR_STATE, shown on the roles
    const before = (await brand.consortium.getMember('Org1MSP')).roles;
    await page.click('[data-edit-roles=Org1MSP]');
    await page.click('[data-testid=edit-roles] .el-select__suffix');
    await page.click('.el-select-dropdown__item[data-option=operator]:visible');
    await page.click('.el-dialog__title'); // closes the dropdown, not the dialog
    await page.click('[data-testid=save-roles]');
    await page.locator('[data-field=edit-roles] .el-form-item__error', { hasText: 'own operator role' }).waitFor();
    expect(await page.locator('[data-testid=member-form] .el-form-item__error').count(), 'only on the dialog').to.equal(0);
    expect((await brand.consortium.getMember('Org1MSP')).roles).to.deep.equal(before);
    await shoot(page, 'members-roles');
    await context.close();
  });

  it("a member org's admin who is not the operator sees the members read-only, and the chain refuses its changes with ERR_FORBIDDEN (nothing changes); the operator's change still works", async () => {
    const { context, page, csrf } = await signIn(browser, farmConsole.url, 'admin');
    await page.click('[data-nav=members]');
    await page.locator('[data-testid=operator-note][data-operator=false]').waitFor();
    await page.locator('[data-member-status=Org1MSP]').waitFor();
    expect(await page.locator('[data-member-toggle]').count(), 'no controls').to.equal(0);
    expect(await page.locator('[data-testid=member-form]').count()).to.equal(0);
    await shoot(page, 'members-read-only');

    const before = await Promise.all(['Org1MSP', 'Org2MSP', 'Org3MSP'].map((m) => brand.consortium.getMember(m)));
    const post = (path: string, data: unknown) => context.request.post(`${farmConsole.url}${path}`, { headers: { 'x-csrf-token': csrf }, data });
    expect(await refusal(await post('/api/members/Org1MSP/status', { status: 'suspended' }))).to.deep.equal([403, 'ERR_FORBIDDEN']);
    expect(await refusal(await post('/api/members/Org3MSP/status', { status: 'suspended' }))).to.deep.equal([403, 'ERR_FORBIDDEN']);
    expect(await refusal(await post('/api/members/Org2MSP/roles', { roles: ['operator', 'producer'] }))).to.deep.equal([403, 'ERR_FORBIDDEN']);
    expect(await refusal(await post('/api/members', { mspId: 'Org9MSP', name: 'Mallory', roles: ['brand'] }))).to.deep.equal([403, 'ERR_FORBIDDEN']);
    expect(await Promise.all(['Org1MSP', 'Org2MSP', 'Org3MSP'].map((m) => brand.consortium.getMember(m))), 'unchanged').to.deep.equal(before);
    expect(await chainCode(brand.consortium.getMember('Org9MSP'))).to.equal('ERR_NOT_FOUND');

    // the legitimate path: the operator's console suspends Org3MSP through the same API
    const operator = await signIn(browser, brandConsole.url, 'admin');
    const ok = await operator.context.request.post(`${brandConsole.url}/api/members/Org3MSP/status`, { headers: { 'x-csrf-token': operator.csrf }, data: { status: 'suspended' } });
    expect(ok.status()).to.equal(200);
    expect((await brand.consortium.getMember('Org3MSP')).status).to.equal('suspended');
    await Promise.all([context.close(), operator.context.close()]);
  });

  it('a data-entry user has no catalog or members page and gets 403 ERR_FORBIDDEN_ROLE from their APIs; nothing changes on chain', async () => {
    const { context, page, csrf } = await signIn(browser, brandConsole.url, 'clerk');
    expect(await page.locator('[data-nav=catalog], [data-nav=members]').count(), 'no menu entries').to.equal(0);
    await page.goto(`${brandConsole.url}/members`);
    await page.locator('[data-testid=forbidden]').waitFor();
    const get = (path: string) => context.request.get(`${brandConsole.url}${path}`);
    const post = (path: string, data: unknown) => context.request.post(`${brandConsole.url}${path}`, { headers: { 'x-csrf-token': csrf }, data });
    const gtin = gs1('690123456791');
    for (const res of [
      await get('/api/catalog/products'),
      await get('/api/catalog/locations'),
      await get('/api/members'),
      await post('/api/catalog/products', { gtin, name: 'x', category: 'tea', brand: 'Brand' }),
      await post(`/api/catalog/products/${GTIN}/status`, { status: 'retired' }),
      await post('/api/catalog/locations', { id: gs1('690123400002'), name: 'x', type: 'farm', lat: 0, lon: 0, region: 'CN' }),
      await post('/api/members/Org2MSP/status', { status: 'suspended' }),
      await post('/api/members', { mspId: 'Org8MSP', name: 'x', roles: ['brand'] }),
    ]) {
      expect(await refusal(res)).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    }
    expect(await chainCode(brand.catalog.getProduct(gtin))).to.equal('ERR_NOT_FOUND');
    expect((await brand.catalog.getProduct(GTIN)).status).to.equal('active');
    expect(await chainCode(brand.catalog.getLocation(gs1('690123400002')))).to.equal('ERR_NOT_FOUND');
    expect((await brand.consortium.getMember('Org2MSP')).status).to.equal('active');
    expect(await chainCode(brand.consortium.getMember('Org8MSP'))).to.equal('ERR_NOT_FOUND');
    await context.close();
  });
});
