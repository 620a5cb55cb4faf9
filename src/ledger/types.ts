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
 *  crash:   eval_exit | eval_signal | eval_timeout | eval_spawn | metric_missing | metric_invalid
 *           | agent_exit | agent_timeout | agent_spawn | setup_failed | worktree_tampered
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

/** Column order of the header we write. A file whose header is a strict prefix is upgraded. */
export const SEED_COLUMNS = ['commit', 'metric', 'status', 'description'] as const;
export const LEDGER_COLUMNS = [...SEED_COLUMNS, 'iteration', 'timestamp', 'duration_s', 'reason', 'agent', 'cost_usd', 'tokens_in', 'tokens_out', 'detail'] as const;
