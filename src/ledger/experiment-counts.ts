/**
 * "Experiments" as the user counts them, and as `max_experiments` does (SPEC §3): the
 * iterations after the baseline. Every summary a person reads (run, results, status) says
 * `9 experiments + baseline: 3 keep, 4 discard, 2 crash`, the keep count without the baseline.
 */
import { countsAsExperiment, isBaselineRow } from './summary.js';
import type { LedgerRow } from './types.js';

export interface ExperimentCounts {
  /** Whether the ledger has its baseline row. */
  baseline: boolean;
  /** Rows that tried a change (not a baseline, not a reset): what max_experiments counts. */
  experiments: number;
  keeps: number;
  discards: number;
  crashes: number;
}

export function countExperiments(rows: readonly LedgerRow[]): ExperimentCounts {
  const counts: ExperimentCounts = { baseline: false, experiments: 0, keeps: 0, discards: 0, crashes: 0 };
  for (const row of rows) {
    if (!countsAsExperiment(row)) {
      if (isBaselineRow(row)) counts.baseline = true;
      continue;
    }
    counts.experiments++;
    if (row.status === 'keep') counts.keeps++;
    else if (row.status === 'discard') counts.discards++;
    else counts.crashes++;
  }
  return counts;
}

/**
 * From row counts that include the baseline keep (a ledger digest, a status). `experiments`,
 * when the digest has it, also leaves out a rebase's baselines and reset rows (all keeps);
 * an older digest lacks it: one baseline assumed.
 */
export function experimentsOf(rowCounts: { iterations: number; keeps: number; discards: number; crashes: number; baseline: number | null; experiments?: number }): ExperimentCounts {
  const baseline = rowCounts.baseline !== null && rowCounts.keeps > 0 ? 1 : 0;
  const experiments = rowCounts.experiments ?? rowCounts.iterations - baseline;
  return {
    baseline: baseline === 1,
    experiments,
    keeps: Math.max(0, experiments - rowCounts.discards - rowCounts.crashes),
    discards: rowCounts.discards,
    crashes: rowCounts.crashes,
  };
}

/** `9 experiments + baseline: 3 keep, 4 discard, 2 crash` (`of 20` with a max_experiments limit). */
export function describeExperiments(c: ExperimentCounts, max: number | null = null): string {
  const n = `${c.experiments}${max === null ? '' : ` of ${max}`} experiment${(max ?? c.experiments) === 1 ? '' : 's'}`;
  return `${n}${c.baseline ? ' + baseline' : ''}: ${c.keeps} keep, ${c.discards} discard, ${c.crashes} crash`;
}
