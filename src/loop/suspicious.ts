/**
 * Keeps that look like a broken evaluation rather than a better change (SPEC §5), pure. A
 * suspicious keep is still a keep (the decision never changes); its row's `detail` starts
 * with `suspicious:` and says why, and the loop warns.
 *
 *   - 100% or more better than the previous best (sign convention: + = better, relative to
 *     |previous best|; issue 11): a loss, an error or a time that vanished (landed on 0), a
 *     metric that more than doubled. Counts can double for real (1 → 2 passing tests): the
 *     keep stands, the flag asks for a look, and with repeats it is confirmed first;
 *   - exactly 0 (said alone when nothing above explains it), or exactly 0 while the evaluation
 *     output near the metric line shows a NaN-like token
 *     (`nan`, `inf`, `-inf`, `infinity` as a word, any case): typically a diverged run whose
 *     NaN was turned into 0 (`nan_to_num`, `or 0`). Also for the baseline;
 *   - from an evaluation much shorter than usual (under a quarter of the median of recent
 *     evaluations, measure/usual-duration.ts): a training run that stopped early still prints.
 *
 * With `repeats` > 1 a suspicious candidate is never kept on fewer than all its samples
 * (decision/sequential-decision.ts): the repeats confirm it or not.
 */
import type { Direction } from '../config/types.js';
import { improvementPct } from '../core/improvement.js';
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
  /** How long this evaluation took, and the usual time (null: not known yet). */
  evalMs?: number;
  usualEvalMs?: number | null;
}

/** An evaluation under this fraction of the usual time is much shorter than usual. */
export const SHORT_EVALUATION_FRACTION = 0.25;

/** `suspicious: …` for a keep that looks wrong, else null. */
export function suspiciousKeep(keep: KeepToCheck): string | null {
  const reasons: string[] = [];
  const { metric, value, previousBest } = keep;
  const gainPct = improvementPct(value, previousBest, keep.direction);
  if (previousBest !== null && previousBest !== 0 && value === 0) {
    // Landing on 0 from a non-zero best is exactly +100% in either direction.
    reasons.push(`${metric} improved by exactly 100% (${fixed(previousBest)} → ${fixed(value)}: landed on exactly 0)`);
  } else if (gainPct !== null && gainPct >= 100) {
    reasons.push(`${metric} improved by ${gainPct.toFixed(0)}% (${fixed(previousBest ?? 0)} → ${fixed(value)})`);
  }
  const { evalMs, usualEvalMs } = keep;
  if (evalMs !== undefined && usualEvalMs !== undefined && usualEvalMs !== null && evalMs < usualEvalMs * SHORT_EVALUATION_FRACTION) {
    reasons.push(`the evaluation took ${seconds(evalMs)}, usually ${seconds(usualEvalMs)}`);
  }
  if (value === 0) {
    const nan = nanNearMetric(keep.logLines, keep.matches);
    if (nan !== null) reasons.push(`${metric} is exactly 0 and the evaluation output shows \`${nan.token}\` near it (${JSON.stringify(clip(nan.line))})`);
  }
  // Exactly 0 says nothing else suspicious? Still worth a look (issue 11): a loss, a time, an
  // error count that is exactly 0 is more often a broken evaluation than a perfect model.
  if (value === 0 && reasons.length === 0) reasons.push(`${metric} is exactly 0`);
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

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

function fixed(value: number): string {
  return value.toFixed(6);
}

function clip(line: string): string {
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}
