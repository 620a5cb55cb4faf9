/**
 * One wild sample (a glitched GPU, a run that printed a diverged number that still parses)
 * must not decide a night: pooled into σ̂ it starves every later candidate, among the best's
 * samples it freezes the best (every candidate then fails futility, so the best is never
 * measured again). So once the noise is known (σ̂ on at least OUTLIER_MIN_DF degrees of
 * freedom), a sample further than OUTLIER_SIGMAS·σ̂ from the median of its commit's samples
 * (at least 3 of them) is set aside: not in the decision, not in the estimate. Pure.
 *
 * Conservative on purpose: at 8σ a normal sample is an outlier once in 10^15; a commit whose
 * samples really are that spread (a bimodal evaluation) keeps them all when most agree.
 */
import { sigmaOf } from './noise-estimate.js';
import { median } from './statistics.js';
import type { NoiseEstimate } from './types.js';

export const OUTLIER_SIGMAS = 8;
export const OUTLIER_MIN_DF = 10;

/** The samples of one commit without its outliers (all of them when nothing can be judged). */
export function withoutOutliers(samples: readonly number[], noise: NoiseEstimate): number[] {
  const limit = outlierLimit(noise);
  if (limit === null || samples.length < 3) return [...samples];
  const center = median(samples);
  const kept = samples.filter((x) => Math.abs(x - center) <= limit);
  // Most samples must agree for any to be set aside.
  return kept.length * 2 > samples.length ? kept : [...samples];
}

/** Two samples of one commit further apart than outliers can be: a third must say which is wrong. */
export function twoDisagree(samples: readonly number[], noise: NoiseEstimate): boolean {
  const limit = outlierLimit(noise);
  const [a, b] = samples;
  return limit !== null && samples.length === 2 && a !== undefined && b !== undefined && Math.abs(a - b) > limit * Math.SQRT2;
}

function outlierLimit(noise: NoiseEstimate): number | null {
  if (noise.df < OUTLIER_MIN_DF) return null;
  const sigma = sigmaOf(noise);
  return sigma === null || sigma === 0 ? null : OUTLIER_SIGMAS * sigma;
}
