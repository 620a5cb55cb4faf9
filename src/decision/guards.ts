/**
 * `guard` (SPEC §3): further metrics a keep must satisfy, e.g. `memory_gb <= 40, val_acc >= 0.85`.
 * Parsing the key, reading each guard metric from an evaluation log (exactly as the main
 * metric is read, with its default `metric_grep` `^<name>:`), and saying which guard a
 * candidate violates, in the words of the row's reason.
 */
import { defaultMetricGrep } from '../config/metric-grep.js';
import { LEDGER_COLUMNS } from '../ledger/types.js';
import { extractMetric, metricMatcher } from '../loop/metric.js';
import type { Guard } from './types.js';

const OPERATORS: readonly Guard['op'][] = ['<=', '<', '>=', '>'];

/** Written the other way round: a likely typo for an operator we have. */
const REVERSED: Readonly<Record<string, Guard['op']>> = { '=<': '<=', '=>': '>=' };

/** Every guard metric gets a results.tsv column named after it: these names are taken. */
export const RESERVED_COLUMN_NAMES: readonly string[] = [...new Set<string>([...LEDGER_COLUMNS, 'samples', 'mean', 'spread', 'p_value'])];

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `name op number, …` → the guards in the order written, or what is wrong (a description of
 * what was found, for a config error). Refuses duplicate metrics and names of results.tsv
 * columns; the main metric is the config parser's to refuse (it knows the `metric` key).
 */
export function parseGuards(text: string): Guard[] | string {
  const guards: Guard[] = [];
  for (const part of text.split(',')) {
    const condition = part.trim();
    if (condition === '') return `an empty condition in \`${text}\``;
    const guard = parseCondition(condition);
    if (typeof guard === 'string') return guard;
    const earlier = guards.find((g) => g.metric === guard.metric);
    if (earlier !== undefined) {
      return `\`${guard.metric}\` twice (\`${earlier.text}\` and \`${guard.text}\`): one condition per metric, as each gets its own results.tsv column`;
    }
    // Guard values live in plain objects (a row's `guards`, JSON): this key would set their prototype instead.
    if (guard.metric === '__proto__') {
      return `\`${guard.text}\`, but \`__proto__\` cannot name a guard metric (its value could not be recorded): print this metric under another name`;
    }
    if (RESERVED_COLUMN_NAMES.includes(guard.metric)) {
      return `\`${guard.text}\`, but \`${guard.metric}\` is a results.tsv column of its own (a guard metric gets a column named after it): print this metric under another name`;
    }
    guards.push(guard);
  }
  return guards;
}

function parseCondition(condition: string): Guard | string {
  // The name is everything before the first comparison character; the metric key accepts any text.
  const match = /^([^<>=!]*?)\s*([<>=!]+)\s*(.*)$/.exec(condition);
  if (match === null) return `\`${condition}\`, which has no comparison (one of <=, <, >=, >)`;
  const [, name = '', op = '', bound = ''] = match;
  if (name === '') return `\`${condition}\`, which has no metric name before \`${op}\``;
  // A tab or line break could not be a results.tsv column name.
  if (/[\p{Cc}]/u.test(name)) return `\`${condition}\`, whose metric name has a control character (a tab?)`;
  if (!(OPERATORS as readonly string[]).includes(op)) {
    const reversed = REVERSED[op];
    return `\`${condition}\`, whose operator \`${op}\` is not one of <=, <, >=, >${reversed === undefined ? '' : ` (did you mean \`${reversed}\`?)`}`;
  }
  if (bound === '') return `\`${condition}\`, which has no number after \`${op}\``;
  const value = Number(bound);
  if (!DECIMAL.test(bound) || !Number.isFinite(value)) return `\`${condition}\`, where \`${bound}\` is not a number (write the bound alone, without a unit)`;
  return { metric: name, op: op as Guard['op'], bound: value, text: condition };
}

/** Whether a value satisfies one guard. */
export function satisfies(guard: Guard, value: number): boolean {
  switch (guard.op) {
    case '<=':
      return value <= guard.bound;
    case '<':
      return value < guard.bound;
    case '>=':
      return value >= guard.bound;
    case '>':
      return value > guard.bound;
  }
}

/** The comparison a violating value makes: `val_acc 0.71 < 0.85` for `val_acc >= 0.85`. */
const NEGATION: Readonly<Record<Guard['op'], string>> = { '<=': '>', '<': '>=', '>=': '<', '>': '<=' };

/**
 * The row's reason when a candidate violates a guard, else null: `guard_failed: ` and every
 * violated guard in config order, `; `-separated. A guard metric without a value (absent from
 * the values, or null: no valid line in the log) violates its guard: a keep must show it holds.
 */
export function guardViolation(guards: readonly Guard[], values: Readonly<Record<string, number | null>>): string | null {
  const violations: string[] = [];
  for (const guard of guards) {
    const value = values[guard.metric] ?? null;
    if (value === null) {
      violations.push(`${guard.metric} not found in the evaluation log (expected a line starting with \`${guard.metric}:\`)`);
    } else if (!satisfies(guard, value)) {
      violations.push(`${guard.metric} ${value} ${NEGATION[guard.op]} ${guard.bound}`);
    }
  }
  return violations.length === 0 ? null : `guard_failed: ${violations.join('; ')}`;
}

/**
 * Each guard metric's value in an evaluation log, read as the main metric is (loop/metric.ts:
 * the last line starting with `<name>:`, one number after its last `:`). A missing line, an
 * invalid value or a missing log is null.
 */
export async function readGuardValues(logFile: string, guards: readonly Guard[]): Promise<Record<string, number | null>> {
  const values: Record<string, number | null> = {};
  for (const guard of guards) {
    const result = await extractMetric(logFile, metricMatcher(defaultMetricGrep(guard.metric), null));
    values[guard.metric] = result.kind === 'ok' ? result.value : null;
  }
  return values;
}
