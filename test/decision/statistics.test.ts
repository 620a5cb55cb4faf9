import { describe, expect, it } from 'vitest';
import { mean, median, oneSidedPValue, sampleSd, sumSquaredDeviations } from '../../src/decision/statistics.js';
import { seededNormal } from './seeded-normal.js';

describe('statistics', () => {
  it('mean and median, unsorted input, odd and even counts', () => {
    expect(mean([2, 4, 9])).toBe(5);
    expect(median([9, 2, 4])).toBe(4);
    expect(median([9, 2, 4, 1])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('sum of squared deviations and sample standard deviation (n − 1)', () => {
    const xs = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(sumSquaredDeviations(xs)).toBe(32);
    expect(sampleSd(xs)).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(sumSquaredDeviations([3])).toBe(0);
  });

  it('sample sd is null below two samples', () => {
    expect(sampleSd([])).toBeNull();
    expect(sampleSd([1.5])).toBeNull();
    expect(sampleSd([1, 1])).toBe(0);
  });

  it('empty input to mean/median is an error that says what was expected', () => {
    expect(() => mean([])).toThrow(/mean needs at least one sample/);
    expect(() => median([])).toThrow(/median needs at least one sample/);
  });

  it('p-values match t-table critical values', () => {
    expect(oneSidedPValue(2.015, 5)).toBeCloseTo(0.05, 3);
    expect(oneSidedPValue(3.365, 5)).toBeCloseTo(0.01, 3);
    expect(oneSidedPValue(1.812, 10)).toBeCloseTo(0.05, 3);
    expect(oneSidedPValue(2.764, 10)).toBeCloseTo(0.01, 3);
    expect(oneSidedPValue(6.314, 1)).toBeCloseTo(0.05, 3);
    expect(oneSidedPValue(0, 7)).toBeCloseTo(0.5, 8);
    expect(oneSidedPValue(-2.015, 5)).toBeCloseTo(0.95, 3);
  });

  it('df = Infinity is the standard normal', () => {
    expect(oneSidedPValue(1.6449, Infinity)).toBeCloseTo(0.05, 4);
    expect(oneSidedPValue(2.3263, Infinity)).toBeCloseTo(0.01, 4);
    // a large df approaches it
    expect(oneSidedPValue(1.6449, 1e6)).toBeCloseTo(0.05, 4);
  });

  it('the far tail keeps its digits (no 1 − cdf cancellation) and infinities are exact', () => {
    const p = oneSidedPValue(40, 3);
    expect(p).toBeGreaterThan(1e-6);
    expect(p).toBeLessThan(1e-4);
    expect(oneSidedPValue(6, Infinity)).toBeCloseTo(9.8659e-10, 13);
    expect(oneSidedPValue(Infinity, 4)).toBe(0);
    expect(oneSidedPValue(-Infinity, 4)).toBe(1);
  });

  it('bad degrees of freedom or t are errors', () => {
    expect(() => oneSidedPValue(1, 0)).toThrow(/degrees of freedom must be > 0, got 0/);
    expect(() => oneSidedPValue(Number.NaN, 3)).toThrow(/t is NaN/);
  });

  it('the seeded normal source is deterministic and standard', () => {
    const a = seededNormal(7);
    const b = seededNormal(7);
    const xs = Array.from({ length: 20000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.abs(mean(xs))).toBeLessThan(0.03);
    expect(sampleSd(xs)!).toBeGreaterThan(0.97);
    expect(sampleSd(xs)!).toBeLessThan(1.03);
  });
});
