/**
 * When does an exhausted quota come back? Reads the reset time out of an agent CLI's
 * message, in every form collected in ../shared/research/llm-cli-exhaustion.md:
 *
 *   epoch        `Claude AI usage limit reached|1750708800`, `"resets_at": 1777936568`,
 *                `resetsAt` / `reset_at` / `X-Codex-Primary-Reset-At` (epoch s, or ms if 13 digits),
 *                `"resets_in_seconds": 13872`, `"quotaResetTimeStamp": "2025-10-20T19:14:08Z"`
 *   named zone   `resets 3:30am (America/New_York)`, `reset at 3pm (America/Bogota)`,
 *                `resets Apr 23 at 4pm (America/Recife)` (no year: the next such date)
 *   local time   `Limits will reset at 9:30 AM.`, Codex `try again at 3:28 PM.` and
 *                `try again at Aug 8th, 2026 12:30 PM.` (the machine's zone: ctx.localZone)
 *   fixed offset `Access resets at 10:57 PM GMT-3.` (GMT-3 = UTC-3), `GMT+5:30`, `UTC+0530`,
 *                and the US abbreviations (EST, PDT, ...) a US-locale clock prints
 *   relative     `try again in 2 days 17 hours 14 minutes.`, `Your quota will reset after 1h49m8s.`,
 *                `Please retry in 1m30.5s`, `Suggested retry after 60s.`, `retryDelay: "30s"`
 *
 * Forms are tried in that order (the most precise first); the first that yields a time wins.
 * A time without a date is its next occurrence in its zone. DST: a wall time skipped by a
 * spring-forward gap resolves to the first instant after the gap; a repeated (fall-back) wall
 * time to the earlier instant. An unknown zone name, or text with no reset time, gives null:
 * the caller then backs off exponentially. Never throws.
 *
 * The CLIs print reset times to the minute and we read them a little after they were printed,
 * so a time up to JUST_PASSED_MS in the past is the reset that just happened (the caller
 * probes), not the same time tomorrow.
 */
import { createRequire } from 'node:module';
import type { IANAZone } from 'luxon';

// luxon (260 KB) is needed only when a reset time names a zone: loaded then, not by every `run`.
const requireLazily = createRequire(import.meta.url);
const luxon = () => requireLazily('luxon') as typeof import('luxon');

export interface ResetContext {
  now: number; // epoch ms
  localZone: string; // IANA zone of this machine: the zone of times printed without one
}

export const JUST_PASSED_MS = 5 * 60_000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Epoch ms of the reset named in `text`, or null. */
export function parseResetTime(text: string, ctx: ResetContext): number | null {
  for (const form of FORMS) {
    const match = form.pattern.exec(text);
    if (match === null) continue;
    const at = form.resolve(match, ctx);
    if (at !== null && Number.isFinite(at)) return at;
  }
  return null;
}

interface Form {
  id: string;
  pattern: RegExp; // not global: exec() always starts at 0
  resolve(match: RegExpExecArray, ctx: ResetContext): number | null;
}

const MONTH = 'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
const AMPM = '([ap])\\.?m\\b\\.?';
// US-locale clocks print these instead of GMT±N; fixed offsets, as printed.
const ABBREVIATIONS: Record<string, number> = {
  EST: -5 * 60, EDT: -4 * 60, CST: -6 * 60, CDT: -5 * 60, MST: -7 * 60, MDT: -6 * 60,
  PST: -8 * 60, PDT: -7 * 60, AKST: -9 * 60, AKDT: -8 * 60, HST: -10 * 60,
};
const ABBREVIATION = Object.keys(ABBREVIATIONS).join('|');
// A `<digits><unit>` run: `1h49m8s`, `2 days 17 hours 14 minutes`, `1m30.5s`, `250ms`.
const DURATION = '(\\d+(?:\\.\\d+)?\\s?[a-z]+(?:(?:,?\\s+(?:and\\s+)?)?\\d+(?:\\.\\d+)?\\s?[a-z]+)*)';

