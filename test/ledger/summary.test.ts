import { describe, expect, it } from 'vitest';
import { summarizeRows } from '../../src/ledger/summary.js';
import type { LedgerRow, RowStatus } from '../../src/ledger/types.js';

let iteration = 0;
function r(status: RowStatus, metric: number | null, description = 'change', reason: string | null = null): LedgerRow {
  return { commit: `c${iteration}`, metric, status, description, iteration: iteration++, timestamp: null, durationS: null, reason, agent: null };
}

describe('summarizeRows', () => {
  it('is all zeros and nulls for an empty ledger', () => {
    expect(summarizeRows([], 'lower')).toEqual({
      iterations: 0,
      experiments: 0,
      keeps: 0,
      discards: 0,
      crashes: 0,
      revalidations: 0,
      undoneKeeps: [],
      baseline: null,
      baselineRow: null,
      best: null,
      bestRow: null,
      improvement: null,
      improvementPct: null,
      consecutiveCrashes: 0,
    });
  });

  it('counts rows, finds baseline and best, and measures the improvement (lower is better)', () => {
    const rows = [r('keep', 2, 'baseline (unmodified)', 'baseline'), r('discard', 2.5), r('keep', 1.5), r('crash', null), r('discard', 1.0), r('crash', null), r('crash', null)];
    const s = summarizeRows(rows, 'lower');
    expect(s).toMatchObject({ iterations: 7, experiments: 6, keeps: 2, discards: 2, crashes: 3, baseline: 2, best: 1.5, improvement: -0.5, improvementPct: 25, consecutiveCrashes: 2 });
    expect(s.bestRow).toBe(rows[2]); // a discard with a better metric is not the best: it was not kept
  });

  it('measures the improvement when higher is better, positive meaning better', () => {
    const rows = [r('keep', 0.8, 'baseline'), r('keep', 0.9), r('discard', 0.85)];
    const s = summarizeRows(rows, 'higher');
    expect(s.best).toBe(0.9);
    expect(s.improvement).toBeCloseTo(0.1, 12);
    expect(s.improvementPct).toBeCloseTo(12.5, 10);
    expect(s.consecutiveCrashes).toBe(0);
  });

  it('is positive for a better negative metric', () => {
    const s = summarizeRows([r('keep', -10, 'baseline'), r('keep', -12)], 'lower');
    expect(s.improvement).toBe(-2);
    expect(s.improvementPct).toBeCloseTo(20, 10);
  });

  it("takes a seed ledger's first keep as baseline, skipping keep rows without a metric", () => {
    const rows = [r('crash', null, 'exit_1'), r('keep', null, 'improved_metric_nan'), r('keep', 5, 'improved_metric_5.0000'), r('keep', 4, 'improved_metric_4.0000')];
    expect(summarizeRows(rows, 'lower')).toMatchObject({ baseline: 5, best: 4, improvementPct: 20, consecutiveCrashes: 0 });
  });

  it('prefers the row marked baseline over an earlier keep', () => {
    const rows = [r('keep', 7, 'imported'), r('keep', 6, 'baseline after rebase')];
    expect(summarizeRows(rows, 'lower')).toMatchObject({ baseline: 6, best: 6, improvement: 0, improvementPct: 0 });
  });

  it('the best is the last keep (what the loop continues from), and no percentage for a zero baseline', () => {
    const rows = [r('keep', 0, 'baseline'), r('keep', 3), r('keep', 3)];
    const s = summarizeRows(rows, 'higher');
    expect(s.bestRow).toBe(rows[2]);
    expect(s.improvement).toBe(3);
    expect(s.improvementPct).toBeNull();
  });

  it('after a reset, the best is the keep it restored, not the minimum over all keeps; a reset is no experiment', () => {
    const rows = [r('keep', 10, 'baseline', 'baseline'), r('keep', 8, 'a', 'improved'), r('keep', 6, 'b', 'improved'), r('keep', 4, 'c', 'improved'), r('keep', 8, 'reset to iteration 1 (undoes keeps 2, 3)', 'reset'), r('discard', 9, 'd', 'no_improvement')];
    const s = summarizeRows(rows, 'lower');
    expect(s).toMatchObject({ best: 8, baseline: 10, improvementPct: 20, experiments: 4, keeps: 5 });
    expect(s.bestRow).toBe(rows[4]);
  });

  it("after a rebase, the new baseline row is the baseline and the best until something beats it", () => {
    const rows = [r('keep', 10, 'baseline', 'baseline'), r('keep', 8, 'a', 'improved'), r('keep', 20, 'baseline after rebase onto main@abc1234 (1 keep carried)', 'baseline'), r('keep', 15, 'b', 'improved')];
    const s = summarizeRows(rows, 'lower');
    expect(s).toMatchObject({ baseline: 20, best: 15, improvementPct: 25, experiments: 2 });
    expect(s.baselineRow).toBe(rows[2]);
  });

  it('counts a ledger of only crashes as one streak', () => {
    expect(summarizeRows([r('crash', null), r('crash', null), r('crash', null)], 'lower')).toMatchObject({ crashes: 3, consecutiveCrashes: 3, baseline: null, best: null });
  });
});
