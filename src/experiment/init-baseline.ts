/**
 * `init`'s baseline: runs the new experiment's evaluation once and reads its metric, so the
 * user sees at once whether evaluate_cmd works (the seed skill's setup does the same).
 *
 * Where: in a throwaway detached worktree of HEAD (in a temp dir, removed afterwards), not
 * in the user's checkout. That is exactly the code the loop's own baseline will evaluate
 * (a fresh worktree of HEAD, without the user's uncommitted edits or untracked files such as
 * node_modules), and whatever the command writes (build output, caches) never lands in the
 * user's checkout. A command that needs a setup step fails here as it would in the loop.
 *
 * How: the process runner of the loop (own process group, output straight to a log file,
 * eval_timeout on the whole tree); the metric is read as the loop reads it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { ExperimentConfig } from '../config/types.js';
import { errorMessage } from '../core/errors.js';
import { readTail } from '../fs/read-tail.js';
import { GitClient, GitCommandError, withoutRepositoryLocation } from '../git/git-client.js';
import { classifyFailedEvaluation } from '../loop/eval-llm.js';
import { placeExperimentFilesIn } from '../loop/experiment-files.js';
import { describeMetricMatch, extractMetric, metricMatcher } from '../loop/metric.js';
import { createProcessRunner } from '../process/run-process.js';
import { evaluationUsesLlm } from './evaluators.js';
import { resetTimeContext } from '../core/local-time.js';

export type BaselineResult =
  | { kind: 'ok'; value: number; durationMs: number }
  | { kind: 'failed'; message: string; logTail: string; hint: string }
  | { kind: 'aborted' };

const TAIL_BYTES = 2048;

export async function runInitBaseline(config: ExperimentConfig, projectRoot: string, opts: { env: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<BaselineResult> {
  const temp = await fs.mkdtemp(path.join(os.tmpdir(), 'autoresearch-baseline-'));
  const worktree = path.join(temp, 'worktree');
  const log = path.join(temp, 'eval.log');
  // Through GitClient: the user's hooks (post-checkout, reference-transaction) never run for it.
  const git = new GitClient(projectRoot);
  const added = await git.run(['worktree', 'add', '--detach', worktree, 'HEAD']).then(
    () => null,
    (error: unknown) => (error instanceof GitCommandError ? error.stderr : errorMessage(error)),
  );
  try {
    if (added !== null) {
      return { kind: 'failed', message: `could not create a worktree of HEAD for the baseline: ${added.trim()}`, logTail: '', hint: 'run the evaluation yourself, or pass --no-baseline' };
    }
    // The experiment's own files where its command expects them, as before every iteration.
    placeExperimentFilesIn(worktree, config, await realProjectRoot(projectRoot));
    const outcome = await createProcessRunner().run({
      command: config.evaluateCmd,
      cwd: worktree,
      env: baselineEnv(config, projectRoot, worktree, temp, opts.env),
      stdoutFile: log,
      timeoutMs: config.evalTimeoutMs,
      // What the evaluation leaves running outside its group dies with it (as in the loop).
      escapeTag: { name: 'AUTORESEARCH_WORKTREE', value: worktree },
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    if (outcome.kind === 'aborted') return { kind: 'aborted' };
    const tail = readTail(log, TAIL_BYTES);
    const failed = (message: string, code: number | null = null, signal: string | null = null): BaselineResult => ({
      kind: 'failed',
      message,
      logTail: tail,
      hint: hintFor(config, readTail(log, 256 * 1024), code, signal),
    });
    switch (outcome.kind) {
      case 'timeout':
        return failed(`the evaluation was killed after ${Math.round(config.evalTimeoutMs / 1000)}s (eval_timeout)`);
      case 'signal':
        return failed(`the evaluation was killed by ${outcome.signal}`, null, outcome.signal);
      case 'spawn-error':
        return failed(outcome.message);
      case 'exit':
        if (outcome.code !== 0) return failed(`the evaluation exited with code ${outcome.code}`, outcome.code);
        break;
    }
    const metric = await extractMetric(log, metricMatcher(config.metricGrep, config.metricRegex));
    if (metric.kind === 'missing') return failed(`the evaluation printed no ${describeMetricMatch(config.metricGrep, config.metricRegex)}`, 0);
    if (metric.kind === 'invalid') return failed(`the metric line holds no valid metric (${metric.why}): ${metric.line.slice(0, 200)}`, 0);
    return { kind: 'ok', value: metric.value, durationMs: outcome.durationMs };
  } finally {
    if (added === null) await git.run(['worktree', 'remove', '--force', worktree]).catch(() => undefined);
    await fs.rm(temp, { recursive: true, force: true });
    // No `git worktree prune`: it would also drop the user's own stale worktrees.
  }
}

/** The top of the user's checkout, as the loop computes it (realpath). */
async function realProjectRoot(projectRoot: string): Promise<string> {
  const top = await execa('git', ['rev-parse', '--show-toplevel'], { cwd: projectRoot, reject: false });
  return fs.realpath(top.exitCode === 0 ? String(top.stdout).trim() : projectRoot);
}

/** The AUTORESEARCH_* variables the loop gives an evaluation (see loop/child-env.ts), for the baseline. */
function baselineEnv(config: ExperimentConfig, projectRoot: string, worktree: string, runDir: string, base: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const budgetSeconds = config.timeBudgetMs / 1000;
  return {
    ...withoutRepositoryLocation(base),
    AUTORESEARCH_EXPERIMENT: config.id.key,
    AUTORESEARCH_DOMAIN: config.id.domain,
    AUTORESEARCH_NAME: config.id.name,
    AUTORESEARCH_EXPERIMENT_DIR: config.dir,
    AUTORESEARCH_PROJECT: projectRoot,
    AUTORESEARCH_WORKTREE: worktree,
    AUTORESEARCH_ITERATION: '0',
    AUTORESEARCH_BASELINE: '1',
    AUTORESEARCH_RUN_DIR: runDir,
    AUTORESEARCH_METRIC: config.metric,
    AUTORESEARCH_DIRECTION: config.direction,
    AUTORESEARCH_BEST: '',
    AUTORESEARCH_TARGET: config.target.join(','),
    AUTORESEARCH_SCOPE: config.allowedPaths.join(','),
    AUTORESEARCH_TIME_BUDGET_SECONDS: String(budgetSeconds),
    AUTORESEARCH_TIME_BUDGET_MINUTES: String(budgetSeconds / 60),
  };
}

function hintFor(config: ExperimentConfig, log: string, code: number | null, signal: string | null): string {
  if (evaluationUsesLlm(config)) {
    const verdict = classifyFailedEvaluation(log, code, signal, resetTimeContext(Date.now()));
    if (verdict?.kind === 'exhausted') return `the evaluation's LLM is out of quota (${verdict.message}); the loop will wait for the reset. Try again later, or pass --no-baseline`;
    if (verdict?.kind === 'billing') return `the evaluation's LLM reports a billing problem (${verdict.message}); fix the account, then run the evaluation again`;
  }
  return (
    `it ran in a fresh worktree of HEAD, as every iteration will: commit what it needs, add \`setup_cmd:\` for dependencies ` +
    `(e.g. npm ci), and check that it prints \`${config.metric}: <number>\`; then edit ${config.file} (the experiment is written) or run \`autoresearch run ${config.id.key}\``
  );
}
