import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Browser, Page } from 'playwright-core';
import { codeHash, generateCode, isValidCode, signReadings, TraceChainClient } from '@trace/client';
import { RunningConsole, startConsole } from '../src';
import { launchChromium } from './support/browser';
import { chainCode, refusal, shoot, signIn as signInAt, until } from './support/pages';
import { pdfStrings } from './support/pdf-text';
import { ConsoleStack, startStack } from './support/stack';
import { GTIN, TASK, teaLotAwaitingWarehousing } from './support/tea-lot';

const CODES = 200;

describe("member console: the brand's code manager and device admin through the devnet, the indexer and headless Chromium", function () {
  this.timeout(300_000);
  let stack: ConsoleStack;
  let brand: TraceChainClient;
  let indexerUrl: string;
  let app: RunningConsole;
  let consoleOptions: Parameters<typeof startConsole>[0];
  let browser: Browser;
  /** the 200 codes the browser issued, as its CSV lists them */
  let issued: string[] = [];

  const indexed = (path: string) => stack.indexed(path, 'Org1MSP');
  /** the code's record on chain (every code these tests read is issued) */
  const onChainCode = async (hash: string) => {
    const v = await brand.codes.verifyCode(hash);
    if (!v.genuine) throw new Error(`code ${hash} is not on chain`);
    return v.code;
  };
  const p256 = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  };
  
  const signIn = (username: string) => signInAt(browser, app.url, username);

  async function download(page: Page, testid: string): Promise<Buffer> {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testid}]`)]);
    return readFileSync(await file.path());
  }

  before(async () => {
    stack = await startStack({ seed: (c) => teaLotAwaitingWarehousing(c.Org1MSP, c.Org2MSP) });
    brand = stack.clients.Org1MSP;
    indexerUrl = stack.indexerUrl;
    await until('the indexer to hold the task', async () => (await indexed(`/api/tasks/${TASK}`)).ok);
    consoleOptions = await stack.consoleOptions('Org1MSP', [['codes', ['code_manager']], ['clerk', ['data_entry']], ['admin', ['admin']]]);
    app = await startConsole(consoleOptions);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await stack?.stop();
  });

  it('a brand code manager issues 200 codes with a progress bar; the CSV and the label PDF hold the same 200 distinct codes, on chain, and a sample verifies on the consumer verify API', async () => {
    const { context, page } = await signIn('codes');
    await page.click('[data-nav=codes]');
    await page.locator('[data-testid=issue-task]', { hasText: TASK }).waitFor();
    await page.locator('[data-testid=issue-count] input').fill(String(CODES));
    await page.click('[data-testid=issue-submit]');
    await page.locator('[data-testid=issue-progress]').waitFor();
    await page.locator('[data-testid=issue-job][data-state=done]').waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-testid=issue-progress]').getAttribute('aria-valuenow')).to.equal('100');
    expect(await page.locator('[data-testid=issue-job]').textContent()).to.contain(`${CODES} / ${CODES}`);
    await shoot(page, 'codes');

    const csv = (await download(page, 'download-csv')).toString('utf8').trim().split('\n');
    expect(csv[0]).to.equal('code,hash,url,batch');
    const rows = csv.slice(1).map((l) => l.split(','));
    issued = rows.map(([code]) => code);
    expect(new Set(issued).size).to.equal(CODES);
    expect(issued.every(isValidCode)).to.equal(true);
    expect(rows.every(([code, hash, url]) => hash === codeHash(code) && url === `https://id.example.com/01/${GTIN}/10/CON-1/21/${encodeURIComponent(code)}`)).to.equal(true);

    const pdf = await download(page, 'download-pdf');
    expect(pdf.subarray(0, 5).toString()).to.equal('%PDF-');
    const printed = pdfStrings(pdf).filter(isValidCode);
    expect(printed).to.have.length(CODES);
    expect(new Set(printed)).to.deep.equal(new Set(issued));

    // every code is on chain for the task; a sample verifies as genuine where consumers check it
    const onChain = await Promise.all(issued.map((c) => brand.codes.verifyCode(codeHash(c))));
    expect(onChain.every((v) => v.genuine && v.taskId === TASK)).to.equal(true);
    // the chain names the console user who issued them, not only the org
    expect([...new Set(onChain.map((v) => v.genuine && [v.code.issuedBy, v.code.actor].join(' / ')))]).to.deep.equal(['Org1MSP / codes']);
    await until('the indexer to hold the codes', async () => (await indexed(`/api/codes/${codeHash(issued[CODES - 1])}`)).ok);
    for (const code of issued.filter((_, i) => i % 20 === 0)) {
      const res = await fetch(`${indexerUrl}/api/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
      expect(((await res.json()) as { verdict: string }).verdict, code).to.equal('genuine');
    }
    // and the consumer page a shopper's phone opens for a printed code says so
    const shopper = await browser.newPage();
    await shopper.goto(`${indexerUrl}/c/${issued[CODES - 1]}`);
    await shopper.waitForSelector('#app[data-ready]', { timeout: 30_000 });
    expect([await shopper.getAttribute('#app', 'data-ready'), await shopper.getAttribute('#verdict', 'data-verdict')]).to.deep.equal(['true', 'genuine']);
    await shopper.close();
    await context.close();
  });

  it('packs three item codes into a case and unpacks one; a code looked up shows its case', async () => {
    const caseCode = generateCode();
    // this test's own items, issued through the brand's client, so it stands alone
    const items = Array.from({ length: 3 }, () => generateCode());
    await brand.codes.issueCodes({ taskId: TASK, level: 'item', codeHashes: items.map(codeHash) });
    await brand.codes.issueCodes({ taskId: TASK, level: 'case', codeHashes: [codeHash(caseCode)] });
    const { context, page } = await signIn('codes');
    await page.goto(`${app.url}/codes`);
    await page.getByRole('tab', { name: '装箱' }).click();
    await page.fill('input[name=pack-parent]', caseCode);
    await page.fill('textarea[name=pack-children]', items.join('\n'));
    await page.click('[data-testid=aggregate]');
    await page.locator('[data-testid=pack-result]', { hasText: '3' }).waitFor();
    const parentOf = async (code: string) => (await onChainCode(codeHash(code))).parent;
    expect(await Promise.all(items.map(parentOf))).to.deep.equal(Array(3).fill(codeHash(caseCode)));
    expect((await onChainCode(codeHash(items[0]))).actor, 'the packing user, on chain').to.equal('codes');
    await page.fill('textarea[name=pack-children]', items[2]);
    await page.click('[data-testid=disaggregate]');
    await page.locator('[data-testid=pack-result]', { hasText: '1' }).waitFor();
    expect(await parentOf(items[2])).to.equal(undefined);
    await shoot(page, 'codes-pack');

    // a mistyped code is refused on its field before anything reaches the chain
    await page.fill('input[name=pack-parent]', `${caseCode.slice(0, -1)}${caseCode.endsWith('0') ? '1' : '0'}`);
    await page.click('[data-testid=aggregate]');
    await page.locator('.el-form-item__error', { hasText: 'not a valid code' }).waitFor();

    await until('the indexer to hold the case', async () => ((await (await indexed(`/api/codes/${codeHash(items[0])}`)).json()) as { parent: string | null }).parent === codeHash(caseCode));
    await page.getByRole('tab', { name: '查码' }).click();
    await page.fill('input[name=lookup-code]', items[0]);
    await page.click('[data-testid=lookup-submit]');
    await page.locator('[data-testid=lookup-result]', { hasText: codeHash(caseCode) }).waitFor();
    expect(await page.locator('[data-testid=lookup-verdict]').textContent()).to.equal('genuine');
    await shoot(page, 'codes-lookup');
    await context.close();
  });

  it('an alert raised by too many scans is cleared with a reason in the browser; without a reason nothing changes', async () => {
    const copied = generateCode();
    await brand.codes.issueCodes({ taskId: TASK, level: 'item', codeHashes: [codeHash(copied)] });
    const hash = codeHash(copied);
    const at = new Date().toISOString();
    await brand.codes.recordScans({ scans: Array.from({ length: 11 }, () => ({ codeHash: hash, channel: 'retailer' as const, at })) });
    expect((await brand.codes.verifyCode(hash)).verdict).to.equal('suspect');
    await until('the indexer to hold the alert', async () => ((await (await indexed('/api/alerts?type=clone')).json()) as { code_hash: string }[]).some((a) => a.code_hash === hash));

    const { context, page, csrf } = await signIn('codes');
    const refused = await context.request.post(`${app.url}/api/codes/alerts/clear`, { headers: { 'x-csrf-token': csrf }, data: { codeHash: hash, type: 'clone', reason: '  ' } });
    expect(await refusal(refused)).to.deep.equal([400, 'ERR_VALIDATION']);
    const diversion = await context.request.post(`${app.url}/api/codes/alerts/clear`, { headers: { 'x-csrf-token': csrf }, data: { codeHash: hash, type: 'diversion', reason: 'no such alert' } });
    expect(await refusal(diversion), 'the chain refuses a diversion alert the code does not have').to.deep.equal([409, 'ERR_STATE']);
    expect((await onChainCode(hash)).suspectSince).to.be.a('string');
    // the workbench lists the open alert
    await page.goto(app.url);
    await page.locator(`[data-testid=recent-alerts] [data-alert="${hash}"]`).waitFor();
    await shoot(page, 'workbench-alerts');

    await page.goto(`${app.url}/codes`);
    await page.getByRole('tab', { name: '预警' }).click();
    const alert = page.locator(`[data-alert="clone/${hash}"]`);
    await alert.locator('[data-testid=clear-alert]').click();
    await page.fill('textarea[name=clear-reason]', '门店扫码枪重复上传 the till re-sent its scans');
    await page.click('[data-testid=clear-submit]');
    await alert.locator('[data-testid=clear-alert]').waitFor({ state: 'detached' });
    await shoot(page, 'codes-alerts');
    const code = await onChainCode(hash);
    expect(code.suspectSince).to.equal(undefined);
    expect(code.clearedAlerts?.map((c) => [c.type, c.reason, c.clearedBy, c.actor])).to.deep.equal([['clone', '门店扫码枪重复上传 the till re-sent its scans', 'Org1MSP', 'codes']]);
    // cleared, it leaves the workbench once the indexer has the clearing
    await until('the workbench to drop the cleared alert', async () => {
      await page.goto(app.url);
      await page.locator('[data-testid=workbench-loaded]').waitFor({ state: 'attached' });
      return (await page.locator(`[data-alert="${hash}"]`).count()) === 0;
    });
    await context.close();
  });

  it('a data-entry user cannot open the codes page, and the codes API answers 403 with its code (no job started)', async () => {
    const { context, page, csrf } = await signIn('clerk');
    expect(await page.locator('[data-nav=codes]').count(), 'no menu entry').to.equal(0);
    await page.goto(`${app.url}/codes`);
    await page.locator('[data-testid=forbidden]').waitFor();
    expect(await refusal(await context.request.get(`${app.url}/api/codes/jobs`))).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    const start = await context.request.post(`${app.url}/api/codes/jobs`, { headers: { 'x-csrf-token': csrf }, data: { taskId: TASK, level: 'item', count: 5 } });
    expect(await refusal(start)).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    await context.close();
    const manager = await signIn('codes');
    const jobs = (await (await manager.context.request.get(`${app.url}/api/codes/jobs`)).json()) as { count: number }[];
    expect(jobs.map((j) => j.count), 'only the 200-code job').to.deep.equal([CODES]);
    await manager.context.close();
  });
  it('an admin registers a device, acknowledges its alarm, rotates its key and disables it in the browser; a data-entry user sees the devices but may not register one', async () => {
    const DEVICE = 'cellar-1';
    const first = p256();
    const { context, page, csrf } = await signIn('admin');
    await page.click('[data-nav=devices]');
    await page.locator('[data-testid=register-device]').waitFor();
    // a key that is not PEM is refused on its field, and nothing is registered
    const bad = await context.request.post(`${app.url}/api/devices`, { headers: { 'x-csrf-token': csrf }, data: { deviceId: 'cellar-x', type: 'temperature', publicKeyPem: 'not a key' } });
    expect(await refusal(bad)).to.deep.equal([400, 'ERR_VALIDATION']);
    expect(await chainCode(brand.devices.getDevice('cellar-x'))).to.equal('ERR_NOT_FOUND');

    await page.fill('input[name=device-id]', DEVICE);
    await page.fill('textarea[name=device-key]', first.pem);
    await page.fill('input[name=device-thresholds]', '{"temp_c": {"min": 10, "max": 30}}');
    await page.click('[data-testid=register-device]');
    await page.locator(`[data-status="${DEVICE}"]`, { hasText: '启用' }).waitFor();
    expect(await brand.devices.getDevice(DEVICE)).to.include({ ownerMsp: 'Org1MSP', status: 'active', keyVersion: 1, actor: 'admin' });

    // the cellar reports 35 °C: an alarm, acknowledged with a comment
    await brand.devices.submitReadings(signReadings(first.privateKey, { deviceId: DEVICE, seq: 1, readings: [{ at: new Date().toISOString(), metric: 'temp_c', value: 35, unit: 'C' }] }));
    await until('the indexer to hold the alarm', async () => ((await (await indexed(`/api/devices/${DEVICE}`)).json()) as { alarms?: unknown[] }).alarms?.length === 1);
    // the workbench lists it while it is not acknowledged
    await page.goto(app.url);
    expect(await page.locator(`[data-testid=recent-alerts] [data-alarm="${DEVICE}"]`).textContent()).to.contain('temp_c = 35');
    await page.goto(`${app.url}/devices`);
    await page.locator('[data-ack]').click();
    await page.fill('textarea[name=ack-comment]', '空调已修复 AC repaired');
    await page.click('[data-testid=ack-submit]');
    await page.locator('[data-testid=alarms]', { hasText: 'Org1MSP' }).waitFor();
    expect((await brand.devices.listAlarms(DEVICE)).items.map((a) => [a.acked?.comment, a.acked?.actor])).to.deep.equal([['空调已修复 AC repaired', 'admin']]);

    const second = p256();
    await page.click(`[data-rotate="${DEVICE}"]`);
    await page.fill('textarea[name=rotate-key]', second.pem);
    await page.click('[data-testid=rotate-submit]');
    await page.locator('[data-testid=devices] td', { hasText: /^2$/ }).waitFor();
    expect((await brand.devices.getDevice(DEVICE)).keyVersion).to.equal(2);
    const oldKey = signReadings(first.privateKey, { deviceId: DEVICE, seq: 2, readings: [{ at: new Date().toISOString(), metric: 'temp_c', value: 20, unit: 'C' }] });
    expect(await chainCode(brand.devices.submitReadings(oldKey)), 'the old key no longer signs').to.equal('ERR_SIGNATURE');

    await page.click(`[data-toggle="${DEVICE}"]`);
    await page.locator(`[data-status="${DEVICE}"]`, { hasText: '停用' }).waitFor();
    expect((await brand.devices.getDevice(DEVICE)).status).to.equal('disabled');
    const newKey = signReadings(second.privateKey, { deviceId: DEVICE, seq: 2, readings: [{ at: new Date().toISOString(), metric: 'temp_c', value: 20, unit: 'C' }] });
    expect(await chainCode(brand.devices.submitReadings(newKey)), 'a disabled device submits nothing').to.equal('ERR_STATE');
    await shoot(page, 'devices');
    await context.close();

    const clerk = await signIn('clerk');
    await clerk.page.click('[data-nav=devices]');
    await clerk.page.locator(`[data-status="${DEVICE}"]`).waitFor();
    expect(await clerk.page.locator('[data-testid=register-device]').count(), 'no register form').to.equal(0);
    const other = p256();
    const attempt = await clerk.context.request.post(`${app.url}/api/devices`, { headers: { 'x-csrf-token': clerk.csrf }, data: { deviceId: 'cellar-2', type: 'temperature', publicKeyPem: other.pem } });
    expect(await refusal(attempt)).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    const enable = await clerk.context.request.post(`${app.url}/api/devices/${DEVICE}/status`, { headers: { 'x-csrf-token': clerk.csrf }, data: { status: 'active' } });
    expect(await refusal(enable)).to.deep.equal([403, 'ERR_FORBIDDEN_ROLE']);
    expect(await chainCode(brand.devices.getDevice('cellar-2'))).to.equal('ERR_NOT_FOUND');
    expect((await brand.devices.getDevice(DEVICE)).status).to.equal('disabled');
    await clerk.context.close();
  });
  it('a job the console stopped in reads interrupted on the next start and, resumed, issues every code once', async () => {
    // 20 batches of 50: the console stops within a batch or two of the first one, wherever the poll sees it
    const COUNT = 1000;
    const { context, csrf } = await signIn('codes');
    const job = async (id: string) => (await (await context.request.get(`${app.url}/api/codes/jobs/${id}`)).json()) as { state: string; issued: number };
    const started = (await (await context.request.post(`${app.url}/api/codes/jobs`, { headers: { 'x-csrf-token': csrf }, data: { taskId: TASK, level: 'item', count: COUNT } })).json()) as { id: string };
    await until('the first batch', async () => (await job(started.id)).issued > 0);
    await app.stop();
    app = await startConsole(consoleOptions);
    const interrupted = await job(started.id);
    expect(interrupted.state).to.equal('interrupted');
    expect(interrupted.issued).to.be.within(1, COUNT - 1);
    const early = await context.request.get(`${app.url}/api/codes/jobs/${started.id}/codes.csv`);
    expect(await refusal(early), 'no print file before every code is on chain').to.deep.equal([409, 'ERR_STATE']);

    const resumed = await context.request.post(`${app.url}/api/codes/jobs/${started.id}/resume`, { headers: { 'x-csrf-token': csrf }, data: {} });
    expect(resumed.status()).to.equal(200);
    await until('the resumed job', async () => (await job(started.id)).state === 'done');
    const codes = (await (await context.request.get(`${app.url}/api/codes/jobs/${started.id}/codes.csv`)).text()).trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect(new Set(codes).size).to.equal(COUNT);
    const onChain = await Promise.all(codes.map((c) => brand.codes.verifyCode(codeHash(c))));
    expect(onChain.every((v) => v.genuine && v.taskId === TASK)).to.equal(true);
    const again = await context.request.post(`${app.url}/api/codes/jobs/${started.id}/resume`, { headers: { 'x-csrf-token': csrf }, data: {} });
    expect(await refusal(again), 'a finished job is not run again').to.deep.equal([409, 'ERR_STATE']);
    await context.close();
  });
});
