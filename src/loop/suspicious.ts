/**
 * Keeps that look like a broken evaluation rather than a better change (SPEC §5), pure. A
 * suspicious keep is still a keep (the decision never changes); its row's `detail` starts
 * with `suspicious:` and says why, and the loop warns.
 *
 *   - exactly 100% better than the previous best (sign convention: + = better, relative to
 *     |previous best|) by landing on exactly 0: a loss, an error or a time that vanished,
 *     a negative higher-is-better metric that reached 0. A higher-is-better metric that
 *     exactly doubles is also +100%, but not flagged: counts do that legitimately (1 → 2
 *     passing tests, 3/10 → 6/10 accuracy);
 *   - exactly 0 while the evaluation output near the metric line shows a NaN-like token
 *     (`nan`, `inf`, `-inf`, `infinity` as a word, any case): typically a diverged run whose
 *     NaN was turned into 0 (`nan_to_num`, `or 0`). Also for the baseline.
 */
import type { Direction } from '../config/types.js';
import type { MetricMatcher } from './metric.js';

/** How many lines before and after the metric line count as "near" it. */
export const NEAR_LINES = 20;

const NAN_LIKE = /(?<![A-Za-z0-9_])[+-]?(?:nan|inf(?:inity)?)(?![A-Za-z0-9_])/i;

export interface KeepToCheck {
  metric: string;
  value: number;
  /** The best kept metric before this keep; null for the baseline. */
  previousBest: number | null;
  direction: Direction;
  /** The end of the evaluation log, as lines (the metric line is the last that `matches`). */
  logLines: readonly string[];
  matches: MetricMatcher;
}

/** `suspicious: …` for a keep that looks wrong, else null. */
export function suspiciousKeep(keep: KeepToCheck): string | null {
  const reasons: string[] = [];
  const { metric, value, previousBest } = keep;
  // A keep that lands on 0 from a non-zero best is exactly +100% in either direction.
  if (previousBest !== null && previousBest !== 0 && value === 0) {
    reasons.push(`${metric} improved by exactly 100% (${fixed(previousBest)} → ${fixed(value)}: landed on exactly 0)`);
  }
  if (value === 0) {
    const nan = nanNearMetric(keep.logLines, keep.matches);
    if (nan !== null) reasons.push(`${metric} is exactly 0 and the evaluation output shows \`${nan.token}\` near it (${JSON.stringify(clip(nan.line))})`);
  }
  if (reasons.length === 0) return null;
  return `suspicious: ${reasons.join('; ')}; check the evaluation output`;
}

/** The first NaN-like token within NEAR_LINES of the last metric line (or of the end, if none matches). */
export function nanNearMetric(lines: readonly string[], matches: MetricMatcher): { token: string; line: string } | null {
  const trimmed = lines.map((line) => line.trim());
  let at = trimmed.length - 1;
  while (at >= 0 && !(trimmed[at] !== '' && matches(trimmed[at] ?? ''))) at--;
  if (at < 0) at = trimmed.length - 1;
  for (let i = Math.max(0, at - NEAR_LINES); i <= Math.min(trimmed.length - 1, at + NEAR_LINES); i++) {
    const line = trimmed[i] ?? '';
    const token = NAN_LIKE.exec(line)?.[0];
    if (token !== undefined) return { token, line };
  }
  return null;
}

function fixed(value: number): string {
  return value.toFixed(6);
}

function clip(line: string): string {
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}
