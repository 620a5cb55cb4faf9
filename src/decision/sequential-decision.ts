/**
 * The keep rule with noise (issue 11, SPEC §5 "Keep rule with noise"), pure: given the samples so
 * far, take another sample or decide. The loop calls `nextStep` after every candidate sample.
 *
 * - `metric` is the aggregate (mean | median) of the candidate's samples. The improvement d is the
 *   direction-signed mean(candidate) − mean(best) (lower is better: mean(best) − mean(candidate)).
 * - noise off: sample until `repeats` candidate samples, then keep iff the aggregate beats
 *   `bestMetric` by more than min_improvement (keep-rule.ts). No samples of the best, no p-value.
 * - noise known σ (df = ∞) or auto (σ̂² pooled from the retired groups in `noise` plus the
 *   candidate's and the best's own samples; df the sum of theirs): a one-sided test of
 *   H0 "true improvement ≤ min_improvement", t = (d − min_improvement) / (σ·√(1/n + 1/m)),
 *   p = P(T_df ≥ t). Every look is tested at α/repeats (α = 1 − confidence): Bonferroni over the
 *   at most `repeats` looks, so a no-op is kept with probability ≤ α over all of them.
 *   Keep when p ≤ α/repeats and the candidate has at least MIN_SAMPLES_FOR_KEEP samples (never a
 *   keep on one lucky draw, whose value would then be the row's metric and the next best),
 *   except a suspicious candidate before its `repeats`-th sample. With `aggregate: median` the
 *   candidate's median must also beat the median of the best's samples by more than min_improvement.
 * - Futility: a look before the last with d ≤ min_improvement (not even nominally better) is a
 *   discard at once (no_improvement): repeats go to candidates that could be keeps.
 * - Otherwise, before `repeats` samples: sample again, first the best (for drift, interleaved)
 *   while it has fewer than 4·repeats samples.
 * - At `repeats` samples, not kept: within_noise if d > min_improvement, else no_improvement.
 * - auto with no spread known anywhere (df = 0): no test is possible; sample on, and at `repeats`
 *   decide as noise off does (p-value null; a discard's words say so).
 */
import { isImprovement } from './keep-rule.js';
import { describeSamples, formatShort } from './decision-text.js';
import { sigmaOf, withGroup } from './noise-estimate.js';
import { twoDisagree, withoutOutliers } from './outliers.js';
import { mean, median, oneSidedPValue, sampleSd } from './statistics.js';
import type { DecisionSettings, Evidence, NoiseEstimate } from './types.js';
import { formatMetric } from '../core/improvement.js';

export interface DecisionInput {
  /** The candidate's samples so far (≥ 1). */
  candidate: readonly number[];
  /** Every sample of the current best commit (≥ 1; may be many). */
  best: readonly number[];
  /** The best's recorded metric (what noise: off compares with). */
  bestMetric: number;
  /** Retired groups only: the candidate's and the best's own spread are added here. */
  noise: NoiseEstimate;
  settings: DecisionSettings;
  /** A suspicious candidate is never kept before all `repeats` samples. */
  suspicious: boolean;
}

export type DecisionReason = 'improved' | 'no_improvement' | 'within_noise';

export type DecisionStep =
  /** Take another sample: of the best first when best = true (drift, interleaved), then of the candidate. */
  | { kind: 'sample'; best: boolean }
  | {
      kind: 'decided';
      keep: boolean;
      reason: DecisionReason;
      /** The aggregate of the candidate's samples: the row's metric. */
      metric: number;
      evidence: Evidence;
      /** The σ the test used (null: no test). */
      sigma: number | null;
      /** A discard's words, starting with its reason code; null for keeps. */
      why: string | null;
    };

/** The best is sampled again (interleaved with the candidate) while it has fewer than this many samples per repeat. */
export const BEST_SAMPLES_PER_REPEAT = 4;

/** A keep rests on at least this many samples of the candidate (or all `repeats`, if fewer). */
export const MIN_SAMPLES_FOR_KEEP = 2;

export function aggregateOf(samples: readonly number[], aggregate: DecisionSettings['aggregate']): number {
  return aggregate === 'median' ? median(samples) : mean(samples);
}

/** The one-sided test of H0 "true improvement ≤ min_improvement"; null when no σ is known. */
interface TestResult {
  sigma: number;
  df: number;
  pValue: number;
}

function testImprovement(input: DecisionInput, d: number): TestResult | null {
  const { settings, candidate, best } = input;
  let sigma: number | null;
  let df: number;
  if (settings.noise.kind === 'known') {
    sigma = settings.noise.sigma;
    df = Infinity;
  } else {
    const pooled = withGroup(withGroup(input.noise, candidate), best);
    sigma = sigmaOf(pooled);
    df = pooled.df;
  }
  if (sigma === null) return null;
  const standardError = sigma * Math.sqrt(1 / candidate.length + 1 / best.length);
  const excess = d - settings.minImprovement;
  // σ = 0 (identical samples everywhere): any excess is certain, none is certainly not.
  const t = standardError > 0 ? excess / standardError : excess > 0 ? Infinity : -Infinity;
  return { sigma, df, pValue: oneSidedPValue(t, df) };
}

