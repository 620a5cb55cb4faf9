/**
 * What a running experiment's card says while it runs: a real foreground `run` held in its
 * baseline evaluation, then in its agent turn (each waits for a gate file), and `dashboard`
 * written meanwhile: the phase, the elapsed time ticking in Chromium against the phase's
 * budget. A real run's crash and discard, their why (results.tsv detail) in the tooltips. And a
 * quota wait's countdown, ticking down in the page.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExperimentView, type DashboardData } from '../../src/dashboard/model.js';
import { renderDashboardHtml } from '../../src/dashboard/render.js';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';
import { CHROMIUM_AVAILABLE, launchBrowser, type Browser, type WatchedPage } from './browser.js';

// The callbacks given to page.evaluate run in the page; this project's tsconfig has no DOM lib.
declare const document: any;

let browser: Browser;

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

async function liveLine(p: WatchedPage, id: string) {
  return p.page.evaluate((sel) => {
    const card = document.querySelector(sel);
    const live = card.querySelector('.live');
    return { state: card.querySelector('.state').textContent, phase: live?.getAttribute('data-live') ?? null, text: live?.textContent ?? null };
  }, `section[data-experiment="${id}"]`);
}

/** Waits until the elapsed time shown has moved on from `before` (the page's one-second timer). */
async function ticks(p: WatchedPage, selector: string) {
  const before = await p.page.textContent(selector);
  await p.page.waitForFunction(([sel, text]) => document.querySelector(sel).textContent !== text, [selector, before] as const, { timeout: 10_000 });
}

