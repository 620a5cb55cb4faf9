/**
 * `autoresearch run <id> [--single | --loop] [--max-experiments N] [--dry-run]` and
 * `run --resume`: one experiment in the foreground.
 */
import fs from 'node:fs/promises';
import { agentCommandLine } from '../../agents/agent-command.js';
import { shellQuote } from '../../core/shell-quote.js';
import { discoverExperiments, mostRecentlyActive, resolveExperiment } from '../../config/discover.js';
import { loadExperimentConfig } from '../../config/parse-config.js';
import type { ExperimentConfig } from '../../config/types.js';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { openSession } from '../../experiment/open-session.js';
import { assertPreflight, preflightProblems } from '../../experiment/preflight.js';
import { branchName, experimentPaths } from '../../experiment/paths.js';
import { worktreePath } from '../../experiment/worktree-location.js';
import { loadState } from '../../experiment/state.js';
import { openProject } from '../../git/project-repo.js';
import { summarizeRows } from '../../ledger/summary.js';
import { countExperiments, describeExperiments } from '../../ledger/experiment-counts.js';
import { formatImprovement } from '../../core/improvement.js';
import { localDateTime } from '../../core/local-time.js';
import { parseLedgerText } from '../../ledger/tsv-format.js';
import type { LedgerRow } from '../../ledger/types.js';
import { runExperimentLoop, type LoopResult } from '../../loop/experiment-loop.js';
import { createPrinter, fmt, type Printer } from '../progress-printer.js';
import { foreground } from '../foreground.js';
import { takeRequest } from '../../experiment/requests.js';
import { waitsForJob } from '../../experiment/state.js';
import { describeMetricMatch } from '../../loop/metric.js';
import { foregroundStartWarnings } from '../foreground-warnings.js';

export interface RunOptions {
  projectRoot: string;
  id: string | undefined;
  resume: boolean;
  mode: 'single' | 'loop';
  maxIterations: number | null;
  dryRun: boolean;
  argv: string[];
}

export async function runCommand(opts: RunOptions, out: (text: string) => void): Promise<number> {
  const config = await findConfig(opts);
  const printer = createPrinter(out, {
    metric: config.metric,
    direction: config.direction,
    limits: { timeBudgetMs: config.timeBudgetMs, evalTimeoutMs: config.evalTimeoutMs, agentTimeoutMs: config.agentTimeoutMs },
    tty: process.stdout.isTTY === true,
  });
  if (config.agent.kind === 'none' && opts.mode === 'loop') {
    throw new AutoresearchError(
      'BAD_INPUT',
      `${config.file}: agent: none means an external agent edits the worktree between runs, so each ` +
        `\`autoresearch run ${config.id.key} --single\` evaluates it once; --loop needs an agent (a shell command, claude, codex or gemini)`,
    );
  }
  if (opts.dryRun) return dryRun(config, opts, printer);
  await assertPreflight(config, opts.projectRoot, process.env); // before the lock, the worktree, any row

  const { deps, signal, dispose } = foreground(config, printer);
  const warn = (message: string) => deps.report({ kind: 'warning', message });
  try {
    const session = await openSession(config, opts.projectRoot, deps, `autoresearch ${opts.argv.join(' ')}`);
    let result: LoopResult;
    try {
      deps.report({
        kind: 'experiment-opened',
        id: config.id.key,
        worktree: session.store.current.worktree,
        branch: session.store.current.branch,
        worktreeCreated: session.worktreeCreated,
        nextIteration: session.ledger.nextIteration(),
        best: session.store.current.lastKept.metric,
        metric: config.metric,
        direction: config.direction,
      });
      // Said once, before the first iteration: a dirty checkout, a timing metric sharing the CPUs.
      for (const message of await foregroundStartWarnings(config, session.project, session.store.current.lastKept.commit, opts.projectRoot)) warn(message);
      // A cluster job may wait in a queue for hours: `pause` cancels it at once (no row) rather than
      // after the iteration, so the request is watched during the iteration too.
      const pauseNow = watchPauseDuringJobs(config, () => waitsForJob(session.store.current), warn);
      try {
        result = await runExperimentLoop(session, deps, {
          mode: opts.mode,
          maxIterations: opts.maxIterations,
          signal: AbortSignal.any([signal, pauseNow.signal]),
        // `autoresearch pause` / `resume` without a daemon leave request files for us.
          between: async () => {
            if (takeRequest(config.dir, 'resume', warn)) await session.store.update({ exhausted: {}, consecutiveCrashes: 0, consecutiveNoChange: 0 });
            return takeRequest(config.dir, 'pause', warn) ? 'pause' : 'go';
          },
        });
      } finally {
        pauseNow.dispose();
      }
      if (pauseNow.signal.aborted && !signal.aborted && result.end.kind === 'interrupted') {
        const reason = 'paused by `autoresearch pause` (its cluster job was cancelled, no row)';
        if (session.store.current.halt === null) await session.store.update({ halt: { state: 'paused', reason, at: new Date().toISOString() } });
        result = { ...result, end: { kind: 'halted', state: 'paused', reason } };
      }
      // A pause asked for during the last iteration (or of a --single run) still applies.
      else if (takeRequest(config.dir, 'pause', warn) && session.store.current.halt === null) {
        await session.store.update({ halt: { state: 'paused', reason: 'paused by `autoresearch pause`', at: new Date().toISOString() } });
        printer.line(`paused (requested during this run): \`autoresearch resume ${config.id.key}\` clears it`);
      }
      printSummary(printer, config, session.ledger.rows(), result, session.store.current.worktree);
    } finally {
      await session.close();
    }
    return exitCodeOf(result, config, opts);
  } finally {
    dispose();
  }
}

