/**
 * One evaluation of one commit, through the executor: its outcome read into a Sample (a
 * metric and the guard metrics) or a failure in words (the row's reason and why). The
 * worktree must already hold the commit; the caller chose the log file.
 */
import { readTailLines } from '../fs/read-tail.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { evaluationUsesLlm } from '../experiment/evaluators.js';
import type { Intent } from '../experiment/state.js';
import type { RowReason } from '../ledger/types.js';
import type { SpawnedChild } from '../process/types.js';
import { readGuardValues } from '../decision/guards.js';
import { childEnv, worktreeTag } from '../loop/child-env.js';
import { classifyFailedEvaluation, type EvalLlmVerdict } from '../loop/eval-llm.js';
import type { Phase } from '../loop/events.js';
import { placeExperimentFiles } from '../loop/experiment-files.js';
import { describeMetricMatch, extractMetric, metricMatcher } from '../loop/metric.js';
import { failedProcessDetail, messageDetail, metricInvalidDetail, metricMissingDetail, timeoutDetail } from '../loop/row-detail.js';
import { infrastructureDetail, type Executor, type InfrastructureFailure } from './executor.js';
import { resetTimeContext } from '../core/local-time.js';

/** What one evaluation found. `log` is its output file. */
export type Sample =
  | { kind: 'ok'; value: number; guards: Record<string, number | null>; durationMs: number; log: string }
  | { kind: 'failed'; reason: RowReason; detail: string; why: string; durationMs: number; log: string }
  | { kind: 'aborted' }
  // An evaluation that calls an LLM ran out of quota: not the change's fault (no row).
  | { kind: 'out-of-quota'; verdict: EvalLlmVerdict }
  // The cluster failed it every time (preemption, node failure): not the change's fault (no row).
  | { kind: 'infrastructure'; failures: InfrastructureFailure[]; detail: string };

/** What the iteration lends its evaluations: where they run and how they are recorded. */
export interface MeasureContext {
  session: Session;
  deps: LoopDeps;
  signal: AbortSignal;
  executor: Executor;
  iteration: { number: number; runDir: string; baseline: boolean; best: number | null };
  /** The intent an evaluation records before it starts (recovery reads it after kill -9). */
  evalIntent: () => Extract<Intent, { phase: 'eval' }>;
  setIntent: (intent: Extract<Intent, { phase: 'eval' }>) => Promise<void>;
  recordChild: (child: SpawnedChild) => void;
  phase: (phase: Phase, detail?: string) => void;
  /** The cluster job name of the evaluation writing `log` (run-records.ts jobName). */
  jobName: (log: string) => string;
  infrastructureFailure: (failure: InfrastructureFailure) => void;
  /**
   * Puts `commit` in the worktree for the evaluations that follow. A resumed attempt replaying
   * its jobs defers it to `beforeSubmit`: a finished job's result is read and a running one
   * re-attached without any checkout, so a running job's worktree never changes under it.
   */
  checkOut: (commit: string) => Promise<void>;
  /** Just before a job evaluating `commit` is submitted (the deferred checkout, if any). */
  beforeSubmit: (commit: string) => Promise<void>;
}

/** The end of a log searched for the line that explains a failure (a long traceback fits). */
const DETAIL_TAIL_BYTES = 64 * 1024;
/** The classifier sees the end of the evaluation log: limit messages come last. */
const EVAL_CLASSIFY_BYTES = 256 * 1024;

/**
 * Evaluate what the worktree holds. `sample` is the evaluation's 1-based number within the
 * iteration (AUTORESEARCH_SAMPLE); `label` says what is measured (`sample 2/5 of the best`).
 */
