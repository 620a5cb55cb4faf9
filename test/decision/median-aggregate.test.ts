/**
 * `aggregate: median` is chosen for robustness to an odd sample, and the row's metric is the
 * median; the test compares means. One lucky sample used to carry a keep whose metric (the
 * median) was worse than the best's: a keep row that went backwards.
 */
import { describe, expect, it } from 'vitest';
import { nextStep } from '../../src/decision/sequential-decision.js';
import type { DecisionSettings } from '../../src/decision/types.js';

const settings = (aggregate: DecisionSettings['aggregate']): DecisionSettings => ({ direction: 'lower', minImprovement: 0, repeats: 3, aggregate, noise: { kind: 'known', sigma: 0.01 }, confidence: 0.95 });
const best = [1, 1.01, 0.99, 1, 1.005, 0.995]; // median 1

describe('aggregate: median', () => {
  it('a keep needs the median to beat the best’s median too: one lucky sample is within_noise', () => {
    const step = nextStep({ candidate: [0.7, 1.01, 1.01], best, bestMetric: 1, noise: { sumSquares: 0, df: 0 }, settings: settings('median'), suspicious: false });
    expect(step).toMatchObject({ kind: 'decided', keep: false, reason: 'within_noise', metric: 1.01 });
  });

  it('a candidate better in median and mean is kept as before; mean keeps are unchanged', () => {
    expect(nextStep({ candidate: [0.97, 0.96, 0.97], best, bestMetric: 1, noise: { sumSquares: 0, df: 0 }, settings: settings('median'), suspicious: false })).toMatchObject({ kind: 'decided', keep: true, metric: 0.97 });
    expect(nextStep({ candidate: [0.7, 1.01, 1.01], best, bestMetric: 1, noise: { sumSquares: 0, df: 0 }, settings: settings('mean'), suspicious: false })).toMatchObject({ kind: 'decided', keep: true });
  });

  it('before the last sample, a median not yet better samples again instead of keeping', () => {
    const step = nextStep({ candidate: [0.7, 1.01, 1.01], best, bestMetric: 1, noise: { sumSquares: 0, df: 0 }, settings: { ...settings('median'), repeats: 4 }, suspicious: false });
    expect(step.kind).toBe('sample');
  });
});
