import { join } from 'node:path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { LedgerError } from '@trace/client';
import { ARTIFACTS, VIEWPORTS } from './browser';

export const PASSWORD = 'correct horse battery';

/** A new browser context signed in to the console at baseUrl (desktop width, Chinese), with its session's CSRF token. */
export async function signIn(browser: Browser, baseUrl: string, username: string, password = PASSWORD): Promise<{ context: BrowserContext; page: Page; csrf: string }> {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop, locale: 'zh-CN', acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('[data-testid=login-submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  const { csrf } = (await (await context.request.get(`${baseUrl}/api/session`)).json()) as { csrf: string };
  return { context, page, csrf };
}

/** The page at desktop and phone width, into test-artifacts/console-<name>-<size>.png. */
export async function shoot(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(ARTIFACTS, `console-${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

/** Types a number into a form item's input and leaves it, as a user does (Element Plus commits on blur). */
export async function fillNumber(page: Page, field: string, value: string): Promise<void> {
  const input = page.locator(`[data-field="${field}"] input`);
  await input.fill(value);
  await input.blur();
}

/** Polls until ok() holds (the indexer follows the chain a moment later), 30 s at most. */
export async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An error answer's status and stable code. */
export async function refusal(res: { status(): number; json(): Promise<unknown> }): Promise<[number, string]> {
  return [res.status(), ((await res.json()) as { error: { code: string } }).error.code];
}

/** What a chain call came to: 'ok', or the chain's stable error code. */
export const chainCode = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (e instanceof LedgerError ? e.code : String(e)));
