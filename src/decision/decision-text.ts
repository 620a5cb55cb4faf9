/**
 * The words of a decision (a row's `reason` for discards, revalidation verdicts): short numbers,
 * two significant digits for spreads and p-values, the ledger's metric format for levels.
 */
import { formatMetric } from '../core/improvement.js';

/** Two significant digits, no trailing zeros: `0.0031`, `0.21`, `1.2e-7`. */
export function formatShort(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  if (Math.abs(value) < 1e-4) return value.toExponential(1).replace(/\.0e/, 'e');
  return String(Number(value.toPrecision(2)));
}

/** `0.9512 ± 0.0031 (5 samples)`, `0.9512 (1 sample)`. */
export function describeSamples(level: number, spread: number | null, count: number): string {
  const plural = count === 1 ? 'sample' : 'samples';
  const spreadText = spread === null ? '' : ` ± ${formatShort(spread)}`;
  return `${formatMetric(level)}${spreadText} (${count} ${plural})`;
}

/** `+0.001`, `-0.0004`, `0`: a signed difference of metrics, at the ledger's precision (no `-1.1e-16`). */
export function formatSigned(value: number): string {
  const text = formatMetric(Math.abs(value));
  if (text === '0') return '0';
  return value < 0 ? `-${text}` : `+${text}`;
}
