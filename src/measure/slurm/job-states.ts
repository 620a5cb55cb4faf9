/**
 * What SLURM's job states mean to an evaluation: still in the queue, running, or ended, and
 * when ended, whose fault. The exit file (the job's own word) says how the command ended; the
 * state says what the cluster did to it when the command could not say (cancelled, out of
 * memory, preempted, node failure).
 */
import type { ProcessOutcome } from '../../process/types.js';
import type { JobEnd } from '../executor.js';
import type { ExitRecord } from './exit-file.js';

/** Waiting for resources (the `queued` phase). */
const QUEUED = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD']);
/** Started on a node (the timeout clock runs). */
const STARTED = new Set(['RUNNING', 'COMPLETING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT', 'RESIZING']);
/** Ended through no fault of the candidate: the evaluation is run again (bounded). */
const INFRASTRUCTURE = new Set(['PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL', 'REVOKED']);

export type StateClass = 'queued' | 'started' | 'ended';

/** A state we do not know is taken as ended only when SLURM lists it among the final ones. */
export function classifyState(state: string): StateClass {
  if (QUEUED.has(state)) return 'queued';
  if (STARTED.has(state)) return 'started';
  if (state === 'SPECIAL_EXIT') return 'queued'; // held after a special exit: it may run again
  return 'ended';
}

/** Whether a job in this state still occupies (or waits for) the cluster: what a stop must leave none of. */
export function isActiveState(state: string): boolean {
  return classifyState(state) !== 'ended';
}

export function isInfrastructureState(state: string): boolean {
  return INFRASTRUCTURE.has(state);
}

/** How an ended job counts, when it is not an infrastructure failure. */
export type EndVerdict =
  | { kind: 'outcome'; outcome: ProcessOutcome & { job: JobEnd } }
  | { kind: 'infrastructure' }
  /** COMPLETED/FAILED with no exit file: the command never ran where we can see it (shared filesystem?). */
  | { kind: 'unseen' };

/**
 * The outcome of an ended job. `exit` is the job's exit file (null when there is none),
 * `durationMs` the time it ran as we saw it (the exit file's own count is preferred).
 */
export function judgeEndedJob(job: JobEnd, exit: ExitRecord | null, durationMs: number): EndVerdict {
  // A preempted job's shell may still have written a file (a trap, a race): the state wins.
  if (isInfrastructureState(job.state)) return { kind: 'infrastructure' };
  const took = Math.round(exit?.elapsedMs ?? durationMs);
  const withJob = (outcome: ProcessOutcome): EndVerdict => ({ kind: 'outcome', outcome: { ...outcome, job } });
  if (exit !== null) {
    switch (exit.kind) {
      case 'exit':
        return withJob({ kind: 'exit', code: exit.code, durationMs: took });
      case 'signal':
        return withJob({ kind: 'signal', signal: exit.signal, durationMs: took });
      case 'timeout':
        return withJob({ kind: 'timeout', durationMs: took });
      case 'spawn-error':
        return withJob({ kind: 'spawn-error', message: exit.message, durationMs: took });
      default: {
        const unreachable: never = exit;
        return unreachable;
      }
    }
  }
  switch (job.state) {
    case 'OUT_OF_MEMORY':
      return withJob({ kind: 'signal', signal: 'SIGKILL', durationMs: took });
    case 'TIMEOUT':
    case 'DEADLINE':
      return withJob({ kind: 'timeout', durationMs: took });
    case 'CANCELLED':
      // Not by us (our own cancel returns `aborted` or `timeout` before asking): an admin's or
      // the user's scancel, which says nothing about the candidate: run again, like a preemption.
      // (To stop an evaluation, `autoresearch pause` cancels it without a re-run.)
      return { kind: 'infrastructure' };
    case 'COMPLETED':
    case 'FAILED':
      return { kind: 'unseen' };
    default:
      // A final state we do not know: say it as it is.
      return withJob({ kind: 'spawn-error', message: `slurm job ${job.id} ended ${job.state} on ${job.node ?? 'no node'} without an exit file`, durationMs: took });
  }
}
