/**
 * The dashboard's data model: one ExperimentView per experiment, built from its ledger rows,
 * its config limits and its status. Pure: the page (render.ts + client.ts) only formats and
 * draws what is here, and the daemon serves the same object as JSON at /api/dashboard.
 *
 * The chart follows karpathy/autoresearch's progress.png: every evaluated row a dot coloured by
 * status (evaluations without a metric, such as crashes, in a strip under the plot), the running
 * best as a step line, kept points labelled with their (truncated) description. Rows that never
 * reached the evaluation (no_change, scope_violation, agent crashes) are not points: a burst of
 * them would squash the x axis. They are counted, and marked as gaps between the points.
 */
import type { Direction } from '../config/types.js';
import { improvementPct as improvementPctOf } from '../core/improvement.js';
import type { NoiseEstimate, NoiseSetting } from '../decision/types.js';
import type { StatusState } from '../experiment/experiment-status.js';
import type { DraftStatus } from '../experiment/draft-status.js';
import { countsAsExperiment, isBaselineRow, summarizeRows } from '../ledger/summary.js';
import type { LedgerRow } from '../ledger/types.js';
import { isRevalidationFailed, keptLineage, type KeptLineage } from './kept-lineage.js';
import { noiseEstimate, type NoiseView } from './noise-estimate.js';

/** Keep labels on one chart: past this, only the largest steps are labelled (the rest would overlap). */
export const MAX_LABELS = 40;
/** Characters of a keep label, as in progress.png. */
export const LABEL_CHARS = 45;
/** Characters of a description in the hover tooltip. */
export const TOOLTIP_CHARS = 160;
/** Characters of the why (row.detail) in the hover tooltip. */
export const WHY_CHARS = 300;

export interface ChartData {
  /** The iteration number of each point. Points are placed one per slot, in this order (not by number). */
  x: number[];
  /** The row's metric; null for none (an evaluation that crashed or printed no metric). */
  y: Array<number | null>;
  /** One character per point: k(eep), d(iscard), c(rash). A string: compact for 10,000 points. */
  s: string;
  /** Each row's description, cut to TOOLTIP_CHARS. */
  d: string[];
  /** Why, for a discard, a crash or a suspicious keep: row.detail, else the reason code; '' otherwise. */
  why: string[];
  /** Points of keeps flagged `suspicious:` (row.detail): drawn with a marker. */
  sus: number[];
  /** The running best as [point index, best] at every point where it changes (a failed re-validation steps it back). */
  best: Array<[number, number]>;
  /** Keeps a later re-validation undid (kept-lineage.ts): drawn hollow. */
  undone: number[];
  /**
   * Evidence of points measured more than once or tested (row.evidence; a lone sample without a
   * test says nothing the point does not): [point index, samples, mean, spread, p-value]. Points
   * with samples > 1 and a spread get an error bar, mean ± spread.
   */
  ev: Array<[number, number, number | null, number | null, number | null]>;
  /** Guard metric values of points that have them (row.guards, in column order): [point index, [[name, value]...]]. */
  guards: Array<[number, Array<[string, number | null]>]>;
  /** Labelled keeps: [point index, label text], most important first (the baseline, then the largest steps): the page drops the later ones where labels would overlap. */
  labels: Array<[number, string]>;
  /** Rows not evaluated, as runs between points: [points before the run, rows, first iteration, last iteration, reasons ("10 no_change, 2 agent_exit")]. */
  gaps: Array<[number, number, number, number, string]>;
  /** Rows not evaluated, in all. */
  hidden: number;
  /** Their reasons, most frequent first ("no_change", 10). */
  hiddenWhy: Array<[string, number]>;
}

/** Where the running iteration is, and for how long: the daemon's phase, or state.json's intent. */
export interface LivePhase {
  iteration: number | null;
  /** agent, eval, capture, decide, … (the daemon's words); null: running, phase unknown. */
  phase: string | null;
  /** ISO 8601: when this phase began (state.json intent.startedAt); null when unknown. */
  since: string | null;
  /** The soft budget of this phase in seconds (eval: time_budget); null for none. */
  budgetS: number | null;
  /** The hard limit (eval_timeout, agent_timeout) in seconds; null for none. */
  limitS: number | null;
  /** The cluster job of the evaluation in flight (`slurm job 12`); absent for a local one. */
  job?: string;
}

