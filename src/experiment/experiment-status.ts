/**
 * What `status` shows for one experiment (SPEC §8), read from its files: the ledger for the
 * counts, state.json for halts and waits, run.lock for "running" (or "waiting" while that run waits
 * out a quota recorded in state.json). The daemon overlays what
 * only it knows (phase, last progress, a rejected config edit).
 */
import fsSync from 'node:fs';
import type { DiscoveredExperiment } from '../config/discover.js';
import { parseConfigText } from '../config/parse-config.js';
import type { Direction, ExperimentConfig } from '../config/types.js';
import type { NoiseEstimate } from '../decision/types.js';
import { errorMessage } from '../core/errors.js';
import { isErrno } from '../fs/durable.js';
import { experimentsOf } from '../ledger/experiment-counts.js';
import { maxExperimentsReached } from '../loop/max-experiments.js';
import { chooseAgent, waitUntil } from '../loop/exhaustion.js';
import { isSameProcessAlive } from '../process/process-identity.js';
import { readLedger, type LedgerRead } from './ledger-read.js';
import { liveIteration, type LiveLogs } from './live-iteration.js';
import { draftStatus, type DraftStatus } from './draft-status.js';
import { experimentPaths } from './paths.js';
import { readLockOwnerSync } from './run-lock.js';
import { parseStateText, type ExperimentState } from './state.js';
import { readInfrastructureFailures } from './infrastructure-log.js';
import { currentNoise } from '../decision/noise-estimate.js';

export type StatusState = 'new' | 'idle' | 'running' | 'waiting' | 'blocked' | 'tripped' | 'paused' | 'done';

export interface ExperimentStatus {
  id: string;
  scope: string;
  state: StatusState;
  /** Every row of the ledger, the baseline's too. */
  iterations: number;
  /** Iterations after the baseline: what max_experiments counts. keeps/discards/crashes split them (the baseline is not among the keeps). */
  experiments: number;
  keeps: number;
  discards: number;
  crashes: number;
  /** The config's limit on experiments; null: unlimited (or no readable config). */
  max_experiments: number | null;
  best: number | null;
  /** How many times the best commit was evaluated (state.json lastKept.samples: its keep's, whose aggregate stays `best`, then re-measurements); null: not recorded (one). */
  best_samples: number | null;
  baseline: number | null;
  /** The noise of one evaluation as measured so far (noise: auto): σ and its degrees of freedom; null: not measured yet. */
  noise: { sigma: number; df: number } | null;
  consecutive_crashes: number;
  wait_until: string | null;
  reason: string | null;
  /** The phase of the iteration in flight: setup, agent, queued (a cluster job waiting for its resources), eval (the daemon says more: capture, decide, between iterations). */
  phase: string | null;
  /** When that phase began (ISO 8601), when the files know it; null otherwise. */
  phase_started_at: string | null;
  /** The cluster job of the evaluation in flight (executor: slurm): its name, and its id once submitted. */
  job: { name: string; id: string | null } | null;
  /** The iteration in flight, and where its output goes (null when nothing runs). */
  iteration: number | null;
  logs: LiveLogs | null;
  /** pipeline: the next iteration drafted beside the one in flight (its agent's turn, or its candidate ready); null: none. */
  draft: DraftStatus | null;
  last_progress: string | null;
  pid: number | null;
  config_error: string | null;
  /** Evaluation jobs the cluster ended (preempted, node failure: infrastructure.jsonl, no rows); 0 for a local experiment. */
  infrastructure_failures: number;
  /** Only from the daemon: its latest warnings for this experiment (a dirty checkout, a suspicious keep…). */
  warnings?: string[];
}

export async function readExperimentStatus(found: DiscoveredExperiment, now: number): Promise<ExperimentStatus> {
  return (await readExperiment(found, now)).status;
}

/** The status, and what it was computed from that `results --all` shows too (one read of each file). */
export interface ExperimentReading {
  status: ExperimentStatus;
  ledger: LedgerRead;
  /** The config's direction; null when the config does not load (status.config_error says why). */
  direction: Direction | null;
}

