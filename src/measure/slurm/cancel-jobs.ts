/**
 * For recovery and stops outside an evaluation: find one of our jobs by name, or cancel every
 * active job of an experiment (`ar-<domain>/<name>:`) but the ones a restart re-attaches to.
 */
import type { Clock } from '../../core/clock.js';
import { createSlurmCli, type SlurmCli, type SlurmJob } from './slurm-cli.js';
import { isActiveState } from './job-states.js';

/** The tools (and the cluster) these run against: a cli, or the environment whose PATH finds them. */
export type Cluster = SlurmCli | NodeJS.ProcessEnv;

function cliOf(cluster: Cluster): SlurmCli {
  return typeof (cluster as SlurmCli).jobsNamed === 'function' ? (cluster as SlurmCli) : createSlurmCli({ env: cluster as NodeJS.ProcessEnv });
}

/**
 * Cancels every active job of ours whose name starts with `namePrefix`, except those named in
 * `except` and those starting with one of `exceptPrefixes`; returns the names cancelled
 * (sorted). With `waitUntilGone`, waits until they have left the active states (throws after
 * its timeout); without, waiting is the caller's (findJob), as is saying why. The prefix must
 * end where an experiment's part of the name ends (`ar-<domain>/<name>@<where>:`), or it
 * reaches the jobs of experiments named alike.
 */
export async function cancelJobs(
  cluster: Cluster,
  options: { namePrefix: string; except?: readonly string[]; exceptPrefixes?: readonly string[]; waitUntilGone?: { clock: Clock; timeoutMs: number; pollMs: number } },
): Promise<string[]> {
  if (options.namePrefix === '') throw new TypeError('cancelJobs: expected a non-empty name prefix (it would cancel every job of the user)');
  const cli = cliOf(cluster);
  const keep = new Set(options.except ?? []);
  const keptPrefixes = options.exceptPrefixes ?? [];
  const ours = (jobs: readonly SlurmJob[]): SlurmJob[] =>
    jobs.filter((job) => job.name.startsWith(options.namePrefix) && !keep.has(job.name) && !keptPrefixes.some((kept) => job.name.startsWith(kept)) && isActiveState(job.state));
  const doomed = ours(await cli.allJobs());
  if (doomed.length === 0) return [];
  await cli.cancelIds(doomed.map((job) => job.id));
  const wait = options.waitUntilGone;
  if (wait !== undefined) {
    const ids = new Set(doomed.map((job) => job.id));
    const deadline = wait.clock.monotonic() + wait.timeoutMs;
    while (ours(await cli.allJobs()).some((job) => ids.has(job.id))) {
      if (wait.clock.monotonic() > deadline) throw new Error(`scancel: jobs ${[...ids].join(', ')} were still active ${wait.timeoutMs / 1000}s after being cancelled`);
      await wait.clock.sleep(wait.pollMs);
    }
  }
  return [...new Set(doomed.map((job) => job.name))].sort();
}

/** The newest job of ours with this exact name that squeue still lists (any state), or null. */
export async function findJob(cluster: Cluster, name: string): Promise<SlurmJob | null> {
  const jobs = await cliOf(cluster).jobsNamed([name]);
  return jobs.reduce<SlurmJob | null>((a, b) => (a === null || Number(b.id) > Number(a.id) ? b : a), null);
}
