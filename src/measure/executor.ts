/**
 * The executor seam (issue 11 design, issue 12 adds SLURM): where ONE evaluation runs. The
 * measurement asks for an evaluation and gets a ProcessOutcome; it never knows whether the
 * command ran in a local process group or elsewhere.
 *
 * The local executor runs `evaluate_cmd` in its own process group through the process runner
 * (tree kill on timeout and abort, escapees found by tag) and, in the daemon, holds an
 * evaluation slot (a GPU) for exactly the evaluation's own duration.
 */
import type { SlotPool } from '../core/slot-pool.js';
import type { EnvTag } from '../process/escapees.js';
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
  /** Called once the evaluation has its resources and starts (e.g. `slot 1`), before it runs. */
  onStart: (where: string | undefined) => Promise<void>;
}

/** `aborted` before it started (no slot came before the stop) is an outcome like any abort. */
export interface Executor {
  evaluate(request: EvaluationRequest): Promise<ProcessOutcome>;
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
