/**
 * The executor seam (issue 11 design, issue 12 adds SLURM): where ONE evaluation runs. The
 * measurement asks for an evaluation and gets an ExecutorOutcome; it never knows whether the
 * command ran in a local process group or as a batch job on a cluster (slurm/).
 *
 * The local executor runs `evaluate_cmd` in its own process group through the process runner
 * (tree kill on timeout and abort, escapees found by tag) and, in the daemon, holds an
 * evaluation slot (a GPU) for exactly the evaluation's own duration.
 */
import type { SlotPool } from '../core/slot-pool.js';
import type { EnvTag } from '../process/escapees.js';
import type { JobRecord } from '../experiment/state.js';
import type { ProcessOutcome, ProcessRunner, SpawnedChild } from '../process/types.js';

export interface EvaluationRequest {
  command: string;
  cwd: string;
  /** The evaluation's environment without slot variables (the executor adds its own). */
  env: Record<string, string | undefined>;
  logFile: string;
  timeoutMs: number;
  signal: AbortSignal;
  escapeTag: EnvTag;
  onEscapee: (message: string) => void;
  onSpawn: (child: SpawnedChild) => void;
  /** Called once the evaluation has its resources and starts (e.g. `slot 1`, `job 12 on node3`), before it runs. */
  onStart: (where: string | undefined) => Promise<void>;
  /**
   * A name unique to this evaluation of this iteration attempt (`ar-<domain>/<name>:<n>-<attempt>-eval.2`),
   * the same when a restart resumes the attempt: what a cluster job is called and found by.
   */
  jobName: string;
  /** The commit the worktree holds (recorded with the job: a restart re-attaches only to the same). */
  commit: string;
  /**
   * Before a job is submitted (`id: null`; the intent must hold the name before `sbatch`
   * runs) and once the scheduler gave it an id. The phase is `queued` until onStart.
   */
  onSubmit: (job: JobRecord) => Promise<void>;
  /** Told about a failure of the cluster (not the candidate's): the evaluation is run again, up to a bound. */
  onInfrastructureFailure: (failure: InfrastructureFailure) => void;
}

/** A cluster's end of a job, for the row's words: `slurm job 12 FAILED on node3`. */
export interface JobEnd {
  id: string;
  /** The scheduler's final state: COMPLETED, FAILED, TIMEOUT, CANCELLED, PREEMPTED, NODE_FAIL, OUT_OF_MEMORY… */
  state: string;
  node: string | null;
}

/**
 * What an evaluation came to. A process outcome (with the job's end when it ran on a
 * cluster), or `infrastructure`: the cluster failed it every time it was tried (preempted,
 * node failure), which says nothing about the candidate: no row.
 */
export type ExecutorOutcome =
  | (ProcessOutcome & { job?: JobEnd })
  | {
      kind: 'infrastructure';
      failures: InfrastructureFailure[];
      durationMs: number;
      /** Why the cluster could not run it at all (sbatch refused, a job that can never start, no exit file): no failures then. */
      message?: string;
    };

/** One failure of the cluster under an evaluation (written to infrastructure.jsonl). */
export interface InfrastructureFailure {
  job: JobEnd & { name: string };
  /** Where the partial output went (the evaluation's log is set aside before a re-run). */
  log: string;
  /** `rerun` (the evaluation is submitted again) or `gave-up` (the bound was reached). */
  action: 'rerun' | 'gave-up';
}

/** `aborted` before it started (no slot came before the stop) is an outcome like any abort. */
export interface Executor {
  evaluate(request: EvaluationRequest): Promise<ExecutorOutcome>;
}

export function localExecutor(runner: ProcessRunner, slots: SlotPool<string> | undefined): Executor {
  return {
    async evaluate(request) {
      const lease = slots === undefined ? undefined : await slots.acquire(request.signal);
      if (lease === null) return { kind: 'aborted', durationMs: 0 };
      try {
        await request.onStart(lease === undefined ? undefined : `slot ${lease.slot}`);
        return await runner.run({
          command: request.command,
          cwd: request.cwd,
          env: lease === undefined ? request.env : { ...request.env, ...slotEnv(lease.slot) },
          stdoutFile: request.logFile,
          timeoutMs: request.timeoutMs,
          signal: request.signal,
          onSpawn: request.onSpawn,
          escapeTag: request.escapeTag,
          onEscapee: request.onEscapee,
        });
      } finally {
        lease?.release();
      }
    },
  };
}

/** AUTORESEARCH_SLOT always; CUDA_VISIBLE_DEVICES when the slot is a GPU index (or a list of them). */
function slotEnv(slot: string): Record<string, string> {
  return /^\d+(,\d+)*$/.test(slot) ? { AUTORESEARCH_SLOT: slot, CUDA_VISIBLE_DEVICES: slot } : { AUTORESEARCH_SLOT: slot };
}

/** The words of an `infrastructure` end: why the cluster could not run it, or every failure under it. */
export function infrastructureDetail(outcome: { failures: readonly InfrastructureFailure[]; message?: string }): string {
  const { failures } = outcome;
  const states = failures.map((f) => `${f.job.state}${f.job.node === null ? '' : ` on ${f.job.node}`} (job ${f.job.id})`).join(', ');
  const failed = failures.length === 0 ? null : `the cluster failed the evaluation ${failures.length} time${failures.length === 1 ? '' : 's'}: ${states}`;
  const refused = outcome.message === undefined ? null : `the cluster could not run the evaluation: ${outcome.message}`;
  return [refused, failed].filter((part) => part !== null).join('; ') || 'the cluster could not run the evaluation';
}
