import type { Evidence } from '../decision/types.js';

/**
 * One row of results.tsv (SPEC §4). The first four columns are the seed skill's; ours
 * follow `description`, never before it.
 */

export type RowStatus = 'keep' | 'discard' | 'crash';

/**
 * Why a row has its status. Stable tokens: `report` groups failures by them.
 *  keep:    baseline | improved | reset (`autoresearch reset --to N`: keep N is the best again)
 *  discard: no_improvement | no_change | scope_violation
 *           | within_noise (looked better, but not credibly beyond the noise)
 *           | check_failed (check_cmd exited non-zero) | guard_failed (a `guard` vetoed the keep)
 *           | revalidation_failed (see below)
 *  crash:   eval_exit | eval_signal | eval_timeout | eval_spawn | metric_missing | metric_invalid
 *           | agent_exit | agent_timeout | agent_spawn | setup_failed | worktree_tampered
 *
 * `revalidation_failed` is not an experiment (countsAsExperiment): a re-measurement found that
 * keeps did not reproduce. Its `commit` is the OLDEST keep that did not; that keep and every
 * later keep are undone, so the best is the keep in effect before it (summary.ts keepChain).
 * Its `metric` is the re-measured value.
 */
export type RowReason =
  | 'baseline'
  | 'improved'
  | 'reset'
  | 'no_improvement'
  | 'within_noise'
  | 'check_failed'
  | 'guard_failed'
  | 'revalidation_failed'
  | 'no_change'
  | 'scope_violation'
  | 'stale_base'
  | 'within_noise'
  | 'check_failed'
  | 'guard_failed'
  | 'revalidation_failed'
  | 'eval_exit'
  | 'eval_signal'
  | 'eval_timeout'
  | 'eval_spawn'
  | 'metric_missing'
  | 'metric_invalid'
  | 'agent_exit'
  | 'agent_timeout'
  | 'agent_spawn'
  | 'setup_failed'
  | 'worktree_tampered';

export interface LedgerRow {
  /** Short hash of the evaluated commit. */
  commit: string;
  /** Written as %.6f; null is written as N/A. */
  metric: number | null;
  status: RowStatus;
  /** One line: tabs and newlines are replaced when written. */
  description: string;
  /** 0 = baseline. Rows from a seed-written ledger get their row index. */
  iteration: number;
  /** ISO 8601; null for seed rows. */
  timestamp: string | null;
  /** Wall time of the whole iteration in seconds; null for seed rows. */
  durationS: number | null;
  /** null for seed rows (they only have a description). */
  reason: RowReason | string | null;
  /** Which agent produced the row ("command", "claude", ...); null for seed rows. */
  agent: string | null;
  /** What the agent turn cost, as the agent CLI reported it (null: not reported or no agent). */
  costUsd?: number | null;
  tokensIn?: number | null;
  tokensOut?: number | null;
  /**
   * Why, in words, for a person (issue 10), the `detail` column. For a crash or discard it
   * starts with the reason code and says the rest in words, so a display can show it in place
   * of the reason: `eval_exit 1: SyntaxError: expected ':' (train.py:41)`,
   * `scope_violation: eval.sh is outside scope (train.py)` (loop/row-detail.ts). For a keep
   * that looks wrong, text starting `suspicious:`. null/absent: nothing to add (older rows).
   */
  detail?: string | null;
  /** Issue 11: how the row's metric was measured (columns samples, mean, spread, p_value); null/absent: one sample, no test. */
  evidence?: Evidence | null;
  /** Issue 11: each `guard` metric's value (its own column, named after the metric); null = not found. */
  guards?: Record<string, number | null> | null;
}

/**
 * Column order of the header we write. A file whose header is a strict prefix is upgraded.
 * After these fixed columns come the guard columns (one per `guard` metric, named after it).
 */
export const SEED_COLUMNS = ['commit', 'metric', 'status', 'description'] as const;
export const EVIDENCE_COLUMNS = ['samples', 'mean', 'spread', 'p_value'] as const;
export const LEDGER_COLUMNS = [...SEED_COLUMNS, 'iteration', 'timestamp', 'duration_s', 'reason', 'agent', 'cost_usd', 'tokens_in', 'tokens_out', 'detail', ...EVIDENCE_COLUMNS] as const;

/**
 * The guard columns of a header: every column after our fixed ones, when the header has them
 * all (a header of someone else's layout has none). A column another tool added there is read
 * the same way: its numbers (and N/A) are values, anything else is left alone.
 */
export function guardColumnsOf(columns: readonly string[]): string[] {
  return hasEveryColumnOfOurs(columns) ? columns.slice(LEDGER_COLUMNS.length) : [];
}

/** The header starts with every fixed column of ours (possibly followed by guard columns). */
export function hasEveryColumnOfOurs(columns: readonly string[]): boolean {
  return LEDGER_COLUMNS.every((name, i) => columns[i] === name);
}

/**
 * Which guard metrics can have a column: not one of our fixed columns (the header must stay
 * unique) and a name that fits in a header field. Order kept, duplicates dropped.
 */
export function usableGuardColumns(names: readonly string[]): string[] {
  const fixed: readonly string[] = LEDGER_COLUMNS;
  return [...new Set(names)].filter((name) => name !== '' && !/[\t\r\n]/.test(name) && !fixed.includes(name));
}
