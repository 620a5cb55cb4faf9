import { describe, expect, it } from 'vitest';
import { EMPTY_NOISE, withGroup } from '../../src/decision/noise-estimate.js';
import { nextStep, type DecisionStep } from '../../src/decision/sequential-decision.js';
import { mean, sumSquaredDeviations } from '../../src/decision/statistics.js';
import type { DecisionSettings } from '../../src/decision/types.js';

/**
 * A deterministic evaluation (every run prints the same value) with `noise: auto`: a candidate
 * that changes nothing prints exactly the best's value again. A plain floating-point sum makes the
 * mean of m copies of 0.7 differ from 0.7 by an ulp, and σ̂ is then of the same ulp size, so the
 * no-op looked credibly better (p ≈ 0.01) and was kept.
 */
describe('a deterministic evaluation', () => {
  const settings = (direction: 'lower' | 'higher'): DecisionSettings => ({ direction, minImprovement: 0, repeats: 5, aggregate: 'mean', noise: { kind: 'auto' }, confidence: 0.95 });

  it('the mean and spread of identical samples are exactly the value and 0', () => {
    for (const v of [0.1, 0.7, 3.3, 1.1, 2.675, -0.3]) {
      for (let m = 1; m <= 25; m++) {
        const xs = Array<number>(m).fill(v);
        expect(mean(xs)).toBe(v);
        expect(sumSquaredDeviations(xs)).toBe(0);
      }
    }
  });

  it('never keeps a no-op that prints exactly the best value, however many samples the best has', () => {
    const kept: string[] = [];
    for (const v of [0.1, 0.7, 3.3, 1.1, 2.675]) {
      for (const direction of ['lower', 'higher'] as const) {
        for (let m = 1; m <= 20; m++) {
          const best = Array<number>(m).fill(v);
          const noise = withGroup(EMPTY_NOISE, [v, v, v]); // the baseline, measured 3 times
          let candidate = [v];
          let step: DecisionStep;
          while ((step = nextStep({ candidate, best, bestMetric: v, noise, settings: settings(direction), suspicious: false })).kind === 'sample') candidate = [...candidate, v];
          if (step.keep) kept.push(`${v} ${direction} m=${m}`);
        }
      }
    }
    expect(kept).toEqual([]);
  });
});
