/**
 * The validated, resolved configuration of one experiment. Produced once at the boundary
 * (parse-config.ts); nothing deeper reads raw config strings.
 */

import type { Aggregate, Guard, NoiseSetting } from '../decision/types.js';

export type Direction = 'lower' | 'higher';

/** `metric_kind`: a timing metric is skewed by other work on the same CPUs (loop/timing-metric.ts). */
export type MetricKind = 'timing' | 'other';

export type BuiltinAgentName = 'claude' | 'codex' | 'gemini';

export type AgentSpec =
  | { kind: 'none' } // an external agent edits the worktree; `run --single` evaluates it
  | { kind: 'builtin'; name: BuiltinAgentName; args: string[] }
  | { kind: 'command'; command: string }; // any shell command, run with /bin/sh -c

export type Scope = 'project' | 'user';

/** `<domain>/<name>`, validated (see experiment-id.ts). */
export interface ExperimentId {
  domain: string;
  name: string;
  /** "<domain>/<name>" */
  key: string;
}

export interface ExperimentConfig {
  id: ExperimentId;
  scope: Scope;
  /** Absolute path of config.cfg. */
  file: string;
  /** Absolute path of the experiment directory (holds config.cfg, results.tsv, ...). */
  dir: string;

  target: string[]; // paths or globs, relative to the project root
  evaluateCmd: string;
  metric: string;
  direction: Direction;
  /** The seed's literal prefix of the metric line, as written (default `^<metric>:`; see loop/metric.ts). */
  metricGrep: string;
  /** `metric_regex`: a regex source that replaces metricGrep when set. */
  metricRegex: string | null;
  /** `metric_kind` as written; null = not set (then guessed from the metric name, loop/timing-metric.ts). */
  metricKind: MetricKind | null;
  timeBudgetMs: number;
  evalTimeoutMs: number; // default 2.5 × timeBudgetMs
  agent: AgentSpec;
  agentTimeoutMs: number;
  /** Takes over while the main agent is exhausted (null = none). */
  agentFallback: Exclude<AgentSpec, { kind: 'none' }> | null;
  /** Variables a built-in agent keeps although they would switch its billing. */
  agentPassEnv: string[];
  transientRetries: number;
  transientBackoffMs: number;
  /** Absolute path of the instructions file (default <dir>/program.md); may not exist. */
  programFile: string;
  /** Whether `program:` was set (then the file must exist); the default may be missing (built-in instructions). */
  programSet?: boolean;
  maxConsecutiveCrashes: number;
  /** The no-change breaker (loop/no-change.ts). */
  maxConsecutiveNoChange: number;
  noChangeBackoffMs: number;
  noChangeBackoffMaxMs: number;
  maxExperiments: number | null; // null = unlimited
  maxRuntimeMs: number | null; // null = unlimited
  minImprovement: number;
  /** `repeats`: evaluations a candidate may get (1 = one sample, today's rule). */
  repeats: number;
  aggregate: Aggregate;
  /** `noise`; default `auto` when repeats > 1, else `off`. */
  noise: NoiseSetting;
  /** `confidence` of the one-sided keep test, in (0.5, 1). */
  confidence: number;
  /** `check_cmd`: must exit 0 for a keep (null = none). */
  checkCmd: string | null;
  /** `guard`: further metrics a keep must satisfy (empty = none). */
  guards: Guard[];
  /** `revalidate_every`: after this many keeps, re-measure best and baseline (0 = off). */
  revalidateEvery: number;
  /** `executor`: where evaluations run (issue 12): `local` process groups or `slurm` batch jobs. */
  executor: 'local' | 'slurm';
  /** `slurm_args`: extra sbatch arguments (partition, account, qos, `--gres=gpu:1`…), one argument per item. */
  slurmArgs: string[];
  allowedPaths: string[]; // `scope` key: paths or globs the agent may change (default = target)
  onExhaustion: 'wait' | 'stop';
  backoffInitialMs: number;
  backoffMaxMs: number;
  maxExhaustionWaitMs: number;
  setupCmd: string | null;
  /** eval_uses_llm as written; null = not set (then: whether evaluate.mjs is an LLM judge, see experiment/evaluators.ts). */
  evalUsesLlm: boolean | null;
  /** pipeline: the next candidate is drafted in a second worktree while this one is evaluated (loop/draft.ts). */
  pipeline: boolean;
  created: string | null; // informational, as written by the seed skill
}
