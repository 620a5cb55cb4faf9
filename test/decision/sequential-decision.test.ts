import { describe, expect, it } from 'vitest';
import { EMPTY_NOISE, baselineSampleCount, withGroup } from '../../src/decision/noise-estimate.js';
import { nextStep, type DecisionInput, type DecisionStep } from '../../src/decision/sequential-decision.js';
import { mean, oneSidedPValue } from '../../src/decision/statistics.js';
import type { DecisionSettings, NoiseEstimate } from '../../src/decision/types.js';
import { seededNormal } from './seeded-normal.js';

const settings = (over: Partial<DecisionSettings> = {}): DecisionSettings => ({
  direction: 'higher',
  minImprovement: 0,
  repeats: 5,
  aggregate: 'mean',
  noise: { kind: 'auto' },
  confidence: 0.95,
  ...over,
});

const input = (over: Partial<DecisionInput>): DecisionInput => ({
  candidate: [1],
  best: [0],
  bestMetric: 0,
  noise: EMPTY_NOISE,
  settings: settings(),
  suspicious: false,
  ...over,
});

function decided(step: DecisionStep): Extract<DecisionStep, { kind: 'decided' }> {
  if (step.kind !== 'decided') throw new Error(`expected a decision, got ${JSON.stringify(step)}`);
  return step;
}

describe('noise off', () => {
  const off = (over: Partial<DecisionSettings> = {}) => settings({ noise: { kind: 'off' }, ...over });

  it('samples the candidate (never the best) until repeats, even when far behind', () => {
    expect(nextStep(input({ candidate: [-100], settings: off({ repeats: 3 }) }))).toEqual({ kind: 'sample', best: false });
    expect(nextStep(input({ candidate: [5, 6], settings: off({ repeats: 3 }) }))).toEqual({ kind: 'sample', best: false });
  });

  it('at repeats keeps iff the aggregate beats the recorded best by more than min_improvement', () => {
    const keep = decided(nextStep(input({ candidate: [1.2, 1.0, 1.1], best: [], bestMetric: 1.0, settings: off({ repeats: 3, minImprovement: 0.05 }) })));
    expect(keep).toMatchObject({ keep: true, reason: 'improved', metric: 1.1, sigma: null, why: null });
    expect(keep.evidence).toMatchObject({ samples: 3, pValue: null });
    expect(keep.evidence.mean).toBeCloseTo(1.1, 12);
    expect(keep.evidence.spread).toBeCloseTo(0.1, 12);

    const tie = decided(nextStep(input({ candidate: [1.04], best: [], bestMetric: 1.0, settings: off({ repeats: 1, minImprovement: 0.05 }) })));
    expect(tie).toMatchObject({ keep: false, reason: 'no_improvement', metric: 1.04 });
    expect(tie.why).toBe('no_improvement: 1.04 (1 sample) vs best 1 (min_improvement 0.05)');
  });

  it('uses the median when asked, and lower-is-better', () => {
    const step = decided(nextStep(input({ candidate: [0.5, 0.9, 10], bestMetric: 1, settings: off({ repeats: 3, aggregate: 'median', direction: 'lower' }) })));
    expect(step).toMatchObject({ keep: true, metric: 0.9 }); // the mean (3.8) would be worse
  });
});