const FORMS: readonly Form[] = [
  {
    id: 'pipe-epoch', // Claude Code v1.0.x: `Claude AI usage limit reached|1750708800`
    pattern: /limit reached\|(\d{9,13})\b/i,
    resolve: (m) => fromEpoch(m[1]),
  },
  {
    id: 'field-epoch', // JSON fields and Codex response headers
    pattern: /["']?\b(?:resets_?at|reset_?at|x-codex-(?:primary|secondary)-reset-at)["']?\s*[:=]\s*["']?(\d{9,13})\b/i,
    resolve: (m) => fromEpoch(m[1]),
  },
  {
    id: 'field-seconds', // Codex backend body: `"resets_in_seconds": 13872`
    pattern: /["']?\bresets?_in_seconds["']?\s*[:=]\s*["']?(\d+(?:\.\d+)?)/i,
    resolve: (m, ctx) => ctx.now + Number(m[1]) * SECOND,
  },
  {
    id: 'field-iso', // Google ErrorInfo metadata: `quotaResetTimeStamp: '2025-10-20T19:14:08Z'`
    pattern: /reset\w*["']?\s*[:=]\s*["']?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))/i,
    resolve: (m) => {
      const at = Date.parse(m[1] ?? '');
      return Number.isNaN(at) ? null : at;
    },
  },
  {
    id: 'named-zone', // Claude Code: `resets 3:30am (America/New_York)`, `resets Apr 23 at 4pm (America/Recife)`
    pattern: new RegExp(
      `\\bresets?\\s+(?:at\\s+|on\\s+)?(?:(${MONTH})\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(?:at\\s+)?)?(\\d{1,2})(?::(\\d{2}))?\\s*${AMPM}\\s*\\(([A-Za-z][\\w+\\-/]*)\\)`,
      'i',
    ),
    resolve: (m, ctx) => {
      const zone = namedZone(m[6]);
      const time = clock(m[3], m[4], m[5]);
      if (zone === null || time === null) return null;
      if (m[1] === undefined) return nextOccurrence(zone, time, ctx.now);
      const month = monthNumber(m[1]);
      return month === null ? null : nextDatedOccurrence(zone, month, Number(m[2]), time, ctx.now);
    },
  },
  {
    id: 'codex-dated', // Codex, not today: `try again at Aug 8th, 2026 12:30 PM.` (machine-local)
    pattern: new RegExp(`\\btry again at (${MONTH})\\.? (\\d{1,2})(?:st|nd|rd|th)?,? (\\d{4}),? (\\d{1,2}):(\\d{2}) ?${AMPM}`, 'i'),
    resolve: (m, ctx) => {
      const zone = namedZone(ctx.localZone);
      const month = monthNumber(m[1]);
      const time = clock(m[4], m[5], m[6]);
      if (zone === null || month === null || time === null) return null;
      return wallToInstant(zone, { year: Number(m[3]), month, day: Number(m[2]), ...time });
    },
  },
  {
    id: 'gmt-offset', // Gemini CLI: `Access resets at 10:57 PM GMT-3.`
    pattern: new RegExp(`\\bresets? at (\\d{1,2})(?::(\\d{2}))? ?${AMPM} ?(?:GMT|UTC)(?:([+-])(\\d{1,2})(?::?(\\d{2}))?)?(?![\\w:+-])`, 'i'),
    resolve: (m, ctx) => {
      const time = clock(m[1], m[2], m[3]);
      if (time === null) return null;
      const minutes = Number(m[5] ?? 0) * 60 + Number(m[6] ?? 0);
      return nextOccurrence({ kind: 'fixed', offsetMinutes: m[4] === '-' ? -minutes : minutes }, time, ctx.now);
    },
  },
  {
    id: 'zone-abbreviation', // the same, from a US-locale clock: `Access resets at 3:45 PM PDT.`
    pattern: new RegExp(`\\bresets? at (\\d{1,2})(?::(\\d{2}))? ?${AMPM} ?(${ABBREVIATION})\\b`, 'i'),
    resolve: (m, ctx) => {
      const time = clock(m[1], m[2], m[3]);
      const offsetMinutes = ABBREVIATIONS[(m[4] ?? '').toUpperCase()];
      if (time === null || offsetMinutes === undefined) return null;
      return nextOccurrence({ kind: 'fixed', offsetMinutes }, time, ctx.now);
    },
  },
  {
    id: 'local-time', // Codex today `try again at 3:28 PM.`; Claude `Limits will reset at 9:30 AM.`
    // Not when a zone follows: an unknown zone must give null, not a guess in ours.
    pattern: new RegExp(`\\b(?:try again|resets?) at (\\d{1,2})(?::(\\d{2}))? ?${AMPM}(?!\\s*\\(|\\s*(?:GMT|UTC)|\\s*(?:${ABBREVIATION})\\b)`, 'i'),
    resolve: (m, ctx) => {
      const zone = namedZone(ctx.localZone);
      const time = clock(m[1], m[2], m[3]);
      return zone === null || time === null ? null : nextOccurrence(zone, time, ctx.now);
    },
  },
  {
    id: 'relative', // `try again in 2 days 17 hours 14 minutes`, `reset after 1h49m8s`, `retry in 30s`
    pattern: new RegExp(`\\b(?:try again|retry|resets?|available)\\s+(?:in|after|within)\\s+${DURATION}`, 'i'),
    resolve: (m, ctx) => {
      const ms = parseDuration(m[1] ?? '');
      return ms === null ? null : ctx.now + ms;
    },
  },
  {
    id: 'retry-delay', // Google RetryInfo: `"retryDelay": "34.074824224s"`, `retryDelay: "900ms"`
    pattern: new RegExp(`\\bretryDelay["']?\\s*[:=]\\s*["']?${DURATION}`, 'i'),
    resolve: (m, ctx) => {
      const ms = parseDuration(m[1] ?? '');
      return ms === null ? null : ctx.now + ms;
    },
  },
];

// ---------------------------------------------------------------------------------------
// Durations

const UNIT_MS: Record<string, number> = {
  ms: 1, msec: 1, millisecond: 1, milliseconds: 1,
  s: SECOND, sec: SECOND, secs: SECOND, second: SECOND, seconds: SECOND,
  m: MINUTE, min: MINUTE, mins: MINUTE, minute: MINUTE, minutes: MINUTE,
  h: HOUR, hr: HOUR, hrs: HOUR, hour: HOUR, hours: HOUR,
  d: DAY, day: DAY, days: DAY,
};

/** `2 days 17 hours`, `1h49m8s`, `1m30.5s`, `250ms` → ms; stops at the first unknown unit. */
export function parseDuration(text: string): number | null {
  let total = 0;
  let seen = false;
  for (const token of text.matchAll(/(\d+(?:\.\d+)?)\s?([a-z]+)/gi)) {
    const unit = UNIT_MS[(token[2] ?? '').toLowerCase()];
    if (unit === undefined) break;
    total += Number(token[1]) * unit;
    seen = true;
  }
  return seen ? Math.round(total) : null;
}

// ---------------------------------------------------------------------------------------
// Wall clock → instant

type Zone = { kind: 'iana'; zone: IANAZone } | { kind: 'fixed'; offsetMinutes: number };
interface Time {
  hour: number;
  minute: number;
}
interface Wall extends Time {
  year: number;
  month: number; // 1-12
  day: number;
}

function fromEpoch(digits: string | undefined): number | null {
  const n = Number(digits);
  if (!Number.isFinite(n) || n <= 0) return null;
  return digits !== undefined && digits.length >= 13 ? n : n * SECOND; // 13 digits: already ms
}

function namedZone(name: string | undefined): Zone | null {
  if (name === undefined) return null;
  const { IANAZone: Zones } = luxon();
  if (!Zones.isValidZone(name)) return null;
  return { kind: 'iana', zone: Zones.create(name) };
}

function offsetAt(zone: Zone, instant: number): number {
  return zone.kind === 'fixed' ? zone.offsetMinutes : zone.zone.offset(instant);
}

function monthNumber(name: string | undefined): number | null {
  const index = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].indexOf(
    (name ?? '').slice(0, 3).toLowerCase(),
  );
  return index < 0 ? null : index + 1;
}

