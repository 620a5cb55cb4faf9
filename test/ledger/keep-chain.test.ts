import { describe, expect, it } from 'vitest';
import { countExperiments } from '../../src/ledger/experiment-counts.js';
import { keepChainOf } from '../../src/ledger/keep-chain.js';
import { countsAsExperiment, summarizeRows } from '../../src/ledger/summary.js';
import type { LedgerRow, RowStatus } from '../../src/ledger/types.js';

/** Rows numbered in order; the commit of iteration n is `c<n>` (padded like a short hash). */
function ledger(...specs: Array<[RowStatus, number | null, string | null, string?, string?]>): LedgerRow[] {
  return specs.map(([status, metric, reason, description = 'change', commit], iteration) => ({
    commit: commit ?? `c${iteration}000000`.slice(0, 7),
    metric,
    status,
    description,
    iteration,
    timestamp: null,
    durationS: null,
    reason,
    agent: null,
  }));
}

describe('keep chain: a revalidation_failed row undoes keeps', () => {
  // 0 baseline 1.0, keeps 1 (0.9), 3 (0.8), 4 (0.7); 5 says keep 3 (the oldest that did not reproduce) re-measured 0.92.
  const rows = ledger(
    ['keep', 1.0, 'baseline', 'baseline'],
    ['keep', 0.9, 'improved'],
    ['discard', 0.95, 'within_noise'],
    ['keep', 0.8, 'improved'],
    ['keep', 0.7, 'improved'],
    ['discard', 0.92, 'revalidation_failed', 'revalidation: keeps 3, 4 did not reproduce', 'c300000'],
  );

  it('makes the keep before the named one the best: that keep and every later keep are undone', () => {
    const chain = keepChainOf(rows);
    expect(chain.best?.iteration).toBe(1);
    expect(chain.chain.map((r) => r.iteration)).toEqual([0, 1]);
    expect(chain.undone.map((r) => r.iteration)).toEqual([3, 4]);
    const s = summarizeRows(rows, 'lower');
    expect(s).toMatchObject({ best: 0.9, baseline: 1.0, revalidations: 1, discards: 1, keeps: 4, experiments: 4 });
    expect(s.bestRow).toBe(rows[1]);
    expect(s.undoneKeeps.map((r) => r.iteration)).toEqual([3, 4]);
  });

  it('is not an experiment: max_experiments and the counts leave it out', () => {
    expect(countsAsExperiment(rows[5] as LedgerRow)).toBe(false);
    expect(countExperiments(rows)).toEqual({ baseline: true, experiments: 4, keeps: 3, discards: 1, crashes: 0 });
  });

  it('keeps counting from the restored best: a later keep goes on top of it', () => {
    const more = [...rows, ...ledger(['keep', 0.85, 'improved']).map((r) => ({ ...r, iteration: 6, commit: 'c600000' }))];
    expect(keepChainOf(more).chain.map((r) => r.iteration)).toEqual([0, 1, 6]);
    expect(summarizeRows(more, 'lower').best).toBe(0.85);
  });

  it('names the keep by a short or a full hash; a commit not in the chain undoes nothing', () => {
    const full = rows.map((r, i) => (i === 5 ? { ...r, commit: 'c300000deadbeef' } : r));
    expect(keepChainOf(full).best?.iteration).toBe(1);
    const unknown = rows.map((r, i) => (i === 5 ? { ...r, commit: 'fffffff' } : r));
    expect(keepChainOf(unknown).best?.iteration).toBe(4);
    expect(summarizeRows(unknown, 'lower').best).toBe(0.7);
  });

  it('after a reset, undoes the reset too when the restored commit does not reproduce', () => {
    // 0 baseline, 1 keep, 2 keep, 3 reset to 1 (same commit as 1), 4 keep; then keep 1's commit fails.
    const withReset = ledger(
      ['keep', 1.0, 'baseline', 'baseline'],
      ['keep', 0.9, 'improved'],
      ['keep', 0.8, 'improved'],
      ['keep', 0.9, 'reset', 'reset to iteration 1 (undoes keep 2)', 'c100000'],
      ['keep', 0.85, 'improved'],
      ['discard', 0.99, 'revalidation_failed', 'revalidation', 'c100000'],
    );
    const chain = keepChainOf(withReset);
    expect(chain.chainAt(3)?.map((r) => r.iteration)).toEqual([0, 1, 3]);
    expect(chain.best?.iteration).toBe(0);
    expect(chain.undone.map((r) => r.iteration)).toEqual([1, 3, 4]);
  });

  it('in a plain ledger the best is the last keep, as before', () => {
    const plain = ledger(['keep', 1, 'baseline', 'baseline'], ['keep', 0.9, 'improved'], ['discard', 0.8, 'guard_failed: val_acc 0.71 < 0.85'], ['keep', 0.85, 'improved']);
    expect(keepChainOf(plain).best?.iteration).toBe(3);
    expect(summarizeRows(plain, 'lower')).toMatchObject({ best: 0.85, discards: 1, revalidations: 0, undoneKeeps: [] });
  });
});