/**
 * With `executor: slurm`, a pause request aborts the iteration while it waits for a cluster job
 * (queued or running); during the agent's turn the request stays for `between`, or for the job
 * the iteration submits next. Otherwise there is nothing to watch.
 */
function watchPauseDuringJobs(config: ExperimentConfig, inJob: () => boolean, warn: (message: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (config.executor !== 'slurm') return { signal: controller.signal, dispose: () => undefined };
  const timer = setInterval(() => {
    if (inJob() && takeRequest(config.dir, 'pause', warn)) controller.abort();
  }, 500);
  return { signal: controller.signal, dispose: () => clearInterval(timer) };
}

async function findConfig(opts: RunOptions): Promise<ExperimentConfig> {
  if (opts.resume) {
    if (opts.id !== undefined) throw new AutoresearchError('BAD_INPUT', `run: expected either an experiment id or --resume, found both (${opts.id})`);
    const latest = await mostRecentlyActive(await discoverExperiments(opts.projectRoot));
    if (latest === null) throw new AutoresearchError('EXPERIMENT_NOT_FOUND', `run --resume: no experiment found under ${opts.projectRoot}/.autoresearch or the user scope`);
    return loadExperimentConfig(latest.dir, latest.id, latest.scope);
  }
  if (opts.id === undefined) throw new AutoresearchError('BAD_INPUT', 'run: expected an experiment id `<domain>/<name>` (or --resume), found none');
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  return loadExperimentConfig(found.dir, found.id, found.scope);
}

function exitCodeOf(result: LoopResult, config: ExperimentConfig, opts: RunOptions): number {
  const end = result.end;
  switch (end.kind) {
    case 'done':
    case 'limit':
    case 'interrupted':
    case 'backoff': // only the daemon's loop ends on a backoff
      return EXIT.ok;
    case 'exhausted': {
      const again = `autoresearch --path ${shellQuote(opts.projectRoot)} run ${config.id.key}${opts.mode === 'single' ? ' --single' : ''}`;
      throw new AutoresearchError(
        'EXHAUSTED',
        `usage exhausted for ${end.agent}: ${end.message}\n` +
          `  the agent can run again at ${localDateTime(end.until)} (${new Date(end.until).toISOString()})\n` +
          `  then resume with: ${again}\n` +
          `  to try again now: autoresearch --path ${shellQuote(opts.projectRoot)} resume ${config.id.key} && ${again}`,
      );
    }
    case 'tripped':
    case 'blocked':
    case 'halted': {
      const state = end.kind === 'halted' ? end.state : end.kind;
      const code = state === 'paused' ? 'PAUSED' : state === 'blocked' ? 'BLOCKED' : 'TRIPPED';
      throw new AutoresearchError(code, `experiment ${config.id.key} is ${state}: ${end.reason}. Fix the cause, then run \`autoresearch resume ${config.id.key}\`.`);
    }
    default: {
      const unreachable: never = end;
      return unreachable;
    }
  }
}

function printSummary(printer: Printer, config: ExperimentConfig, rows: readonly LedgerRow[], result: LoopResult, worktree: string): void {
  const all = summarizeRows(rows, config.direction);
  const end = result.end;
  const why =
    end.kind === 'interrupted'
      ? 'stopped by signal'
      : end.kind === 'halted'
        ? `not started: ${end.state}`
        : end.kind === 'exhausted'
          ? `usage exhausted until ${localDateTime(end.until)}`
          : end.reason;
  printer.line('');
  printer.line(`summary ${config.id.key} (${why})`);
  // Experiments = iterations after the baseline, as max_experiments counts them.
  printer.line(`  this run:  ${describeExperiments(countExperiments(result.rowsThisRun))}`);
  printer.line(`  all time:  ${describeExperiments(countExperiments(rows), config.maxExperiments)}`);
  const pct = all.improvementPct === null ? '' : ` (${formatImprovement(all.improvementPct)} vs baseline)`;
  printer.line(`  best ${config.metric}: ${fmt(all.best)}; baseline ${fmt(all.baseline)}${pct}`);
  printer.line(`  results:   ${experimentPaths(config.dir).results}`);
  printer.line(`  branch:    ${branchName(config.id.key)} (worktree ${worktree})`);
}

async function dryRun(config: ExperimentConfig, opts: RunOptions, printer: Printer): Promise<number> {
  const paths = experimentPaths(config.dir);
  const project = await openProject(opts.projectRoot);
  const state = await loadState(paths.state);
  const ledgerText = await fs.readFile(paths.results, 'utf8').catch(() => null);
  const rows = ledgerText === null || ledgerText === '' ? [] : parseLedgerText(ledgerText, paths.results).rows;
  const worktree = worktreePath(project, config.id.key);
  const exists = await fs.stat(worktree).then(() => true, () => false);
  const moveFrom = state !== null && state.worktree !== worktree ? state.worktree : null;
  const next = rows.length === 0 ? 0 : Math.max(...rows.map((r) => r.iteration)) + 1;
  const baselineNeeded = state === null ? !rows.some((r) => r.status === 'keep' && r.metric !== null) : state.lastKept.metric === null;
  const agent = agentCommandLine(config.agent);
  const line = printer.line;
  line(`dry run: nothing will be changed`);
  line(`experiment ${config.id.key} (${config.file})`);
  line(`  state:     ${state?.halt ? `${state.halt.state}: ${state.halt.reason} (run would exit 3)` : state === null ? 'new' : 'idle'}`);
  const worktreeNote =
    moveFrom !== null ? `(would be moved from ${moveFrom})` : exists ? '(exists)' : `(would be created from ${(await project.head()).slice(0, 7)})`;
  line(`  worktree:  ${worktree} ${worktreeNote}`);
  line(`  branch:    ${state?.branch ?? branchName(config.id.key)}; results: ${paths.results} (${rows.length} rows)`);
  line(`  agent:     ${agent ?? 'none (evaluate the worktree as it is)'} (timeout ${config.agentTimeoutMs / 1000}s)`);
  line(`  evaluate:  ${config.evaluateCmd} (budget ${config.timeBudgetMs / 1000}s, killed at ${config.evalTimeoutMs / 1000}s)`);
  if (config.executor === 'slurm') line(`  executor:  slurm: one batch job per evaluation${config.slurmArgs.length === 0 ? '' : ` (sbatch ${config.slurmArgs.map((a) => shellQuote(a)).join(' ')})`}`);
  line(`  metric:    ${config.metric}, ${config.direction} is better, from the last of the ${describeMetricMatch(config.metricGrep, config.metricRegex)}`);
  if (config.setupCmd !== null && !state?.setupDone) line(`  setup:     would run once: ${config.setupCmd}`);
  const plan =
    opts.mode === 'single'
      ? baselineNeeded
        ? `would run iteration ${next}: the baseline evaluation`
        : `would run iteration ${next}: ${agent === null ? 'evaluate the worktree' : 'the agent, then evaluate its change'}`
      : `would run iterations from ${next}${baselineNeeded ? ' (baseline first)' : ''}` +
        (opts.maxIterations !== null
          ? `, at most ${opts.maxIterations} experiment${opts.maxIterations === 1 ? '' : 's'} (--max-experiments replaces max_experiments for this run)`
          : config.maxExperiments === null
            ? ''
            : `, until max_experiments ${config.maxExperiments} (experiments after the baseline)`);
  line(`  plan:      ${plan}`);
  const startCommit = state?.lastKept.commit ?? (await project.head());
  for (const message of await foregroundStartWarnings(config, project, startCommit, opts.projectRoot)) line(`  warning:   ${message}`);
  const problems = await preflightProblems(config, opts.projectRoot, process.env);
  if (problems.length > 0) {
    throw new AutoresearchError('BAD_INPUT', [`experiment ${config.id.key} would not start:`, ...problems.map((p) => `  ${p}`)].join('\n'));
  }
  return EXIT.ok;
}
