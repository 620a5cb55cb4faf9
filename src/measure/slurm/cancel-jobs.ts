/**
 * For recovery and stops outside an evaluation: find one of our jobs by name, or cancel every
 * active job of an experiment (`ar-<domain>/<name>:`) but the ones a restart re-attaches to.
 */
import { createSlurmCli, type SlurmCli, type SlurmJob } from './slurm-cli.js';
import { isActiveState } from './job-states.js';

/** The tools (and the cluster) these run against: a cli, or the environment whose PATH finds them. */
export type Cluster = SlurmCli | NodeJS.ProcessEnv;

function cliOf(cluster: Cluster): SlurmCli {
  return typeof (cluster as SlurmCli).jobsNamed === 'function' ? (cluster as SlurmCli) : createSlurmCli({ env: cluster as NodeJS.ProcessEnv });
}

/**
 * Cancels every active job of ours whose name starts with `namePrefix`, except those named in
 * `except`; returns the names cancelled (sorted). Waiting for them to leave squeue is the
 * caller's (findJob), as is saying why.
 */
export async function cancelJobs(cluster: Cluster, options: { namePrefix: string; except?: readonly string[] }): Promise<string[]> {
  if (options.namePrefix === '') throw new TypeError('cancelJobs: expected a non-empty name prefix (it would cancel every job of the user)');
  const cli = cliOf(cluster);
  const keep = new Set(options.except ?? []);
  const doomed = (await cli.allJobs()).filter((job) => job.name.startsWith(options.namePrefix) && !keep.has(job.name) && isActiveState(job.state));
  await cli.cancelIds(doomed.map((job) => job.id));
  return [...new Set(doomed.map((job) => job.name))].sort();
}

/** The newest job of ours with this exact name that squeue still lists (any state), or null. */
export async function findJob(cluster: Cluster, name: string): Promise<SlurmJob | null> {
  const jobs = await cliOf(cluster).jobsNamed([name]);
  return jobs.reduce<SlurmJob | null>((a, b) => (a === null || Number(b.id) > Number(a.id) ? b : a), null);
}
