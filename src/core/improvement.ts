/**
 * One sign convention for every improvement shown to people (run output, results, status,
 * report): a percentage is `+` when the value is better than the reference, `-` when worse,
 * whatever the metric's direction (lower-is-better 100 → 80 is `+20.00%`). And one way to
 * print a metric for reading: %.6f as the ledger stores it, without trailing zeros.
 */
import type { Direction } from '../config/types.js';

/** How much better `value` is than `reference`, in percent of |reference|; null when there is nothing to compare. */
export function improvementPct(value: number | null, reference: number | null, direction: Direction): number | null {
  if (value === null || reference === null || reference === 0) return null;
  const better = direction === 'lower' ? reference - value : value - reference;
  return (better / Math.abs(reference)) * 100 + 0; // `+ 0`: no -0
}

/** `+12.34%`, `-5.00%`, `0.00%` (a value that rounds to zero has no sign); `-` for null. */
export function formatImprovement(pct: number | null, digits = 2): string {
  if (pct === null || !Number.isFinite(pct)) return '-';
  const text = Math.abs(pct).toFixed(digits);
  if (Number(text) === 0) return `${text}%`;
  return `${pct > 0 ? '+' : '-'}${text}%`;
}

/** A metric for reading: `479500`, `0.9979`, `N/A` — the ledger's %.6f without trailing zeros. */
export function formatMetric(value: number | null): string {
  if (value === null) return 'N/A';
  return value.toFixed(6).replace(/\.?0+$/, '') || '0';
}
