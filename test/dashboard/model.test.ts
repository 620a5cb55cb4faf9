/** The dashboard's data model (pure): ETA, cost per keep, improvement, the chart series. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cachedDashboard } from '../../src/dashboard/collect.js';
import { DASHBOARD_SCRIPT } from '../../src/dashboard/client.js';
import {
  averageIterationS,
  buildChart,
  buildExperimentView,
  costPerKeep,
  estimateEta,
  isEvaluated,
  LABEL_CHARS,
  livePhase,
  MAX_LABELS,
  measurePace,
  overlayGroups,
  PACE_WINDOW,
  type DashboardData,
  type ViewInput,
} from '../../src/dashboard/model.js';
import { embedJson, renderDashboardHtml } from '../../src/dashboard/render.js';
import { parseLedgerText } from '../../src/ledger/tsv-format.js';
import type { LedgerRow } from '../../src/ledger/types.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ledgers-dashboard');
const NOW = Date.parse('2026-03-08T12:00:00.000Z');

function row(partial: Partial<LedgerRow> & Pick<LedgerRow, 'status'>, iteration: number): LedgerRow {
  return {
    commit: 'abc1234',
    metric: null,
    description: `change ${iteration}`,
    iteration,
    timestamp: null,
    durationS: null,
    reason: null,
    agent: null,
    ...partial,
  };
}

/** baseline 1.0 (5 s), then the given rows. */
function ledger(...rest: Array<Partial<LedgerRow> & Pick<LedgerRow, 'status'>>): LedgerRow[] {
  return [row({ status: 'keep', metric: 1, description: 'baseline', reason: 'baseline', durationS: 5 }, 0), ...rest.map((r, i) => row(r, i + 1))];
}

function view(rows: LedgerRow[], config: Partial<NonNullable<ViewInput['config']>> = {}, extra: Partial<ViewInput> = {}) {
  return buildExperimentView({
    id: 'engineering/x',
    scope: 'project',
    rows,
    config: { metric: 'loss', direction: 'lower', maxExperiments: null, maxRuntimeMs: null, ...config },
    status: { state: 'idle', reason: null, wait_until: null, phase: null },
    startedAt: null,
    now: NOW,
    ...extra,
  });
}

function fixtureRows(id: string): LedgerRow[] {
  const file = path.join(FIXTURES, id, 'results.tsv');
  return parseLedgerText(fs.readFileSync(file, 'utf8'), file).rows;
}

describe('cost', () => {
  it('sums cost_usd and divides by the improvements, not counting the baseline keep', () => {
    const v = view(ledger({ status: 'keep', metric: 0.9, costUsd: 0.5 }, { status: 'discard', metric: 1.1, costUsd: 0.25 }, { status: 'keep', metric: 0.8, costUsd: 0.75 }));
    expect(v.costUsd).toBeCloseTo(1.5, 10);
    expect(v.keeps).toBe(3);
    expect(v.improvements).toBe(2);
    expect(v.costPerKeepUsd).toBeCloseTo(0.75, 10);
  });

  it('has no cost per keep without an improvement or without any reported cost', () => {
    expect(view(ledger({ status: 'discard', metric: 1.2, costUsd: 0.3 })).costPerKeepUsd).toBeNull();
    const unreported = view(ledger({ status: 'keep', metric: 0.9 }));
    expect(unreported.costUsd).toBeNull();
    expect(unreported.costPerKeepUsd).toBeNull();
    expect(costPerKeep(0, 3)).toBe(0);
    expect(costPerKeep(null, 3)).toBeNull();
  });
});

