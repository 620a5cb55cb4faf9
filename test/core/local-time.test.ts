/**
 * Times shown to people: the UTC fast path (Date's own fields, no Intl at start-up) must print
 * exactly what the Intl path prints, and zones that merely sit at offset 0 (GMT) keep their name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clockTime, localDateTime, zoneName } from '../../src/core/local-time.js';

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

/** What the Intl path gives for `zone`, computed independently of the module. */
function viaIntl(ms: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value;
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' }).formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value;
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${name}`;
}

const instants = [Date.UTC(2026, 0, 1, 0, 0, 0), Date.UTC(2026, 6, 15, 23, 59, 59), Date.UTC(2026, 10, 29, 7, 5, 9)];

describe('local-time', () => {
  it.each(['UTC', 'Etc/UTC', 'Zulu', 'Etc/Universal'])('TZ=%s: the same text as Intl gives', (tz) => {
    process.env.TZ = tz;
    for (const ms of instants) {
      expect(localDateTime(ms, { seconds: true })).toBe(viaIntl(ms, tz));
      expect(zoneName(ms)).toBe('UTC');
    }
    expect(clockTime(instants[2]!)).toBe('07:05:09 UTC');
  });

  it('a zone at offset 0 that is not UTC keeps its own name (GMT), and others theirs', () => {
    process.env.TZ = 'Europe/London';
    expect(clockTime(instants[2]!)).toBe('07:05:09 GMT');
    expect(clockTime(instants[1]!)).toBe('00:59:59 BST');
    process.env.TZ = 'Europe/Paris';
    expect(localDateTime(instants[2]!, { seconds: true })).toBe('2026-11-29 08:05:09 CET');
  });
});
