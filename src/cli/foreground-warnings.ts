/**
 * The start warnings of a foreground `run` (and `run --dry-run`), see
 * experiment/start-warnings.ts. Here, because only the CLI asks the daemon: which other
 * experiments of this project run now, or soon, on the same machine — a foreground `run`
 * (its run.lock) or the daemon (its status). A check that fails is itself a warning: it
 * never stops the run.
 */
import { discoverExperiments } from '../config/discover.js';
import type { ExperimentConfig } from '../config/types.js';
import { errorMessage } from '../core/errors.js';
import { experimentPaths } from '../experiment/paths.js';
import { readLockOwner } from '../experiment/run-lock.js';
import { noiseSettingsWarning, slurmArgsWarning, timingWarning, uncommittedChangesWarning, type CpuSharing } from '../experiment/start-warnings.js';
import type { ProjectRepo } from '../git/project-repo.js';
import { timingReason } from '../loop/timing-metric.js';
import { isSameProcessAlive } from '../process/process-identity.js';
import { daemonRequest, liveDaemon } from './daemon-client.js';

/** Daemon states of an experiment that runs now or will without anyone's action. */
const ACTIVE_DAEMON_STATES = new Set(['new', 'idle', 'running']);

export async function foregroundStartWarnings(config: ExperimentConfig, project: ProjectRepo, startCommit: string, projectRoot: string): Promise<string[]> {
  const warnings: string[] = [];
  try {
    const dirty = await uncommittedChangesWarning(config, project, startCommit);
    if (dirty !== null) warnings.push(dirty);
  } catch (error) {
    warnings.push(`could not check your checkout for uncommitted changes: ${errorMessage(error)}`);
  }
  const noise = noiseSettingsWarning(config);
  if (noise !== null) warnings.push(noise);
  const slurmArgs = slurmArgsWarning(config);
  if (slurmArgs !== null) warnings.push(slurmArgs);
  if (timingReason(config.metric, config.metricKind) !== null) {
    try {
      const timing = timingWarning(config, await otherRuns(config, projectRoot));
      if (timing !== null) warnings.push(timing);
    } catch (error) {
      warnings.push(`could not check for other experiments running on this machine: ${errorMessage(error)}`);
    }
  }
  return warnings;
}

/** The project's other experiments that run now (or are queued in the daemon), or null when none. */
async function otherRuns(config: ExperimentConfig, projectRoot: string): Promise<CpuSharing | null> {
  const runs = new Map<string, string>();
  for (const found of await discoverExperiments(projectRoot)) {
    if (found.id.key === config.id.key) continue;
    const owner = await readLockOwner(experimentPaths(found.dir).lock).catch(() => null);
    if (owner !== null && isSameProcessAlive(owner)) runs.set(found.id.key, `\`${owner.command}\` pid ${owner.pid}`);
  }
  const daemon = await liveDaemon(projectRoot);
  if (daemon !== null) {
    const status = (await daemonRequest(daemon, 'GET', '/api/status')) as { experiments?: Array<{ id: string; state: string }> };
    for (const experiment of status.experiments ?? []) {
      if (experiment.id === config.id.key || !ACTIVE_DAEMON_STATES.has(experiment.state)) continue;
      if (!runs.has(experiment.id)) runs.set(experiment.id, `the daemon, pid ${daemon.pid}`);
    }
  }
  if (runs.size === 0) return null;
  const listed = [...runs].slice(0, 3).map(([id, who]) => `${id} (${who})`);
  const more = runs.size > 3 ? ` and ${runs.size - 3} more` : '';
  return {
    what: `other experiments of this project run on this machine at the same time: ${listed.join(', ')}${more}`,
    fix:
      'pause them while this one measures (`autoresearch pause <id>`), or run every experiment in the daemon ' +
      'with `autoresearch daemon start --concurrency 1` (or `--slots cpu`, so evaluations take turns)',
  };
}
