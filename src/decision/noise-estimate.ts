// Placeholder until helper "stats" lands the real module.
import type { DecisionSettings, NoiseEstimate } from './types.js';
export const EMPTY_NOISE: NoiseEstimate = { sumSquares: 0, df: 0 };
export function withGroup(estimate: NoiseEstimate, samples: readonly number[]): NoiseEstimate {
  if (samples.length < 2) return estimate;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { sumSquares: estimate.sumSquares + samples.reduce((a, x) => a + (x - mean) ** 2, 0), df: estimate.df + samples.length - 1 };
}
export function sigmaOf(estimate: NoiseEstimate): number | null {
  return estimate.df > 0 ? Math.sqrt(estimate.sumSquares / estimate.df) : null;
}
export function baselineSampleCount(settings: DecisionSettings): number {
  return settings.noise.kind === 'auto' ? Math.max(settings.repeats, 3) : settings.repeats;
}