export async function readExperiment(found: DiscoveredExperiment, now: number): Promise<ExperimentReading> {
  const paths = experimentPaths(found.dir);
  let config: ExperimentConfig | null = null;
  let configError: string | null = null;
  try {
    config = parseConfigText(fsSync.readFileSync(paths.config, 'utf8'), { file: paths.config, dir: found.dir, id: found.id, scope: found.scope });
  } catch (error) {
    configError = errorMessage(error);
  }
  let state: ExperimentState | null = null;
  let stateError: string | null = null;
  try {
    state = readStateSync(paths.state);
  } catch (error) {
    stateError = errorMessage(error);
  }
  // Counts without reading every row when possible (ledger-read.ts: state.json's digest, a
  // reader's cached figures, else one streamed read).
  const ledger = readLedger(paths.results, state);
  const counts = ledger.figures;
  const ledgerError = ledger.problem?.corrupt === true ? ledger.problem.message : null; // an unreadable file counts as empty, as before
  const owner = readLockOwnerSync(paths.lock);
  const running = owner !== null && isSameProcessAlive(owner);
  const wait = config !== null && state !== null ? waitUntil(config, state, now) : null;
  // Iterations after the baseline (the baseline is always the first keep).
  const after = experimentsOf(counts);
  const done = config?.maxExperiments != null && after.experiments >= config.maxExperiments;

  let status: StatusState;
  let reason: string | null = null;
  if (stateError !== null || ledgerError !== null) {
    status = 'blocked';
    reason = stateError ?? ledgerError;
  } else if (running && wait !== null) {
    // A foreground run waiting out a quota (the daemon's own waits are overlaid by the daemon).
    status = 'waiting';
    reason = (state === null || config === null ? undefined : waitReason(config, state, now)) ?? null;
  } else if (running) status = 'running';
  else if (state?.halt) {
    status = state.halt.state;
    reason = state.halt.reason;
  } else if (wait !== null) {
    status = 'waiting';
    reason = (state === null || config === null ? undefined : waitReason(config, state, now)) ?? null;
  } else if (done) {
    status = 'done';
    reason = config === null ? null : maxExperimentsReached(config);
  } else status = counts.iterations === 0 ? 'new' : 'idle';

  const live = liveIteration(paths, state, { running, hasSetup: config?.setupCmd != null });
  const result: ExperimentStatus = {
    id: found.id.key,
    scope: found.scope,
    state: status,
    iterations: counts.iterations,
    experiments: after.experiments,
    keeps: after.keeps,
    discards: after.discards,
    crashes: after.crashes,
    max_experiments: config?.maxExperiments ?? null,
    best: counts.best,
    best_samples: state?.lastKept.samples?.length ?? null,
    baseline: counts.baseline,
    noise: state === null ? null : noiseOf(currentNoise(state)),
    consecutive_crashes: state?.consecutiveCrashes ?? counts.consecutiveCrashes,
    wait_until: wait === null ? null : new Date(wait).toISOString(),
    reason,
    phase: live.phase,
    phase_started_at: live.since,
    job: live.job,
    iteration: live.iteration,
    logs: live.logs,
    draft: draftStatus(state, running),
    last_progress: state?.updatedAt ?? null,
    pid: running ? (owner?.pid ?? null) : null,
    config_error: configError,
    infrastructure_failures: countInfrastructureFailures(paths.infrastructure),
  };
  return { status: result, ledger, direction: config?.direction ?? null };
}

/**
 * loadState without the thread pool (a thousand small reads cost more in round trips than in
 * reading): the same answers. Every file status reads is read synchronously for that reason.
 */
function readStateSync(file: string): ExperimentState | null {
  let text: string;
  try {
    text = fsSync.readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  return parseStateText(text, file);
}

/** A few lines at most (one per job the cluster ended); unreadable counts as none, never a failed status. */
function countInfrastructureFailures(file: string): number {
  try {
    return readInfrastructureFailures(file).length;
  } catch {
    return 0;
  }
}

/** σ̂ = √(sumSquares/df) of the pooled within-commit variance; null until some commit was measured twice. */
export function noiseOf(estimate: NoiseEstimate | undefined): { sigma: number; df: number } | null {
  if (estimate === undefined || estimate.df <= 0 || !Number.isFinite(estimate.sumSquares) || estimate.sumSquares < 0) return null;
  return { sigma: Math.sqrt(estimate.sumSquares / estimate.df), df: estimate.df };
}

/** What the wait is for: the exhaustion that ends first among those that block (an evaluation out of quota blocks every agent). */
function waitReason(...args: Parameters<typeof chooseAgent>): string | undefined {
  const choice = chooseAgent(...args);
  return choice.kind === 'wait' ? `${choice.role === 'evaluation' ? 'evaluation: ' : ''}${choice.exhaustion.reason}` : undefined;
}