/** `3`,`30`,`p` → 15:30; null for a time that cannot be on a 12-hour clock. */
function clock(hour: string | undefined, minute: string | undefined, meridiem: string | undefined): Time | null {
  const h = Number(hour);
  const min = minute === undefined ? 0 : Number(minute);
  if (!Number.isInteger(h) || h < 1 || h > 12 || !Number.isInteger(min) || min > 59) return null;
  const pm = (meridiem ?? '').toLowerCase() === 'p';
  return { hour: (h % 12) + (pm ? 12 : 0), minute: min };
}

/** The calendar date in `zone` at `instant`. */
function dateIn(zone: Zone, instant: number): { year: number; month: number; day: number } {
  const shifted = new Date(instant + offsetAt(zone, instant) * MINUTE);
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** The first instant at or after `now` (less JUST_PASSED_MS) whose wall clock in `zone` reads `time`. */
function nextOccurrence(zone: Zone, time: Time, now: number): number | null {
  const today = dateIn(zone, now);
  // From yesterday: a reset that just passed at 23:59 is read at 00:01.
  for (let shift = -1; shift <= 2; shift++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + shift));
    const at = wallToInstant(zone, { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), ...time });
    if (at !== null && at >= now - JUST_PASSED_MS) return at;
  }
  return null;
}

