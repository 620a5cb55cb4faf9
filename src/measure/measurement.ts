/**
 * A measurement: the evaluations one decision needs, run through the executor (issue 11).
 *
 *   candidate ─► sample 1 ─► decision (src/decision/sequential-decision.ts, pure)
 *                               ├─ decided ──────────────────────────────► keep / discard
 *                               └─ sample again ─► [best once, for drift] ─► candidate once ─┘
 *
 * The worktree holds the candidate; a sample of the best checks the best out and the
 * candidate back (the branch follows: recovery rolls back to the last keep either way). Any
 * failed evaluation of the candidate ends the measurement (its row is a crash, as with one
 * sample); a failed re-measurement of the best only stops further samples of the best.
 */
import type { Aggregate, DecisionSettings, Evidence, NoiseEstimate } from '../decision/types.js';
import { aggregateOf, nextStep, type DecisionStep } from '../decision/sequential-decision.js';
import { mean, sampleSd } from '../decision/statistics.js';

import { evaluateOnce, type MeasureContext, type Sample } from './evaluation.js';
import { sampleLog, type SampleRole } from './sample-logs.js';

type OkSample = Extract<Sample, { kind: 'ok' }>;
type FailedSample = Extract<Sample, { kind: 'failed' }>;
/** How a measurement can end without a decision. */
export type Unmeasured = FailedSample | Extract<Sample, { kind: 'aborted' | 'out-of-quota' | 'infrastructure' }>;

export interface BestCommit {
  commit: string;
  metric: number;
  /** Every sample of it so far (at least its metric). */
  samples: readonly number[];
}

export interface CandidateMeasured {
  kind: 'measured';
  decision: Extract<DecisionStep, { kind: 'decided' }>;
  samples: number[];
  /** Samples of the best taken during this measurement (drift). */
  bestSamples: number[];
  /** Each guard metric, aggregated over the candidate's samples (null when any sample lacks it). */
  guards: Record<string, number | null>;
  /** The candidate's first evaluation (what suspicion is judged on). */
  first: OkSample;
  /** Time spent evaluating, best samples included. */
  evalMs: number;
  evaluations: number;
}

/** Counts the iteration's evaluations (AUTORESEARCH_SAMPLE) and their time. */
class Evaluations {
  count = 0;
  ms = 0;
  private readonly perRole = new Map<SampleRole, number>();
  constructor(private readonly ctx: MeasureContext) {}

  async run(role: SampleRole, commit: string, label: string | undefined): Promise<Sample> {
    const index = (this.perRole.get(role) ?? 0) + 1;
    this.perRole.set(role, index);
    this.count++;
    const sample = await evaluateOnce(this.ctx, { log: sampleLog(this.ctx.iteration.runDir, role, index), sample: this.count, commit, ...(label === undefined ? {} : { label }) });
    if (sample.kind === 'ok' || sample.kind === 'failed') this.ms += sample.durationMs;
    return sample;
  }
}

export async function measureCandidate(
  ctx: MeasureContext,
  opts: { candidate: string; branch: string; best: BestCommit; noise: NoiseEstimate; settings: DecisionSettings; isSuspicious: (first: OkSample) => boolean },
): Promise<CandidateMeasured | Unmeasured> {
  const { settings } = opts;
  const evaluations = new Evaluations(ctx);
  const label = (n: number) => (settings.repeats > 1 ? `sample ${n}/${settings.repeats}` : undefined);
  const firstSample = await evaluations.run('candidate', opts.candidate, label(1));
  if (firstSample.kind !== 'ok') return firstSample;
  const first = firstSample;
  const suspicious = opts.isSuspicious(first);
  const candidate: OkSample[] = [first];
  const bestSamples: number[] = [];
  let bestFailed = false;
  for (;;) {
    const step = nextStep({
      candidate: candidate.map((s) => s.value),
      best: [...opts.best.samples, ...bestSamples],
      bestMetric: opts.best.metric,
      noise: opts.noise,
      settings,
      suspicious,
    });
    if (step.kind === 'decided') {
      return { kind: 'measured', decision: step, samples: candidate.map((s) => s.value), bestSamples, guards: aggregateGuards(candidate, settings.aggregate), first, evalMs: evaluations.ms, evaluations: evaluations.count };
    }
    if (step.best && !bestFailed) {
      await ctx.checkOut(opts.best.commit);
      const sample = await evaluations.run('best', opts.best.commit, `the best, for drift`);
      await ctx.checkOut(opts.candidate);
      if (sample.kind === 'aborted' || sample.kind === 'out-of-quota' || sample.kind === 'infrastructure') return sample;
      if (sample.kind === 'ok') bestSamples.push(sample.value);
      else {
        bestFailed = true; // the best measured fine before: say so, and go on with the candidate alone
        ctx.deps.report({ kind: 'warning', message: `iteration ${ctx.iteration.number}: re-measuring the best (${opts.best.commit.slice(0, 7)}) failed: ${sample.why} (${sample.log})` });
      }
    }
    const next = await evaluations.run('candidate', opts.candidate, label(candidate.length + 1));
    if (next.kind !== 'ok') return next;
    candidate.push(next);
  }
}

/** The baseline (or any unchanged commit the worktree holds) evaluated `count` times. */
export async function measureRepeatedly(ctx: MeasureContext, commit: string, count: number): Promise<{ kind: 'measured'; samples: OkSample[]; evalMs: number } | Unmeasured> {
  const evaluations = new Evaluations(ctx);
  const samples: OkSample[] = [];
  for (let i = 1; i <= count; i++) {
    const sample = await evaluations.run('candidate', commit, count > 1 ? `sample ${i}/${count}` : undefined);
    if (sample.kind !== 'ok') return sample;
    samples.push(sample);
  }
  return { kind: 'measured', samples, evalMs: evaluations.ms };
}

/**
 * Revalidation: the tip and the baseline, `count` samples each, interleaved (baseline first),
 * so drift of the machine shows in both alike. The worktree ends on the tip.
 */
export async function measureTipAndBaseline(
  ctx: MeasureContext,
  opts: { tip: string; baseline: string; branch: string; count: number },
): Promise<{ kind: 'measured'; tip: number[]; baseline: number[]; evalMs: number } | Unmeasured> {
  const evaluations = new Evaluations(ctx);
  const tip: number[] = [];
  const baseline: number[] = [];
  for (let i = 1; i <= opts.count; i++) {
    for (const [role, commit, into] of [['baseline', opts.baseline, baseline], ['candidate', opts.tip, tip]] as const) {
      await ctx.checkOut(commit);
      const sample = await evaluations.run(role, commit, `${role === 'baseline' ? 'baseline' : 'best'} ${i}/${opts.count}`);
      if (sample.kind !== 'ok') {
        await ctx.checkOut(opts.tip);
        return sample;
      }
      into.push(sample.value);
    }
  }
  return { kind: 'measured', tip, baseline, evalMs: evaluations.ms };
}

export function aggregateGuards(samples: readonly OkSample[], how: Aggregate): Record<string, number | null> {
  const names = Object.keys(samples[0]?.guards ?? {});
  return Object.fromEntries(
    names.map((name) => {
      const values = samples.map((s) => s.guards[name]);
      return [name, values.every((v): v is number => typeof v === 'number') ? aggregateOf(values, how) : null];
    }),
  );
}

/** The evidence of samples decided without a test (the baseline, a revalidation). */
export function evidenceOf(values: readonly number[], pValue: number | null): Evidence {
  return { samples: values.length, mean: values.length === 0 ? null : mean(values), spread: sampleSd(values), pValue };
}



