/**
 * The default `metric_grep` of a metric name. Its own module because both the config parser
 * and the guard reader (decision/guards.ts, which the config keys import) need it.
 */

/** `^<metric>:`, as the seed skill writes it: metric_grep is a literal prefix, nothing is escaped. */
export function defaultMetricGrep(metric: string): string {
  return `^${metric}:`;
}
