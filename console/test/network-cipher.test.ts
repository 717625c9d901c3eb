import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Browser, BrowserContext } from 'playwright-core';
import { tea } from '@trace/contract-templates';
import { createApiKey, openDb } from '@trace/indexer';
import { RunningConsole, startConsole } from '../src';
import { launchChromium } from './support/browser';
import { refusal, shoot, signIn, until } from './support/pages';
import { ConsoleStack, startStack, Users } from './support/stack';
import { GTIN, teaLotAwaitingWarehousing } from './support/tea-lot';

const DEPLOY = resolve(__dirname, '../../../scripts/dist/src/deploy.js');
const TASK = 'cipher-tea-1';
const STAGE = 'tea_picking';
/** the tea template's encrypted item (privacy cipher) */
const ITEM = 'tea_purchase_price';
const PRICE = '1280 CNY/kg 收购价';
const [BRAND, FARM, REGULATOR] = ['Org1MSP', 'Org2MSP', 'Org3MSP'];

/**
 * 区块链管理 from Fabric's system chaincodes on the devnet, and an encrypted stage item: the farm's clerk encrypts it for
 * the brand in the console, the chain holds only ciphertext, the brand's QA reads it, a regulator's console cannot.
 */
describe('member console: blockchain management and encrypted items (devnet, indexer, headless Chromium)', function () {
  this.timeout(300_000);
  let stack: ConsoleStack;
  let browser: Browser;
  let brand: RunningConsole;
  let farm: RunningConsole;
  let regulator: RunningConsole;
  const contexts: BrowserContext[] = [];
  const extra: RunningConsole[] = [];
  let deployments: string;

  /** A console reading the brand's deploy record (the devnet's profile lists every org's certificate, organizations.<org>.signedCert). */
  async function consoleOf(msp: string, users: Users, indexerKey?: string): Promise<RunningConsole> {
    const opts = await stack.consoleOptions(msp, users);
    const c = await startConsole({ ...opts, indexerKey: indexerKey ?? opts.indexerKey, deployments });
    extra.push(c);
    return c;
  }

  const signed = async (c: RunningConsole, user: string) => {
    const s = await signIn(browser, c.url, user);
    contexts.push(s.context);
    return s;
  };
  const recordOnChain = async () => (await stack.clients[BRAND].trace.getTrace(TASK)).stages.find((s) => s.stage === STAGE)?.record;

  before(async () => {
    stack = await startStack({
      orgs: [BRAND, FARM, REGULATOR],
      seed: async (clients) => {
        await teaLotAwaitingWarehousing(clients[BRAND], clients[FARM]);
        await clients[BRAND].consortium.addMember({ mspId: REGULATOR, name: '市场监管局', roles: ['regulator'] });
        const assignments = Object.fromEntries(tea.template.stages.map((s) => [s.stage, ['tea_plantation', 'tea_picking', 'tea_warehousing'].includes(s.stage) ? FARM : BRAND]));
        await clients[BRAND].trace.createTask({ taskId: TASK, template: 'puer_tea', version: 1, product: { gtin: GTIN, name: '景迈古树普洱 357g' }, lot: 'CIPHER-1', plannedQuantity: 600, unit: 'cake', assignments });
        await clients[FARM].trace.recordStage({ taskId: TASK, stage: 'tea_plantation', eventTime: new Date(Date.now() - 3_600_000).toISOString(), data: { tea_garden: '景迈山古茶园', tea_organic_cert: 'c'.repeat(64) } });
      },
    });
    // the brand's deploy command records its deployment; its console reads that record
    deployments = join(stack.dir, 'deployments.jsonl');
    execFileSync(process.execPath, [DEPLOY, '--target', 'devnet', '--connection', stack.devnet.connection, '--msp', BRAND, '--record', deployments], { stdio: 'ignore' });
    const idb = await openDb(stack.indexerDb);
    // a regulator reads every task in full from the indexer (auditor scope), so only the encryption keeps the price from it
    const regulatorKey = (await createApiKey(idb, { org: REGULATOR, scope: 'auditor', label: 'console' })).key;
    await idb.close();
    brand = await consoleOf(BRAND, [['admin', ['admin']], ['qa', ['qa']], ['clerk', ['data_entry']]]);
    farm = await consoleOf(FARM, [['clerk', ['data_entry']]]);
    regulator = await consoleOf(REGULATOR, [['qa', ['qa']]], regulatorKey);
    browser = await launchChromium();
  });

  after(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await Promise.all(extra.map((c) => c.stop()));
    await stack?.stop();
  });

  it('区块链管理 shows the channel, member orgs, chaincode definition, blocks and deployments, and the height grows after a submit', async () => {
    const { page } = await signed(brand, 'admin');
    await page.click('[data-nav=network]');
    await page.locator('[data-testid=network-channel]', { hasText: stack.devnet.channel }).waitFor();
    expect(await page.textContent('[data-testid=network-chaincode]')).to.equal('trace');
    expect(await page.textContent('[data-testid=network-sequence]')).to.equal('1');
    expect(await page.textContent('[data-testid=network-policy]')).to.equal("OutOf(1, 'Org1MSP.member', 'Org2MSP.member', 'Org3MSP.member')");
    const orgs = await page.locator('[data-testid=network-orgs] tbody tr').allTextContents();
    expect(orgs).to.have.length(3);
    expect(orgs[0]).to.include('Org1MSP').and.include('Brand').and.include('ca.org1.example.com');
    expect(orgs[2]).to.include('Org3MSP').and.include('市场监管局');
    const height = Number(await page.textContent('[data-testid=network-height]'));
    expect(height).to.be.greaterThan(10);
    // the newest block first, its number height - 1
    expect(await page.locator('[data-testid=network-blocks] tbody tr').first().locator('td').first().textContent()).to.equal(String(height - 1));
    const deployed = await page.locator('[data-testid=network-deployments] tbody tr').allTextContents();
    expect(deployed).to.have.length(1);
    expect(deployed[0]).to.include('devnet').and.include('trace');
    await shoot(page, 'network');

    await stack.clients[BRAND].catalog.defineProduct({ gtin: '06901234567908', name: '易武 200g', category: 'tea', brand: 'Brand' });
    await page.click('[data-testid=network-refresh]');
    await until('the new height', async () => Number(await page.textContent('[data-testid=network-height]')) > height);
    const answer = (await (await page.request.get(`${brand.url}/api/network/blocks?page=0`)).json()) as { height: number; blocks: { number: number; txCount: number }[] };
    expect(answer.height).to.be.greaterThan(height);
    expect(answer.blocks[0]).to.include({ number: answer.height - 1, txCount: 1 });
    expect(answer.blocks).to.have.length(10);
  });

  it('a data-entry user may not open 区块链管理: 403 from the API', async () => {
    const { page, context } = await signed(brand, 'clerk');
    expect(await page.locator('[data-nav=network]').count()).to.equal(0);
    await page.goto(`${brand.url}/network`);
    await page.waitForURL((u) => u.pathname === '/forbidden');
    expect(await refusal(await context.request.get(`${brand.url}/api/network`))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    expect(await refusal(await context.request.get(`${brand.url}/api/network/blocks?page=0`))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
  });

  it('the farm clerk records the encrypted price for the brand: only ciphertext on chain; the brand reads it, a regulator does not', async () => {
    const { page, context, csrf } = await signed(farm, 'clerk');
    await page.goto(`${farm.url}/tasks/${TASK}/stages/${STAGE}`);
    const recipients = page.locator('[data-field=recipients]');
    await recipients.waitFor();
    // default: the task's owner (the brand) and the farm itself
    expect((await recipients.locator('.el-select__selected-item').allTextContents()).filter((t) => t.trim())).to.deep.equal(['Brand (Org1MSP)', '景迈山茶园 (Org2MSP)']);

    // an org without a key in the profile is refused on the recipients field, and nothing is recorded
    const api = `${farm.url}/api/tasks/${TASK}/stages/${STAGE}`;
    const body = { eventTime: new Date().toISOString(), data: { tea_fresh_leaf_kg: 1000, tea_pick_grade: 'bud', [ITEM]: PRICE } };
    const unknown = await context.request.post(api, { headers: { 'x-csrf-token': csrf }, data: { ...body, recipients: [BRAND, 'Org9MSP'] } });
    expect(await refusal(unknown)).to.deep.equal([422, 'ERR_NO_ORG_KEY']);
    expect(await recordOnChain()).to.equal(undefined);

    await page.locator('[data-field=tea_fresh_leaf_kg] input').fill('1000');
    await page.locator('[data-field=tea_fresh_leaf_kg] input').blur();
    await page.locator('[data-field=tea_pick_grade] .el-select').click();
    await page.locator('.el-select-dropdown__item', { hasText: 'bud' }).first().click();
    await page.locator(`[data-field=${ITEM}] textarea`).fill(PRICE);
    await shoot(page, 'stage-entry-cipher');
    await page.click('[data-testid=stage-submit]');
    await page.locator('[data-testid=saved]').waitFor();
    // amending, the clerk's form holds the value decrypted (the farm is a recipient) and the record's recipients
    await page.locator('[data-testid=current-version]').waitFor();
    expect(await page.locator(`[data-field=${ITEM}] textarea`).inputValue()).to.equal(PRICE);
    expect((await recipients.locator('.el-select__selected-item').allTextContents()).filter((t) => t.trim())).to.deep.equal(['Brand (Org1MSP)', '景迈山茶园 (Org2MSP)']);

    // the chain (state and the block with its event) holds ciphertext for the brand and the farm, never the price
    const record = await recordOnChain();
    const onChain = record?.data[ITEM] as string;
    expect(onChain).to.match(/^[A-Za-z0-9+/]+=*$/);
    expect(Object.keys(JSON.parse(Buffer.from(onChain, 'base64').toString()).keys).sort()).to.deep.equal([BRAND, FARM]);
    expect(JSON.stringify(record)).not.to.include(PRICE);
    expect(JSON.stringify(record)).not.to.include('1280');
    const blocks = readFileSync(join(stack.devnet.dataDir, 'ledger', 'blocks.bin'));
    expect(blocks.includes(Buffer.from(onChain))).to.equal(true);
    expect(blocks.includes(Buffer.from(PRICE))).to.equal(false);
    expect(blocks.includes(Buffer.from('1280 CNY'))).to.equal(false);

    // the brand's QA sees the price in the record to audit
    const qa = await signed(brand, 'qa');
    await until('the record indexed', async () => (await stack.indexed(`/api/tasks/${TASK}`, BRAND).then((r) => r.json()) as { records: { stage: string }[] }).records.some((r) => r.stage === STAGE));
    await qa.page.goto(`${brand.url}/audit/${TASK}/${STAGE}`);
    await qa.page.locator(`[data-item=${ITEM}]`, { hasText: PRICE }).waitFor();
    await shoot(qa.page, 'audit-cipher');

    // the regulator's QA, reading the whole record, sees only whom it is encrypted for
    const other = await signed(regulator, 'qa');
    const review = (await (await other.context.request.get(`${regulator.url}/api/audits/${TASK}/${STAGE}`)).json()) as { record: { data: Record<string, unknown>; encryptedFor: Record<string, string[]> } };
    expect(review.record.encryptedFor[ITEM]).to.deep.equal([BRAND, FARM]);
    expect(review.record.data[ITEM]).to.equal(undefined);
    expect(JSON.stringify(review)).not.to.include(PRICE);
    await other.page.goto(`${regulator.url}/audit/${TASK}/${STAGE}`);
    const shown = other.page.locator(`[data-item=${ITEM}]`);
    await shown.waitFor();
    expect(await shown.textContent()).to.include('Org1MSP, Org2MSP').and.not.include('1280');
  });
});