describe('best vs baseline', () => {
  it('is positive when better, whichever the direction', () => {
    const lower = view(ledger({ status: 'keep', metric: 0.8 }, { status: 'discard', metric: 0.85 }));
    expect(lower.best).toBe(0.8);
    expect(lower.baseline).toBe(1);
    expect(lower.improvementPct).toBeCloseTo(20, 10);
    expect(lower.bestDescription).toBe('change 1');

    const higher = view(ledger({ status: 'keep', metric: 1.25 }), { direction: 'higher' });
    expect(higher.improvementPct).toBeCloseTo(25, 10);
  });

  it('is 0 with only the baseline and null without a baseline metric', () => {
    expect(view(ledger()).improvementPct).toBe(0);
    expect(view([row({ status: 'crash' }, 0)]).improvementPct).toBeNull();
  });

  it('reads a ledger written by the Python skill: 4 columns, N/A rows, a tab-split description', () => {
    const v = view(fixtureRows('prompts/headline-ctr'), { direction: 'higher', metric: 'ctr' });
    expect([v.iterations, v.keeps, v.discards, v.crashes, v.improvements]).toEqual([8, 4, 2, 2, 3]);
    expect(v.baseline).toBe(0.0412);
    expect(v.best).toBe(0.0518);
    expect(v.improvementPct).toBeCloseTo(((0.0518 - 0.0412) / 0.0412) * 100, 10);
    // The seed records neither durations nor costs: unknown, not zero.
    expect(v.timeSpentS).toBeNull();
    expect(v.costUsd).toBeNull();
    expect(v.avgIterationS).toBeNull();
    expect(v.chart.y.filter((y) => y === null)).toHaveLength(2);
    expect(v.chart.d[5]).toBe('number in headline and a tab the skill did not strip');
  });
});

describe('time and ETA', () => {
  it('sums duration_s and averages the iterations after the baseline', () => {
    const rows = ledger({ status: 'keep', metric: 0.9, durationS: 10 }, { status: 'discard', metric: 1, durationS: 20 }, { status: 'crash', durationS: 30 }, { status: 'discard', metric: 1, durationS: 40 });
    const v = view(rows);
    expect(v.timeSpentS).toBe(105);
    expect(v.avgIterationS).toBe(25);
    expect(averageIterationS(rows.slice(0, 1))).toBe(5); // only the baseline: its own time
  });

  it('max_experiments: iterations left × the average iteration time', () => {
    const rows = ledger({ status: 'keep', metric: 0.9, durationS: 10 }, { status: 'discard', metric: 1, durationS: 20 }, { status: 'crash', durationS: 30 }, { status: 'discard', metric: 1, durationS: 40 });
    const v = view(rows, { maxExperiments: 10 });
    expect(v.eta).toEqual({ by: 'max_experiments', remainingIterations: 6, remainingS: 150, at: new Date(NOW + 150_000).toISOString() });
  });

  it('max_experiments on an empty ledger still owes the baseline', () => {
    expect(estimateEta({ rows: [], maxExperiments: 3, maxRuntimeMs: null, startedAt: null, now: NOW, avgIterationS: 60 })).toMatchObject({ remainingIterations: 4, remainingS: 240 });
  });

  it('max_runtime: the wall-clock budget left since the first start, and how many iterations fit', () => {
    const rows = ledger({ status: 'discard', metric: 1, durationS: 600 });
    const v = view(rows, { maxRuntimeMs: 2 * 3_600_000 }, { startedAt: NOW - 30 * 60_000 });
    expect(v.maxRuntimeS).toBe(7200);
    expect(v.eta).toEqual({ by: 'max_runtime', remainingIterations: 9, remainingS: 5400, at: new Date(NOW + 5_400_000).toISOString() });
  });

  it('max_runtime never started: the whole budget is ahead', () => {
    expect(estimateEta({ rows: [], maxExperiments: null, maxRuntimeMs: 3_600_000, startedAt: null, now: NOW, avgIterationS: null })).toEqual({
      by: 'max_runtime',
      remainingIterations: null,
      remainingS: 3600,
      at: new Date(NOW + 3_600_000).toISOString(),
    });
  });

  it('with both limits, the one reached first', () => {
    const rows = ledger({ status: 'discard', metric: 1, durationS: 60 });
    // 99 iterations × 60 s = 99 min, but only 10 min of runtime left.
    expect(view(rows, { maxExperiments: 100, maxRuntimeMs: 3_600_000 }, { startedAt: NOW - 50 * 60_000 }).eta).toMatchObject({ by: 'max_runtime', remainingS: 600, remainingIterations: 10 });
    // 2 iterations × 60 s = 2 min, before the 10 min of runtime.
    expect(view(rows, { maxExperiments: 3, maxRuntimeMs: 3_600_000 }, { startedAt: NOW - 50 * 60_000 }).eta).toMatchObject({ by: 'max_experiments', remainingS: 120, remainingIterations: 2 });
  });

  it('without durations (a seed ledger), only a time limit gives a time', () => {
    const rows = fixtureRows('prompts/headline-ctr');
    expect(view(rows, { maxExperiments: 20 }).eta).toEqual({ by: 'max_experiments', remainingIterations: 13, remainingS: null, at: null });
    expect(view(rows, { maxExperiments: 20, maxRuntimeMs: 60_000 }).eta).toMatchObject({ by: 'max_runtime', remainingS: 60 });
  });

  it('reached: 0 left; no limit: no ETA; no config: no ETA', () => {
    const rows = ledger({ status: 'discard', metric: 1, durationS: 60 }, { status: 'discard', metric: 1, durationS: 60 });
    expect(view(rows, { maxExperiments: 2 }).eta).toEqual({ by: 'max_experiments', remainingIterations: 0, remainingS: 0, at: new Date(NOW).toISOString() });
    expect(view(rows, { maxRuntimeMs: 60_000 }, { startedAt: NOW - 3_600_000 }).eta).toMatchObject({ remainingS: 0, remainingIterations: 0 });
    expect(view(rows).eta).toBeNull();
    expect(buildExperimentView({ ...baseInput(rows), config: null }).eta).toBeNull();
  });
});

