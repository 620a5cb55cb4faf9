/**
 * What the ledger says about an experiment: counts, baseline, best, improvement, and the
 * trailing crash streak the circuit breaker counts (SPEC §7). Pure.
 *
 * "Best so far" is the keep on top of the keep chain (keep-chain.ts), everywhere (run's summary,
 * `status`, `results`, the dashboard, the report): it is what the loop continues from
 * (state.lastKept) and what a candidate must beat. In a plain run that is the last keep, and
 * every keep beats the one before, so it is also the best one; after `reset --to N` (a keep row
 * repeating keep N) or `rebase` (a new baseline measured on the project's HEAD) it is
 * deliberately not the minimum over all rows; after a `revalidation_failed` row it is the keep
 * before the oldest one that did not reproduce.
 */
import type { Direction } from '../config/types.js';
import { improvementPct as improvementPctOf } from '../core/improvement.js';
import { isResetRow, isRevalidationRow, keepChainOf } from './keep-chain.js';
import type { LedgerRow } from './types.js';

export { isResetRow, isRevalidationRow } from './keep-chain.js';

export interface LedgerSummary {
  iterations: number;
  /** Rows max_experiments counts: every row but baselines and resets (countsAsExperiment). */
  experiments: number;
  keeps: number;
  /** Discards among the experiments: a revalidation row is counted in `revalidations` instead. */
  discards: number;
  crashes: number;
  /** `revalidation_failed` rows: keeps that did not reproduce were undone. */
  revalidations: number;
  /** The keeps those rows undid (never the best again, unless `reset --to` puts one back). */
  undoneKeeps: LedgerRow[];
  /** The last baseline row's metric (see baselineRow): a rebase re-measures it. */
  baseline: number | null;
  baselineRow: LedgerRow | null;
  /** The current best: the metric of the keep on top of the keep chain (see the file comment). */
  best: number | null;
  /** That keep row (a reset row names the keep it restored in its description). */
  bestRow: LedgerRow | null;
  /** best − baseline, sign as is. */
  improvement: number | null;
  /** Relative change in the good direction, in percent: positive = better. Null for a 0 baseline. */
  improvementPct: number | null;
  /** Crash rows at the end of the ledger. */
  consecutiveCrashes: number;
}

export function summarizeRows(rows: readonly LedgerRow[], direction: Direction): LedgerSummary {
  const keepsWithMetric = rows.filter((row): row is LedgerRow & { metric: number } => row.status === 'keep' && row.metric !== null);

  // Our baseline rows say so (the last one counts: `rebase` measures a new one); a
  // seed-written ledger has no such row, so its first keep is the baseline.
  const baselineRow = keepsWithMetric.findLast(isBaselineRow) ?? keepsWithMetric[0] ?? null;
  const baseline = baselineRow?.metric ?? null;

  const chain = keepChainOf(rows);
  const bestRow = chain.best;
  const best = bestRow?.metric ?? null;

  const improvement = best !== null && baseline !== null ? best - baseline : null;
  const improvementPct = improvementPctOf(best, baseline, direction);

  let consecutiveCrashes = 0;
  for (let i = rows.length - 1; i >= 0 && rows[i]?.status === 'crash'; i--) consecutiveCrashes++;

  return {
    iterations: rows.length,
    experiments: rows.filter(countsAsExperiment).length,
    keeps: count(rows, 'keep'),
    discards: rows.filter((row) => row.status === 'discard' && !isRevalidationRow(row)).length,
    crashes: count(rows, 'crash'),
    revalidations: rows.filter(isRevalidationRow).length,
    undoneKeeps: [...chain.undone],
    baseline,
    baselineRow,
    best,
    bestRow,
    improvement,
    improvementPct,
    consecutiveCrashes,
  };
}

/** A baseline: ours says so in its reason; the seed skill's only in its description. */
export function isBaselineRow(row: LedgerRow): boolean {
  return row.reason === 'baseline' || (row.reason === null && row.description.startsWith('baseline')) || row.description === 'baseline';
}

/** What max_experiments counts: an iteration that tried a change (not a baseline, a reset or a revalidation). */
export function countsAsExperiment(row: LedgerRow): boolean {
  return !isBaselineRow(row) && !isResetRow(row) && !isRevalidationRow(row);
}

function count(rows: readonly LedgerRow[], status: LedgerRow['status']): number {
  return rows.reduce((n, row) => n + (row.status === status ? 1 : 0), 0);
}
