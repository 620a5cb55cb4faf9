import { describe, expect, it } from 'vitest';
import { metricWords, timingReason } from '../../src/loop/timing-metric.js';

describe('timingReason', () => {
  it('guesses timings from words of the metric name', () => {
    for (const name of ['val_time', 'latency_p50', 'p50_ms', 'p50ms', 'latencyMs', 'runtime_s', 'train_seconds', 'TimeToFirstToken', 'tokens_per_sec', 'step-duration']) {
      expect(timingReason(name, null), name).not.toBeNull();
    }
  });

  it('leaves other names alone: words only', () => {
    for (const name of ['score', 'val_loss', 'val_bpb', 'timestamp_count', 'items', 'mse', 'accuracy', 's', 'bits', 'sometimes']) {
      expect(timingReason(name, null), name).toBeNull();
    }
  });

  it('metric_kind decides when set', () => {
    expect(timingReason('score', 'timing')).toBe('metric_kind: timing');
    expect(timingReason('p50_ms', 'other')).toBeNull();
    expect(timingReason('p50_ms', null)).toBe('its name contains the word `ms`; set metric_kind: other if it is not a timing');
  });

  it('splits names at separators, case changes and digits', () => {
    expect(metricWords('latencyP50_ms')).toEqual(['latency', 'p', '50', 'ms']);
  });
});