function baseInput(rows: LedgerRow[]): ViewInput {
  return { id: 'a/b', scope: 'project', rows, config: null, status: { state: 'idle', reason: null, wait_until: null, phase: null }, startedAt: null, now: NOW };
}

describe('chart', () => {
  it('one point per row, the running best as steps, ties and discards not moving it', () => {
    const rows = ledger(
      { status: 'discard', metric: 0.95 },
      { status: 'keep', metric: 0.9 },
      { status: 'crash' },
      { status: 'keep', metric: 0.9 }, // a tie (the seed's agent may keep one): not a new best
      { status: 'keep', metric: 0.7 },
    );
    const c = buildChart(rows, 'lower');
    expect(c.x).toEqual([0, 1, 2, 3, 4, 5]);
    expect(c.y).toEqual([1, 0.95, 0.9, null, 0.9, 0.7]);
    expect(c.s).toBe('kdkckk');
    expect(c.best).toEqual([
      [0, 1],
      [2, 0.9],
      [5, 0.7],
    ]);
    // Most important first: the baseline, then by the size of the step (the tie moved nothing).
    expect(c.labels.map(([i]) => i)).toEqual([0, 5, 2, 4]);
  });

  it('truncates labels, and past MAX_LABELS keeps only the largest steps', () => {
    const long = 'x'.repeat(100);
    // Every keep a new best, by steps alternating big (0.01) and small (0.0001).
    let m = 1;
    const keeps = Array.from({ length: MAX_LABELS + 10 }, (_, i) => ({ status: 'keep' as const, metric: (m -= i % 2 === 0 ? 0.01 : 0.0001), description: long }));
    const c = buildChart(ledger(...keeps), 'lower');
    expect(c.labels).toHaveLength(MAX_LABELS);
    expect(c.labels[0]).toEqual([0, 'baseline']);
    expect(c.labels.slice(1).every(([, text]) => text.length === LABEL_CHARS && text.endsWith('…'))).toBe(true);
    // The baseline and all 25 big steps are labelled before any small one.
    const labelled = new Set(c.labels.map(([i]) => i));
    expect(labelled.has(0)).toBe(true);
    for (let i = 1; i <= keeps.length; i += 2) expect(labelled.has(i)).toBe(true);
  });

  it('steps the running best back when a revalidation undoes keeps (issue 11)', () => {
    const c = buildChart(
      ledger(
        { status: 'keep', metric: 0.9, reason: 'improved', commit: 'b000001' },
        { status: 'keep', metric: 0.8, reason: 'improved', commit: 'b000002' },
        { status: 'discard', metric: 0.93, reason: 'revalidation_failed', commit: 'b000002' },
      ),
      'lower',
    );
    expect(c.best).toEqual([
      [0, 1],
      [1, 0.9],
      [2, 0.8],
      [3, 0.9],
    ]);
  });

  it('higher is better: the best climbs', () => {
    const c = buildChart(ledger({ status: 'keep', metric: 2 }, { status: 'keep', metric: 3 }), 'higher');
    expect(c.best.map(([, v]) => v)).toEqual([1, 2, 3]);
  });
});

