/**
 * The daemon's live page while an evaluation runs: a real detached daemon whose baseline
 * evaluation sleeps; /api/dashboard and the page at GET / (in Chromium) show the runner's
 * phase and the time in it, ticking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killDaemons, makeDaemonProject, startDaemon, waitUntil, type DaemonInfo, type DaemonProject } from '../daemon/helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, type Browser } from './browser.js';

// The callbacks given to page.evaluate run in the page; this project's tsconfig has no DOM lib.
declare const document: any;

interface LiveView {
  id: string;
  state: string;
  live: { iteration: number | null; phase: string | null; since: string | null; budgetS: number | null } | null;
}

describe.skipIf(process.platform !== 'linux' || !CHROMIUM_AVAILABLE)("the daemon's live dashboard", () => {
  let project: DaemonProject;
  let info: DaemonInfo;
  let browser: Browser;

  beforeAll(async () => {
    project = await makeDaemonProject([]);
    // The baseline evaluation sleeps long enough to be seen; time_budget 2m is what it is measured against.
    project.writeConfig('exp/slow', { sleep: '60', extra: { time_budget: '2m' } });
    info = await startDaemon(project);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    if (project !== undefined) await killDaemons([project.tag]);
  });

  it('shows the running phase (eval) with its start time and budget, and the page ticks it', async () => {
    const dashboard = async () => ((await (await fetch(`http://127.0.0.1:${info.port}/api/dashboard`)).json()) as { experiments: LiveView[] }).experiments[0];
    let view: LiveView | undefined;
    await waitUntil(async () => (view = await dashboard())?.live?.phase === 'eval', 'the daemon reporting the baseline evaluation', 30_000, () => JSON.stringify(view));
    expect(view?.state).toBe('running');
    expect(view?.live).toMatchObject({ iteration: 0, phase: 'eval', budgetS: 120 });
    expect(Date.now() - Date.parse(view?.live?.since ?? '')).toBeLessThan(60_000);

    const p = await browser.page();
    await p.page.goto(`http://127.0.0.1:${info.port}/`);
    await p.page.waitForSelector('html[data-rendered]');
    const text = () => p.page.textContent('section[data-experiment="exp/slow"] .live');
    expect(await text()).toMatch(/^#0 eval · \d+s of 2m 0s budget, limit 5m 0s$/);
    const before = await text();
    await p.page.waitForFunction((t) => document.querySelector('.live').textContent !== t, before, { timeout: 10_000 });
    expect(p.errors).toEqual([]);
    await p.page.close();
  });
});