describe('noise known σ (normal test)', () => {
  const known = (sigma: number, over: Partial<DecisionSettings> = {}) => settings({ noise: { kind: 'known', sigma }, ...over });

  it('never keeps on one sample: a clear improvement takes a second, then is kept with the normal p-value', () => {
    expect(nextStep(input({ candidate: [10], best: [0, 0, 0], settings: known(1) }))).toEqual({ kind: 'sample', best: true });
    const step = decided(nextStep(input({ candidate: [10, 10], best: [0, 0, 0], settings: known(1) })));
    expect(step.keep).toBe(true);
    expect(step.reason).toBe('improved');
    expect(step.sigma).toBe(1);
    expect(step.evidence.pValue).toBeCloseTo(oneSidedPValue(10 / Math.sqrt(1 / 2 + 1 / 3), Infinity), 15);
    expect(step.why).toBeNull();
  });

  it('tests each look at α/repeats: p between α/repeats and α samples again, the best first', () => {
    // n = 1, m = 1, σ = 1: se = √2; d = 2.0 → z ≈ 1.414, p ≈ 0.079 (> 0.05 / 5)
    expect(nextStep(input({ candidate: [2], best: [0], settings: known(1) }))).toEqual({ kind: 'sample', best: true });
    // with repeats 1 the one look is tested at α itself: z = 3/√2 ≈ 2.12, p ≈ 0.017 ≤ 0.05
    const single = decided(nextStep(input({ candidate: [3], best: [0], settings: known(1, { repeats: 1 }) })));
    expect(single.keep).toBe(true);
    expect(single.evidence.pValue).toBeCloseTo(0.0169, 3);
    // the same p at the first of 5 looks is not enough (> 0.05 / 5)
    expect(nextStep(input({ candidate: [3], best: [0], settings: known(1) }))).toEqual({ kind: 'sample', best: true });
  });

  it('stops sampling the best once it has 4·repeats samples', () => {
    const best = Array.from({ length: 20 }, () => 0);
    expect(nextStep(input({ candidate: [1, 1], best, settings: known(1) }))).toEqual({ kind: 'sample', best: false });
    expect(nextStep(input({ candidate: [1, 1], best: best.slice(1), settings: known(1) }))).toEqual({ kind: 'sample', best: true });
  });

  it('min_improvement shifts the null: a gain credible over 0 but not over min_improvement is within noise', () => {
    const candidate = [3, 3, 3, 3, 3];
    const best = [0, 0, 0, 0, 0];
    expect(decided(nextStep(input({ candidate, best, settings: known(1) }))).keep).toBe(true);
    const step = decided(nextStep(input({ candidate, best, settings: known(1, { minImprovement: 2.5 }) })));
    expect(step).toMatchObject({ keep: false, reason: 'within_noise' });
    expect(step.evidence.pValue).toBeCloseTo(oneSidedPValue(0.5 / Math.sqrt(0.4), Infinity), 12);
  });
});

describe('futility and the last look', () => {
  const known = settings({ noise: { kind: 'known', sigma: 1 } });

  it('a look before the last that is not even nominally better is discarded at once', () => {
    const step = decided(nextStep(input({ candidate: [-0.1], best: [0, 0, 0], settings: known })));
    expect(step).toMatchObject({ keep: false, reason: 'no_improvement', metric: -0.1 });
    expect(step.evidence.samples).toBe(1);
    expect(step.why).toMatch(/^no_improvement: -0\.1 \(1 sample\) vs best 0 \(3 samples\)$/);
  });

  it('nominally better by no more than min_improvement is futile too', () => {
    const step = decided(nextStep(input({ candidate: [0.2], best: [0], settings: settings({ noise: { kind: 'known', sigma: 1 }, minImprovement: 0.2 }) })));
    expect(step).toMatchObject({ keep: false, reason: 'no_improvement' });
    expect(step.why).toContain('(min_improvement 0.2)');
  });

  it('at repeats: within_noise when nominally better, no_improvement otherwise, with p and σ in the words', () => {
    const better = decided(nextStep(input({ candidate: [0.5, 0.4, 0.6, 0.5, 0.5], best: [0, 0, 0], settings: known })));
    expect(better).toMatchObject({ keep: false, reason: 'within_noise', sigma: 1 });
    expect(better.why).toMatch(/^within_noise: 0\.5 ± 0\.071 \(5 samples\) vs best 0 \(3 samples\), p = 0\.\d+ > 0\.01 \(σ 1\)$/);
    const worse = decided(nextStep(input({ candidate: [-0.5, -0.4, -0.6, -0.5, -0.5], best: [0, 0, 0], settings: known })));
    expect(worse).toMatchObject({ keep: false, reason: 'no_improvement' });
    expect(worse.why).toMatch(/^no_improvement: .* p = 0\.75 > 0\.01 \(σ 1\)$/);
  });

  it('lower is better: the sign of the improvement follows the direction', () => {
    const lower = settings({ noise: { kind: 'known', sigma: 0.01 }, direction: 'lower' });
    expect(decided(nextStep(input({ candidate: [0.5, 0.5], best: [1, 1], settings: lower }))).keep).toBe(true);
    expect(decided(nextStep(input({ candidate: [1.5], best: [1, 1], settings: lower }))).reason).toBe('no_improvement');
  });
});

