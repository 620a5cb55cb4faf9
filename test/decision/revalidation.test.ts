import { describe, expect, it } from 'vitest';
import { EMPTY_NOISE, withGroup } from '../../src/decision/noise-estimate.js';
import { revalidate, type KeepRecord, type RevalidationInput, type RevalidationVerdict } from '../../src/decision/revalidation.js';
import { mean, oneSidedPValue } from '../../src/decision/statistics.js';
import type { DecisionSettings } from '../../src/decision/types.js';
import { seededNormal } from './seeded-normal.js';

const settings = (over: Partial<DecisionSettings> = {}): DecisionSettings => ({
  direction: 'higher',
  minImprovement: 0,
  repeats: 3,
  aggregate: 'mean',
  noise: { kind: 'known', sigma: 0.01 },
  confidence: 0.95,
  ...over,
});

const baseline: KeepRecord = { iteration: 0, commit: 'b0', metric: 0.8, samples: [0.8, 0.8, 0.8] };
const k3: KeepRecord = { iteration: 3, commit: 'c3', metric: 0.85, samples: [0.85] };
const k7: KeepRecord = { iteration: 7, commit: 'c7', metric: 0.9, samples: [0.9, 0.9] };

const input = (over: Partial<RevalidationInput>): RevalidationInput => ({
  before: baseline,
  window: [k3, k7],
  tip: [0.9, 0.901, 0.899],
  baselineNew: [0.8, 0.8],
  baselineRecorded: [0.8, 0.8, 0.8],
  noise: { sumSquares: 0, df: 0 },
  settings: settings(),
  ...over,
});

