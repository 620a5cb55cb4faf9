// Placeholder until helper "stats" lands the real module: noise off only.
import { isImprovement } from './keep-rule.js';
import type { DecisionSettings, Evidence, NoiseEstimate } from './types.js';
export interface DecisionInput { candidate: readonly number[]; best: readonly number[]; bestMetric: number; noise: NoiseEstimate; settings: DecisionSettings; suspicious: boolean }
export type DecisionStep =
  | { kind: 'sample'; best: boolean }
  | { kind: 'decided'; keep: boolean; reason: 'improved' | 'no_improvement' | 'within_noise'; metric: number; evidence: Evidence; sigma: number | null; why: string | null };
export function nextStep(input: DecisionInput): DecisionStep {
  const { candidate, settings } = input;
  if (candidate.length < settings.repeats) return { kind: 'sample', best: false };
  const metric = candidate.reduce((a, b) => a + b, 0) / candidate.length;
  const keep = isImprovement(metric, input.bestMetric, settings.direction, settings.minImprovement);
  return { kind: 'decided', keep, reason: keep ? 'improved' : 'no_improvement', metric, evidence: { samples: candidate.length, mean: metric, spread: null, pValue: null }, sigma: null, why: null };
}
