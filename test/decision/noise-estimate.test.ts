import { describe, expect, it } from 'vitest';
import { baselineSampleCount, EMPTY_NOISE, sigmaOf, withGroup } from '../../src/decision/noise-estimate.js';

describe('noise estimate', () => {
  it('starts empty, with no σ', () => {
    expect(EMPTY_NOISE).toEqual({ sumSquares: 0, df: 0 });
    expect(sigmaOf(EMPTY_NOISE)).toBeNull();
  });

  it('pools groups: Σ(x − mean)² and n − 1 of each commit', () => {
    const one = withGroup(EMPTY_NOISE, [1, 3]); // mean 2: 1 + 1
    expect(one).toEqual({ sumSquares: 2, df: 1 });
    const two = withGroup(one, [10, 10, 13]); // mean 11: 1 + 1 + 4
    expect(two).toEqual({ sumSquares: 8, df: 3 });
    expect(sigmaOf(two)).toBeCloseTo(Math.sqrt(8 / 3), 12);
    // differences between commits are not noise: 2 vs 11 added nothing
  });

  it('a single sample adds nothing and the input is not mutated', () => {
    const start = { sumSquares: 5, df: 2 };
    expect(withGroup(start, [42])).toBe(start);
    withGroup(start, [1, 2, 3]);
    expect(start).toEqual({ sumSquares: 5, df: 2 });
  });

  it('the baseline is sampled at least 3 times with noise auto', () => {
    expect(baselineSampleCount({ repeats: 1, noise: { kind: 'auto' } })).toBe(3);
    expect(baselineSampleCount({ repeats: 5, noise: { kind: 'auto' } })).toBe(5);
    expect(baselineSampleCount({ repeats: 1, noise: { kind: 'off' } })).toBe(1);
    expect(baselineSampleCount({ repeats: 2, noise: { kind: 'known', sigma: 0.1 } })).toBe(2);
  });
});
