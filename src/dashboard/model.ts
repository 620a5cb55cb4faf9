/**
 * The dashboard's data model: one ExperimentView per experiment, built from its ledger rows,
 * its config limits and its status. Pure: the page (render.ts + client.ts) only formats and
 * draws what is here, and the daemon serves the same object as JSON at /api/dashboard.
 *
 * The chart follows karpathy/autoresearch's progress.png: every row a dot coloured by status
 * (rows without a metric, such as crashes, in a strip under the plot), the running best as a
 * step line, kept points labelled with their (truncated) description.
 */
import type { Direction } from '../config/types.js';
import type { StatusState } from '../experiment/experiment-status.js';
import { countsAsExperiment, summarizeRows } from '../ledger/summary.js';
import type { LedgerRow } from '../ledger/types.js';

/** Keep labels on one chart: past this, only the largest steps are labelled (the rest would overlap). */
export const MAX_LABELS = 40;
/** Characters of a keep label, as in progress.png. */
export const LABEL_CHARS = 45;
/** Characters of a description in the hover tooltip. */
export const TOOLTIP_CHARS = 160;

export interface ChartData {
  /** x of each point: the row's iteration number. */
  x: number[];
  /** The row's metric; null for none (crash, N/A, not evaluated). */
  y: Array<number | null>;
  /** One character per point: k(eep), d(iscard), c(rash). A string: compact for 10,000 points. */
  s: string;
  /** Each row's description, cut to TOOLTIP_CHARS. */
  d: string[];
  /** The running best as [x, best] at every point where it changes. */
  best: Array<[number, number]>;
  /** Labelled keeps: [point index, label text], most important first (the baseline, then the largest steps): the page drops the later ones where labels would overlap. */
  labels: Array<[number, string]>;
}

export interface Eta {
  /** Which limit ends the experiment first. */
  by: 'max_experiments' | 'max_runtime';
  /** Iterations left (max_runtime: how many fit at the average pace); null when unknown. */
  remainingIterations: number | null;
  /** Seconds left; null when there is no average iteration time yet. */
  remainingS: number | null;
  /** ISO 8601 of now + remainingS, or null. */
  at: string | null;
}

export interface ExperimentView {
  id: string;
  scope: string;
  metric: string | null;
  direction: Direction | null;
  state: StatusState;
  reason: string | null;
  waitUntil: string | null;
  phase: string | null;
  iterations: number;
  keeps: number;
  discards: number;
  crashes: number;
  /** Keeps that are not the baseline: the improvements found. */
  improvements: number;
  baseline: number | null;
  best: number | null;
  bestDescription: string | null;
  /** Best vs baseline, percent, positive = better (whatever the direction). */
  improvementPct: number | null;
  /** Sum of duration_s; null when no row has one (a seed-written ledger). */
  timeSpentS: number | null;
  /** Sum of cost_usd; null when no row reports a cost. */
  costUsd: number | null;
  /** costUsd / improvements; null without a cost or without an improvement. */
  costPerKeepUsd: number | null;
  avgIterationS: number | null;
  maxExperiments: number | null;
  maxRuntimeS: number | null;
  eta: Eta | null;
  chart: ChartData;
  /** Why parts of the view are missing: an unreadable config or ledger. */
  problems: string[];
}

export interface DashboardData {
  version: 1;
  generatedAt: string;
  root: string;
  /** Served by the daemon: the page polls /api/dashboard. */
  live: boolean;
  experiments: ExperimentView[];
}

export interface ViewInput {
  id: string;
  scope: string;
  rows: readonly LedgerRow[];
  /** Null when the config is unreadable: no limits, no direction. */
  config: { metric: string; direction: Direction; maxExperiments: number | null; maxRuntimeMs: number | null } | null;
  status: { state: StatusState; reason: string | null; wait_until: string | null; phase: string | null };
  /** state.json's firstStartedAt (max_runtime counts from it), in ms; null when never started. */
  startedAt: number | null;
  now: number;
  problems?: string[];
}

export function buildExperimentView(input: ViewInput): ExperimentView {
  const { rows, config } = input;
  const direction = config?.direction ?? null;
  // Without a config the direction is unknown: 'lower' only orders the summary, and the
  // page says the config is unreadable.
  const summary = summarizeRows(rows, direction ?? 'lower');
  const improvements = rows.filter((r) => r.status === 'keep' && countsAsExperiment(r)).length;
  const timeSpentS = sumOrNull(rows.map((r) => r.durationS));
  const costUsd = sumOrNull(rows.map((r) => r.costUsd ?? null));
  const avgIterationS = averageIterationS(rows);
  return {
    id: input.id,
    scope: input.scope,
    metric: config?.metric ?? null,
    direction,
    state: input.status.state,
    reason: input.status.reason,
    waitUntil: input.status.wait_until,
    phase: input.status.phase,
    iterations: summary.iterations,
    keeps: summary.keeps,
    discards: summary.discards,
    crashes: summary.crashes,
    improvements,
    baseline: summary.baseline,
    best: summary.best,
    bestDescription: summary.bestRow?.description ?? null,
    improvementPct: summary.improvementPct,
    timeSpentS,
    costUsd,
    costPerKeepUsd: costPerKeep(costUsd, improvements),
    avgIterationS,
    maxExperiments: config?.maxExperiments ?? null,
    maxRuntimeS: config?.maxRuntimeMs == null ? null : config.maxRuntimeMs / 1000,
    eta: config === null ? null : estimateEta({ rows, maxExperiments: config.maxExperiments, maxRuntimeMs: config.maxRuntimeMs, startedAt: input.startedAt, now: input.now, avgIterationS }),
    chart: buildChart(rows, direction ?? 'lower'),
    problems: input.problems ?? [],
  };
}

