/**
 * Times shown to people: in the user's local zone (TZ is honoured), the zone named by its
 * short abbreviation (`07:43:41 CET`, `2026-11-29 07:43 EST`). Files and JSON keep ISO 8601 UTC;
 * only what a person reads goes through here.
 */

/** `HH:MM:SS ZONE`, e.g. `07:43:41 CET`. */
export function clockTime(ms: number): string {
  const p = parts(ms);
  return `${p.hour}:${p.minute}:${p.second} ${p.zone}`;
}

/** `YYYY-MM-DD HH:MM ZONE` (with `:SS` when seconds is true). */
export function localDateTime(ms: number, opts: { seconds?: boolean } = {}): string {
  const p = parts(ms);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${opts.seconds ? `:${p.second}` : ''} ${p.zone}`;
}

/** `MM-DD HH:MM` without the zone, for a table column whose header names it (see zoneName). */
export function shortLocalDateTime(ms: number): string {
  const p = parts(ms);
  return `${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

let ianaZone: string | undefined;

/**
 * The IANA name of the local zone (`Europe/Paris`), for reading reset times an agent prints.
 * Asked of Intl once per process: creating a DateTimeFormat costs about a third of a
 * millisecond, and the loop asked on every agent turn and every evaluation.
 */
export function localTimeZone(): string {
  ianaZone ??= Intl.DateTimeFormat().resolvedOptions().timeZone;
  return ianaZone;
}

/**
 * What reading a reset time needs (agents/reset-time.ts): now, and the local zone, asked of
 * Intl only when a time without a zone is actually read. The first Intl.DateTimeFormat of a
 * process loads ICU's data (~14 ms), and most agent turns print no reset time at all.
 */
export function resetTimeContext(now: number): { now: number; readonly localZone: string } {
  return {
    now,
    get localZone() {
      return localTimeZone();
    },
  };
}

/** The zone's abbreviation at that instant (`EST` in winter, `EDT` in summer). */
export function zoneName(ms: number): string {
  return parts(ms).zone;
}

interface Parts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  zone: string;
}

// Formatters are cached per TZ value: a process (or a test) that changes TZ gets the new zone.
let cachedFor: string | undefined | null = null;
let numeric: Intl.DateTimeFormat;
let zoneFormats: Intl.DateTimeFormat[];

function parts(ms: number): Parts {
  const date = new Date(ms);
  // UTC (most servers): the same fields from Date itself. The first Intl.DateTimeFormat of a
  // process loads ICU's locale and zone names: ~10 ms and ~8 MB of RSS in a `run --single`.
  // Every zone Date names `Coordinated Universal Time` (UTC, Etc/UTC, Zulu…) is `UTC` in en-US.
  if (date.getTimezoneOffset() === 0 && String(date).endsWith('(Coordinated Universal Time)')) return utcParts(date);
  if (cachedFor !== process.env.TZ) {
    cachedFor = process.env.TZ;
    numeric = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    // en-US names American zones (EST), en-GB the European ones (CET); otherwise an offset (GMT+5:30).
    zoneFormats = ['en-US', 'en-GB'].map((locale) => new Intl.DateTimeFormat(locale, { timeZoneName: 'short' }));
  }
  const get = (list: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes) => list.find((p) => p.type === type)?.value ?? '';
  const n = numeric.formatToParts(date);
  return {
    year: get(n, 'year'),
    month: get(n, 'month'),
    day: get(n, 'day'),
    hour: get(n, 'hour'),
    minute: get(n, 'minute'),
    second: get(n, 'second'),
    zone: zoneAbbreviation(date),
  };
}

function utcParts(date: Date): Parts {
  const two = (n: number) => String(n).padStart(2, '0');
  return {
    year: String(date.getUTCFullYear()),
    month: two(date.getUTCMonth() + 1),
    day: two(date.getUTCDate()),
    hour: two(date.getUTCHours()),
    minute: two(date.getUTCMinutes()),
    second: two(date.getUTCSeconds()),
    zone: 'UTC',
  };
}

function zoneAbbreviation(date: Date): string {
  let fallback = '';
  for (const format of zoneFormats) {
    const zone = format.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (zone !== '' && !/^GMT[+-]/.test(zone)) return zone;
    if (fallback === '') fallback = zone;
  }
  return fallback === '' ? 'UTC' : fallback;
}

/** A moment near `now` as briefly as is unambiguous: `07:43:41 CET` on the same local day, else with the date. */
export function timeNear(ms: number, now: number): string {
  const a = parts(ms);
  const b = parts(now);
  return a.year === b.year && a.month === b.month && a.day === b.day ? clockTime(ms) : localDateTime(ms, { seconds: true });
}
