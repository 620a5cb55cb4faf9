/**
 * The pooled within-commit noise (NoiseEstimate, types.ts): every commit measured more than once
 * adds its Σ(x − mean)² and n − 1, so σ̂ = √(sumSquares/df) uses every repeat of the night while
 * differences between commits (real effects, drift between them) never count as noise.
 */
import { sumSquaredDeviations } from './statistics.js';
import type { DecisionSettings, NoiseEstimate } from './types.js';

export const EMPTY_NOISE: NoiseEstimate = Object.freeze({ sumSquares: 0, df: 0 });

/** The estimate with one commit's samples added; a group of fewer than 2 samples carries no spread. */
export function withGroup(estimate: NoiseEstimate, samples: readonly number[]): NoiseEstimate {
  if (samples.length < 2) return estimate;
  return { sumSquares: estimate.sumSquares + sumSquaredDeviations(samples), df: estimate.df + samples.length - 1 };
}

/** σ̂ of one evaluation; null while no commit has been measured twice. */
export function sigmaOf(estimate: NoiseEstimate): number | null {
  if (estimate.df <= 0) return null;
  return Math.sqrt(estimate.sumSquares / estimate.df);
}

/** How often the baseline is evaluated: with `noise: auto` at least 3 times, so a first σ̂ exists. */
export function baselineSampleCount(settings: Pick<DecisionSettings, 'repeats' | 'noise'>): number {
  return settings.noise.kind === 'auto' ? Math.max(settings.repeats, 3) : settings.repeats;
}

/**
 * The estimate as it stands now, for people (status, the dashboard): state.json keeps the
 * retired groups only (the best's samples are still growing), so the best's group is added here.
 */
export function currentNoise(state: { noise?: NoiseEstimate; lastKept: { samples?: readonly number[] } }): NoiseEstimate {
  return withGroup(state.noise ?? EMPTY_NOISE, state.lastKept.samples ?? []);
}
