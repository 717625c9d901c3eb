import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Browser, chromium } from 'playwright-core';

/** Screenshots land here (kept by CI as test artifacts). */
export const ARTIFACTS = resolve(__dirname, '../../../../test-artifacts');

/** Debian's Chromium, headless (a fresh profile per launch), with nothing that reaches for the network on its own. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
