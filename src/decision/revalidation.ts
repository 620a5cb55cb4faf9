// Placeholder until helper "stats" lands the real module (plain comparison, no test).
import { isImprovement } from './keep-rule.js';
import type { DecisionSettings, NoiseEstimate } from './types.js';
export interface KeepRecord { iteration: number; commit: string; metric: number; samples: readonly number[] }
export interface RevalidationInput {
  before: KeepRecord; window: readonly KeepRecord[]; tip: readonly number[]; baselineNew: readonly number[]; baselineRecorded: readonly number[];
  noise: NoiseEstimate; settings: DecisionSettings;
}
export type RevalidationVerdict =
  | { kind: 'reproduced'; measured: number; pValue: number | null; why: string }
  | { kind: 'failed'; oldestUndone: number; restoreTo: KeepRecord; measured: number; pValue: number | null; why: string };
const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export function revalidate(input: RevalidationInput): RevalidationVerdict {
  const drift = avg(input.baselineNew) - avg(input.baselineRecorded);
  const measured = avg(input.tip) - drift;
  for (let k = input.window.length - 1; k >= 0; k--) {
    const prev = k === 0 ? input.before : input.window[k - 1]!;
    if (isImprovement(measured, prev.metric, input.settings.direction, input.settings.minImprovement)) {
      if (k === input.window.length - 1) return { kind: 'reproduced', measured, pValue: null, why: `reproduced: ${measured}` };
      return { kind: 'failed', oldestUndone: k + 1, restoreTo: input.window[k]!, measured, pValue: null, why: `revalidation_failed: #${input.window.at(-1)!.iteration} measured ${measured} again; back to #${input.window[k]!.iteration}` };
    }
  }
  return { kind: 'failed', oldestUndone: 0, restoreTo: input.before, measured, pValue: null, why: `revalidation_failed: #${input.window.at(-1)!.iteration} measured ${measured} again; back to #${input.before.iteration}` };
}