describe('rows not evaluated, why, suspicious keeps', () => {
  it('leaves rows that never reached the evaluation out of the points, as counted gaps between them', () => {
    const rows = ledger(
      { status: 'discard', reason: 'no_change' },
      { status: 'discard', reason: 'no_change' },
      { status: 'crash', reason: 'agent_exit', detail: 'claude exited 1' },
      { status: 'discard', metric: 1.2, reason: 'no_improvement' },
      { status: 'crash', reason: 'eval_exit', detail: "SyntaxError: expected ':' (train.py:41)" },
      { status: 'discard', reason: 'scope_violation', detail: 'eval.sh is outside scope (train.py)' },
      { status: 'keep', metric: 0.5, reason: 'improved', detail: 'suspicious: improved by exactly 50%' },
      { status: 'discard', reason: 'no_change' },
    );
    const c = buildChart(rows, 'lower');
    expect(c.x).toEqual([0, 4, 5, 7]);
    expect(c.s).toBe('kdck');
    expect(c.gaps).toEqual([
      [1, 3, 1, 3, '2 no_change, 1 agent_exit'],
      [3, 1, 6, 6, '1 scope_violation'],
      [4, 1, 8, 8, '1 no_change'], // a trailing run: after the last point
    ]);
    expect(c.hidden).toBe(5);
    expect(c.hiddenWhy).toEqual([['no_change', 3], ['agent_exit', 1], ['scope_violation', 1]]);
    // The why: detail when the row has one, else its reason code; nothing for a plain keep.
    expect(c.why).toEqual(['', 'no_improvement', "SyntaxError: expected ':' (train.py:41)", 'suspicious: improved by exactly 50%']);
    expect(c.sus).toEqual([3]);
    expect(c.best).toEqual([[0, 1], [3, 0.5]]); // point indices
    const v = view(rows);
    expect(v.suspicious).toEqual([{ iteration: 7, detail: 'suspicious: improved by exactly 50%' }]);
    expect(v.experiments).toBe(8);
  });

  it('evaluated: a metric, an evaluation that failed, or a row of the seed skill (no reason)', () => {
    const r = (partial: Partial<LedgerRow> & Pick<LedgerRow, 'status'>) => isEvaluated(row(partial, 1));
    expect(r({ status: 'crash', reason: 'metric_missing' })).toBe(true);
    expect(r({ status: 'crash', reason: 'eval_timeout' })).toBe(true);
    expect(r({ status: 'crash', reason: null })).toBe(true);
    expect(r({ status: 'crash', reason: 'setup_failed' })).toBe(false);
    expect(r({ status: 'crash', reason: 'worktree_tampered' })).toBe(false);
    expect(r({ status: 'discard', reason: 'no_change' })).toBe(false);
  });

  it('reads the detail column of results.tsv into row.detail', () => {
    const rows = fixtureRows('engineering/train-speed-b');
    expect(rows[2]?.detail).toBe("SyntaxError: expected ':' (train.py:41)");
    expect(rows[0]?.detail).toBeNull();
    expect(fixtureRows('engineering/train-speed')[3]?.detail).toBeUndefined(); // no such column
  });
});

