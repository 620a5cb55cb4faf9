/**
 * Issue 11's evidence in the dashboard's model (pure): which keep is the best after a failed
 * re-validation, σ for the noise band, the error bars, p-values and guard values of each point.
 * Ledger rows are built here, not read from results.tsv columns.
 */
import { describe, expect, it } from 'vitest';
import { keptLineage } from '../../src/dashboard/kept-lineage.js';
import { buildChart, buildExperimentView, isEvaluated } from '../../src/dashboard/model.js';
import { noiseEstimate } from '../../src/dashboard/noise-estimate.js';
import type { Evidence } from '../../src/decision/types.js';
import type { LedgerRow } from '../../src/ledger/types.js';

type Spec = Partial<LedgerRow> & Pick<LedgerRow, 'status' | 'commit'>;

function rows(...specs: Spec[]): LedgerRow[] {
  return specs.map((spec, iteration) => ({
    metric: null,
    description: iteration === 0 ? 'baseline' : `change ${iteration}`,
    iteration,
    timestamp: null,
    durationS: 10,
    reason: iteration === 0 ? 'baseline' : null,
    agent: null,
    ...spec,
  }));
}

const evidence = (samples: number, mean: number | null, spread: number | null, pValue: number | null = null): Evidence => ({ samples, mean, spread, pValue });

function view(r: LedgerRow[], extra: { noise?: { sumSquares: number; df: number } | null; sigma?: number } = {}) {
  return buildExperimentView({
    id: 'ml/noisy',
    scope: 'project',
    rows: r,
    config: { metric: 'loss', direction: 'lower', maxExperiments: null, maxRuntimeMs: null, noise: extra.sigma === undefined ? { kind: 'auto' } : { kind: 'known', sigma: extra.sigma } },
    status: { state: 'idle', reason: null, wait_until: null, phase: null },
    startedAt: null,
    now: Date.parse('2026-03-08T12:00:00Z'),
    noise: extra.noise ?? null,
  });
}

/** baseline 1.0 (a0), keeps 0.9 (b1), 0.8 (c2), 0.7 (d3), then a re-validation finds c2's gain did not reproduce. */
const REVALIDATED = rows(
  { commit: 'a0a0a0a', metric: 1, status: 'keep' },
  { commit: 'b1b1b1b', metric: 0.9, status: 'keep', reason: 'improved' },
  { commit: 'c2c2c2c', metric: 0.8, status: 'keep', reason: 'improved' },
  { commit: 'd3d3d3d', metric: 0.7, status: 'keep', reason: 'improved' },
  { commit: 'c2c2c2c', metric: 0.93, status: 'discard', reason: 'revalidation_failed', description: 'revalidation: keeps #2-#3 did not reproduce' },
  { commit: 'e5e5e5e', metric: 0.85, status: 'keep', reason: 'improved' },
);

describe('the running best with re-validation (kept-lineage.ts)', () => {
  it('a revalidation_failed row undoes its keep and every later one: the best is the keep before it', () => {
    const lineage = keptLineage(REVALIDATED);
    expect(lineage.bestAfter.map((r) => r?.metric ?? null)).toEqual([1, 0.9, 0.8, 0.7, 0.9, 0.85]);
    expect([...lineage.undone].map((r) => r.iteration)).toEqual([2, 3]);

    const v = view(REVALIDATED);
    expect(v.best).toBe(0.85);
    expect(v.chart.best).toEqual([[0, 1], [1, 0.9], [2, 0.8], [3, 0.7], [4, 0.9], [5, 0.85]]);
    expect(v.chart.undone).toEqual([2, 3]);
    // The step back is drawn at the revalidation row, a discard point with the re-measured value.
    expect(v.chart.s).toBe('kkkkdk');

    const stopped = view(REVALIDATED.slice(0, 5));
    expect(stopped.best).toBe(0.9);
    expect(stopped.bestDescription).toBe('change 1');
    expect(stopped.improvementPct).toBeCloseTo(10, 10);
  });

  it('names the commit by any prefix; a commit that is no keep changes nothing', () => {
    const short = REVALIDATED.slice(0, 4).concat({ ...REVALIDATED[4]!, commit: 'c2c2c2c2f00d' });
    expect(keptLineage(short).bestAfter.at(-1)?.metric).toBe(0.9);
    const unknown = REVALIDATED.slice(0, 4).concat({ ...REVALIDATED[4]!, commit: 'fffffff' });
    expect(keptLineage(unknown).bestAfter.at(-1)?.metric).toBe(0.7);
    expect(keptLineage(unknown).undone.size).toBe(0);
  });

  it('after `reset --to N`, a failed re-validation of N steps back to the keep before N, not to a keep the reset dropped', () => {
    const r = rows(
      { commit: 'a0a0a0a', metric: 1, status: 'keep' },
      { commit: 'b1b1b1b', metric: 0.9, status: 'keep', reason: 'improved' },
      { commit: 'c2c2c2c', metric: 0.8, status: 'keep', reason: 'improved' },
      { commit: 'b1b1b1b', metric: 0.9, status: 'keep', reason: 'reset', description: 'reset to keep 1' },
      { commit: 'e4e4e4e', metric: 0.85, status: 'keep', reason: 'improved' },
      { commit: 'b1b1b1b', metric: 0.99, status: 'discard', reason: 'revalidation_failed' },
    );
    expect(keptLineage(r).bestAfter.map((x) => x?.metric ?? null)).toEqual([1, 0.9, 0.8, 0.9, 0.85, 1]);
    // Keep 1 is undone too: its commit is the one that did not reproduce (ledger/keep-chain.ts); keep 2 the reset had dropped.
    expect([...keptLineage(r).undone].map((x) => x.iteration)).toEqual([1, 3, 4]);
  });

  it('without re-validation the best is the last keep, as summarizeRows says (a reset steps back)', () => {
    const r = rows(
      { commit: 'a0a0a0a', metric: 1, status: 'keep' },
      { commit: 'b1b1b1b', metric: 0.9, status: 'keep', reason: 'improved' },
      { commit: 'c2c2c2c', metric: 0.95, status: 'discard', reason: 'no_improvement' },
      { commit: 'a0a0a0a', metric: 1, status: 'keep', reason: 'reset' },
    );
    expect(view(r).best).toBe(1);
    expect(view(r).chart.best).toEqual([[0, 1], [1, 0.9], [3, 1]]);
  });
});

