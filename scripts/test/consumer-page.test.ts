import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, Page } from 'playwright-core';
import pino from 'pino';
import { codeHash, generateCode, Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { loadTemplatePackage, tea } from '@trace/contract-templates';
import { startIndexer } from '@trace/indexer';
import { RunningDevnet, startDevnet, testClock } from '@trace/test-network';
import { ARTIFACTS, launchChromium } from './support/browser';

const CHAINCODE = resolve(__dirname, '../../../chaincode');
const GTIN = '06901234567892';
/** the limit per client and minute of the verify route: a burst of one, then a token every 20 s */
const VERIFY_PER_MINUTE = 3;

/**
 * The consumer page's states other than a clean genuine code: audits that rejected a stage, a flagged
 * record, a void code, and a page whose API answers 429, 400 or nothing at all. Each test is its own
 * shopper (its own client address, through the one trusted proxy hop), so no test spends another's
 * rate budget.
 */
describe('consumer page: rejected and flagged stages, a void code, and the API failing (devnet, indexer, Chromium)', function () {
  this.timeout(180_000);
  let devnet: RunningDevnet;
  let ledgers: Ledger[] = [];
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let browser: Browser;
  let base: string;
  const genuine = generateCode();
  const voided = generateCode();
  let shopper = 0;
  /** the chaincode's message of the flag it raised */
  let witherFlag = '';

  before(async () => {
    devnet = await startDevnet(['--chaincode-path', CHAINCODE, '--chaincode-name', 'trace', '--endorsers', '1']);
    ledgers = [ledgerFromConfig(devnet.profiles.Org1MSP), ledgerFromConfig(devnet.profiles.Org2MSP)];
    const [brand, inspector] = ledgers.map((l) => new TraceChainClient(l));
    await brand.consortium.bootstrap({ consortium: 'page', name: 'Brand', roles: ['brand', 'producer', 'processor', 'warehouse', 'logistics', 'retailer', 'inspector'] });
    await brand.consortium.addMember({ mspId: 'Org2MSP', name: 'Inspector', roles: ['auditor'] });
    await brand.catalog.defineProduct({ gtin: GTIN, name: '普洱', category: 'tea', brand: 'Brand' });
    await loadTemplatePackage(brand, tea);
    const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, 'Org1MSP']));
    await brand.trace.createTask({ taskId: 'page-1', template: 'puer_tea', version: 1, product: { gtin: GTIN, name: '普洱' }, lot: 'L1', plannedQuantity: 10, unit: 'cake', assignments });
    // event times a week before now, by the test's own clock
    const { at } = testClock(7 * 24);
    const rec = (stage: string, h: number, data: Record<string, unknown>) => brand.trace.recordStage({ taskId: 'page-1', stage, eventTime: at(h), data });
    await rec('tea_plantation', 0, { tea_garden: 'Jingmai' });
    await rec('tea_picking', 1, { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud' });
    // withered 39 h after picking: the template flags anything later than a day
    const withered = await rec('tea_withering', 40, { tea_withered_kg: 700 });
    expect(withered.flags.map((f) => f.ruleId)).to.deep.equal(['wither_start']);
    witherFlag = withered.flags[0].message;
    await rec('tea_rolling', 41, { tea_rolled_kg: 690 });
    await rec('tea_drying', 42, { tea_dried_kg: 240, tea_moisture_pct: 9 });
    await rec('tea_inspection', 43, { tea_moisture_pct: 8.5, tea_pesticide_pass: false });
    await inspector.trace.auditStage({ taskId: 'page-1', stage: 'tea_inspection', verdict: 'rejected', comment: '农残超标' });
    await brand.codes.issueCodes({ taskId: 'page-1', level: 'item', codeHashes: [codeHash(genuine), codeHash(voided)] });
    await brand.codes.setCodeStatus({ codeHashes: [codeHash(voided)], status: 'void' });

    indexer = await startIndexer({ connection: devnet.profiles.Org1MSP, db: join(mkdtempSync(join(tmpdir(), 'page-')), 'index.sqlite'), port: 0, verifyPerMinute: VERIFY_PER_MINUTE, proxyHops: 1, logger: pino({ level: 'warn' }) });
    base = `http://127.0.0.1:${indexer.port}`;
    // the last write indexed: the void code's status
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await fetch(`${base}/api/trace/code/${codeHash(voided)}`);
      if (r.status === 200 && ((await r.json()) as { code: { status: string } }).code.status === 'void') break;
      if (Date.now() > deadline) throw new Error('the void code was not indexed within a minute');
      await new Promise((res) => setTimeout(res, 100));
    }
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await indexer?.stop();
    for (const l of ledgers) l.close();
    await devnet?.stop();
  });

  /** A new shopper: a phone-sized page whose requests come from an address of its own. */
  async function newShopper(): Promise<{ page: Page; address: string }> {
    const address = `198.51.100.${++shopper}`;
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, extraHTTPHeaders: { 'x-forwarded-for': address } });
    return { page, address };
  }

  /** Opens a page and waits until it has settled: 'true' when it shows its content, 'error' when it gave up. */
  async function settle(page: Page, path: string, shot: string): Promise<string> {
    await page.goto(base + path);
    await page.waitForSelector('#app[data-ready]', { timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, `consumer-${shot}.png`), fullPage: true });
    return (await page.getAttribute('#app', 'data-ready'))!;
  }

  it('a genuine code: the rejected inspection reads 审核未通过 and the late withering carries its flag', async () => {
    const { page } = await newShopper();
    expect(await settle(page, `/c/${genuine}`, 'rejected-flagged')).to.equal('true');
    expect(await page.getAttribute('#verdict', 'data-verdict')).to.equal('genuine');
    const inspection = page.locator('li[data-stage="tea_inspection"] [data-audit]');
    expect([await inspection.getAttribute('data-audit'), await inspection.textContent()]).to.deep.equal(['rejected', '审核未通过']);
    const flag = page.locator('li[data-stage="tea_withering"] [data-flags]');
    expect([await flag.getAttribute('data-flags'), await flag.textContent()]).to.deep.equal(['wither_start', `⚠ ${witherFlag}`]);
    expect(await page.locator('li[data-stage="tea_picking"] [data-audit], li[data-stage="tea_picking"] [data-flags]').count()).to.equal(0);
    await page.close();
  });

  it('a void code reads 已作废, not genuine', async () => {
    const { page } = await newShopper();
    expect(await settle(page, `/c/${voided}`, 'void')).to.equal('true');
    expect(await page.getAttribute('#verdict', 'data-verdict')).to.equal('void');
    expect(await page.textContent('#verdict')).to.contain('该编码已被品牌方作废');
    await page.close();
  });

  it('a shopper over the verify limit gets 429, and the page says to try later instead of a verdict', async () => {
    const { page, address } = await newShopper();
    const verify = () =>
      fetch(`${base}/api/verify`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': address }, body: JSON.stringify({ code: genuine, channel: 'consumer' }) });
    expect([(await verify()).status, (await verify()).status]).to.deep.equal([200, 429]);
    expect(await settle(page, `/c/${genuine}`, '429')).to.equal('error');
    expect(await page.getAttribute('#error', 'data-status')).to.equal('429');
    expect(await page.textContent('#error')).to.equal('查询过于频繁，请稍后再试。');
    expect(await page.locator('#verdict').count()).to.equal(0);
    await page.close();
  });

  it('an API that does not answer: the page says the service cannot be reached', async () => {
    const { page } = await newShopper();
    // the page and its scripts load; every API call then fails as with the indexer gone
    await page.route('**/api/**', (r) => r.abort('connectionrefused'));
    expect(await settle(page, `/c/${genuine}`, 'api-down')).to.equal('error');
    expect(await page.getAttribute('#error', 'data-status')).to.equal('network');
    expect(await page.textContent('#error')).to.equal('无法连接验证服务，请检查网络后重试。');
    await page.close();
  });

  it('an API that refuses the request (400) or fails (502, not JSON): the page names what it can', async () => {
    // Neither is reachable through a correct page against a healthy indexer (the page route validates
    // the code as /api/verify does), so the API's answers are stood in for: a proxy could produce them.
    const { page } = await newShopper();
    await page.route('**/api/verify', (r) => r.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'ERR_VALIDATION', message: 'code is malformed' } }) }));
    expect(await settle(page, `/c/${genuine}`, '400')).to.equal('error');
    expect([await page.getAttribute('#error', 'data-status'), await page.textContent('#error')]).to.deep.equal(['400', '该链接中的编码无效：code is malformed']);
    await page.unroute('**/api/verify');
    await page.route('**/api/verify', (r) => r.fulfill({ status: 502, contentType: 'text/html', body: '<html>Bad Gateway</html>' }));
    expect(await settle(page, `/c/${genuine}`, '502')).to.equal('error');
    expect([await page.getAttribute('#error', 'data-status'), await page.textContent('#error')]).to.deep.equal(['502', '暂时无法验证，请稍后再试（502）。']);
    await page.close();
  });
});
