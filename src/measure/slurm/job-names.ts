/**
 * The names one evaluation's jobs carry: the first submission under the evaluation's own name
 * (run-records.ts jobName), each re-run after preemption or node failure under `<name>.r1`,
 * `.r2`… One definition for the executor and for the second SIGTERM's synchronous cancel.
 */

/** Submissions of one evaluation in all, counting re-runs (slurm-executor.ts maxAttempts). */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** The name of submission `attempt` (0-based). */
export function attemptJobName(name: string, attempt: number): string {
  return attempt === 0 ? name : `${name}.r${attempt}`;
}

/** Every name an evaluation's jobs may carry, first submission first. */
export function jobNames(name: string, attempts: number = DEFAULT_MAX_ATTEMPTS): string[] {
  return Array.from({ length: attempts }, (_, attempt) => attemptJobName(name, attempt));
}