export async function evaluateOnce(ctx: MeasureContext, opts: { log: string; sample: number; commit: string; label?: string }): Promise<Sample> {
  const { session, deps } = ctx;
  if (ctx.signal.aborted) return { kind: 'aborted' };
  const outcome = await ctx.executor.evaluate({
    command: session.config.evaluateCmd,
    cwd: session.store.current.worktree,
    env: childEnv(session, deps.env, ctx.iteration, { AUTORESEARCH_SAMPLE: String(opts.sample), AUTORESEARCH_EVAL_LOG: opts.log }),
    logFile: opts.log,
    timeoutMs: session.config.evalTimeoutMs,
    signal: ctx.signal,
    escapeTag: worktreeTag(session.store.current.worktree),
    onEscapee: (message) => deps.report({ kind: 'warning', message }),
    onSpawn: ctx.recordChild,
    jobName: ctx.jobName(opts.log),
    commit: opts.commit,
    onSubmit: async (job) => {
      // Before sbatch: a restart after kill -9 finds the job by this name (recovery.ts).
      await ctx.setIntent({ ...ctx.evalIntent(), log: opts.log, job, queued: true });
      if (job.id === null) {
        await ctx.beforeSubmit(opts.commit);
        placeExperimentFiles(session); // before the job can start: where it expects them (the seed's evaluate.py)
      }
      ctx.phase('queued', [opts.label, job.id === null ? undefined : `slurm job ${job.id}`].filter((part) => part !== undefined).join(', ') || undefined);
    },
    onInfrastructureFailure: ctx.infrastructureFailure,
    onStart: async (where) => {
      // A job's record stays in the intent while it runs (set by onSubmit).
      const job = ctx.session.store.current.intent?.phase === 'eval' ? ctx.session.store.current.intent.job : undefined;
      await ctx.setIntent({ ...ctx.evalIntent(), log: opts.log, ...(job === undefined ? {} : { job }) });
      // A local evaluation's files go in place now; a job's went before sbatch (never rewritten under it).
      if (job === undefined) placeExperimentFiles(session);
      ctx.phase('eval', [opts.label, where].filter((part) => part !== undefined).join(', ') || undefined);
    },
  });
  const { durationMs } = outcome;
  const log = opts.log;
  if (outcome.kind === 'aborted') return { kind: 'aborted' };
  if (outcome.kind === 'infrastructure') return { kind: 'infrastructure', failures: outcome.failures, detail: infrastructureDetail(outcome) };
  const failed = (reason: RowReason, detail: string, why: (tail: string) => string): Sample => {
    const quota = outOfQuota(ctx, log, outcome.kind === 'exit' ? outcome.code : null, outcome.kind === 'signal' ? outcome.signal : null);
    if (quota !== null) return { kind: 'out-of-quota', verdict: quota };
    return { kind: 'failed', reason, detail, why: why(readTailLines(log, DETAIL_TAIL_BYTES)), durationMs, log };
  };
  // The cluster's own word on a job that did not simply complete (FAILED, TIMEOUT, OUT_OF_MEMORY…), after the code.
  // An in-job timeout exits 124, which SLURM calls FAILED: the timeout says it better.
  const state = outcome.job === undefined || (outcome.kind === 'timeout' && outcome.job.state === 'FAILED') ? '' : ` ${outcome.job.state}`;
  const job = outcome.job === undefined || outcome.job.state === 'COMPLETED' ? '' : ` (slurm job ${outcome.job.id}${state}${outcome.job.node === null ? '' : ` on ${outcome.job.node}`})`;
  switch (outcome.kind) {
    case 'timeout':
      return failed('eval_timeout', `killed after ${Math.round(session.config.evalTimeoutMs / 1000)}s (eval_timeout)${job}`, (tail) => timeoutDetail(`eval_timeout${job}`, session.config.evalTimeoutMs, tail));
    case 'signal':
      return failed('eval_signal', `killed by ${outcome.signal}${job}`, (tail) => failedProcessDetail('eval_signal', `${outcome.signal}${job}`, tail));
    case 'spawn-error':
      return { kind: 'failed', reason: 'eval_spawn', detail: outcome.message, why: messageDetail('eval_spawn', outcome.message), durationMs, log };
    case 'exit':
      if (outcome.code !== 0) return failed('eval_exit', `exit code ${outcome.code}${job}`, (tail) => failedProcessDetail('eval_exit', `${outcome.code}${job}`, tail));
      break;
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
  const { metricGrep, metricRegex } = session.config;
  const metric = await extractMetric(log, metricMatcher(metricGrep, metricRegex));
  if (metric.kind === 'missing') return failed('metric_missing', `no line matches: expected ${describeMetricMatch(metricGrep, metricRegex)}`, (tail) => metricMissingDetail(metricGrep, metricRegex, tail));
  if (metric.kind === 'invalid') return failed('metric_invalid', `${metric.why} on the metric line: ${metric.line.slice(0, 200)}`, () => metricInvalidDetail(metric.line));
  return { kind: 'ok', value: metric.value, guards: await readGuardValues(log, session.config.guards), durationMs, log };
}

/**
 * A failed evaluation that calls an LLM (eval_uses_llm) and says its quota is gone or its
 * billing failed is not the change's fault: no row, like an exhausted agent.
 */
function outOfQuota(ctx: MeasureContext, log: string, exitCode: number | null, signal: string | null): EvalLlmVerdict | null {
  if (!evaluationUsesLlm(ctx.session.config)) return null;
  return classifyFailedEvaluation(readTailLines(log, EVAL_CLASSIFY_BYTES), exitCode, signal, resetTimeContext(ctx.deps.clock.now()));
}