/** The measured pace of recent iterations: what the ETA multiplies. */
export interface Pace {
  /** Expected seconds per iteration. */
  perIterationS: number;
  /** Mean agent time of the recent iterations (result.json agentMs); null: not measured. */
  agentS: number | null;
  /** Mean evaluation time of those that evaluated (result.json evalMs); null: not measured. */
  evalS: number | null;
  /** Share of the recent iterations that reached the evaluation (0..1); null: not measured. */
  evalShare: number | null;
  /** Iterations the pace is taken from. */
  sample: number;
  /** measured: result.json agent + eval times; ledger: duration_s only; budget: time_budget, nothing measured yet. */
  source: 'measured' | 'ledger' | 'budget';
  /** True when the agent's turn is not in it yet (only the baseline, or the budget, is known). */
  lowerBound: boolean;
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
  /** The running iteration's phase and its elapsed time; null when not running. */
  live: LivePhase | null;
  /** pipeline: the next iteration drafted beside the running one (status --json `draft`); null: none. */
  draft: DraftStatus | null;
  iterations: number;
  /** Rows after the baseline: what max_experiments counts. */
  experiments: number;
  keeps: number;
  discards: number;
  crashes: number;
  /** Keeps that are not the baseline: the improvements found. */
  improvements: number;
  baseline: number | null;
  /** The last keep that still counts (a failed re-validation undoes keeps: kept-lineage.ts). */
  best: number | null;
  bestDescription: string | null;
  /** σ of one evaluation, for the noise band best ± σ; null when unknown (noise-estimate.ts). */
  noise: NoiseView | null;
  /** Best vs baseline, percent, positive = better (whatever the direction). */
  improvementPct: number | null;
  /** Sum of duration_s; null when no row has one (a seed-written ledger). */
  timeSpentS: number | null;
  /** Sum of cost_usd; null when no row reports a cost. */
  costUsd: number | null;
  /** costUsd / improvements; null without a cost or without an improvement. */
  costPerKeepUsd: number | null;
  avgIterationS: number | null;
  /** Recent agent and evaluation times; null when nothing is timed. */
  pace: Pace | null;
  /** The daemon's warnings for this experiment (none from a static `dashboard` run). */
  warnings: string[];
  /** Keeps whose detail starts with `suspicious:`. */
  suspicious: Array<{ iteration: number; detail: string }>;
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
  /** Experiments with the same metric and direction, drawn together in one chart (two or more with points). */
  overlays: Overlay[];
}

export interface Overlay {
  metric: string;
  direction: Direction;
  ids: string[];
}

/** One iteration's measured times, from its result.json. */
export interface RunTiming {
  iteration: number;
  agentMs: number | null;
  evalMs: number | null;
}

