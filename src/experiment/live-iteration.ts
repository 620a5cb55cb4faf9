/**
 * Where the output of the iteration in flight goes, for `status` and `autoresearch logs`:
 * read from the files alone (state.json's intent, run.lock, runs/<n>/), so a foreground
 * `run` and the daemon answer the same way. The daemon overlays its finer phase.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ExperimentPaths } from './paths.js';
import { iterationPaths } from './paths.js';
import type { ExperimentState, Intent } from './state.js';

/** The live log files of an iteration (absolute paths; a file may not exist yet). */
export interface LiveLogs {
  run_dir: string | null;
  agent_stdout: string | null;
  agent_stderr: string | null;
  eval: string | null;
  /** setup_cmd's log, while setup runs. */
  setup: string | null;
}

/** What the files can tell of an iteration in flight; the daemon's events say more (capture, decide). */
export type LivePhaseName = 'setup' | 'agent' | 'queued' | 'eval';

export interface LiveIteration {
  iteration: number | null;
  phase: LivePhaseName | null;
  /** When the phase began (ISO 8601, the intent's startedAt); null when unknown. */
  since: string | null;
  /** The cluster job of the evaluation in flight (executor: slurm); its id once sbatch gave one. */
  job: { name: string; id: string | null } | null;
  logs: LiveLogs | null;
}

const IDLE: LiveIteration = { iteration: null, phase: null, since: null, job: null, logs: null };

/**
 * The phase an intent stands for. An evaluation submitted to a cluster is `queued` until its
 * job starts: its intent carries `queued: true` from the submission (onSubmit) until the job
 * runs (onStart writes the intent again without it). Queue time is not evaluation time.
 */
export function intentPhase(intent: Intent): 'agent' | 'queued' | 'eval' {
  if (intent.phase === 'eval' && intent.queued === true) return 'queued';
  return intent.phase;
}

/**
 * What a running experiment is doing, from its state: the intent names the iteration and
 * its phase (agent: the turn and the capture after it; eval: the evaluation and the
 * decision); no intent and a setup not done yet means setup_cmd runs. `running` says a live
 * process holds run.lock: without one, nothing is in flight whatever state.json says.
 */
export function liveIteration(paths: ExperimentPaths, state: Pick<ExperimentState, 'intent' | 'setupDone'> | null, opts: { running: boolean; hasSetup: boolean }): LiveIteration {
  if (!opts.running) return IDLE;
  const intent = state?.intent ?? null;
  if (intent !== null) {
    const logs = iterationLogs(paths, intent.iteration);
    const job = intent.phase === 'eval' && intent.job !== undefined ? { name: intent.job.name, id: intent.job.id } : null;
    // With repeats, the evaluation running now writes its own log (measure/sample-logs.ts).
    const live = intent.phase === 'eval' && intent.log !== undefined ? { ...logs, eval: intent.log } : logs;
    return { iteration: intent.iteration, phase: intentPhase(intent), since: intent.startedAt ?? null, job, logs: live };
  }
  if (opts.hasSetup && state?.setupDone !== true) {
    return { iteration: null, phase: 'setup', since: null, job: null, logs: { run_dir: null, agent_stdout: null, agent_stderr: null, eval: null, setup: paths.setupLog } };
  }
  return IDLE;
}

function iterationLogs(paths: ExperimentPaths, iteration: number): LiveLogs {
  const files = iterationPaths(paths, iteration);
  return { run_dir: files.dir, agent_stdout: files.agentStdout, agent_stderr: files.agentStderr, eval: files.evalLog, setup: null };
}

/** runs/<n>/ directories are five digits (paths.ts); `.interrupted-<ms>` copies are set aside. */
const RUN_DIR = /^\d{5,}$/;

/** The highest iteration with a runs/<n>/ directory: the one in flight, or the last one (null: none yet). */
export function latestRunIteration(paths: ExperimentPaths): number | null {
  let names: string[];
  try {
    names = fs.readdirSync(paths.runs);
  } catch {
    return null; // no runs/ yet
  }
  let latest: number | null = null;
  for (const name of names) {
    if (!RUN_DIR.test(name)) continue;
    const n = Number(name);
    if (latest === null || n > latest) latest = n;
  }
  return latest;
}

/**
 * The latest iteration that has output to show: a `reset` row's run directory holds only its
 * result.json, so `logs` after a reset shows the last iteration that ran something.
 */
export function latestRunWithOutput(paths: ExperimentPaths): number | null {
  let names: string[];
  try {
    names = fs.readdirSync(paths.runs);
  } catch {
    return null;
  }
  const numbers = names.filter((name) => RUN_DIR.test(name)).map(Number).sort((a, b) => b - a);
  return numbers.find((n) => iterationOutputFiles(iterationPaths(paths, n).dir).some(({ file }) => fs.existsSync(file))) ?? numbers[0] ?? null;
}

/** An iteration's output files in reading order: agent stdout, stderr, each retry's, then the evaluation. */
export function iterationOutputFiles(runDir: string): Array<{ file: string; label: string }> {
  let names: string[];
  try {
    names = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  const retries = names
    .map((name) => /^agent\.(\d+)\.(stdout|stderr)\.log$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]) || (a[2] as string).localeCompare(b[2] as string))
    .map((m) => ({ file: path.join(runDir, m[0]), label: `agent ${m[2]} (retry ${m[1]})` }));
  return [
    { file: path.join(runDir, 'agent.stdout.log'), label: 'agent stdout' },
    { file: path.join(runDir, 'agent.stderr.log'), label: 'agent stderr' },
    ...retries,
    { file: path.join(runDir, 'eval.log'), label: 'evaluation' },
    ...repeatedEvaluations(names, runDir),
  ];
}

/** Issue 11's further evaluations (measure/sample-logs.ts): eval.2.log…, best.1.log…, baseline.1.log…, check.log. */
function repeatedEvaluations(names: readonly string[], runDir: string): Array<{ file: string; label: string }> {
  const labels: Record<string, string> = { eval: 'evaluation', best: 'evaluation of the best', baseline: 'evaluation of the baseline' };
  const found = names
    .map((name) => /^(eval|best|baseline)\.(\d+)\.log$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[2]) - Number(b[2]) || (a[1] as string).localeCompare(b[1] as string))
    .map((m) => ({ file: path.join(runDir, m[0]), label: `${labels[m[1] as string] ?? m[1]} ${m[2]}` }));
  return names.includes('check.log') ? [...found, { file: path.join(runDir, 'check.log'), label: 'check_cmd' }] : found;
}
