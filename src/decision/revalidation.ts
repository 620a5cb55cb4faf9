/**
 * Re-validation (issue 11 item 5, SPEC §5 "Keep rule with noise"), pure: after `revalidate_every`
 * keeps the tip and the baseline are measured again, interleaved, and every keep of the window must
 * still show its gain.
 *
 * - drift = mean(baselineNew) − mean(baselineRecorded): what the machine changed since the baseline
 *   was first measured; the tip's level is read as T' = tip − drift.
 * - Walking the keeps newest → oldest, keep k's gain reproduces iff T' is credibly better than the
 *   recorded metric of the keep before it (`before` for the first) by more than min_improvement:
 *   the one-sided t-test of the keep rule at α = 1 − confidence, with σ²(1/n + 1/m) widened by the
 *   drift's own variance σ²(1/b_new + 1/b_recorded) (n tip samples, m that keep's samples).
 *   σ̂ (auto) pools `noise` with the tip's and the baseline's new samples as their own groups.
 *   noise off (or auto with nothing to pool): mean(T') against the metric, plainly (keep-rule.ts).
 * - The newest keep that reproduces stays; every later keep is undone. None → back to `before`.
 */
import { isImprovement } from './keep-rule.js';
import { describeSamples, formatSigned, formatShort } from './decision-text.js';
import { sigmaOf, withGroup } from './noise-estimate.js';
import { mean, oneSidedPValue, sampleSd } from './statistics.js';
import type { DecisionSettings, NoiseEstimate } from './types.js';
import { formatMetric } from '../core/improvement.js';

export interface KeepRecord {
  iteration: number;
  commit: string;
  metric: number;
  samples: readonly number[];
}

export interface RevalidationInput {
  /** The validated keep (or the baseline) right before the window. */
  before: KeepRecord;
  /** Keeps since the last revalidation, oldest first (≥ 1); the last is the tip. */
  window: readonly KeepRecord[];
  /** New samples of the tip. */
  tip: readonly number[];
  /** New samples of the baseline commit, interleaved with the tip's. */
  baselineNew: readonly number[];
  baselineRecorded: readonly number[];
  noise: NoiseEstimate;
  settings: DecisionSettings;
}

export type RevalidationVerdict =
  | {
      kind: 'reproduced';
      /** mean of the tip's new samples, as measured. */
      measured: number;
      /** measured − drift: the level the tests compared. */
      corrected: number;
      drift: number;
      /** p of the tip's own gain (null: no test). */
      pValue: number | null;
      why: string;
    }
  | {
      kind: 'failed';
      /** Index in `window` of the oldest keep undone; it and every later keep are undone. */
      oldestUndone: number;
      restoreTo: KeepRecord;
      measured: number;
      corrected: number;
      drift: number;
      /** p of the oldest undone keep's gain (null: no test). */
      pValue: number | null;
      why: string;
    };

interface GainCheck {
  reproduces: boolean;
  pValue: number | null;
}

export function revalidate(input: RevalidationInput): RevalidationVerdict {
  const { window, tip, settings } = input;
  if (window.length === 0) throw new RangeError('revalidate: the window has no keeps (need ≥ 1)');
  if (tip.length === 0) throw new RangeError('revalidate: no new samples of the tip (need ≥ 1)');

  const records = [input.before, ...window];
  const bad = [...tip, ...input.baselineNew, ...input.baselineRecorded, ...records.flatMap((r) => [r.metric, ...r.samples])].find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new RangeError(`revalidate: every sample and metric must be a finite number, got ${bad}`);

  const measured = mean(tip);
  const hasDrift = input.baselineNew.length > 0 && input.baselineRecorded.length > 0;
  const drift = hasDrift ? mean(input.baselineNew) - mean(input.baselineRecorded) : 0;
  const corrected = measured - drift;
  const driftVariance = hasDrift ? 1 / input.baselineNew.length + 1 / input.baselineRecorded.length : 0;
  const sigma = sigmaFor(input);

  const check = (reference: KeepRecord): GainCheck => {
    if (sigma === null || reference.samples.length === 0) {
      return { reproduces: isImprovement(corrected, reference.metric, settings.direction, settings.minImprovement), pValue: null };
    }
    const d = settings.direction === 'lower' ? reference.metric - corrected : corrected - reference.metric;
    const excess = d - settings.minImprovement;
    const standardError = sigma.value * Math.sqrt(1 / tip.length + 1 / reference.samples.length + driftVariance);
    const t = standardError > 0 ? excess / standardError : excess > 0 ? Infinity : -Infinity;
    const pValue = oneSidedPValue(t, sigma.df);
    return { reproduces: pValue <= 1 - settings.confidence, pValue };
  };

  const tipRecord = window[window.length - 1]!;
  const level = `${describeSamples(measured, sampleSd(tip), tip.length)} again (recorded ${formatMetric(tipRecord.metric)}, baseline drift ${formatSigned(drift)})`;

  let oldestUndone = window.length;
  let undonePValue: number | null = null;
  for (let k = window.length - 1; k >= 0; k--) {
    const result = check(k === 0 ? input.before : window[k - 1]!);
    if (result.reproduces) {
      if (k === window.length - 1) {
        const pText = result.pValue === null ? '' : `, p = ${formatShort(result.pValue)}`;
        return { kind: 'reproduced', measured, corrected, drift, pValue: result.pValue, why: `revalidated: #${tipRecord.iteration} measured ${level}${pText}` };
      }
      break;
    }
    oldestUndone = k;
    undonePValue = result.pValue;
  }

  const restoreTo = oldestUndone === 0 ? input.before : window[oldestUndone - 1]!;
  const undone = oldestUndone === window.length - 1 ? '' : `#${window[oldestUndone]!.iteration}..#${tipRecord.iteration} undone, `;
  const why = `revalidation_failed: #${tipRecord.iteration} measured ${level}; ${undone}back to #${restoreTo.iteration} (${formatMetric(restoreTo.metric)})`;
  return { kind: 'failed', oldestUndone, restoreTo, measured, corrected, drift, pValue: undonePValue, why };
}

function sigmaFor(input: RevalidationInput): { value: number; df: number } | null {
  const { noise } = input.settings;
  if (noise.kind === 'off') return null;
  if (noise.kind === 'known') return { value: noise.sigma, df: Infinity };
  const pooled = withGroup(withGroup(input.noise, input.tip), input.baselineNew);
  const value = sigmaOf(pooled);
  return value === null ? null : { value, df: pooled.df };
}