describe('suspicious candidates', () => {
  it('are not kept before all repeats, even when credible; at repeats they are', () => {
    const known = settings({ noise: { kind: 'known', sigma: 1 }, repeats: 3 });
    expect(nextStep(input({ candidate: [10], best: [0, 0], settings: known, suspicious: true }))).toEqual({ kind: 'sample', best: true });
    expect(nextStep(input({ candidate: [10, 10], best: [0, 0, 0], settings: known, suspicious: true }))).toEqual({ kind: 'sample', best: true });
    expect(decided(nextStep(input({ candidate: [10, 10, 10], best: [0, 0, 0, 0], settings: known, suspicious: true }))).keep).toBe(true);
  });

  it('are still discarded by futility', () => {
    const known = settings({ noise: { kind: 'known', sigma: 1 }, repeats: 3 });
    expect(decided(nextStep(input({ candidate: [-1], best: [0], settings: known, suspicious: true }))).reason).toBe('no_improvement');
  });
});

describe('noise auto (pooled t-test)', () => {
  it('pools the estimate with the candidate and best groups; df is their sum', () => {
    const noise: NoiseEstimate = { sumSquares: 8, df: 8 }; // σ̂ = 1 from retired groups
    const candidate = [3, 4, 5]; // Σ = 2, df 2
    const best = [0, 1, 2, 1]; // Σ = 2, df 3
    const step = decided(nextStep(input({ candidate, best, settings: settings({ repeats: 3 }), noise })));
    const sigma = Math.sqrt(12 / 13);
    expect(step.sigma).toBeCloseTo(sigma, 12);
    const t = (4 - 1) / (sigma * Math.sqrt(1 / 3 + 1 / 4));
    expect(step.evidence.pValue).toBeCloseTo(oneSidedPValue(t, 13), 12);
    expect(step.keep).toBe(true);
  });

  it('with no spread known anywhere (df 0) samples on, then decides as noise off and says so', () => {
    expect(nextStep(input({ candidate: [1], best: [0], bestMetric: 0, settings: settings({ repeats: 2 }) }))).toEqual({ kind: 'sample', best: true });
    const keep = decided(nextStep(input({ candidate: [1], best: [0], bestMetric: 0, settings: settings({ repeats: 1 }) })));
    expect(keep).toMatchObject({ keep: true, reason: 'improved', sigma: null, why: null });
    expect(keep.evidence.pValue).toBeNull();
    const discard = decided(nextStep(input({ candidate: [1], best: [0], bestMetric: 2, settings: settings({ repeats: 1 }) })));
    expect(discard).toMatchObject({ keep: false, reason: 'no_improvement', sigma: null });
    expect(discard.why).toBe('no_improvement: 1 (1 sample) vs best 2; no noise estimate yet, compared as noise off');
  });

  it('σ = 0 everywhere: any excess is certain', () => {
    const step = decided(nextStep(input({ candidate: [1, 1], best: [0, 0], settings: settings({ repeats: 2 }) })));
    expect(step).toMatchObject({ keep: true, sigma: 0 });
    expect(step.evidence.pValue).toBe(0);
  });

  it('the example discard line of the spec stays short', () => {
    const noise: NoiseEstimate = { sumSquares: 0.004 ** 2 * 20, df: 20 };
    const step = decided(
      nextStep(input({ candidate: [0.9512, 0.9550, 0.9480, 0.9530, 0.9488], best: [0.953, 0.951, 0.955, 0.953, 0.950, 0.952, 0.956, 0.954], noise, settings: settings({ minImprovement: 0.0001 }) })),
    );
    expect(step.reason).toBe('no_improvement');
    expect(step.why!.length).toBeLessThan(160);
    expect(step.why).toMatch(/^no_improvement: 0\.9512 ± 0\.0029 \(5 samples\) vs best 0\.953 \(8 samples\), p = 0\.\d+ > 0\.01 \(σ 0\.0035\)$/);
  });
});

