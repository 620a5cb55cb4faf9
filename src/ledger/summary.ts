/**
 * What the ledger says about an experiment: counts, baseline, best, improvement, and the
 * trailing crash streak the circuit breaker counts (SPEC §7). Pure.
 */
import type { Direction } from '../config/types.js';
import { improvementPct as improvementPctOf } from '../core/improvement.js';
import type { LedgerRow } from './types.js';

export interface LedgerSummary {
  iterations: number;
  keeps: number;
  discards: number;
  crashes: number;
  /** The baseline row's metric (see baselineRow). */
  baseline: number | null;
  /** The best metric among keep rows. */
  best: number | null;
  /** The first keep row with the best metric. */
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

  // Our baseline row says so; a seed-written ledger has no such row, so its first keep is it.
  const baselineRow = keepsWithMetric.find(isBaseline) ?? keepsWithMetric[0] ?? null;
  const baseline = baselineRow?.metric ?? null;

  let bestRow: (LedgerRow & { metric: number }) | null = null;
  for (const row of keepsWithMetric) {
    // Strictly better only: on a tie the earlier row stays the best, as the keep rule does.
    if (bestRow === null || (direction === 'lower' ? row.metric < bestRow.metric : row.metric > bestRow.metric)) bestRow = row;
  }
  const best = bestRow?.metric ?? null;

  const improvement = best !== null && baseline !== null ? best - baseline : null;
  const improvementPct = improvementPctOf(best, baseline, direction);

  let consecutiveCrashes = 0;
  for (let i = rows.length - 1; i >= 0 && rows[i]?.status === 'crash'; i--) consecutiveCrashes++;

  return {
    iterations: rows.length,
    keeps: count(rows, 'keep'),
    discards: count(rows, 'discard'),
    crashes: count(rows, 'crash'),
    baseline,
    best,
    bestRow,
    improvement,
    improvementPct,
    consecutiveCrashes,
  };
}

function isBaseline(row: LedgerRow): boolean {
  return row.reason === 'baseline' || row.description.startsWith('baseline');
}

function count(rows: readonly LedgerRow[], status: LedgerRow['status']): number {
  return rows.reduce((n, row) => n + (row.status === status ? 1 : 0), 0);
}
