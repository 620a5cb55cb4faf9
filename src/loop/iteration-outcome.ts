/**
 * What one iteration can come to (its row's verdict, or why it has none), shared by its parts:
 * the candidate (candidate.ts), the measurement (src/measure/) and the iteration that records.
 */
import type { Evidence } from '../decision/types.js';
import type { WaitRole } from '../experiment/state.js';
import type { LedgerRow, RowReason, RowStatus } from '../ledger/types.js';
import type { Phase } from './events.js';

export type IterationResult =
  | { kind: 'recorded'; row: LedgerRow }
  | { kind: 'interrupted'; phase: Phase }
  // The agent, or an evaluation that calls an LLM, could not work (quota, billing, not
  // logged in): rolled back, no row, not a crash.
  | { kind: 'exhausted'; role: WaitRole; label: string; resetAt: number | null; message: string; signature: string | null }
  | { kind: 'billing'; role: WaitRole; label: string; message: string; signature: string }
  | { kind: 'auth'; role: WaitRole; label: string; message: string; signature: string }
  // `rerun`: the past candidate's change does not apply to the current best; `rebase`: the
  // re-measured baseline failed (no row either way).
  | { kind: 'not-applicable'; detail: string }
  // The cluster failed an evaluation every time it was tried (preempted, node failure): no
  // row (not the candidate's fault); the loop blocks the experiment until someone looks.
  | { kind: 'infrastructure'; detail: string };

/** `rerun`: evaluate a past candidate's change again, on top of the current best, without the agent. */
export interface Rerun {
  iteration: number;
  commit: string;
  description: string;
}

/**
 * `rebase`: the baseline measured again on the experiment's new base. Its row says why
 * (`description`); a failed evaluation writes no row (the caller puts the experiment back).
 */
export interface Remeasure {
  description: string;
}

/** What an iteration decided, before it becomes a row. */
export interface Verdict {
  status: RowStatus;
  reason: RowReason;
  metric: number | null;
  commit: string; // full hash the row is about
  description: string;
  /** What happened, for machines and the report (`exit code 1`, `changed outside scope: a, b`): result.json's technicalDetail. */
  detail: string | null;
  /** The row's `detail`: why, in words (loop/row-detail.ts); for a keep null, or `suspicious: …` (suspicious.ts). */
  why: string | null;
  /** The commit's samples this iteration (none when nothing was evaluated). */
  samples: number[];
  /** Samples of the best taken for drift: they join its samples unless the candidate replaces it. */
  bestSamples: number[];
  evidence: Evidence | null;
  guards: Record<string, number | null> | null;
}

/** A verdict about something that was never measured. */
export const NO_EVIDENCE = { samples: [], bestSamples: [], evidence: null, guards: null } satisfies Pick<Verdict, 'samples' | 'bestSamples' | 'evidence' | 'guards'>;

export class Interrupted {
  constructor(readonly phase: Phase) {}
}

/** The agent's quota or billing stopped the turn, or a rerun does not apply: unwinds like an interruption, no row. */
export class NoRow {
  constructor(readonly result: Extract<IterationResult, { kind: 'exhausted' | 'billing' | 'auth' | 'not-applicable' | 'infrastructure' }>) {}
}