/** `Apr 23 at 4pm` without a year: the first such date at or after `now` (less JUST_PASSED_MS). */
function nextDatedOccurrence(zone: Zone, month: number, day: number, time: Time, now: number): number | null {
  const { year } = dateIn(zone, now);
  for (let y = year - 1; y <= year + 1; y++) {
    const at = wallToInstant(zone, { year: y, month, day, ...time });
    if (at !== null && at >= now - JUST_PASSED_MS) return at;
  }
  return null;
}

/**
 * The instant at which `zone`'s clock reads `wall`. A zone has at most one offset change
 * within a day of any wall time, so the candidate offsets are those a day either side.
 * Two candidates fit in a fall-back overlap: the earlier wins. None fit in a spring-forward
 * gap: the answer is the transition itself, the first instant after the skipped wall time.
 */
function wallToInstant(zone: Zone, wall: Wall): number | null {
  const naive = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const check = new Date(naive);
  if (check.getUTCMonth() !== wall.month - 1 || check.getUTCDate() !== wall.day) return null; // e.g. Apr 31
  const candidates = [...new Set([offsetAt(zone, naive - DAY), offsetAt(zone, naive), offsetAt(zone, naive + DAY)])].map(
    (offset) => ({ offset, instant: naive - offset * MINUTE }),
  );
  const fitting = candidates.filter((c) => offsetAt(zone, c.instant) === c.offset).map((c) => c.instant);
  if (fitting.length > 0) return Math.min(...fitting);
  return gapEnd(zone, candidates.map((c) => c.instant));
}

/** Binary search (to the minute) for the offset change between the candidate instants. */
function gapEnd(zone: Zone, instants: number[]): number | null {
  if (instants.length < 2) return null;
  let before = Math.min(...instants);
  let after = Math.max(...instants);
  const offsetAfter = offsetAt(zone, after);
  while (after - before > MINUTE) {
    const mid = before + Math.floor((after - before) / 2 / MINUTE) * MINUTE;
    if (offsetAt(zone, mid) === offsetAfter) after = mid;
    else before = mid;
  }
  return after;
}
