/**
 * The few statistics the noise-aware decisions need, pure. Empty input is a programming error
 * (a decision always has at least one sample), so it throws instead of returning NaN.
 */
import { createRequire } from 'node:module';

// jstat (130 KB) serves only the noise-aware decisions: loaded on first use, so a plain `run`
// (every CLI start through the loop) neither parses nor runs it.
const requireLazily = createRequire(import.meta.url);
let jStatLoaded: (typeof import('jstat'))['jStat'] | undefined;
const jStat = () => (jStatLoaded ??= (requireLazily('jstat') as typeof import('jstat')).jStat);

function requireSamples(samples: readonly number[], what: string): void {
  if (samples.length === 0) throw new RangeError(`${what} needs at least one sample, got none`);
}

export function mean(samples: readonly number[]): number {
  requireSamples(samples, 'mean');
  // Summed as offsets from the first sample: identical samples (a deterministic evaluation) have
  // exactly their value as mean. A plain sum is an ulp off, and a no-op then looked credibly better.
  const shift = samples[0]!;
  let sum = 0;
  for (const x of samples) sum += x - shift;
  return shift + sum / samples.length;
}

export function median(samples: readonly number[]): number {
  requireSamples(samples, 'median');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Σ(x − mean)²: one group's contribution to a pooled variance (0 for a single sample). */
export function sumSquaredDeviations(samples: readonly number[]): number {
  requireSamples(samples, 'sumSquaredDeviations');
  const m = mean(samples);
  let sum = 0;
  for (const x of samples) sum += (x - m) ** 2;
  return sum;
}

/** Sample standard deviation (n − 1); null below 2 samples, where it is not defined. */
export function sampleSd(samples: readonly number[]): number | null {
  if (samples.length < 2) return null;
  return Math.sqrt(sumSquaredDeviations(samples) / (samples.length - 1));
}

/**
 * P(T_df ≥ t), the one-sided upper-tail p-value; df = Infinity is the standard normal (a known σ).
 * Computed as a tail directly (jstat: cdf(−t) by symmetry, erfc for the normal): 1 − cdf(t)
 * would lose every digit for large t.
 */
export function oneSidedPValue(t: number, df: number): number {
  if (Number.isNaN(t)) throw new RangeError('oneSidedPValue: t is NaN');
  if (!(df > 0)) throw new RangeError(`oneSidedPValue: degrees of freedom must be > 0, got ${df}`);
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  return df === Infinity ? 0.5 * jStat().erfc(t / Math.SQRT2) : jStat().studentt.cdf(-t, df);
}