export interface ViewInput {
  id: string;
  scope: string;
  rows: readonly LedgerRow[];
  /** Null when the config is unreadable: no limits, no direction. */
  config: {
    metric: string;
    direction: Direction;
    maxExperiments: number | null;
    maxRuntimeMs: number | null;
    timeBudgetMs?: number | null;
    evalTimeoutMs?: number | null;
    agentTimeoutMs?: number | null;
    /** `noise`: a known σ is the band's σ. */
    noise?: NoiseSetting | null;
  } | null;
  /** state.json's pooled noise estimate, when it has one. */
  noise?: NoiseEstimate | null;
  /** warnings: the daemon's latest for this experiment (a dirty checkout, a timing metric sharing CPUs…). */
  status: { state: StatusState; reason: string | null; wait_until: string | null; phase: string | null; warnings?: readonly string[]; draft?: DraftStatus | null };
  /** state.json's intent: the iteration in flight (only shown while the experiment runs). */
  intent?: { iteration: number; phase: string; startedAt: string | null; job?: { name: string; id: string | null } | null } | null;
  /** Measured times of recent iterations (result.json), any order. */
  timings?: readonly RunTiming[];
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
  const lineage = keptLineage(rows);
  const bestRow = lineage.bestAfter.at(-1) ?? null;
  const improvements = rows.filter((r) => r.status === 'keep' && countsAsExperiment(r)).length;
  const timeSpentS = sumOrNull(rows.map((r) => r.durationS));
  const costUsd = sumOrNull(rows.map((r) => r.costUsd ?? null));
  const avgIterationS = averageIterationS(rows);
  const pace = measurePace(rows, input.timings ?? [], config?.timeBudgetMs ?? null);
  return {
    id: input.id,
    scope: input.scope,
    metric: config?.metric ?? null,
    direction,
    state: input.status.state,
    reason: input.status.reason,
    waitUntil: input.status.wait_until,
    phase: input.status.phase,
    live: livePhase(input),
    draft: input.status.draft ?? null,
    iterations: summary.iterations,
    experiments: summary.experiments,
    keeps: summary.keeps,
    discards: summary.discards,
    crashes: summary.crashes,
    improvements,
    baseline: summary.baseline,
    best: bestRow?.metric ?? null,
    bestDescription: bestRow?.description ?? null,
    noise: noiseEstimate(rows, input.noise, config?.noise),
    improvementPct: improvementPctOf(bestRow?.metric ?? null, summary.baseline, direction ?? 'lower'),
    timeSpentS,
    costUsd,
    costPerKeepUsd: costPerKeep(costUsd, improvements),
    avgIterationS,
    pace,
    warnings: [...(input.status.warnings ?? [])],
    suspicious: rows.filter(isSuspicious).map((r) => ({ iteration: r.iteration, detail: truncate(r.detail ?? '', TOOLTIP_CHARS) })),
    maxExperiments: config?.maxExperiments ?? null,
    maxRuntimeS: config?.maxRuntimeMs == null ? null : config.maxRuntimeMs / 1000,
    eta: config === null ? null : estimateEta({ rows, maxExperiments: config.maxExperiments, maxRuntimeMs: config.maxRuntimeMs, startedAt: input.startedAt, now: input.now, avgIterationS: pace?.perIterationS ?? null }),
    chart: buildChart(rows, direction ?? 'lower', lineage),
    problems: input.problems ?? [],
  };
}

/** A keep the loop flagged as looking wrong (a 100% gain, a 0 from NaN-like output). */
function isSuspicious(row: LedgerRow): boolean {
  return row.status === 'keep' && typeof row.detail === 'string' && row.detail.startsWith('suspicious:');
}

/**
 * The phase of a running experiment and since when: the daemon's word for the phase when it
 * has one, else the intent's; the start time from the intent when it is of that phase.
 */
export function livePhase(input: ViewInput): LivePhase | null {
  if (input.status.state !== 'running') return null;
  const intent = input.intent ?? null;
  const phase = input.status.phase ?? intent?.phase ?? null;
  const since = intent !== null && intent.phase === phase ? intent.startedAt : null;
  const ms = (v: number | null | undefined) => (v == null ? null : v / 1000);
  const c = input.config;
  // `queued` (a cluster job waiting for its resources) has neither: eval_timeout counts from the job's start.
  const budgetS = phase === 'eval' || phase === 'baseline' ? ms(c?.timeBudgetMs) : null;
  const limitS = phase === 'eval' || phase === 'baseline' ? ms(c?.evalTimeoutMs) : phase === 'agent' ? ms(c?.agentTimeoutMs) : null;
  const job = intent?.job ?? null;
  const live: LivePhase = { iteration: intent?.iteration ?? null, phase, since, budgetS, limitS };
  if (job !== null) live.job = job.id === null ? 'slurm job being submitted' : `slurm job ${job.id}`;
  return live;
}

/** Iterations the pace is measured over: recent ones, as the pace drifts over a night. */
export const PACE_WINDOW = 20;

