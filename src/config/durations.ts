/**
 * Durations in config and on the command line use `ms` syntax (`90s`, `5m`, `2h`, `7d`,
 * `1.5h`). A bare number is refused: `ms('5')` is 5 milliseconds, which is never what
 * someone writing `time_budget: 5` meant.
 */
import ms from 'ms';

export const DURATION_EXPECTED = 'a duration like 90s, 5m, 2h or 7d';

const BARE_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** Milliseconds (a positive integer), or undefined when `text` is not a usable duration. */
export function parseDuration(text: string | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  if (trimmed === '' || BARE_NUMBER.test(trimmed)) return undefined;
  let value: number | undefined;
  try {
    value = ms(trimmed as ms.StringValue);
  } catch {
    return undefined; // ms throws on input it cannot even attempt (e.g. too long)
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const rounded = Math.round(value);
  return rounded > 0 ? rounded : undefined;
}