describe('live phase', () => {
  const config = { metric: 'm', direction: 'lower' as const, maxExperiments: null, maxRuntimeMs: null, timeBudgetMs: 300_000, evalTimeoutMs: 750_000, agentTimeoutMs: 1_800_000 };
  const input = (status: Partial<ViewInput['status']>, intent: ViewInput['intent']): ViewInput => ({
    ...baseInput([]),
    config,
    status: { state: 'running', reason: null, wait_until: null, phase: null, ...status },
    intent,
  });

  it('from state.json: the intent gives the phase, the iteration and since when; eval against time_budget and eval_timeout', () => {
    expect(livePhase(input({}, { iteration: 4, phase: 'eval', startedAt: '2026-03-08T11:58:00.000Z' }))).toEqual({ iteration: 4, phase: 'eval', since: '2026-03-08T11:58:00.000Z', budgetS: 300, limitS: 750 });
    expect(livePhase(input({}, { iteration: 5, phase: 'agent', startedAt: '2026-03-08T11:58:00.000Z' }))).toMatchObject({ phase: 'agent', budgetS: null, limitS: 1800 });
  });

  it("the daemon's phase wins; a phase the intent does not describe has no start time", () => {
    expect(livePhase(input({ phase: 'decide' }, { iteration: 4, phase: 'eval', startedAt: '2026-03-08T11:58:00.000Z' }))).toEqual({ iteration: 4, phase: 'decide', since: null, budgetS: null, limitS: null });
    expect(livePhase(input({ phase: 'eval' }, { iteration: 4, phase: 'eval', startedAt: null }))).toMatchObject({ since: null }); // a state.json of an older version
  });

  it('not running: no live phase, whatever a stale intent says', () => {
    expect(livePhase(input({ state: 'idle' }, { iteration: 4, phase: 'eval', startedAt: '2026-03-08T11:58:00.000Z' }))).toBeNull();
  });
});

describe('pace (what the ETA multiplies)', () => {
  it('measured: mean agent time + mean eval time × the share evaluated + the rest of duration_s', () => {
    const rows = ledger(
      { status: 'discard', metric: 1, durationS: 130 },
      { status: 'discard', reason: 'no_change', durationS: 32 },
      { status: 'keep', metric: 0.9, durationS: 150 },
      { status: 'discard', reason: 'no_change', durationS: 28 },
    );
    const timings = [
      { iteration: 1, agentMs: 30_000, evalMs: 100_000 },
      { iteration: 2, agentMs: 30_000, evalMs: null },
      { iteration: 3, agentMs: 40_000, evalMs: 110_000 },
      { iteration: 4, agentMs: 28_000, evalMs: null },
    ];
    const pace = measurePace(rows, timings, 300_000);
    // agent (30+30+40+28)/4 = 32, eval (100+110)/2 = 105 for half of them, rest (0+2+0+0)/4 = 0.5.
    expect(pace).toEqual({ perIterationS: 32 + 0.5 * 105 + 0.5, agentS: 32, evalS: 105, evalShare: 0.5, sample: 4, source: 'measured', lowerBound: false });
    // The ETA uses it: 6 experiments left.
    expect(view(rows, { maxExperiments: 10 }, { timings }).eta?.remainingS).toBeCloseTo(6 * 85);
  });

  it(`recent only: the last ${PACE_WINDOW} iterations after the baseline`, () => {
    const slow = Array.from({ length: 30 }, () => ({ status: 'discard' as const, metric: 1, durationS: 1000 }));
    const fast = Array.from({ length: PACE_WINDOW }, () => ({ status: 'discard' as const, metric: 1, durationS: 100 }));
    expect(measurePace(ledger(...slow, ...fast), [], null)).toMatchObject({ perIterationS: 100, source: 'ledger', sample: PACE_WINDOW });
  });

  it('only the baseline: its evaluation, as a lower bound; nothing yet: time_budget, as a lower bound; a seed ledger: unknown', () => {
    expect(measurePace(ledger(), [{ iteration: 0, agentMs: null, evalMs: 42_000 }], null)).toMatchObject({ perIterationS: 42, lowerBound: true, source: 'measured' });
    expect(measurePace(ledger(), [], null)).toMatchObject({ perIterationS: 5, lowerBound: true, source: 'ledger' });
    expect(measurePace([], [], 300_000)).toMatchObject({ perIterationS: 300, lowerBound: true, source: 'budget' });
    expect(measurePace(fixtureRows('prompts/headline-ctr'), [], 300_000)).toBeNull();
  });
});

