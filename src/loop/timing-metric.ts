/**
 * Is the metric a timing (SPEC §3 `metric_kind`)? A timing is skewed when other evaluations
 * (or other experiments' agents and builds) share the machine's CPUs: a keep can be luck of
 * scheduling. Pure; the warnings are composed in experiment/start-warnings.ts.
 *
 * `metric_kind: timing` or `other` decides. Unset, the metric NAME is split into words at
 * anything that is not a letter or digit, at lower→upper case changes and at letter↔digit
 * changes (`val_time`, `latencyP50`, `p50ms` → `val time`, `latency p 50`, `p 50 ms`), and
 * it is a timing when one word (case-insensitive) is in TIMING_WORDS, or when its LAST word
 * of several is the unit `s` (`runtime_s`, `step_s`). Words only: `timestamp`, `items`,
 * `mse` or `loss` are not timings. A false guess (e.g. `ms_ssim`) is corrected with
 * `metric_kind: other`.
 */
import type { MetricKind } from '../config/types.js';

export const TIMING_WORDS: ReadonlySet<string> = new Set([
  'time', 'times', 'timing', 'runtime', 'walltime', 'latency', 'duration', 'elapsed',
  'seconds', 'second', 'secs', 'sec', 'ms', 'msec', 'millis', 'milliseconds', 'us', 'usec', 'microseconds', 'ns', 'nanoseconds',
  'throughput', 'qps', 'rps', 'fps',
]);

/** The words of a metric name, lower-case. */
export function metricWords(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());
}

/** Why the metric counts as a timing (for the warning), or null when it does not. */
export function timingReason(metric: string, kind: MetricKind | null): string | null {
  if (kind === 'timing') return 'metric_kind: timing';
  if (kind === 'other') return null;
  const words = metricWords(metric);
  const word = words.find((w) => TIMING_WORDS.has(w));
  if (word !== undefined) return `its name contains the word \`${word}\`; set metric_kind: other if it is not a timing`;
  if (words.length > 1 && words.at(-1) === 's') return 'its name ends in the unit `s`; set metric_kind: other if it is not a timing';
  return null;
}
