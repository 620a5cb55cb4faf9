/**
 * max_experiments in words: what a `done` experiment says in `run`, `status` and the daemon,
 * with the two ways to go on (SPEC §8). Pure, and light enough for `status` to import.
 */
import type { ExperimentConfig } from '../config/types.js';

/** `max_experiments (10) reached — raise max_experiments in config.cfg, or run \`autoresearch run <id> --max-experiments 5\` for 5 more`. */
export function maxExperimentsReached(config: Pick<ExperimentConfig, 'maxExperiments' | 'id'>): string {
  const max = config.maxExperiments ?? 0;
  const more = Math.max(1, Math.ceil(max / 2));
  return (
    `max_experiments (${max}) reached — raise max_experiments in config.cfg, ` +
    `or run \`autoresearch run ${config.id.key} --max-experiments ${more}\` for ${more} more`
  );
}
