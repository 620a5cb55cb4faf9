/** How long a transient retry waits: the CLI's stated delay (plus bounded jitter), else our backoff. */
import { describe, expect, it } from 'vitest';
import { LONG_WAIT_MS } from '../../src/agents/classify.js';
import { transientDelayMs } from '../../src/loop/agent-turn.js';

describe('transientDelayMs', () => {
  it('waits as long as the CLI said, plus at most 10% (≤ 5 s) of jitter', () => {
    expect(transientDelayMs(3_500, 1, 10_000, () => 0)).toBe(3_500);
    expect(transientDelayMs(3_500, 1, 10_000, () => 1)).toBe(3_850);
    expect(transientDelayMs(120_000, 3, 10_000, () => 1)).toBe(125_000);
  });

  it('never waits longer than the longest wait that is still transient', () => {
    expect(transientDelayMs(LONG_WAIT_MS, 1, 10_000, () => 1)).toBe(LONG_WAIT_MS);
  });

  it('without a stated delay: our backoff, doubling, capped', () => {
    expect([1, 2, 3].map((n) => transientDelayMs(null, n, 10_000))).toEqual([10_000, 20_000, 40_000]);
    expect(transientDelayMs(null, 10, 10_000)).toBe(120_000);
    expect(transientDelayMs(null, 3, 200_000)).toBe(200_000); // a backoff larger than the cap is the cap
  });
});