describe('overlays', () => {
  it('groups experiments by metric and direction, two or more with a point', () => {
    const make = (id: string, metric: string, direction: 'lower' | 'higher', rows = ledger()) =>
      buildExperimentView({ ...baseInput(rows), id, config: { metric, direction, maxExperiments: null, maxRuntimeMs: null } });
    const groups = overlayGroups([
      make('a/one', 'loss', 'lower'),
      make('a/two', 'loss', 'lower'),
      make('a/three', 'loss', 'higher'),
      make('a/four', 'acc', 'higher'),
      make('a/five', 'acc', 'higher', []), // no point yet
      make('a/six', 'loss', 'lower'),
    ]);
    expect(groups).toEqual([{ metric: 'loss', direction: 'lower', ids: ['a/one', 'a/two', 'a/six'] }]);
  });
});

describe('page', () => {
  it('embeds JSON that cannot close its script element', () => {
    const text = embedJson({ d: '</script><script>alert(1)</script><!-- \u2028' });
    expect(text).not.toMatch(/<\/script|<!--|<script/i);
    expect(JSON.parse(text)).toEqual({ d: '</script><script>alert(1)</script><!-- \u2028' });
  });

  it('the inline script never contains what would end or derail a script element, and parses', () => {
    expect(DASHBOARD_SCRIPT).not.toMatch(/<\/script|<script|<!--/i);
    expect(() => new Function(DASHBOARD_SCRIPT)).not.toThrow();
  });

  it('is one file with no external resource', () => {
    const data: DashboardData = { version: 1, generatedAt: new Date(NOW).toISOString(), root: '/p', live: false, experiments: [view(fixtureRows('engineering/train-speed'))], overlays: [] };
    const html = renderDashboardHtml(data);
    // The only link is the empty data: favicon, which spares the browser a request for /favicon.ico.
    expect(html.match(/\b(?:src|href)=[^ >]*/gi)).toEqual(['href="data:,"']);
    expect(html).not.toMatch(/@import|url\(|https?:\/\//i);
    // Exactly one data block and one script: the description with </script> did not split them.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });
});

describe('cachedDashboard (the daemon)', () => {
  const data = (n: number): DashboardData => ({ version: 1, generatedAt: String(n), root: '/', live: true, experiments: [], overlays: [] });

  it('awaits the first build, then serves the cache while it rebuilds in the background', async () => {
    let now = 0;
    let builds = 0;
    let release: () => void = () => {};
    const source = cachedDashboard(
      () => {
        builds++;
        const n = builds;
        return n === 1 ? Promise.resolve(data(1)) : new Promise((resolve) => (release = () => resolve(data(n))));
      },
      2000,
      () => now,
    );
    expect((await source()).generatedAt).toBe('1');
    now = 1000;
    expect((await source()).generatedAt).toBe('1');
    expect(builds).toBe(1);
    now = 2500;
    expect((await source()).generatedAt).toBe('1'); // stale, but served at once; one rebuild started
    expect((await source()).generatedAt).toBe('1');
    expect(builds).toBe(2);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect((await source()).generatedAt).toBe('2');
  });

  it('keeps serving the last good data when a rebuild fails', async () => {
    let now = 0;
    let fail = false;
    const source = cachedDashboard(() => (fail ? Promise.reject(new Error('disk')) : Promise.resolve(data(now))), 1000, () => now);
    expect((await source()).generatedAt).toBe('0');
    fail = true;
    now = 5000;
    expect((await source()).generatedAt).toBe('0');
    await new Promise((r) => setTimeout(r, 0));
    fail = false;
    expect((await source()).generatedAt).toBe('0'); // the retry starts now
    await new Promise((r) => setTimeout(r, 0));
    expect((await source()).generatedAt).toBe('5000');
  });
});
