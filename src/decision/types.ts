/**
 * The vocabulary of noise-aware decisions (issue 11, SPEC §3 `repeats`, `aggregate`, `noise`,
 * `confidence`, `guard`). Pure types: the decision modules under src/decision/ never do I/O.
 */
import type { Direction } from '../config/types.js';

/** `aggregate`: how a candidate's samples become the row's metric. */
export type Aggregate = 'mean' | 'median';

/**
 * `noise`: the standard deviation of one evaluation. `auto` estimates it from every repeated
 * measurement of an unchanged commit; `known` is a number the user gave; `off` decides on the
 * aggregate alone (today's rule, applied to `repeats` samples).
 */
export type NoiseSetting = { kind: 'auto' } | { kind: 'off' } | { kind: 'known'; sigma: number };

/** One `guard` condition: `memory_gb <= 40`. `text` is as written, for messages. */
export interface Guard {
  metric: string;
  op: '<=' | '<' | '>=' | '>';
  bound: number;
  text: string;
}

/**
 * The pooled within-commit variance of every repeated measurement so far, kept in state.json:
 * Σ over measured commits of Σ(x − mean_commit)², and Σ(n_commit − 1). σ̂ = √(sumSquares/df).
 * Commits still being measured (the best, the candidate) are added when a decision is made.
 */
export interface NoiseEstimate {
  sumSquares: number;
  df: number;
}

/** What a decision needs from the config. */
export interface DecisionSettings {
  direction: Direction;
  minImprovement: number;
  repeats: number;
  aggregate: Aggregate;
  noise: NoiseSetting;
  confidence: number;
}

/** The evidence a row carries (results.tsv `samples`, `mean`, `spread`, `p_value`). */
export interface Evidence {
  /** How many evaluations of the row's commit this iteration made. */
  samples: number;
  mean: number | null;
  /** Sample standard deviation of those evaluations (null below 2 samples). */
  spread: number | null;
  /** One-sided p-value of the keep test (null: no test was made, e.g. noise off or the baseline). */
  pValue: number | null;
}