describe('σ for the noise band (noise-estimate.ts)', () => {
  const repeated = rows(
    { commit: 'a0a0a0a', metric: 1, status: 'keep', evidence: evidence(3, 1, 0.1) },
    { commit: 'b1b1b1b', metric: 0.9, status: 'keep', reason: 'improved', evidence: evidence(5, 0.9, 0.2, 0.01) },
    { commit: 'c2c2c2c', metric: 0.95, status: 'discard', reason: 'no_improvement', evidence: evidence(1, 0.95, null) },
  );

  it('pools the rows: Σ(n−1)·spread² / Σ(n−1); one-sample rows add nothing', () => {
    const got = noiseEstimate(repeated, null);
    expect(got).toMatchObject({ source: 'rows', df: 6 });
    expect(got?.sigma).toBeCloseTo(Math.sqrt((2 * 0.01 + 4 * 0.04) / 6), 12);
  });

  it("prefers state.json's estimate, and a known σ in the config over both; nothing known: no band", () => {
    expect(noiseEstimate(repeated, { sumSquares: 0.08, df: 8 })).toEqual({ sigma: 0.1, source: 'state', df: 8 });
    expect(noiseEstimate(repeated, { sumSquares: 0, df: 0 })?.source).toBe('rows'); // no degrees of freedom yet
    expect(noiseEstimate(repeated, { sumSquares: 0.08, df: 8 }, { kind: 'known', sigma: 0.03 })).toEqual({ sigma: 0.03, source: 'config', df: null });
    expect(noiseEstimate(rows({ commit: 'a', metric: 1, status: 'keep' }), null, { kind: 'auto' })).toBeNull();
    expect(view(repeated, { noise: { sumSquares: 0.08, df: 8 } }).noise).toEqual({ sigma: 0.1, source: 'state', df: 8 });
    expect(view(repeated, { sigma: 0.5 }).noise?.sigma).toBe(0.5);
  });

  it("takes no σ from an estimate that cannot be one (state.json's shape itself is checked by loadState)", () => {
    expect(noiseEstimate([], { sumSquares: -1, df: 4 })).toBeNull();
    expect(noiseEstimate([], { sumSquares: 0.5, df: 0 })).toBeNull();
  });
});

describe('evidence on the points', () => {
  it('carries samples, mean, spread and p-value, and the guard values, of the points that have them', () => {
    const r = rows(
      { commit: 'a0a0a0a', metric: 1, status: 'keep', evidence: evidence(3, 1.01, 0.02) },
      { commit: 'b1b1b1b', metric: null, status: 'discard', reason: 'no_change' }, // not evaluated: no point
      { commit: 'c2c2c2c', metric: 0.99, status: 'discard', reason: 'within_noise', evidence: evidence(4, 0.99, 0.03, 0.21), guards: { memory_gb: 38.5, val_acc: null } },
      { commit: 'd3d3d3d', metric: 0.9, status: 'keep', reason: 'improved', evidence: evidence(2, 0.9, 0.01, 0.004), guards: { memory_gb: 39, val_acc: 0.9 } },
      { commit: 'e4e4e4e', metric: 1.2, status: 'discard', reason: 'no_improvement', evidence: evidence(1, 1.2, null) }, // one sample, no test: nothing to add
    );
    const c = buildChart(r, 'lower');
    expect(c.x).toEqual([0, 2, 3, 4]);
    expect(c.ev).toEqual([
      [0, 3, 1.01, 0.02, null],
      [1, 4, 0.99, 0.03, 0.21],
      [2, 2, 0.9, 0.01, 0.004],
    ]);
    expect(c.guards).toEqual([
      [1, [['memory_gb', 38.5], ['val_acc', null]]],
      [2, [['memory_gb', 39], ['val_acc', 0.9]]],
    ]);
    expect(c.why[1]).toBe('within_noise');
  });

  it('plots the new discards that ran the evaluation, even without a metric (in the strip)', () => {
    for (const reason of ['within_noise', 'check_failed', 'guard_failed', 'guard_failed: val_acc 0.71 < 0.85', 'revalidation_failed']) {
      expect(isEvaluated({ commit: 'a', metric: null, status: 'discard', description: 'x', iteration: 1, timestamp: null, durationS: 1, reason, agent: 'command' }), reason).toBe(true);
    }
    expect(isEvaluated({ commit: 'a', metric: null, status: 'discard', description: 'x', iteration: 1, timestamp: null, durationS: 1, reason: 'no_change', agent: 'command' })).toBe(false);
  });
});
