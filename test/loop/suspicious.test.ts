import { describe, expect, it } from 'vitest';
import { metricMatcher } from '../../src/loop/metric.js';
import { nanNearMetric, suspiciousKeep, type KeepToCheck } from '../../src/loop/suspicious.js';

const matches = metricMatcher('^loss:', null);

function keep(over: Partial<KeepToCheck>): KeepToCheck {
  return { metric: 'loss', value: 0.5, previousBest: 1, direction: 'lower', logLines: ['step 1', 'loss: 0.5'], matches, ...over };
}

describe('suspiciousKeep', () => {
  it('flags a loss that lands on exactly 0 (100% better)', () => {
    expect(suspiciousKeep(keep({ value: 0, previousBest: 2.5, logLines: ['loss: 0'] }))).toBe(
      'suspicious: loss improved by exactly 100% (2.500000 → 0.000000: landed on exactly 0); check the evaluation output',
    );
  });

  it('flags a negative higher-is-better metric that lands on 0, and (issue 11) any gain of 100% or more, doubling included', () => {
    expect(suspiciousKeep(keep({ direction: 'higher', value: 0, previousBest: -4 }))).toMatch(/^suspicious: loss improved by exactly 100% \(-4\.000000 → 0\.000000: landed on exactly 0\)/);
    expect(suspiciousKeep(keep({ direction: 'higher', value: 2, previousBest: 1 }))).toMatch(/^suspicious: loss improved by 100% \(1\.000000 → 2\.000000\)/);
    expect(suspiciousKeep(keep({ direction: 'higher', value: 0.9, previousBest: 0.3 }))).toMatch(/improved by 200%/);
    expect(suspiciousKeep(keep({ direction: 'higher', value: 0.59, previousBest: 0.3 }))).toBeNull();
  });

  it('flags an evaluation much shorter than usual, and only when the usual time is known', () => {
    expect(suspiciousKeep(keep({ value: 0.5, previousBest: 0.6, evalMs: 2_000, usualEvalMs: 300_000 }))).toMatch(/^suspicious: the evaluation took 2\.0s, usually 300s/);
    expect(suspiciousKeep(keep({ value: 0.5, previousBest: 0.6, evalMs: 80_000, usualEvalMs: 300_000 }))).toBeNull();
    expect(suspiciousKeep(keep({ value: 0.5, previousBest: 0.6, evalMs: 2_000, usualEvalMs: null }))).toBeNull();
  });

  it('leaves ordinary keeps alone, including near misses of 100%', () => {
    expect(suspiciousKeep(keep({ value: 0.5, previousBest: 1 }))).toBeNull();
    expect(suspiciousKeep(keep({ value: 0.000001, previousBest: 1 }))).toBeNull();
    expect(suspiciousKeep(keep({ direction: 'higher', value: 1.99, previousBest: 1 }))).toBeNull();
  });

  it('flags 0 after NaN-like output near the metric line, also for the baseline', () => {
    const lines = ['epoch 1 loss=1.2', 'epoch 2 loss=nan', 'loss: 0'];
    expect(suspiciousKeep(keep({ value: 0, previousBest: null, logLines: lines }))).toBe(
      'suspicious: loss is exactly 0 and the evaluation output shows `nan` near it ("epoch 2 loss=nan"); check the evaluation output',
    );
    const both = suspiciousKeep(keep({ value: 0, previousBest: 3, logLines: ['grad norm: -inf', 'loss: 0'] }));
    expect(both).toMatch(/^suspicious: loss improved by exactly 100% .*; loss is exactly 0 and the evaluation output shows `-inf` near it/);
  });

  it('a 0 baseline without NaN-like output is still flagged (issue 11: a metric of exactly 0), said plainly', () => {
    expect(suspiciousKeep(keep({ value: 0, previousBest: null, logLines: ['INFO: done', 'loss: 0'] }))).toBe('suspicious: loss is exactly 0; check the evaluation output');
    expect(suspiciousKeep(keep({ value: 0.001, previousBest: null, logLines: [] }))).toBeNull();
  });
});

describe('nanNearMetric', () => {
  it('matches nan/inf as words only, any case', () => {
    expect(nanNearMetric(['NaN detected', 'loss: 0'], matches)?.token).toBe('NaN');
    expect(nanNearMetric(['value Infinity', 'loss: 0'], matches)?.token).toBe('Infinity');
    expect(nanNearMetric(['INFO: banana nanny inference infra', 'loss: 0'], matches)).toBeNull();
  });

  it('looks only within 20 lines of the last metric line', () => {
    const far = ['loss nan', ...Array.from({ length: 25 }, (_, i) => `step ${i}`), 'loss: 0'];
    expect(nanNearMetric(far, matches)).toBeNull();
    const after = ['loss: 0', 'warning: the loss was nan and was replaced by 0'];
    expect(nanNearMetric(after, matches)?.token).toBe('nan');
  });
});