describe('bad input', () => {
  it('is an error saying what was expected', () => {
    expect(() => nextStep(input({ candidate: [] }))).toThrow(/candidate has no samples/);
    expect(() => nextStep(input({ best: [] }))).toThrow(/best has no samples \(need ≥ 1 with noise auto\)/);
    expect(() => nextStep(input({ settings: settings({ repeats: 0 }) }))).toThrow(/repeats must be an integer ≥ 1, got 0/);
    expect(() => nextStep(input({ settings: settings({ confidence: 95 }) }))).toThrow(/confidence must be in \(0, 1\), got 95/);
    expect(() => nextStep(input({ candidate: [1, Number.NaN] }))).toThrow(/must be a finite number, got NaN/);
    expect(() => nextStep(input({ best: [Infinity] }))).toThrow(/must be a finite number, got Infinity/);
  });
});

/**
 * Monte Carlo of the pure rule, deterministic: repeats 5, noise auto with a retired estimate of
 * df 10, confidence 0.95, σ = 1; the best starts with its baseline samples and is re-sampled as
 * the rule asks (interleaved). A no-op's true effect is 0, a real improvement's 3σ.
 */
interface Trial {
  kept: boolean;
  candidateSamples: number;
}

function simulate(trueEffect: number, trials: number, seed: number, over: Partial<DecisionSettings> = {}): Trial[] {
  const normal = seededNormal(seed);
  const rule = settings(over);
  const draws = (count: number, level: number) => Array.from({ length: count }, () => level + normal());
  const results: Trial[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const noise = rule.noise.kind === 'auto' ? withGroup(withGroup(EMPTY_NOISE, draws(6, 0)), draws(6, 5)) : EMPTY_NOISE; // df 10
    const best = draws(baselineSampleCount(rule), 0);
    const bestMetric = mean(best);
    const candidate = draws(1, trueEffect);
    for (;;) {
      const step = nextStep({ candidate, best, bestMetric, noise, settings: rule, suspicious: false });
      if (step.kind === 'decided') {
        results.push({ kept: step.keep, candidateSamples: candidate.length });
        break;
      }
      if (step.best) best.push(normal());
      candidate.push(trueEffect + normal());
    }
  }
  return results;
}

const keepRate = (trials: Trial[]) => trials.filter((t) => t.kept).length / trials.length;
const meanSamples = (trials: Trial[]) => mean(trials.map((t) => t.candidateSamples));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

describe('Monte Carlo of the sequential rule (repeats 5, noise auto, σ 1, 2000 candidates each)', () => {
  const noOps = simulate(0, 2000, 11);
  const real = simulate(3, 2000, 12);
  const oldRule = simulate(0, 2000, 13, { repeats: 1, noise: { kind: 'off' } });
  const knownNoOps = simulate(0, 2000, 14, { noise: { kind: 'known', sigma: 1 } });

  it(`no-ops: ${pct(keepRate(noOps))} kept (≤ 5%), ${meanSamples(noOps).toFixed(2)} samples each (< 5: futility works)`, () => {
    expect(keepRate(noOps)).toBeLessThanOrEqual(0.05);
    expect(meanSamples(noOps)).toBeLessThan(5);
  });

  it(`3σ improvements: ${pct(keepRate(real))} kept (≥ 80%), ${meanSamples(real).toFixed(2)} samples each`, () => {
    expect(keepRate(real)).toBeGreaterThanOrEqual(0.8);
  });

  it(`noise known σ: ${pct(keepRate(knownNoOps))} of no-ops kept (≤ 5%)`, () => {
    expect(keepRate(knownNoOps)).toBeLessThanOrEqual(0.05);
  });

  it(`the old rule (repeats 1, noise off) keeps ${pct(keepRate(oldRule))} of no-ops`, () => {
    expect(keepRate(oldRule)).toBeGreaterThan(0.4);
  });
});
