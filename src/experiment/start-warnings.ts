/**
 * Warnings before a wasted night (SPEC §5), said when an experiment starts (`run`,
 * `run --dry-run`, the daemon's first turn of an experiment). They never block: the loop
 * reports them as `warning` events.
 *
 *   - uncommitted changes in the user's checkout: the experiment works in its own worktree,
 *     from HEAD (or its last keep), so it never sees them;
 *   - a timing metric (loop/timing-metric.ts) while other evaluations may share the CPUs;
 *   - `noise: auto` with `repeats: 1` (a keep test that can rarely say yes).
 */
import { PROJECT_DIR_NAME } from '../config/discover.js';
import type { ExperimentConfig } from '../config/types.js';
import type { ProjectRepo } from '../git/project-repo.js';
import { scopeMatcher } from '../loop/scope.js';
import { timingReason } from '../loop/timing-metric.js';

/** How many paths a warning names; the rest are counted. */
const LISTED_PATHS = 5;

/** The warning about uncommitted changes in the checkout, or null when it is clean (or only experiment files changed). */
export async function uncommittedChangesWarning(config: ExperimentConfig, project: ProjectRepo, startCommit: string): Promise<string | null> {
  const paths = await project.uncommittedPaths();
  const head = await project.head();
  const from = startCommit === head ? `HEAD ${head.slice(0, 7)}` : `its last keep ${startCommit.slice(0, 7)}, not your HEAD ${head.slice(0, 7)}`;
  return describeUncommitted(config, paths, from);
}

/**
 * Pure part: the changed paths → the warning. Files under `.autoresearch/` (config.cfg,
 * program.md, an evaluator placed there) are read from the experiment directory, not the
 * worktree, so they are seen and never listed. Paths in target/scope are listed first.
 */
export function describeUncommitted(config: ExperimentConfig, paths: readonly string[], from: string): string | null {
  const relevant = paths.filter((p) => p !== `${PROJECT_DIR_NAME}/` && !p.startsWith(`${PROJECT_DIR_NAME}/`));
  if (relevant.length === 0) return null;
  const inScope = scopeMatcher([...config.target, ...config.allowedPaths]);
  const scoped = relevant.filter((p) => inScope(p));
  const ordered = [...scoped, ...relevant.filter((p) => !inScope(p))];
  const listed = ordered.slice(0, LISTED_PATHS).map((p) => (scoped.includes(p) ? `${p} (in scope)` : p));
  const more = ordered.length > LISTED_PATHS ? ` and ${ordered.length - LISTED_PATHS} more` : '';
  const count = `${relevant.length} uncommitted change${relevant.length === 1 ? '' : 's'}`;
  return (
    `your checkout has ${count} the experiment will not see (it starts from ${from}): ${listed.join(', ')}${more}; ` +
    `commit them first if the experiment should see them`
  );
}

/** What else may run on this machine's CPUs while an evaluation is timed, and what to do about it. */
export interface CpuSharing {
  /** E.g. "the daemon runs up to 4 experiments at once (--concurrency 4)". */
  what: string;
  fix: string;
}

/** The warning about a timing metric measured while other work shares the CPUs, or null. */
export function timingWarning(config: ExperimentConfig, sharing: CpuSharing | null): string | null {
  if (sharing === null) return null;
  const why = timingReason(config.metric, config.metricKind);
  if (why === null) return null;
  return `${config.metric} looks like a timing (${why}), and ${sharing.what}: their load skews its measurements, so keeps may be luck; ${sharing.fix}`;
}

/**
 * The daemon's sharing, or null when evaluations cannot overlap: at most one experiment at a
 * time, one evaluation slot (they take turns), or slots named with `--slots` (a dedicated
 * resource per evaluation, e.g. a CPU set or GPU the evaluation takes from AUTORESEARCH_SLOT).
 * `others`: the daemon's other experiments that may run now.
 */
export function daemonCpuSharing(opts: { concurrency: number; evalSlots: number; namedSlots: boolean; others: readonly string[] }): CpuSharing | null {
  if (opts.concurrency <= 1 || opts.evalSlots <= 1 || opts.namedSlots || opts.others.length === 0) return null;
  const shown = opts.others.slice(0, 3).join(', ') + (opts.others.length > 3 ? ` and ${opts.others.length - 3} more` : '');
  return {
    what: `the daemon runs up to ${opts.concurrency} experiments at once (--concurrency ${opts.concurrency}) with ${opts.evalSlots} evaluation slots, none dedicated, so its evaluations may overlap with those of ${shown}`,
    fix: 'restart it with `autoresearch daemon start --concurrency 1`, or `--slots cpu` so evaluations take turns (or one named slot per CPU set, used through AUTORESEARCH_SLOT)',
  };
}

/**
 * `noise: auto` with `repeats: 1`: only the baseline is ever measured twice, so σ̂ rests on 2
 * degrees of freedom all night and the keep test can rarely say yes (a simulation of 3σ
 * improvements kept about a quarter of them). Legal, but rarely what was meant.
 */
export function noiseSettingsWarning(config: Pick<ExperimentConfig, 'noise' | 'repeats'>): string | null {
  if (config.noise.kind !== 'auto' || config.repeats > 1) return null;
  return 'noise: auto with repeats: 1 measures the noise on the baseline alone (2 degrees of freedom), so the keep test is weak and real improvements are often discarded as within_noise; set repeats: 3 or more, or noise: off (or a known σ)';
}

/** `slurm_args` set while evaluations run locally: the arguments are ignored, which is rarely what was meant. */
export function slurmArgsWarning(config: Pick<ExperimentConfig, 'executor' | 'slurmArgs' | 'file'>): string | null {
  if (config.executor === 'slurm' || config.slurmArgs.length === 0) return null;
  return `slurm_args is set (${config.slurmArgs.join(' ')}) but executor is local, so evaluations run on this machine and the arguments are not used; add \`executor: slurm\` to ${config.file} to run them as SLURM jobs, or delete slurm_args`;
}