/**
 * Cost per improvement found. The baseline is a keep but costs no agent turn, so it is not
 * counted: "$0.40 per keep" means what one improvement cost.
 */
export function costPerKeep(costUsd: number | null, improvements: number): number | null {
  return costUsd === null || improvements === 0 ? null : costUsd / improvements;
}

/**
 * Mean duration_s of the iterations after the baseline (the baseline has no agent turn, so
 * it is shorter than the rest); the baseline's own when it is all there is.
 */
export function averageIterationS(rows: readonly LedgerRow[]): number | null {
  const timed = rows.filter((r) => r.durationS !== null);
  const experiments = timed.filter(countsAsExperiment);
  const pool = experiments.length > 0 ? experiments : timed;
  if (pool.length === 0) return null;
  return pool.reduce((sum, r) => sum + (r.durationS ?? 0), 0) / pool.length;
}

export interface EtaInput {
  rows: readonly LedgerRow[];
  maxExperiments: number | null;
  maxRuntimeMs: number | null;
  /** When max_runtime started counting (state.json firstStartedAt), ms; null: never started. */
  startedAt: number | null;
  now: number;
  avgIterationS: number | null;
}

/**
 * When the experiment will be done, by the limit that ends it first. The rules are the
 * loop's (doneReason): max_experiments counts rows after the baseline; max_runtime counts
 * wall-clock time from the first start. Null when neither limit is set.
 */
export function estimateEta(input: EtaInput): Eta | null {
  const { avgIterationS: avg, now } = input;
  const candidates: Eta[] = [];
  if (input.maxExperiments !== null) {
    const done = input.rows.filter(countsAsExperiment).length;
    // A baseline is still owed before the first experiment; it is one iteration too.
    const owed = input.rows.length === 0 ? 1 : 0;
    const remaining = Math.max(0, input.maxExperiments - done);
    const left = remaining === 0 ? 0 : remaining + owed;
    const remainingS = left === 0 ? 0 : avg === null ? null : left * avg;
    candidates.push({ by: 'max_experiments', remainingIterations: left, remainingS, at: null });
  }
  if (input.maxRuntimeMs !== null) {
    // Never started: the whole budget is ahead; a seed ledger has no start, so the same.
    const elapsedMs = input.startedAt === null ? 0 : Math.max(0, now - input.startedAt);
    const remainingS = Math.max(0, input.maxRuntimeMs - elapsedMs) / 1000;
    // The loop checks the limit between iterations: one that starts before the deadline runs to its end.
    const remainingIterations = remainingS === 0 ? 0 : avg === null || avg <= 0 ? null : Math.ceil(remainingS / avg);
    candidates.push({ by: 'max_runtime', remainingIterations, remainingS, at: null });
  }
  if (candidates.length === 0) return null;
  // The first limit reached wins; an unknown time (no average yet) loses to a known one.
  const soonest = candidates.reduce((a, b) => ((b.remainingS ?? Infinity) < (a.remainingS ?? Infinity) ? b : a));
  return { ...soonest, at: soonest.remainingS === null ? null : new Date(now + soonest.remainingS * 1000).toISOString() };
}

/** Points, running best and labels, in ledger order. */
export function buildChart(rows: readonly LedgerRow[], direction: Direction): ChartData {
  const x: number[] = [];
  const y: Array<number | null> = [];
  const d: string[] = [];
  let s = '';
  const best: Array<[number, number]> = [];
  // Keeps that moved the best, with how far: labels go to the largest steps first.
  const steps: Array<{ index: number; gain: number }> = [];
  let current: number | null = null;
  rows.forEach((row, index) => {
    x.push(row.iteration);
    y.push(row.metric);
    s += row.status === 'keep' ? 'k' : row.status === 'discard' ? 'd' : 'c';
    d.push(truncate(row.description, TOOLTIP_CHARS));
    if (row.status !== 'keep' || row.metric === null) return;
    // Every keep is the best from then on, as summarizeRows says: a reset or a rebase's
    // baseline may step back (worse); a tie keep of the seed skill moves nothing.
    steps.push({ index, gain: current === null ? Infinity : Math.abs(row.metric - current) });
    if (current !== row.metric) {
      current = row.metric;
      best.push([row.iteration, row.metric]);
    }
  });
  const labels = [...steps]
    .sort((a, b) => b.gain - a.gain) // stable: equal steps stay in ledger order
    .slice(0, MAX_LABELS)
    .map((step): [number, string] => [step.index, truncate(rows[step.index]?.description ?? '', LABEL_CHARS)]);
  return { x, y, s, d, best, labels };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function sumOrNull(values: ReadonlyArray<number | null>): number | null {
  let sum: number | null = null;
  for (const v of values) if (v !== null) sum = (sum ?? 0) + v;
  return sum;
}
