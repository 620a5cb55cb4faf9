import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/durations.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    [' 10 minutes ', 600_000],
  ])('%s → %d ms', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each(['5', '0.5', '+3', '0s', '-5m', '0.1ms', 'soon', '1h30m', '5pm', '', '   ', 'NaN', 'Infinity', 'x'.repeat(101)])('refuses `%s`', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('refuses a missing value', () => {
    expect(parseDuration(undefined)).toBeUndefined();
  });
});
