import { describe, expect, it } from 'vitest';
import { JUST_PASSED_MS, parseDuration, parseResetTime } from '../../src/agents/reset-time.js';

// Monday 2026-06-15 12:00 UTC: 08:00 in New York (EDT), 13:00 in Lisbon (WEST), 14:00 in Berlin (CEST).
const NOW = Date.parse('2026-06-15T12:00:00Z');
const BERLIN = { now: NOW, localZone: 'Europe/Berlin' };
const at = (iso: string): number => Date.parse(iso);
const parse = (text: string, ctx = BERLIN): string | null => {
  const ms = parseResetTime(text, ctx);
  return ms === null ? null : new Date(ms).toISOString();
};

describe('parseResetTime: epoch and structured fields', () => {
  it.each([
    ['Claude AI usage limit reached|1750708800', '2025-06-23T20:00:00.000Z'],
    ['{"rate_limit_info":{"status":"rejected","resetsAt":1781539200}}', '2026-06-15T16:00:00.000Z'],
    ['{"error":{"type":"usage_limit_reached","resets_at":1781538672,"resets_in_seconds":13872}}', '2026-06-15T15:51:12.000Z'],
    ['x-codex-primary-reset-at: 1781539200', '2026-06-15T16:00:00.000Z'],
    ['"resetsAt": 1781539200000', '2026-06-15T16:00:00.000Z'], // 13 digits: already ms
    ["quotaResetTimeStamp: '2026-06-15T19:14:08Z'", '2026-06-15T19:14:08.000Z'],
  ])('%s', (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it('reads resets_in_seconds relative to now when no absolute time is given', () => {
    expect(parseResetTime('{"resets_in_seconds":13872}', BERLIN)).toBe(NOW + 13_872_000);
  });

  it('prefers an epoch over a clock time in the same text', () => {
    expect(parse('resets 3pm (America/Bogota) "resetsAt":1781539200')).toBe('2026-06-15T16:00:00.000Z');
  });
});

describe('parseResetTime: a time in a named zone (Claude Code)', () => {
  it.each([
    // 3:30am New York already passed today (it is 08:00 there): tomorrow
    ["You've hit your session limit · resets 3:30am (America/New_York)", '2026-06-16T07:30:00.000Z'],
    // 1pm Lisbon is exactly now: equal counts as next
    ["You've hit your limit · resets 1pm (Europe/Lisbon)", '2026-06-15T12:00:00.000Z'],
    ['Claude usage limit reached. Your limit will reset at 3pm (America/Bogota).', '2026-06-15T20:00:00.000Z'],
    ['resets 9pm (Asia/Kolkata)', '2026-06-15T15:30:00.000Z'],
    ['resets 12am (UTC)', '2026-06-16T00:00:00.000Z'],
    ['resets 12pm (UTC)', '2026-06-15T12:00:00.000Z'],
    ["You've hit your session limit • resets 4:50pm (America/Denver)", '2026-06-15T22:50:00.000Z'],
  ])('%s', (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it('rolls over to tomorrow: reset 1am when it is 11pm', () => {
    const elevenPm = { now: at('2026-06-15T03:00:00Z'), localZone: 'UTC' }; // 23:00 EDT on the 14th
    expect(parse('resets 1am (America/New_York)', elevenPm)).toBe('2026-06-15T05:00:00.000Z');
  });

  it('takes a dated reset in this year when it is still ahead', () => {
    expect(parse('resets Jul 2 at 9am (Europe/Lisbon)')).toBe('2026-07-02T08:00:00.000Z');
  });

  it('moves a date already past this year to next year', () => {
    expect(parse("You've hit your limit · resets Apr 23 at 4pm (America/Recife)")).toBe('2027-04-23T19:00:00.000Z');
  });

  it('crosses the year boundary for a date in January seen in December', () => {
    const newYearsEve = { now: at('2026-12-31T23:00:00Z'), localZone: 'UTC' };
    expect(parse('resets Jan 1 at 10am (UTC)', newYearsEve)).toBe('2027-01-01T10:00:00.000Z');
  });

  it('gives null for a zone it does not know, without guessing the local zone', () => {
    expect(parse('resets 3pm (Mars/Olympus_Mons)')).toBeNull();
    expect(parse('Your limit will reset at 3pm (Nowhere/Land).')).toBeNull();
  });
});

describe('parseResetTime: DST transitions', () => {
  // America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
  const nySpringMidnight = { now: at('2026-03-08T05:00:00Z'), localZone: 'UTC' }; // 00:00 EST
  const nyFallMidnight = { now: at('2026-11-01T04:00:00Z'), localZone: 'UTC' }; // 00:00 EDT
  // Europe/Lisbon: 2026-03-29 01:00 WET → 02:00 WEST; 2026-10-25 02:00 WEST → 01:00 WET.
  const lisbonSpringMidnight = { now: at('2026-03-29T00:00:00Z'), localZone: 'UTC' };
  const lisbonFallMidnight = { now: at('2026-10-24T23:00:00Z'), localZone: 'UTC' };

  it('New York spring forward: 2:30am does not exist, so the first instant after the gap (3:00 EDT)', () => {
    expect(parse('resets 2:30am (America/New_York)', nySpringMidnight)).toBe('2026-03-08T07:00:00.000Z');
  });

  it('New York spring forward: times either side of the gap keep their own offsets', () => {
    expect(parse('resets 1:30am (America/New_York)', nySpringMidnight)).toBe('2026-03-08T06:30:00.000Z'); // EST
    expect(parse('resets 3:30am (America/New_York)', nySpringMidnight)).toBe('2026-03-08T07:30:00.000Z'); // EDT
  });

  it('New York fall back: 1:30am happens twice, the earlier (EDT) wins', () => {
    expect(parse('resets 1:30am (America/New_York)', nyFallMidnight)).toBe('2026-11-01T05:30:00.000Z');
    expect(parse('resets 2:30am (America/New_York)', nyFallMidnight)).toBe('2026-11-01T07:30:00.000Z'); // EST
  });

  it('Lisbon spring forward: 1:30am does not exist, so 2:00 WEST', () => {
    expect(parse('resets 1:30am (Europe/Lisbon)', lisbonSpringMidnight)).toBe('2026-03-29T01:00:00.000Z');
  });

  it('Lisbon fall back: 1:30am happens twice, the earlier (WEST) wins', () => {
    expect(parse('resets 1:30am (Europe/Lisbon)', lisbonFallMidnight)).toBe('2026-10-25T00:30:00.000Z');
  });

  it('a machine-local time in a gap resolves the same way', () => {
    expect(parse('try again at 2:15 AM.', { now: at('2026-03-08T05:00:00Z'), localZone: 'America/New_York' })).toBe(
      '2026-03-08T07:00:00.000Z',
    );
  });
});

describe('parseResetTime: machine-local times (Codex, Claude without a zone)', () => {
  it('reads a Codex time today in the local zone', () => {
    expect(parse('You\'ve hit your usage limit. Try again at 3:28 PM.')).toBe('2026-06-15T13:28:00.000Z');
    expect(parse('try again at 3:28 PM.', { now: NOW, localZone: 'America/Los_Angeles' })).toBe('2026-06-15T22:28:00.000Z');
  });

  it('reads a Codex date with its ordinal suffix and year', () => {
    expect(parse('or try again at Aug 8th, 2026 12:30 PM.')).toBe('2026-08-08T10:30:00.000Z');
    expect(parse('Try again at Jan 1st, 2027 12:05 AM.')).toBe('2026-12-31T23:05:00.000Z');
    expect(parse('Try again at Jun 22nd, 2026 9:03 AM.')).toBe('2026-06-22T07:03:00.000Z');
  });

  it('reads `Limits will reset at 9:30 AM.` as the next 9:30 here', () => {
    expect(parse("You've hit your limit for Claude messages. Limits will reset at 9:30 AM.")).toBe('2026-06-16T07:30:00.000Z');
  });

  it('gives null for a local time when the local zone is unknown', () => {
    expect(parse('try again at 3:28 PM.', { now: NOW, localZone: 'Not/AZone' })).toBeNull();
  });

  it('treats a time that passed less than JUST_PASSED_MS ago as the reset that just happened', () => {
    const fortySecondsLate = { now: at('2026-06-15T13:28:40Z'), localZone: 'Europe/Berlin' };
    expect(parse('try again at 3:28 PM.', fortySecondsLate)).toBe('2026-06-15T13:28:00.000Z');
    const tooLate = { now: at('2026-06-15T13:28:00Z') + JUST_PASSED_MS + 1000, localZone: 'Europe/Berlin' };
    expect(parse('try again at 3:28 PM.', tooLate)).toBe('2026-06-16T13:28:00.000Z');
  });

  it('finds a reset that just passed before midnight when read after midnight', () => {
    const justAfterMidnight = { now: at('2026-06-15T22:01:00Z'), localZone: 'Europe/Berlin' }; // 00:01 on the 16th
    expect(parse('try again at 11:59 PM.', justAfterMidnight)).toBe('2026-06-15T21:59:00.000Z');
  });
});

describe('parseResetTime: fixed offsets (Gemini CLI)', () => {
  it.each([
    ['Usage limit reached for gemini-3-flash-preview. Access resets at 10:57 PM GMT-3.', '2026-06-16T01:57:00.000Z'],
    ['Access resets at 11:00 AM GMT+2.', '2026-06-16T09:00:00.000Z'], // 14:00 at +2 now: 11 AM passed
    ['Access resets at 10:57 PM GMT+5:30.', '2026-06-15T17:27:00.000Z'],
    ['Access resets at 10:57 PM UTC+0530.', '2026-06-15T17:27:00.000Z'],
    ['Access resets at 3:45 PM GMT.', '2026-06-15T15:45:00.000Z'],
    ['Access resets at 3:45 PM PDT.', '2026-06-15T22:45:00.000Z'],
  ])('%s', (text, expected) => {
    expect(parse(text)).toBe(expected);
  });
});

describe('parseResetTime: relative durations', () => {
  it.each([
    ['try again in 2 days 17 hours 14 minutes.', ((2 * 24 + 17) * 60 + 14) * 60_000],
    ['try again in 1 day, 3 hours and 5 minutes', ((24 + 3) * 60 + 5) * 60_000],
    ['Try again in 5 minutes.', 5 * 60_000],
    ['Your quota will reset after 1s.', 1000],
    ['Your quota will reset after 21h53m56s.', ((21 * 60 + 53) * 60 + 56) * 1000],
    ['Please retry in 30s', 30_000],
    ['Please retry in 1m30.5s', 90_500],
    ['Please retry in 250ms', 250],
    ['Suggested retry after 60s.', 60_000],
    ['"retryDelay": "34.074824224s"', 34_075],
    ['retryDelay: "30s"', 30_000],
    ['Expected quota reset within 24h.', 24 * 3_600_000],
  ])('%s', (text, ms) => {
    expect(parseResetTime(text, BERLIN)).toBe(NOW + ms);
  });

  it('parseDuration stops at the first word that is not a unit', () => {
    expect(parseDuration('3 hours 20 minutes or so')).toBe(3 * 3_600_000 + 20 * 60_000);
    expect(parseDuration('5 apples')).toBeNull();
  });
});

describe('parseResetTime: nothing to read', () => {
  it.each([
    [''],
    ['Error: something went wrong'],
    ['2026-06-15T12:00:00Z INFO started at 12:00'],
    ['resets 13pm (UTC)'],
    ['resets 3:75pm (UTC)'],
    ['resets Feb 30 at 4pm (UTC)'],
    ['try again in a while'],
    ['Claude AI usage limit reached|'],
  ])('%j → null', (text) => {
    expect(parseResetTime(text, BERLIN)).toBeNull();
  });
});
