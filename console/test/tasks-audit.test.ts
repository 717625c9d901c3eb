import { expect } from 'chai';
import { Browser, Page } from 'playwright-core';
import { LedgerError, TraceChainClient } from '@trace/client';
import { tea } from '@trace/contract-templates';
import { openDb } from '@trace/indexer';
import { RunningConsole } from '../src';
import { launchChromium } from './support/browser';
import { fillNumber, refusal, shoot, signIn, until } from './support/pages';
import { ConsoleStack, startStack } from './support/stack';
import { GTIN, TASK, teaLotAwaitingWarehousing } from './support/tea-lot';

const STAGE = 'tea_warehousing';
const FARM_STAGES = ['tea_plantation', 'tea_picking', 'tea_warehousing'];
const NEW_TASK = 'console-tea-2';

/** Two orgs' consoles, as the demo serves them: the brand's QA audits the farm's records; the brand's clerk opens tasks. */
describe('member console: production tasks and audits across two orgs (devnet, indexer, headless Chromium)', function () {
  this.timeout(300_000);
  let stack: ConsoleStack;
  let farm: TraceChainClient;
  let brandConsole: RunningConsole;
  let farmConsole: RunningConsole;
  let browser: Browser;
  const audits = async () => (await farm.trace.getTrace(TASK)).stages.find((s) => s.stage === STAGE)?.audits ?? [];
  const indexedAudits = async () => {
    const idb = await openDb(stack.indexerDb);
    try {
      return await idb.all<{ verdict: string; record_version: number; auditor: string; actor: string }>('SELECT verdict, record_version, auditor, actor FROM audits WHERE task_id = ? AND stage = ? ORDER BY at', TASK, STAGE);
    } finally {
      await idb.close();
    }
  };

  const indexedRecords = async () => {
    const idb = await openDb(stack.indexerDb);
    try {
      return (await idb.value<number>('SELECT count(*) FROM stage_records WHERE task_id = ? AND stage = ?', TASK, STAGE))!;
    } finally {
      await idb.close();
    }
  };

  async function openAuditOf(page: Page, version: number): Promise<void> {
    await page.goto(`${brandConsole.url}/audit`);
    const link = page.locator(`[data-audit-stage="${TASK}/${STAGE}"] a`);
    await link.waitFor();
    await link.click();
    await page.locator('[data-testid=record-version]', { hasText: `v${version}` }).waitFor();
  }

  before(async () => {
    stack = await startStack({
      seed: async ({ Org1MSP: brand, Org2MSP }) => {
        farm = Org2MSP;
        await teaLotAwaitingWarehousing(brand, farm);
        // version 2 of the template, for the task the brand's clerk opens in the browser
        await brand.process.defineTemplate({ ...tea.template, version: 2 });
        await farm.trace.recordStage({ taskId: TASK, stage: STAGE, eventTime: new Date().toISOString(), data: { tea_stored_cakes: 600, storage_temp_c: 35, storage_humidity_pct: 65 }, actor: 'clerk' });
      },
    });
    brandConsole = await stack.startConsole('Org1MSP', [['qa', ['qa']], ['clerk', ['data_entry']]]);
    farmConsole = await stack.startConsole('Org2MSP', [['clerk', ['data_entry']]]);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("the brand's QA rejects the farm's record with a comment, the farm's clerk amends it with a reason, the QA approves the amended version; chain, indexer and timeline show reject → amend → approve", async () => {
    const qa = await signIn(browser, brandConsole.url, 'qa');
    await until('the indexer to hold the farm record', async () => (await indexedRecords()) === 1);
    await qa.page.reload();
    // the farm's plantation, picking and warehousing records wait for the brand's audit
    expect(await qa.page.locator('[data-testid=audits-waiting]').textContent(), 'the workbench counts them').to.contain('：3 条');
    await qa.page.click('[data-nav=audit]');
    await qa.page.locator(`[data-audit-stage="${TASK}/${STAGE}"]`).waitFor();
    await shoot(qa.page, 'audit-queue');
    await openAuditOf(qa.page, 1);
    expect(await qa.page.locator('[data-item=storage_temp_c]').textContent()).to.contain('35');

    // a rejection without a comment is refused before the chain, on the comment field
    await qa.page.click('[data-testid=reject]');
    const commentError = qa.page.locator('[data-field=comment] .el-form-item__error');
    await commentError.waitFor();
    expect(await audits(), 'nothing audited').to.deep.equal([]);
    await qa.page.fill('[data-field=comment] textarea', '库温 35 °C 超出陈化范围，请复核温度计');
    await qa.page.click('[data-testid=reject]');
    await qa.page.locator('[data-testid=audit-saved]').waitFor();
    await shoot(qa.page, 'audit-record');
    expect((await audits()).map((a) => [a.verdict, a.recordVersion, a.auditor, a.actor, a.comment])).to.deep.equal([['rejected', 1, 'Org1MSP', 'qa', '库温 35 °C 超出陈化范围，请复核温度计']]);

    const clerk = await signIn(browser, farmConsole.url, 'clerk');
    await until('the indexer to hold the rejection', async () => (await indexedAudits()).length === 1);
    await clerk.page.goto(`${farmConsole.url}/tasks/${TASK}/stages/${STAGE}`);
    await clerk.page.locator('[data-testid=current-version]').waitFor();
    expect(await clerk.page.locator('[data-testid=current-record]').textContent()).to.contain('35');
    expect(await clerk.page.locator('[data-testid=stage-audit]').textContent(), "the rejection's comment").to.contain('请复核温度计');
    await fillNumber(clerk.page, 'storage_temp_c', '22');
    await clerk.page.fill('[data-field="reason"] textarea', '温度计复核：22 °C');
    await shoot(clerk.page, 'stage-entry-amend');
    await clerk.page.click('[data-testid=stage-submit]');
    await clerk.page.locator('[data-testid=saved]').waitFor();
    const amended = (await farm.trace.getTrace(TASK)).stages.find((s) => s.stage === STAGE)?.record;
    expect([amended?.version, amended?.reason, amended?.data.storage_temp_c, amended?.actor]).to.deep.equal([2, '温度计复核：22 °C', 22, 'clerk']);

    await until('the amendment in the audit queue', async () => {
      const res = await qa.context.request.get(`${brandConsole.url}/api/audits/queue`);
      return ((await res.json()) as { stages: { stage: string; record_version: number }[] }).stages.some((s) => s.stage === STAGE && s.record_version === 2);
    });
    // an audit of the version reviewed before the amendment is refused, nothing audited
    const { csrf } = (await (await qa.context.request.get(`${brandConsole.url}/api/session`)).json()) as { csrf: string };
    const stale = await qa.context.request.post(`${brandConsole.url}/api/audits/${TASK}/${STAGE}`, { headers: { 'x-csrf-token': csrf }, data: { verdict: 'approved', comment: '', version: 1 } });
    expect(await refusal(stale)).to.deep.equal([409, 'ERR_STALE_RECORD']);
    expect(await audits(), 'the amendment voided the rejection, and version 2 has no audit').to.deep.equal([]);
    await openAuditOf(qa.page, 2);
    expect(await qa.page.locator('[data-testid=record-reason]').textContent()).to.contain('温度计复核');
    await qa.page.fill('[data-field=comment] textarea', '复核无误');
    await qa.page.click('[data-testid=approve]');
    await qa.page.locator('[data-testid=audit-saved]').waitFor();
    // the chain keeps the org's latest audit of the stage; the indexer keeps them all
    expect((await audits()).map((a) => [a.verdict, a.recordVersion, a.actor])).to.deep.equal([['approved', 2, 'qa']]);
    await until('the indexer to hold the approval', async () => (await indexedAudits()).length === 2);
    expect((await indexedAudits()).map((a) => [a.verdict, a.record_version, a.auditor, a.actor])).to.deep.equal([
      ['rejected', 1, 'Org1MSP', 'qa'],
      ['approved', 2, 'Org1MSP', 'qa'],
    ]);

    await qa.page.goto(`${brandConsole.url}/tasks/${TASK}`);
    await qa.page.locator('[data-testid=timeline] [data-verdict=rejected]').waitFor();
    const timeline = (await (await qa.context.request.get(`${brandConsole.url}/api/tasks/${TASK}`)).json()) as { timeline: { kind: string; stage?: string; version?: number; verdict?: string }[] };
    expect(timeline.timeline.filter((e) => e.stage === STAGE).map((e) => [e.kind, e.version, e.verdict ?? ''])).to.deep.equal([
      ['recorded', 1, ''],
      ['audited', 1, 'rejected'],
      ['amended', 2, ''],
      ['audited', 2, 'approved'],
    ]);
    await shoot(qa.page, 'task-detail');
    await Promise.all([qa.context.close(), clerk.context.close()]);
  });

  it('a data-entry user cannot open the audit page (router → forbidden), and the audit API answers 403 ERR_FORBIDDEN_ROLE; nothing audited', async () => {
    const { context, page } = await signIn(browser, brandConsole.url, 'clerk');
    expect(await page.locator('[data-nav=audit]').count(), 'no menu entry').to.equal(0);
    await page.goto(`${brandConsole.url}/audit`);
    await page.locator('[data-testid=forbidden]').waitFor();
    const before = await audits();
    expect(await refusal(await context.request.get(`${brandConsole.url}/api/audits/queue`))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    const { csrf } = (await (await context.request.get(`${brandConsole.url}/api/session`)).json()) as { csrf: string };
    const post = (path: string) => context.request.post(`${brandConsole.url}${path}`, { headers: { 'x-csrf-token': csrf }, data: { verdict: 'rejected', comment: 'not my call' } });
    expect(await refusal(await post(`/api/audits/${TASK}/${STAGE}`))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    expect(await refusal(await post(`/api/audits/${TASK}`))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    expect(await audits()).to.deep.equal(before);
    expect((await farm.trace.getTrace(TASK)).audit, 'no task audit').to.equal(undefined);
    await context.close();
  });

  it("the brand's clerk creates a task from template version 2 in the browser: a lot already used is refused on its field, then the task is on chain with its assignments, and waits on the farm's workbench", async () => {
    const { context, page } = await signIn(browser, brandConsole.url, 'clerk');
    await page.click('[data-nav=tasks]');
    await page.locator(`[data-task-row="${TASK}"]`).waitFor();
    await shoot(page, 'tasks');
    await page.click('[data-testid=new-task]');
    await page.fill('input[name=taskId]', NEW_TASK);
    await page.click('[data-field=product] .el-select__wrapper');
    await page.locator('.el-select-dropdown__item:visible', { hasText: GTIN }).click();
    await page.click('[data-field=template] .el-select__wrapper');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '· v2' }).click();
    await page.locator('[data-field="assignments.tea_plantation"]').waitFor();
    await page.fill('input[name=lot]', 'CON-1');
    const quantity = page.locator('[data-field=plannedQuantity] .el-input-number input');
    await quantity.fill('300');
    await quantity.blur();
    await page.fill('input[name=unit]', 'cake');
    await page.click('[data-testid=create-task]');
    const lotError = page.locator('[data-field=lot] .el-form-item__error');
    await lotError.waitFor();
    expect(await lotError.textContent()).to.contain(`already task ${TASK}`);
    const missing = await farm.trace.getTask(NEW_TASK).catch((e: LedgerError) => e.code);
    expect(missing, 'nothing created').to.equal('ERR_NOT_FOUND');
    await page.fill('input[name=lot]', 'CON-2');
    await shoot(page, 'task-create');
    await page.click('[data-testid=create-task]');
    await page.waitForURL(`**/tasks/${NEW_TASK}`);

    const { task } = await farm.trace.getTask(NEW_TASK);
    const expected = Object.fromEntries(tea.template.stages.map((s) => [s.stage, FARM_STAGES.includes(s.stage) ? 'Org2MSP' : 'Org1MSP']));
    expect([task.version, task.lot, task.plannedQuantity, task.unit, task.owner, task.createdBy]).to.deep.equal([2, 'CON-2', 300, 'cake', 'Org1MSP', 'Org1MSP']);
    expect(task.assignments).to.deep.equal(expected);
    expect(task.authorizedRegions).to.deep.equal(tea.template.authorizedRegions);
    await page.locator('[data-testid=timeline] [data-kind=created]').waitFor();
    await until('the task list to page the new task', async () => {
      const res = (await (await context.request.get(`${brandConsole.url}/api/tasks?offset=0`)).json()) as { tasks: { task_id: string }[]; more: boolean };
      return res.tasks.map((t) => t.task_id).join() === `${NEW_TASK},${TASK}` && !res.more;
    });
    expect(await refusal(await context.request.get(`${brandConsole.url}/api/tasks?offset=-1`))).to.deep.equal([400, 'ERR_VALIDATION']);

    // the farm's workbench: one indexer call lists the new task's first stage, ready to record
    const clerk = await signIn(browser, farmConsole.url, 'clerk');
    await until('the indexer to hold the new task', async () => {
      const res = await clerk.context.request.get(`${farmConsole.url}/api/workbench`);
      return ((await res.json()) as { tasks: { taskId: string }[] }).tasks.some((t) => t.taskId === NEW_TASK);
    });
    await clerk.page.reload();
    await clerk.page.locator(`[data-waiting="${NEW_TASK}/tea_plantation"] a`).waitFor();
    expect(await clerk.page.locator(`[data-waiting="${NEW_TASK}/tea_picking"] a`).count(), 'picking waits for plantation').to.equal(0);
    await Promise.all([context.close(), clerk.context.close()]);
  });
});