/**
 * Seconds per iteration, from the last PACE_WINDOW iterations after the baseline: the mean
 * agent time, plus the mean evaluation time times the share that got evaluated (no_change
 * rows and agent crashes skip it), plus what else an iteration took (git, setup, the
 * decision: duration_s minus both). Without result.json times, the mean duration_s; with only
 * the baseline, its evaluation (a lower bound: no agent turn yet); with nothing, time_budget.
 */
export function measurePace(rows: readonly LedgerRow[], timings: readonly RunTiming[], timeBudgetMs: number | null): Pace | null {
  const byIteration = new Map(timings.map((t) => [t.iteration, t]));
  const recent = rows.filter(countsAsExperiment).slice(-PACE_WINDOW);
  const timed = recent.filter((r) => byIteration.has(r.iteration));
  if (timed.length > 0) {
    const t = timed.map((r) => byIteration.get(r.iteration) as RunTiming);
    const agentS = mean(t.map((x) => (x.agentMs ?? 0) / 1000));
    const evaluated = t.filter((x) => x.evalMs !== null);
    const evalS = evaluated.length === 0 ? null : mean(evaluated.map((x) => (x.evalMs ?? 0) / 1000));
    const evalShare = evaluated.length / t.length;
    const rest = timed.filter((r) => r.durationS !== null).map((r) => {
      const x = byIteration.get(r.iteration) as RunTiming;
      return Math.max(0, (r.durationS ?? 0) - ((x.agentMs ?? 0) + (x.evalMs ?? 0)) / 1000);
    });
    const otherS = rest.length === 0 ? 0 : mean(rest);
    return { perIterationS: agentS + evalShare * (evalS ?? 0) + otherS, agentS, evalS, evalShare, sample: timed.length, source: 'measured', lowerBound: false };
  }
  const durations = recent.map((r) => r.durationS).filter((d): d is number => d !== null);
  if (durations.length > 0) return { perIterationS: mean(durations), agentS: null, evalS: null, evalShare: null, sample: durations.length, source: 'ledger', lowerBound: false };
  const baseline = rows.findLast(isBaselineRow); // the last one, as summarizeRows: a rebase measures it again
  if (baseline !== undefined && recent.length === 0) {
    const evalMs = byIteration.get(baseline.iteration)?.evalMs ?? null;
    const s = evalMs !== null ? evalMs / 1000 : baseline.durationS;
    if (s !== null) return { perIterationS: s, agentS: null, evalS: evalMs === null ? null : s, evalShare: null, sample: 1, source: evalMs !== null ? 'measured' : 'ledger', lowerBound: true };
  }
  // Nothing timed (a new experiment; a seed ledger has rows but no times: its pace is unknown).
  if (rows.length === 0 && timeBudgetMs !== null) return { perIterationS: timeBudgetMs / 1000, agentS: null, evalS: null, evalShare: null, sample: 0, source: 'budget', lowerBound: true };
  return null;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Experiments drawn together: same metric name and direction, at least two with a point. */
export function overlayGroups(experiments: readonly ExperimentView[]): Overlay[] {
  const groups = new Map<string, Overlay>();
  for (const e of experiments) {
    if (e.metric === null || e.direction === null || e.chart.x.length === 0) continue;
    const key = `${e.metric}\u0000${e.direction}`;
    const group = groups.get(key) ?? { metric: e.metric, direction: e.direction, ids: [] };
    group.ids.push(e.id);
    groups.set(key, group);
  }
  return [...groups.values()].filter((g) => g.ids.length >= 2);
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

/**
 * Whether the evaluation ran for this row: it has a metric, or the evaluation itself failed.
 * Rows of the seed skill have no reason: a crash there is its evaluation's.
 */
export function isEvaluated(row: LedgerRow): boolean {
  if (row.metric !== null || row.reason === null) return true;
  return (
    row.reason.startsWith('eval_') ||
    row.reason.startsWith('metric_') ||
    EVALUATED_REASONS.has(row.reason.split(':')[0] ?? '') ||
    isRevalidationFailed(row)
  );
}

/** Reasons of rows whose evaluation ran (issue 11's discards and re-validation included). */
const EVALUATED_REASONS = new Set(['baseline', 'improved', 'no_improvement', 'within_noise', 'check_failed', 'guard_failed']);

/** Points, running best, evidence and labels, in ledger order; rows not evaluated as gaps. */
export function buildChart(rows: readonly LedgerRow[], direction: Direction, lineage: KeptLineage = keptLineage(rows)): ChartData {
  const x: number[] = [];
  const y: Array<number | null> = [];
  const d: string[] = [];
  const why: string[] = [];
  const sus: number[] = [];
  const undone: number[] = [];
  const ev: ChartData['ev'] = [];
  const guards: ChartData['guards'] = [];
  let s = '';
  const best: Array<[number, number]> = [];
  const gaps: ChartData['gaps'] = [];
  const hiddenWhy = new Map<string, number>();
  let run: { rows: number; first: number; last: number; why: Map<string, number> } | null = null;
  // Keeps that moved the best, with how far: labels go to the largest steps first.
  const steps: Array<{ index: number; row: LedgerRow; gain: number }> = [];
  let current: number | null = null;
  const closeRun = () => {
    if (run !== null) gaps.push([x.length, run.rows, run.first, run.last, countsText(run.why)]);
    run = null;
  };
  for (const [at, row] of rows.entries()) {
    if (!isEvaluated(row)) {
      const reason = row.reason ?? row.status;
      hiddenWhy.set(reason, (hiddenWhy.get(reason) ?? 0) + 1);
      run ??= { rows: 0, first: row.iteration, last: row.iteration, why: new Map() };
      run.rows++;
      run.last = row.iteration;
      run.why.set(reason, (run.why.get(reason) ?? 0) + 1);
      continue;
    }
    closeRun();
    const index = x.length;
    x.push(row.iteration);
    y.push(row.metric);
    s += row.status === 'keep' ? 'k' : row.status === 'discard' ? 'd' : 'c';
    d.push(truncate(row.description, TOOLTIP_CHARS));
    const suspicious = isSuspicious(row);
    if (suspicious) sus.push(index);
    why.push(row.status === 'keep' && !suspicious ? '' : truncate(row.detail || row.reason || '', WHY_CHARS));
    if (lineage.undone.has(row)) undone.push(index);
    const e = row.evidence;
    if (e != null && (e.samples > 1 || e.pValue !== null)) ev.push([index, e.samples, e.mean, e.spread, e.pValue]);
    if (row.guards != null && Object.keys(row.guards).length > 0) guards.push([index, Object.entries(row.guards)]);
    if (row.status === 'keep' && row.metric !== null) steps.push({ index, row, gain: current === null ? Infinity : Math.abs(row.metric - current) });
    // The best as the lineage says: every keep from then on (a reset or a rebase's baseline may
    // step back, a tie keep of the seed skill moves nothing), a failed re-validation steps back.
    const now = lineage.bestAfter[at]?.metric ?? null;
    if (now !== null && now !== current) best.push([index, now]);
    current = now;
  }
  closeRun();
  const labels = [...steps]
    .sort((a, b) => b.gain - a.gain) // stable: equal steps stay in ledger order
    .slice(0, MAX_LABELS)
    .map((step): [number, string] => [step.index, truncate(step.row.description, LABEL_CHARS)]);
  const hidden = gaps.reduce((sum, g) => sum + g[1], 0);
  return { x, y, s, d, why, sus, best, undone, ev, guards, labels, gaps, hidden, hiddenWhy: [...hiddenWhy.entries()].sort((a, b) => b[1] - a[1]) };
}

/** "10 no_change, 2 agent_exit": most frequent first. */
function countsText(counts: Map<string, number>): string {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function sumOrNull(values: ReadonlyArray<number | null>): number | null {
  let sum: number | null = null;
  for (const v of values) if (v !== null) sum = (sum ?? 0) + v;
  return sum;
}
