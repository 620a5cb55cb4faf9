/**
 * CONTRACT STUB (lead, issue 12): helper "slurmexec" replaces this file with the real executor.
 * Evaluations as SLURM batch jobs: see the issue-12 section of /work/wt/BRIEF.md.
 */
import type { Clock } from '../../core/clock.js';
import type { SlotPool } from '../../core/slot-pool.js';
import type { Executor } from '../executor.js';

export interface SlurmExecutorOptions {
  /** The extra sbatch arguments of the experiment's `slurm_args`. */
  slurmArgs: readonly string[];
  /** The daemon's `--slots`: bounds the jobs in flight (absent: no limit). Never sets CUDA_VISIBLE_DEVICES. */
  slots: SlotPool<string> | undefined;
  clock: Clock;
  /** The environment sbatch/squeue/scancel run with (PATH finds them). */
  env: NodeJS.ProcessEnv;
}

export function slurmExecutor(_options: SlurmExecutorOptions): Executor {
  throw new Error('slurmExecutor: not implemented yet (issue 12 contract stub)');
}
