import { describe, expect, it } from 'vitest';
import { nextStep } from '../../src/decision/sequential-decision.js';
import { OUTLIER_MIN_DF, twoDisagree, withoutOutliers } from '../../src/decision/outliers.js';
import type { DecisionSettings } from '../../src/decision/types.js';

/** σ̂ = 1 on 20 df. */
const KNOWN = { sumSquares: 20, df: 20 };
const settings: DecisionSettings = { direction: 'higher', minImprovement: 0, repeats: 5, aggregate: 'mean', noise: { kind: 'auto' }, confidence: 0.95 };

describe('outliers (a sample beyond 8σ̂ of its commit’s median)', () => {
  it('are set aside once σ̂ rests on enough degrees of freedom and most samples agree', () => {
    expect(withoutOutliers([0.1, -0.2, 30, 0.4], KNOWN)).toEqual([0.1, -0.2, 0.4]);
    expect(withoutOutliers([0.1, -0.2, 7.9, 0.4], KNOWN)).toEqual([0.1, -0.2, 7.9, 0.4]); // within 8σ̂
    // Not judged: too few samples, σ̂ on too few df, no spread known, or no majority.
    expect(withoutOutliers([0.1, 30], KNOWN)).toEqual([0.1, 30]);
    expect(withoutOutliers([0.1, -0.2, 30], { sumSquares: OUTLIER_MIN_DF - 1, df: OUTLIER_MIN_DF - 1 })).toEqual([0.1, -0.2, 30]);
    expect(withoutOutliers([0.1, -0.2, 30], { sumSquares: 0, df: 20 })).toEqual([0.1, -0.2, 30]);
    expect(withoutOutliers([0, 0, 50, 50], KNOWN)).toEqual([0, 0, 50, 50]);
  });

  it('two samples too far apart wait for a third', () => {
    expect(twoDisagree([0, 12], KNOWN)).toBe(true); // > 8σ̂·√2 ≈ 11.3
    expect(twoDisagree([0, 11], KNOWN)).toBe(false);
    expect(nextStep({ candidate: [30, 0.2], best: [0, 0.1, -0.1], bestMetric: 0, noise: KNOWN, settings, suspicious: false })).toEqual({ kind: 'sample', best: true });
    // The third sides with one: the glitch is set aside and the candidate is a plain no-op.
    const step = nextStep({ candidate: [30, 0.2, -0.3], best: [0, 0.1, -0.1], bestMetric: 0, noise: KNOWN, settings, suspicious: false });
    expect(step).toMatchObject({ kind: 'decided', keep: false });
  });

  it('a glitched re-measurement of the best does not freeze the night: a real improvement is still kept', () => {
    const best = [0, 0.1, -0.1, 0.2, -0.2, 30]; // one +30σ drift sample
    const step = nextStep({ candidate: [3.1, 2.9], best, bestMetric: 0, noise: KNOWN, settings, suspicious: false });
    expect(step).toMatchObject({ kind: 'decided', keep: true, reason: 'improved' });
  });
});
