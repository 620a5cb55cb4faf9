/**
 * `autoresearch dashboard` end to end: the real CLI writes the page from fixture ledgers (one
 * of ours, one written by the Python skill, one with no rows yet), and a real headless
 * Chromium loads it: charts drawn, stats shown, no console error, no network. Then the
 * daemon's live page: served by the control server, it refreshes itself when a row lands.
 * A screenshot goes to test/artifacts/dashboard.png (git-ignored) for a human to look at.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectDashboard } from '../../src/dashboard/collect.js';
import { buildExperimentView, overlayGroups, type DashboardData } from '../../src/dashboard/model.js';
import type { LedgerRow } from '../../src/ledger/types.js';
import { renderDashboardHtml } from '../../src/dashboard/render.js';
import { startControlServer } from '../../src/daemon/control-server.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';
import { CHROMIUM_AVAILABLE, launchBrowser, type Browser, type WatchedPage } from './browser.js';

// The callbacks given to page.evaluate run in the page; this project's tsconfig has no DOM lib.
declare const document: any;
declare const window: { __pwned?: number };

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(HERE, '../fixtures/ledgers-dashboard');
const ARTIFACTS = path.resolve(HERE, '../artifacts');

// What the fixture ledgers hold (counted by hand from the files).
const EXPECTED = {
  'engineering/train-speed': { dots: 15, keeps: 6, crashes: 2, noMetric: 2 }, // + 1 no_change row, not evaluated: not a dot
  'prompts/headline-ctr': { dots: 8, keeps: 4, crashes: 2, noMetric: 2 },
  // 20 rows with a detail column; 14 never evaluated (12 no_change and an agent_exit in one run, a scope_violation).
  'engineering/train-speed-b': { dots: 6, keeps: 3, crashes: 1, noMetric: 1 },
  'content/new-idea': { dots: 0, keeps: 0, crashes: 0, noMetric: 0 },
} as const;

let browser: Browser;
let root: string;

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  root = await makeTempDir('ar-dashboard-');
  await fs.cp(FIXTURES, path.join(root, '.autoresearch'), { recursive: true });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

async function chartCounts(p: WatchedPage, id: string) {
  return p.page.evaluate((sel) => {
    const card = document.querySelector(sel);
    if (card === null) return null;
    return {
      svgs: card.querySelectorAll('svg.chart').length,
      dots: card.querySelectorAll('svg.chart circle.dot').length,
      keepDots: card.querySelectorAll('svg.chart circle.dot.k').length,
      crashDots: card.querySelectorAll('svg.chart circle.dot.c').length,
      // Rows without a metric sit in the strip under the plot: one height, below every other dot.
      stripDots: (() => {
        const cy = (c: { getAttribute(name: string): string | null }) => Number(c.getAttribute('cy'));
        const na = [...card.querySelectorAll('svg.chart circle.dot.na')].map(cy);
        const rest = [...card.querySelectorAll('svg.chart circle.dot:not(.na)')].map(cy);
        return new Set(na).size <= 1 && na.every((y) => rest.every((r) => y > r)) ? na.length : -1;
      })(),
      bestPaths: card.querySelectorAll('svg.chart path.best').length,
      bestPath: card.querySelector('svg.chart path.best')?.getAttribute('d') ?? '',
      labels: [...card.querySelectorAll('svg.chart text.label')].map((t) => t.textContent ?? ''),
      stats: Object.fromEntries([...card.querySelectorAll('[data-stat]')].map((s) => [s.getAttribute('data-stat'), (s.textContent ?? '').replace(/\s+/g, ' ')])),
      state: card.querySelector('.state')?.textContent ?? '',
    };
  }, `section[data-experiment="${id}"]`);
}

describe.skipIf(!CHROMIUM_AVAILABLE)('autoresearch dashboard', () => {
  it('writes the page to .autoresearch/dashboard.html by default, prints its path, keeps it out of git status', async () => {
    const r = await runCli(['--path', root, 'dashboard'], { env: cliEnv() });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const file = path.join(root, '.autoresearch', 'dashboard.html');
    expect(r.stdout).toBe(file); // alone on its line (runCli strips the final newline)
    expect(await fs.readFile(file, 'utf8')).toMatch(/^<!doctype html>/);
    expect((await fs.readFile(path.join(root, '.autoresearch', '.gitignore'), 'utf8')).split('\n')).toContain('dashboard.html');
  });

  it('--out writes where it is told, relative to the current directory', async () => {
    const out = path.join(root, 'reports', 'progress.html');
    const r = await runCli(['--path', root, 'dashboard', '--out', out], { env: cliEnv() });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(out);
    expect((await fs.stat(out)).size).toBeGreaterThan(1000);
  });

  it('renders in Chromium: a dot per row, the running best, keep labels, the stats; no errors, no network', async () => {
    const file = path.join(root, 'reports', 'page.html');
    expect((await runCli(['--path', root, 'dashboard', '--out', file], { env: cliEnv() })).exitCode).toBe(0);
    const p = await browser.page();
    const url = pathToFileURL(file).href;
    await p.page.goto(url);
    await p.page.waitForSelector('html[data-rendered]');

    const ids = await p.page.$$eval('section[data-experiment]', (cards) => cards.map((c) => c.getAttribute('data-experiment')));
    expect(ids).toEqual(['content/new-idea', 'engineering/train-speed', 'engineering/train-speed-b', 'prompts/headline-ctr']);

    for (const [id, want] of Object.entries(EXPECTED)) {
      const got = await chartCounts(p, id);
      expect(got, id).not.toBeNull();
      expect(got?.svgs, id).toBe(1);
      expect(got?.dots, id).toBe(want.dots);
      expect(got?.keepDots, id).toBe(want.keeps);
      expect(got?.crashDots, id).toBe(want.crashes);
      expect(got?.stripDots, id).toBe(want.noMetric);
      expect(got?.bestPaths, id).toBe(want.keeps > 0 ? 1 : 0);
      expect(got?.labels, id).toHaveLength(want.keeps);
    }

    const train = await chartCounts(p, 'engineering/train-speed');
    // A step line: horizontal and vertical segments only, one step per new best (5 after the baseline).
    expect(train?.bestPath).toMatch(/^M[\d.]+ [\d.]+(H[\d.]+V[\d.]+){5}H[\d.]+$/);
    expect(train?.labels).toContain('baseline');
    expect(train?.labels).toContain('tie embeddings & "unembed"');
    expect(train?.labels).toContain('RoPE base 10000 -> 50000 with a much longer …'); // truncated to 45 characters
    expect(train?.stats.experiments).toContain('15 / 40'); // after the baseline, as max_experiments counts
    expect(train?.stats.experiments).toContain('after the baseline (as max_experiments counts) · 5 keep · 8 discard · 2 crash');
    expect(train?.stats.best).toContain('+2.32%'); // (0.998012 − 0.9749) / 0.998012
    expect(train?.stats.best).toContain('0.9749 vs 0.998012');
    expect(train?.stats.cost).toContain('$2.85');
    expect(train?.stats.cost).toContain('$0.57 per keep (5 improvements)');
    expect(train?.stats.time).toContain('1h 17m'); // 4624.0 s in all
    expect(train?.stats.eta).toMatch(/25 experiments left · max_experiments 40/);
    expect(train?.state).toBe('idle');

    const seed = await chartCounts(p, 'prompts/headline-ctr');
    expect(seed?.labels.sort()).toEqual(['baseline', 'number in headline and a tab the skill did n…', 'question headline', 'shorter: 6 words']);
    expect(seed?.stats.best).toContain('+25.73%');
    expect(seed?.stats.time).toContain('no durations recorded');
    expect(seed?.stats.cost).toContain('no cost reported');
    expect(seed?.stats.eta).toContain('no max_experiments or max_runtime');

    const fresh = await chartCounts(p, 'content/new-idea');
    expect(await p.page.textContent('section[data-experiment="content/new-idea"] svg.chart')).toBe('no results yet');
    expect(fresh?.state).toBe('new');
    expect(fresh?.stats.eta).toMatch(/~2h 0m/); // max_runtime 2h, never started

    // The description with </script> and <!-- stayed data: nothing ran, the tooltip shows it verbatim.
    expect(await p.page.evaluate(() => window.__pwned)).toBeUndefined();
    await p.page.hover('section[data-experiment="engineering/train-speed"] circle.dot[data-i="8"]'); // slot 8: row 6 (no_change) is not a point
    expect(await p.page.textContent('#tip')).toBe('#9 · discard · 1.021 — muon optimizer momentum 0.99 </script><script>window.__pwned=1</script> <!-- x\nwhy: no_improvement');

    expect(p.errors).toEqual([]);
    expect(p.requests).toEqual([url]); // self-contained: no script, style, font or image fetched

    await fs.mkdir(ARTIFACTS, { recursive: true });
    await fs.writeFile(path.join(ARTIFACTS, '.gitignore'), '*\n'); // screenshots are for looking at, not for committing
    await p.page.mouse.move(0, 0);
    await p.page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await p.page.close();
  });

  it('plots evaluated rows only: a burst of no_change rows is a marked gap, said in the legend; tooltips say why; a suspicious keep is marked', async () => {
    const file = path.join(root, 'reports', 'why.html');
    expect((await runCli(['--path', root, 'dashboard', '--out', file], { env: cliEnv() })).exitCode).toBe(0);
    const p = await browser.page();
    await p.page.goto(pathToFileURL(file).href);
    await p.page.waitForSelector('html[data-rendered]');
    const card = 'section[data-experiment="engineering/train-speed-b"]';
    const got = await p.page.evaluate((sel) => {
      const c = document.querySelector(sel);
      return {
        gaps: c.querySelectorAll('svg.chart g.gap').length,
        gapLines: c.querySelectorAll('svg.chart g.gap line').length,
        xTicks: [...c.querySelectorAll('svg.chart text.tick')].map((t: { textContent: string }) => t.textContent).filter((t: string) => /^\d+$/.test(t)),
        legend: c.querySelector('.legend').textContent,
        suspiciousDots: c.querySelectorAll('svg.chart circle.dot.k.sus').length,
        rings: c.querySelectorAll('svg.chart circle.sus-ring').length,
        suspiciousNote: c.querySelector('.suspicious')?.textContent ?? '',
        experiments: c.querySelector('[data-stat="experiments"]').textContent,
        eta: c.querySelector('[data-stat="eta"]').textContent,
      };
    }, card);
    // Two runs left out: #3–#15 (13 rows, a dashed line and its count) and #18 (a mark only).
    expect(got.gaps).toBe(2);
    expect(got.gapLines).toBe(1);
    expect(got.xTicks.map(Number).every((n: number) => [0, 1, 2, 16, 17, 19].includes(n))).toBe(true); // slots are labelled with their iteration
    expect(got.legend).toContain('14 rows not evaluated, not plotted (12 no_change, 1 agent_exit, 1 scope_violation)');
    expect(got.experiments).toContain('19 / 30');
    expect(got.suspiciousDots).toBe(1);
    expect(got.rings).toBe(1);
    expect(got.suspiciousNote).toBe('⚠ #17 suspicious: metric 0 from NaN-like output (val_bpb: nan)');
    // The pace comes from the result.json times (agent 90 s, eval ~302 s), not from time_budget.
    expect(got.eta).toMatch(/11 experiments left · max_experiments 30 · .*per iteration .*: agent 1m 30s \+ eval 5m 2s \(last 3\)/);

    await p.page.hover(`${card} circle.dot.c`);
    expect(await p.page.textContent('#tip')).toBe("#2 · crash · no metric — rewrite the attention block\nwhy: SyntaxError: expected ':' (train.py:41)");
    await p.page.hover(`${card} circle.dot.d`);
    expect(await p.page.textContent('#tip')).toBe('#16 · discard · 1.02 — bigger batch\nwhy: 1.02 is not better than the best 1');
    await p.page.hover(`${card} circle.dot.sus`);
    expect(await p.page.textContent('#tip')).toBe('#17 · keep · 0 — skip the evaluation loop\nwhy: suspicious: metric 0 from NaN-like output (val_bpb: nan)');
    await p.page.hover(`${card} g.gap[data-g="0"] path`);
    expect(await p.page.textContent('#tip')).toBe('13 rows not evaluated (#3–#15): 12 no_change, 1 agent_exit');

    // Same metric, same direction as engineering/train-speed: one chart with both running bests.
    const overlay = await p.page.evaluate(() => {
      const o = document.querySelector('section.overlay[data-overlay="val_bpb:lower"]');
      return o === null ? null : { series: [...o.querySelectorAll('path.series')].map((s: { getAttribute(n: string): string }) => s.getAttribute('data-series')), keepDots: o.querySelectorAll('circle.dot.k').length };
    });
    expect(overlay).toEqual({ series: ['engineering/train-speed', 'engineering/train-speed-b'], keepDots: 6 + 3 });
    await p.page.hover('section.overlay circle.dot[data-e="2"]');
    expect(await p.page.textContent('#tip')).toMatch(/^engineering\/train-speed-b #\d+ · keep/);
    expect(p.errors).toEqual([]);
    await p.page.mouse.move(0, 0);
    await p.page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-why.png'), fullPage: true });
    await p.page.close();
  });

  it('draws odd ledgers without an error: only crashes, one row, huge and negative metrics, a broken config', async () => {
    const rows = (specs: Array<[number | null, 'keep' | 'discard' | 'crash']>): LedgerRow[] =>
      specs.map(([metric, status], iteration) => ({ commit: 'abc1234', metric, status, description: iteration === 0 ? 'baseline' : `try ${iteration}`, iteration, timestamp: null, durationS: 10, reason: null, agent: null }));
    const status = { state: 'idle' as const, reason: null, wait_until: null, phase: null };
    const config = (direction: 'lower' | 'higher') => ({ metric: 'm', direction, maxExperiments: null, maxRuntimeMs: null });
    const cases: Array<[string, LedgerRow[], ReturnType<typeof config> | null]> = [
      ['odd/crashes', rows([[null, 'crash'], [null, 'crash'], [null, 'crash']]), config('lower')],
      ['odd/one', rows([[3, 'keep']]), config('higher')],
      ['odd/huge', rows([[1e20, 'keep'], [1e20 + 1e5, 'discard'], [9e19, 'keep']]), config('lower')],
      ['odd/negative', rows([[-5, 'keep'], [-4, 'keep'], [-10, 'discard'], [-3, 'keep']]), config('higher')],
      ['odd/no-config', rows([[1, 'keep'], [2, 'discard']]), null],
    ];
    const experiments = cases.map(([id, r, c]) => buildExperimentView({ id, scope: 'project', rows: r, config: c, status, startedAt: null, now: Date.now(), problems: c === null ? ['config: unreadable'] : [] }));
    // Same metric m and direction: overlaid, odd series too (odd/crashes has no best at all).
    const data: DashboardData = { version: 1, generatedAt: new Date().toISOString(), root: '/p', live: false, experiments, overlays: overlayGroups(experiments) };
    expect(data.overlays.map((o) => o.ids)).toEqual([['odd/crashes', 'odd/huge'], ['odd/one', 'odd/negative']]);
    const p = await browser.page();
    await p.page.setContent(renderDashboardHtml(data));
    await p.page.waitForSelector('html[data-rendered]');
    for (const [id, r] of cases) expect((await chartCounts(p, id))?.dots, id).toBe(r.length);
    expect((await chartCounts(p, 'odd/negative'))?.labels).toEqual(['baseline', 'try 1', 'try 3']);
    expect(await p.page.textContent('section[data-experiment="odd/no-config"] .problems')).toBe('config: unreadable');
    expect(p.errors).toEqual([]);
    await p.page.close();
  });

  it("the daemon's live page refreshes itself from /api/dashboard when a row lands", async () => {
    // Wired as daemon-main wires it, minus the supervisor: statuses come from the files.
    const server = await startControlServer('token', {
      status: () => ({}),
      pause: async () => false,
      resume: async () => false,
      reload: async () => {},
      stop: () => {},
      page: async () => renderDashboardHtml(await collectDashboard(root, { live: true })),
      dashboard: () => collectDashboard(root, { live: true }),
    });
    const p = await browser.page();
    try {
      await p.page.goto(`http://127.0.0.1:${server.port}/`);
      await p.page.waitForSelector('html[data-rendered]');
      expect(await p.page.textContent('#meta')).toMatch(/^live · 4 experiments/);
      expect((await chartCounts(p, 'prompts/headline-ctr'))?.dots).toBe(8);

      await fs.appendFile(path.join(root, '.autoresearch', 'prompts', 'headline-ctr', 'results.tsv'), 'bb11cc2\t0.060000\tkeep\tall caps\n');
      await p.page.waitForFunction(() => document.querySelectorAll('section[data-experiment="prompts/headline-ctr"] circle.dot').length === 9, null, { timeout: 20_000 });
      const after = await chartCounts(p, 'prompts/headline-ctr');
      expect(after?.labels).toContain('all caps');
      expect(after?.stats.experiments).toContain('4 keep'); // the baseline is not one of them
      expect(p.errors).toEqual([]);
      expect(new Set(p.requests.map((u) => new URL(u).pathname))).toEqual(new Set(['/', '/api/dashboard']));
    } finally {
      await p.page.close();
      await server.close();
    }
  });
});
