import { afterEach, describe, expect, it } from 'vitest';
import { formatImprovement, formatMetric, improvementPct } from '../../src/core/improvement.js';
import { clockTime, localDateTime, zoneName } from '../../src/core/local-time.js';

describe('improvement sign and metric format', () => {
  it('is + when better in either direction, - when worse, unsigned at zero', () => {
    expect(formatImprovement(improvementPct(80, 100, 'lower'))).toBe('+20.00%');
    expect(formatImprovement(improvementPct(120, 100, 'higher'))).toBe('+20.00%');
    expect(formatImprovement(improvementPct(120, 100, 'lower'))).toBe('-20.00%');
    expect(formatImprovement(improvementPct(100, 100, 'lower'))).toBe('0.00%');
    expect(formatImprovement(-0.001)).toBe('0.00%');
    expect(improvementPct(1, 0, 'lower')).toBeNull();
    expect(formatImprovement(null)).toBe('-');
  });

  it('prints metrics as the ledger does, without trailing zeros', () => {
    expect([479500, 0.9979, 0.912345, 0, 1.5, null].map(formatMetric)).toEqual(['479500', '0.9979', '0.912345', '0', '1.5', 'N/A']);
  });
});

describe('local time', () => {
  const zone = process.env.TZ;
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it('uses the zone of TZ and names it (EST/EDT, CET/CEST, or an offset)', () => {
    const winter = Date.parse('2026-01-15T12:34:56Z');
    const summer = Date.parse('2026-07-15T12:34:56Z');
    process.env.TZ = 'America/New_York';
    expect([clockTime(winter), clockTime(summer)]).toEqual(['07:34:56 EST', '08:34:56 EDT']);
    process.env.TZ = 'Europe/Berlin';
    expect([localDateTime(winter), zoneName(summer)]).toEqual(['2026-01-15 13:34 CET', 'CEST']);
    process.env.TZ = 'Asia/Kolkata';
    expect(localDateTime(winter, { seconds: true })).toBe('2026-01-15 18:04:56 GMT+5:30');
  });
});