describe('revalidation', () => {
  it('a tip that measures its recorded level again is reproduced, with the p of its own gain', () => {
    const verdict = revalidate(input({}));
    expect(verdict.kind).toBe('reproduced');
    expect(verdict.measured).toBeCloseTo(0.9, 12);
    expect(verdict.drift).toBeCloseTo(0, 12);
    // #7's gain over #3: d = 0.05, se = σ√(1/3 + 1/1 + 1/2 + 1/3) (tip, #3's samples, drift)
    const t = 0.05 / (0.01 * Math.sqrt(1 / 3 + 1 + 1 / 2 + 1 / 3));
    expect(verdict.pValue).toBeCloseTo(oneSidedPValue(t, Infinity), 10);
    expect(verdict.why).toMatch(/^revalidated: #7 measured 0\.9 ± 0\.001 \(3 samples\) again \(recorded 0\.9, baseline drift 0\), p = /);
  });

  it('a lucky newest keep is undone; the one before it, whose gain reproduces, stays', () => {
    const verdict = revalidate(input({ tip: [0.851, 0.849, 0.85] }));
    if (verdict.kind !== 'failed') throw new Error(`expected failed, got ${verdict.kind}`);
    expect(verdict.oldestUndone).toBe(1);
    expect(verdict.restoreTo).toBe(k3);
    expect(verdict.measured).toBeCloseTo(0.85, 12);
    expect(verdict.pValue).toBeGreaterThan(0.05);
    expect(verdict.why).toBe('revalidation_failed: #7 measured 0.85 ± 0.001 (3 samples) again (recorded 0.9, baseline drift 0); back to #3 (0.85)');
  });

  it('no keep reproduces: every keep of the window is undone, back to the keep before it', () => {
    const verdict = revalidate(input({ tip: [0.8, 0.801, 0.799] }));
    if (verdict.kind !== 'failed') throw new Error(`expected failed, got ${verdict.kind}`);
    expect(verdict.oldestUndone).toBe(0);
    expect(verdict.restoreTo).toBe(baseline);
    expect(verdict.why).toMatch(/; #3\.\.#7 undone, back to #0 \(0\.8\)$/);
    expect(verdict.why.length).toBeLessThan(160);
  });

  it('a middle keep that reproduces stops the walk even if an older one would not be tested', () => {
    const k9: KeepRecord = { iteration: 9, commit: 'c9', metric: 0.95, samples: [0.95] };
    const verdict = revalidate(input({ window: [k3, k7, k9], tip: [0.9, 0.9, 0.9] }));
    if (verdict.kind !== 'failed') throw new Error(`expected failed, got ${verdict.kind}`);
    expect(verdict.oldestUndone).toBe(2);
    expect(verdict.restoreTo).toBe(k7);
  });

  it('baseline drift is taken out of the tip before comparing', () => {
    // the machine got 0.05 worse: the baseline reads 0.75 now, the tip 0.85
    const drifted = { tip: [0.85, 0.851, 0.849], baselineNew: [0.75, 0.75] };
    const verdict = revalidate(input(drifted));
    expect(verdict.kind).toBe('reproduced');
    expect(verdict.drift).toBeCloseTo(-0.05, 12);
    expect(verdict.corrected).toBeCloseTo(0.9, 12);
    expect(verdict.why).toContain('baseline drift -0.05');
    // without the new baseline samples there is no drift to take out, and #7 fails
    expect(revalidate(input({ ...drifted, baselineNew: [] })).kind).toBe('failed');
  });

  it('noise off compares mean(T′) with the metrics plainly, without a p-value', () => {
    const off = settings({ noise: { kind: 'off' } });
    const verdict = revalidate(input({ settings: off, tip: [0.86] }));
    expect(verdict).toMatchObject({ kind: 'reproduced', pValue: null });
    const failed = revalidate(input({ settings: off, tip: [0.84] }));
    expect(failed).toMatchObject({ kind: 'failed', oldestUndone: 1, pValue: null });
  });

  it('min_improvement is part of the claim', () => {
    const verdict = revalidate(input({ settings: settings({ noise: { kind: 'off' }, minImprovement: 0.02 }), tip: [0.86] }));
    expect(verdict).toMatchObject({ kind: 'failed', oldestUndone: 1 });
  });

  it('lower is better', () => {
    const lower = settings({ direction: 'lower' });
    const before: KeepRecord = { iteration: 0, commit: 'b0', metric: 2, samples: [2, 2, 2] };
    const k2: KeepRecord = { iteration: 2, commit: 'c2', metric: 1.5, samples: [1.5, 1.5, 1.5] };
    const common = { before, window: [k2], baselineNew: [2, 2], baselineRecorded: [2, 2, 2], settings: lower };
    expect(revalidate(input({ ...common, tip: [1.5, 1.5, 1.5] })).kind).toBe('reproduced');
    expect(revalidate(input({ ...common, tip: [2.1, 2.1, 2.1] }))).toMatchObject({ kind: 'failed', oldestUndone: 0 });
  });

  it('noise auto pools the estimate with the tip and the new baseline samples as their own groups', () => {
    const verdict = revalidate(
      input({ settings: settings({ noise: { kind: 'auto' } }), noise: { sumSquares: 0.0008, df: 8 }, tip: [0.89, 0.91, 0.9], baselineNew: [0.79, 0.81] }),
    );
    // Σ: 0.0008 + 0.0002 (tip) + 0.0002 (baseline) over df 8 + 2 + 1
    const sigma = Math.sqrt(0.0012 / 11);
    const t = 0.05 / (sigma * Math.sqrt(1 / 3 + 1 + 1 / 2 + 1 / 3));
    expect(verdict.pValue).toBeCloseTo(oneSidedPValue(t, 11), 10);
    expect(verdict.kind).toBe('reproduced');
  });

  it('bad input is an error saying what was expected', () => {
    expect(() => revalidate(input({ window: [] }))).toThrow(/window has no keeps/);
    expect(() => revalidate(input({ tip: [] }))).toThrow(/no new samples of the tip/);
    expect(() => revalidate(input({ baselineNew: [Number.NaN] }))).toThrow(/must be a finite number, got NaN/);
  });
});

/**
 * Monte Carlo (σ 1, noise auto from 10 df, confidence 0.95, 5 new samples of tip and baseline, 2000
 * windows each): a window of one real keep (+3σ over a 5-sample baseline) followed by the tip.
 * Genuine: the tip is a further real +3σ. Lucky: the tip is a no-op recorded 1.6σ too high (what a
 * no-op needs to pass the keep rule), its true level that of the keep before it.
 */
function simulateWindows(tipGain: number, tipRecordedLuck: number, seed: number): RevalidationVerdict[] {
  const normal = seededNormal(seed);
  const draws = (count: number, level: number) => Array.from({ length: count }, () => level + normal());
  const verdicts: RevalidationVerdict[] = [];
  for (let i = 0; i < 2000; i++) {
    const noise = withGroup(withGroup(EMPTY_NOISE, draws(6, 0)), draws(6, 0));
    const baselineRecorded = draws(5, 0);
    const first = draws(5, 3);
    const tipSamples = draws(5, 3 + tipGain);
    const before: KeepRecord = { iteration: 0, commit: 'b', metric: mean(baselineRecorded), samples: baselineRecorded };
    const k1: KeepRecord = { iteration: 1, commit: 'k1', metric: mean(first), samples: first };
    const k2: KeepRecord = { iteration: 2, commit: 'k2', metric: mean(tipSamples) + tipRecordedLuck, samples: tipSamples };
    verdicts.push(
      revalidate({ before, window: [k1, k2], tip: draws(5, 3 + tipGain), baselineNew: draws(5, 0), baselineRecorded, noise, settings: settings({ noise: { kind: 'auto' }, repeats: 5 }) }),
    );
  }
  return verdicts;
}

const share = (verdicts: RevalidationVerdict[], test: (v: RevalidationVerdict) => boolean) => verdicts.filter(test).length / verdicts.length;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

describe('Monte Carlo of revalidation (σ 1, 2000 windows each)', () => {
  const genuine = simulateWindows(3, 0, 21);
  const lucky = simulateWindows(0, 1.6, 22);
  const reproduced = share(genuine, (v) => v.kind === 'reproduced');
  const caught = share(lucky, (v) => v.kind === 'failed' && v.oldestUndone === 1);
  const overshoot = share(lucky, (v) => v.kind === 'failed' && v.oldestUndone === 0);

  it(`a genuine +3σ tip is reproduced in ${pct(reproduced)} (≥ 90%)`, () => {
    expect(reproduced).toBeGreaterThanOrEqual(0.9);
  });

  it(`a lucky tip is undone back to the real keep in ${pct(caught)} (≥ 90%); the real keep is undone too in ${pct(overshoot)}`, () => {
    expect(caught).toBeGreaterThanOrEqual(0.9);
    expect(overshoot).toBeLessThan(0.1);
  });
});
