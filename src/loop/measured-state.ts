/**
 * What measurements change in state.json (issue 11): the best's samples, the pooled noise
 * estimate, the baseline's record and the window of keeps a revalidation will check.
 */
import { EMPTY_NOISE, withGroup } from '../decision/noise-estimate.js';
import { withoutOutliers } from '../decision/outliers.js';
import type { NoiseEstimate } from '../decision/types.js';
import type { ExperimentState, MeasuredCommit } from '../experiment/state.js';

/** What of a verdict this needs. */
export interface MeasuredVerdict {
  status: 'keep' | 'discard' | 'crash';
  reason: string | null;
  commit: string;
  metric: number | null;
  samples: readonly number[];
  bestSamples: readonly number[];
}

/**
 * What a verdict's samples change in state (issue 11): a new keep starts its own samples and
 * retires the old best's into the noise estimate (a baseline starts it over); anything else measured retires its own and
 * adds the drift samples to the best's. The keep becomes the newest unvalidated keep.
 */
export function measuredState(s: ExperimentState, verdict: MeasuredVerdict, iteration: number): Partial<ExperimentState> {
  const old = s.lastKept;
  const oldSamples = old.samples ?? (old.metric === null || old.metric === undefined ? [] : [old.metric]);
  if (verdict.status === 'keep' && verdict.metric !== null) {
    const kept: MeasuredCommit = { commit: verdict.commit, iteration, metric: verdict.metric, samples: verdict.samples.length > 0 ? [...verdict.samples] : [verdict.metric] };
    const noise = pool(s.noise ?? EMPTY_NOISE, [...oldSamples, ...verdict.bestSamples]);
    if (verdict.reason === 'baseline') {
      // A baseline measured again (rebase: often the evaluator was fixed) starts the noise over:
      // the old evaluator's spread, or scale, says nothing about the new one's.
      return { lastKept: { commit: kept.commit, metric: kept.metric, iteration, samples: kept.samples }, noise: EMPTY_NOISE, baseline: kept, revalidation: { validated: kept, window: [] } };
    }
    const revalidation = openRevalidation(s);
    return {
      lastKept: { commit: kept.commit, metric: kept.metric, iteration, samples: kept.samples },
      noise,
      ...(revalidation === null ? {} : { revalidation: { ...revalidation, window: [...revalidation.window, kept] } }),
    };
  }
  if (verdict.samples.length === 0 && verdict.bestSamples.length === 0) return {};
  return {
    lastKept: verdict.bestSamples.length === 0 ? old : { ...old, samples: [...oldSamples, ...verdict.bestSamples] },
    noise: pool(s.noise ?? EMPTY_NOISE, verdict.samples),
  };
}

/** One commit's samples into the estimate, its outliers set aside (decision/outliers.ts). */
function pool(noise: NoiseEstimate, samples: readonly number[]): NoiseEstimate {
  return withGroup(noise, withoutOutliers(samples, noise));
}

/**
 * The revalidation record, if it still describes the branch: `reset`, `rebase` or a keep the seed skill
 * recorded (adopted from the ledger) move the best without it, and then its window starts over at the
 * current best. Null before any baseline of ours was recorded.
 */
export function openRevalidation(s: ExperimentState): NonNullable<ExperimentState['revalidation']> | null {
  const record = s.revalidation;
  const tip = record?.window.at(-1) ?? record?.validated;
  if (record !== undefined && tip?.commit === s.lastKept.commit) return record;
  const { lastKept } = s;
  if (lastKept.metric === null || lastKept.metric === undefined) return null;
  return { validated: { commit: lastKept.commit, iteration: lastKept.iteration, metric: lastKept.metric, samples: lastKept.samples ?? [lastKept.metric] }, window: [] };
}
