/**
 * A real headless Chromium for the dashboard tests: Debian's /usr/bin/chromium (`.ci/run`
 * installs it) driven by playwright-core, with a fresh profile directory each launch.
 * CHROMIUM_PATH points elsewhere (e.g. on a developer's Mac).
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether the browser tests run here. No Chromium: a loud warning and a skip (`npm test` on a
 * fresh machine still passes), or under CI=true an error: CI installs it, and a silent skip
 * there would hide a broken page.
 */
export const CHROMIUM_AVAILABLE: boolean = (() => {
  if (existsSync(CHROMIUM)) return true;
  const message = `the dashboard's browser tests need Chromium at ${CHROMIUM} (not found): install it (\`apt-get install -y chromium\`, as .ci/run does) or set CHROMIUM_PATH`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${message}`);
  console.warn(`\n*** SKIPPING: ${message}\n`);
  return false;
})();

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  /** A new page that records console errors, uncaught exceptions and every request it makes. */
  page(): Promise<WatchedPage>;
  close(): Promise<void>;
}

export interface WatchedPage {
  page: Page;
  errors: string[];
  requests: string[];
}

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM_AVAILABLE) throw new Error(`no Chromium at ${CHROMIUM}: install it (\`apt-get install -y chromium\`, as .ci/run does) or set CHROMIUM_PATH`);
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'ar-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  return {
    context,
    async page() {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('request', (req) => requests.push(req.url()));
      return { page, errors, requests };
    },
    async close() {
      await context.close();
      await fs.rm(profile, { recursive: true, force: true });
    },
  };
}
