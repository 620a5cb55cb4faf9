/**
 * A baseline measured again (`rebase`: typically the evaluator was fixed on main) starts the
 * noise estimate over: σ̂ pooled from the old evaluator would judge the new one's samples. A
 * 1000× smaller scale (ms → s) starved every real improvement; a noisier one kept no-ops.
 */
import { describe, expect, it } from 'vitest';
import { sigmaOf, currentNoise } from '../../src/decision/noise-estimate.js';
import { nextStep } from '../../src/decision/sequential-decision.js';
import type { ExperimentState } from '../../src/experiment/state.js';
import { measuredState } from '../../src/loop/measured-state.js';

describe('the baseline after a rebase', () => {
  // 40 df of the old evaluator, σ 2 (milliseconds); rebase left lastKept without a metric.
  const afterRebase = { lastKept: { commit: 'tip', metric: null, iteration: null }, noise: { sumSquares: 160, df: 40 } } as unknown as ExperimentState;
  const baseline = [1.0, 1.002, 0.998]; // the fixed evaluator: seconds, σ 0.002

  it('pools only the new baseline samples', () => {
    const next = { ...afterRebase, ...measuredState(afterRebase, { status: 'keep', reason: 'baseline', commit: 'tip', metric: 1, samples: baseline, bestSamples: [] }, 7) };
    expect(next.noise).toEqual({ sumSquares: 0, df: 0 });
    expect(sigmaOf(currentNoise(next))).toBeCloseTo(0.002, 9);
  });

  it('so a candidate 5σ better (of the new evaluator) can be kept', () => {
    const next = { ...afterRebase, ...measuredState(afterRebase, { status: 'keep', reason: 'baseline', commit: 'tip', metric: 1, samples: baseline, bestSamples: [] }, 7) };
    const step = nextStep({
      candidate: [0.99, 0.991, 0.989],
      best: next.lastKept.samples ?? [],
      bestMetric: 1,
      noise: next.noise ?? { sumSquares: 0, df: 0 },
      settings: { direction: 'lower', minImprovement: 0, repeats: 3, aggregate: 'mean', noise: { kind: 'auto' }, confidence: 0.95 },
      suspicious: false,
    });
    expect(step).toMatchObject({ kind: 'decided', keep: true });
  });
});