describe.skipIf(!CHROMIUM_AVAILABLE)('a running experiment on the dashboard', () => {
  it('shows the live phase (eval, then agent) and its elapsed time against the budget, from state.json, ticking', async () => {
    const gates = await makeTempDir('ar-gates-');
    const evalGate = path.join(gates, 'eval');
    const agentGate = path.join(gates, 'agent');
    const project = await makeProject({
      config: { evaluate_cmd: `while [ ! -f ${evalGate} ]; do sleep 0.05; done; sh evaluate.sh`, time_budget: '90s', agent_timeout: '20m', max_experiments: '1' },
      plan: [`while [ ! -f ${agentGate} ]; do sleep 0.05; done; echo 5 > value.txt`],
    });
    const page = path.join(gates, 'page.html');
    const cli = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    const p = await browser.page();
    try {
      await cli.waitFor(/#0 eval/);
      expect((await runCli(['--path', project.root, 'dashboard', '--out', page], { env: project.env })).exitCode).toBe(0);
      await p.page.goto(pathToFileURL(page).href);
      await p.page.waitForSelector('html[data-rendered]');
      const evaluating = await liveLine(p, project.id);
      expect(evaluating.state).toBe('running · eval');
      expect(evaluating.phase).toBe('eval');
      // eval_timeout defaults to 2.5 × time_budget.
      expect(evaluating.text).toMatch(/^#0 eval · \d+s of 1m 30s budget, limit 3m 45s$/);
      await ticks(p, '.live .elapsed');
      expect(await p.page.$eval('.live .bar i', (el: any) => el.style.width)).toMatch(/^\d+(\.\d)?%$/);

      await fs.writeFile(evalGate, '');
      await cli.waitFor(/#1 agent/);
      expect((await runCli(['--path', project.root, 'dashboard', '--out', page], { env: project.env })).exitCode).toBe(0);
      await p.page.reload();
      await p.page.waitForSelector('html[data-rendered]');
      const agent = await liveLine(p, project.id);
      expect(agent.phase).toBe('agent');
      expect(agent.text).toMatch(/^#1 agent · \d+s of limit 20m 0s$/);
      await ticks(p, '.live .elapsed');

      await fs.writeFile(agentGate, '');
      expect((await cli.result()).exitCode).toBe(0);
      expect((await runCli(['--path', project.root, 'dashboard', '--out', page], { env: project.env })).exitCode).toBe(0);
      await p.page.reload();
      await p.page.waitForSelector('html[data-rendered]');
      const after = await liveLine(p, project.id);
      expect(after.phase).toBeNull(); // not running: no live line
      expect(after.state).toBe('done');
      expect(p.errors).toEqual([]);
    } finally {
      await fs.writeFile(evalGate, '');
      await fs.writeFile(agentGate, '');
      await cli.result();
      await p.page.close();
    }
  });

  it("a real run's crash and discard: the tooltip gives the why the loop wrote to results.tsv", async () => {
    const project = await makeProject({
      config: { evaluate_cmd: `v=$(cat value.txt); case "$v" in *'('*) echo "Traceback (most recent call last):"; echo "SyntaxError: '(' was never closed (value.txt:1)"; exit 1;; esac; echo "score: $v"`, max_experiments: '2' },
      plan: ['echo "5 (" > value.txt', 'echo 12 > value.txt'],
    });
    expect((await runCli(['--path', project.root, 'run', project.id], { env: project.env })).exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((r) => r.reason)).toEqual(['baseline', 'eval_exit', 'no_improvement']);
    const crashWhy = rows[1]?.detail ?? '';
    expect(crashWhy).toContain('SyntaxError'); // written by the loop, not by this test
    const page = path.join(project.root, 'page.html');
    expect((await runCli(['--path', project.root, 'dashboard', '--out', page], { env: project.env })).exitCode).toBe(0);
    const p = await browser.page();
    await p.page.goto(pathToFileURL(page).href);
    await p.page.waitForSelector('html[data-rendered]');
    await p.page.hover('circle.dot.c');
    expect(await p.page.textContent('#tip')).toMatch(new RegExp(`^#1 · crash · no metric — .*\\nwhy: ${crashWhy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    await p.page.hover('circle.dot.d');
    expect(await p.page.textContent('#tip')).toMatch(/^#2 · discard · 12 — .*\nwhy: \S/);
    expect(p.errors).toEqual([]);
    await p.page.close();
  });

  it('a quota wait counts down to wait_until in the page, in the reader\'s time zone; the daemon\'s warnings are on the card', async () => {
    const now = Date.now();
    const waitUntil = new Date(now + 95_000).toISOString();
    const view = buildExperimentView({
      id: 'prompts/waiting',
      scope: 'project',
      rows: [],
      config: { metric: 'm', direction: 'lower', maxExperiments: null, maxRuntimeMs: null },
      status: { state: 'waiting', reason: 'claude: usage limit reached', wait_until: waitUntil, phase: null, warnings: ['metric time_ms is a timing while 2 other experiments share the CPUs'] },
      startedAt: null,
      now,
    });
    const data: DashboardData = { version: 1, generatedAt: new Date(now).toISOString(), root: '/p', live: false, experiments: [view], overlays: [] };
    const p = await browser.page();
    await p.page.setContent(renderDashboardHtml(data));
    await p.page.waitForSelector('html[data-rendered]');
    const reason = await p.page.textContent('section[data-experiment="prompts/waiting"] .reason');
    // "1m 34s" or so, then the local time with its zone named.
    expect(reason).toMatch(/^claude: usage limit reached · resumes in 1m [0-5]\ds \(at \d\d:\d\d(?: [AP]M)? (?:[A-Z]{2,5}|GMT[+-][\d:]+)\)$/);
    // The daemon's warnings for the experiment are on its card.
    expect(await p.page.textContent('section[data-experiment="prompts/waiting"] .warnings')).toBe('⚠ metric time_ms is a timing while 2 other experiments share the CPUs');
    await ticks(p, '.countdown');
    expect(await p.page.textContent('.countdown')).toMatch(/^1m [0-5]\ds$/);
    expect(p.errors).toEqual([]);
    await p.page.close();
  });

  it('a cluster job waiting in the queue: its own phase, the job id, the elapsed time and no budget bar', async () => {
    const now = Date.now();
    const since = new Date(now - 65_000).toISOString();
    const view = buildExperimentView({
      id: 'engineering/train',
      scope: 'project',
      rows: [],
      config: { metric: 'm', direction: 'lower', maxExperiments: null, maxRuntimeMs: null, timeBudgetMs: 300_000, evalTimeoutMs: 750_000 },
      status: { state: 'running', reason: null, wait_until: null, phase: 'queued' },
      intent: { iteration: 3, phase: 'queued', startedAt: since, job: { name: 'ar-engineering-train-3-1-eval', id: '12' } },
      startedAt: null,
      now,
    });
    const data: DashboardData = { version: 1, generatedAt: new Date(now).toISOString(), root: '/p', live: false, experiments: [view], overlays: [] };
    const p = await browser.page();
    await p.page.setContent(renderDashboardHtml(data));
    await p.page.waitForSelector('html[data-rendered]');
    const line = await liveLine(p, 'engineering/train');
    expect(line.phase).toBe('queued');
    expect(line.text).toMatch(/^#3 queued \(slurm job 12\) · 1m [0-5]\ds$/);
    expect(await p.page.$('.live .bar')).toBeNull();
    expect(p.errors).toEqual([]);
    await p.page.close();
  });
});