function validate(input: DecisionInput): void {
  const { candidate, best, settings } = input;
  if (candidate.length === 0) throw new RangeError('nextStep: the candidate has no samples (need ≥ 1)');
  if (settings.noise.kind !== 'off' && best.length === 0) {
    throw new RangeError(`nextStep: the best has no samples (need ≥ 1 with noise ${settings.noise.kind})`);
  }
  const bad = [...candidate, ...best, input.bestMetric].find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new RangeError(`nextStep: every sample and bestMetric must be a finite number, got ${bad}`);
  if (!Number.isInteger(settings.repeats) || settings.repeats < 1) {
    throw new RangeError(`nextStep: repeats must be an integer ≥ 1, got ${settings.repeats}`);
  }
  if (!(settings.confidence > 0 && settings.confidence < 1)) {
    throw new RangeError(`nextStep: confidence must be in (0, 1), got ${settings.confidence}`);
  }
}

export function nextStep(input: DecisionInput): DecisionStep {
  validate(input);
  if (input.settings.noise.kind === 'off') return decide(input, input.candidate.length);
  // A wild sample of either commit is set aside once the noise is known (outliers.ts); two
  // samples too far apart to both be right wait for a third.
  const candidate = withoutOutliers(input.candidate, input.noise);
  if (twoDisagree(candidate, input.noise) && input.candidate.length < input.settings.repeats) return sampleAgain(input.best.length, input.settings);
  return decide({ ...input, candidate, best: withoutOutliers(input.best, input.noise) }, input.candidate.length);
}

/** The rule on screened samples; `evaluated` counts every evaluation of the candidate (the repeats spent). */
function decide(input: DecisionInput, evaluated: number): DecisionStep {
  const { candidate, best, settings } = input;
  const n = candidate.length;
  const last = evaluated >= settings.repeats;
  const metric = aggregateOf(candidate, settings.aggregate);
  const candidateMean = mean(candidate);
  const evidence = (pValue: number | null): Evidence => ({ samples: n, mean: candidateMean, spread: sampleSd(candidate), pValue });
  const candidateText = describeSamples(candidateMean, sampleSd(candidate), n);

  if (settings.noise.kind === 'off') {
    if (!last) return { kind: 'sample', best: false };
    const keep = isImprovement(metric, input.bestMetric, settings.direction, settings.minImprovement);
    const why = keep ? null : `no_improvement: ${formatMetric(metric)} (${n} ${n === 1 ? 'sample' : 'samples'}) vs best ${formatMetric(input.bestMetric)}${minText(settings)}`;
    return { kind: 'decided', keep, reason: keep ? 'improved' : 'no_improvement', metric, evidence: evidence(null), sigma: null, why };
  }

  const bestMean = mean(best);
  const d = settings.direction === 'lower' ? bestMean - candidateMean : candidateMean - bestMean;
  const nominallyBetter = d > settings.minImprovement;
  const bestText = `best ${describeSamples(bestMean, null, best.length)}`;
  const test = testImprovement(input, d);

  if (!last && !nominallyBetter) {
    const why = `no_improvement: ${candidateText} vs ${bestText}${minText(settings)}`;
    return { kind: 'decided', keep: false, reason: 'no_improvement', metric, evidence: evidence(test?.pValue ?? null), sigma: test?.sigma ?? null, why };
  }

  if (test === null) {
    // auto, and not one commit measured twice yet: no test is possible.
    if (!last) return sampleAgain(best.length, settings);
    const keep = isImprovement(metric, input.bestMetric, settings.direction, settings.minImprovement);
    const why = keep ? null : `no_improvement: ${formatMetric(metric)} (${n} ${n === 1 ? 'sample' : 'samples'}) vs best ${formatMetric(input.bestMetric)}${minText(settings)}; no noise estimate yet, compared as noise off`;
    return { kind: 'decided', keep, reason: keep ? 'improved' : 'no_improvement', metric, evidence: evidence(null), sigma: null, why };
  }

  const threshold = (1 - settings.confidence) / settings.repeats;
  const credible = test.pValue <= threshold;
  const enough = n >= Math.min(MIN_SAMPLES_FOR_KEEP, settings.repeats);
  // The median is chosen against odd samples: one must not carry a keep whose median (the row's
  // metric) does not beat the best's.
  const medianBetter = settings.aggregate !== 'median' || isImprovement(metric, median(best), settings.direction, settings.minImprovement);
  if (credible && enough && medianBetter && (last || !input.suspicious)) {
    return { kind: 'decided', keep: true, reason: 'improved', metric, evidence: evidence(test.pValue), sigma: test.sigma, why: null };
  }
  if (!last) return sampleAgain(best.length, settings);

  const reason: DecisionReason = nominallyBetter ? 'within_noise' : 'no_improvement';
  const why = `${reason}: ${candidateText} vs ${bestText}, p = ${formatShort(test.pValue)} > ${formatShort(threshold)} (σ ${formatShort(test.sigma)})`;
  return { kind: 'decided', keep: false, reason, metric, evidence: evidence(test.pValue), sigma: test.sigma, why };
}

function sampleAgain(bestSamples: number, settings: DecisionSettings): DecisionStep {
  return { kind: 'sample', best: bestSamples < BEST_SAMPLES_PER_REPEAT * settings.repeats };
}

function minText(settings: DecisionSettings): string {
  return settings.minImprovement > 0 ? ` (min_improvement ${formatMetric(settings.minImprovement)})` : '';
}
