/**
 * What `report` says about an experiment, computed from its rows and per-iteration records:
 * the summary figures, the keeps ranked by gain, and every failure with its class. Pure.
 */
import type { Direction } from '../config/types.js';
import { KeepChain, isRevalidationRow, reasonCode } from '../ledger/keep-chain.js';
import { countsAsExperiment, summarizeRows, type LedgerSummary } from '../ledger/summary.js';
import type { LedgerRow } from '../ledger/types.js';
import { FAILURE_CLASSES, classifyFailure, promoteRepeatedErrors, type FailureClass, type RunRecord, type Triaged } from './classify-failure.js';

/** One ledger row with what was found on disk for it. */
export interface IterationInput {
  row: LedgerRow;
  /** runs/<n>/result.json, when it exists and is about this row. */
  run: RunRecord | null;
  /** The log that explains a failure, relative to the experiment dir (null: none). */
  logFile: string | null;
  /** Its last lines ('' when there is no log). */
  logTail: string;
}

/** This many `no_change` rows in a row are worth a warning: the agent is not changing anything. */
export const NO_CHANGE_RUN = 3;

/** Consecutive `no_change` rows, first and last iteration. */
export interface NoChangeRun {
  from: number;
  to: number;
  count: number;
}

export interface TriagedFailure extends Triaged, IterationInput {}

export interface RankedKeep {
  row: LedgerRow & { metric: number };
  run: RunRecord | null;
  /** The best before this keep. */
  previous: number;
  /** metric − previous, sign as is. */
  delta: number;
  /** The improvement in the good direction (positive). */
  gain: number;
  /** gain relative to previous, in percent; null for a 0 previous. */
  gainPct: number | null;
  /** The `revalidation_failed` row that undid this keep (its gain did not reproduce); null: it stands. */
  undoneBy: number | null;
}

export interface Revalidation {
  row: LedgerRow;
  /** Iterations of the keeps undone (the oldest first). */
  undone: number[];
  /** The keep that is the best after it (null: none left). */
  bestAfter: LedgerRow | null;
}

export interface Analysis {
  summary: LedgerSummary;
  /** Rows that are not the baseline: what the agent tried. */
  experiments: number;
  /** Keeps after the baseline, largest gain first. */
  keeps: RankedKeep[];
  /** Discards by reason code ('discard' for a seed row, which has none); revalidation rows are in `revalidations`. */
  discards: Map<string, number>;
  /** Each `revalidation_failed` row: the keeps it undid and the best after it. */
  revalidations: Revalidation[];
  /** Every failure, in ledger order. */
  failures: TriagedFailure[];
  byClass: Map<FailureClass, TriagedFailure[]>;
  /** Infrastructure failures with a candidate commit: worth evaluating again once the machine is fixed. */
  rerun: number[];
  /** Infrastructure failures with no candidate to re-evaluate (the agent failed before changing anything): `rerun` skips them. */
  noCandidate: number[];
  /** Runs of NO_CHANGE_RUN or more `no_change` rows, in ledger order. */
  noChangeRuns: NoChangeRun[];
  cost: { totalUsd: number; reported: number; agentTurns: number };
  /**
   * Seconds. `unsplit`: rows with a duration but no result.json; `other`: the rest of the wall
   * time (git, bookkeeping, pauses). The parts add up to `wall`.
   */
  time: { wall: number; agent: number; eval: number; unsplit: number; other: number };
  /** Rows with no result.json (e.g. written by the autoresearch-agent skill). */
  withoutArtifacts: number;
  /** How long the baseline's evaluation took: what eval_timeout should be compared with. */
  baselineEvalMs: number | null;
}

/**
 * `withoutCandidate`: iterations known to have no candidate commit (experiment/rerun-candidate.ts);
 * they are left out of `rerun`, since `rerun` would skip them.
 */
export function analyze(inputs: readonly IterationInput[], direction: Direction, withoutCandidate: ReadonlySet<number> = new Set()): Analysis {
  const rows = inputs.map((input) => input.row);
  const summary = summarizeRows(rows, direction);
  const keepInputs = inputs.filter((input): input is KeepInput => input.row.status === 'keep' && input.row.metric !== null);
  // The same baseline as summarizeRows (the last row that says so, else the first keep).
  const baseline = keepInputs.find((k) => k.row === summary.baselineRow) ?? null;

  const triaged: TriagedFailure[] = [];
  for (const input of inputs) {
    const verdict = classifyFailure(input);
    if (verdict !== null) triaged.push({ ...input, iteration: input.row.iteration, commit: input.run?.commitFull ?? input.row.commit, verdict });
  }
  const failures = promoteRepeatedErrors(triaged);
  const byClass = new Map<FailureClass, TriagedFailure[]>();
  for (const cls of FAILURE_CLASSES) {
    const members = failures.filter((f) => f.verdict.class === cls);
    if (members.length > 0) byClass.set(cls, members);
  }

  const revalidations = revalidationsOf(rows);
  const discards = new Map<string, number>();
  for (const row of rows) {
    if (row.status !== 'discard' || isRevalidationRow(row)) continue;
    const reason = reasonCode(row.reason) ?? 'discard'; // `guard_failed: val_acc 0.71 < 0.85` counts as guard_failed
    discards.set(reason, (discards.get(reason) ?? 0) + 1);
  }

  let totalUsd = 0;
  let reported = 0;
  let agentTurns = 0;
  const time = { wall: 0, agent: 0, eval: 0, unsplit: 0, other: 0 };
  for (const { row, run } of inputs) {
    // `external` is `agent: none`: whoever edited the worktree did it outside our accounting.
    if (row.agent !== null && row.agent !== 'external') agentTurns++;
    const cost = row.costUsd ?? run?.agentReport?.costUsd ?? null;
    if (cost !== null && cost !== undefined) {
      totalUsd += cost;
      reported++;
    }
    if (row.durationS === null) continue;
    time.wall += row.durationS;
    if (run === null) time.unsplit += row.durationS;
    else {
      time.agent += (run.agentMs ?? 0) / 1000;
      time.eval += (run.evalMs ?? 0) / 1000;
    }
  }
  time.other = Math.max(0, time.wall - time.agent - time.eval - time.unsplit);
  // Measured parts that exceed a row's wall time (clock steps): the total is what was measured.
  time.wall = Math.max(time.wall, time.agent + time.eval + time.unsplit);
  const infrastructure = [...new Set(byClass.get('infrastructure')?.map((f) => f.iteration) ?? [])].sort((a, b) => a - b);

  return {
    summary,
    experiments: summary.experiments,
    keeps: baseline === null ? [] : rankKeeps(inputs, direction, revalidations),
    discards,
    revalidations,
    failures,
    byClass,
    rerun: infrastructure.filter((n) => !withoutCandidate.has(n)),
    noCandidate: infrastructure.filter((n) => withoutCandidate.has(n)),
    noChangeRuns: noChangeRuns(rows),
    cost: { totalUsd, reported, agentTurns },
    time,
    withoutArtifacts: inputs.filter((input) => input.run === null).length,
    baselineEvalMs: baseline?.run?.evalMs ?? null,
  };
}

function noChangeRuns(rows: readonly LedgerRow[]): NoChangeRun[] {
  const runs: NoChangeRun[] = [];
  let current: LedgerRow[] = [];
  const close = () => {
    const first = current[0];
    const last = current.at(-1);
    if (first !== undefined && last !== undefined && current.length >= NO_CHANGE_RUN) runs.push({ from: first.iteration, to: last.iteration, count: current.length });
    current = [];
  };
  for (const row of rows) {
    if (row.reason === 'no_change') current.push(row);
    else close();
  }
  close();
  return runs;
}

type KeepInput = IterationInput & { row: LedgerRow & { metric: number } };

/**
 * Each keep that tried a change against the best before it (keeps only ever improve it; a
 * reset, a rebase's new baseline or a failed revalidation only moves the reference), largest
 * gain first; keeps a revalidation undid (their gain did not reproduce) after every keep that stands.
 */
function rankKeeps(inputs: readonly IterationInput[], direction: Direction, revalidations: readonly Revalidation[]): RankedKeep[] {
  const undoneBy = new Map<number, number>();
  for (const r of revalidations) for (const iteration of r.undone) if (!undoneBy.has(iteration)) undoneBy.set(iteration, r.row.iteration);
  const ranked: RankedKeep[] = [];
  const chain = new KeepChain();
  for (const { row, run } of inputs) {
    const previous = chain.best?.metric ?? null;
    chain.add(row);
    if (row.status !== 'keep' || row.metric === null) continue;
    if (previous !== null && countsAsExperiment(row)) {
      const delta = row.metric - previous;
      const gain = direction === 'lower' ? -delta : delta;
      ranked.push({ row: row as KeepInput['row'], run, previous, delta, gain, gainPct: previous === 0 ? null : (gain / Math.abs(previous)) * 100, undoneBy: undoneBy.get(row.iteration) ?? null });
    }
  }
  // Stable: equal gains stay in ledger order.
  return ranked.sort((a, b) => Number(a.undoneBy !== null) - Number(b.undoneBy !== null) || b.gain - a.gain);
}

function revalidationsOf(rows: readonly LedgerRow[]): Revalidation[] {
  const found: Revalidation[] = [];
  const chain = new KeepChain();
  for (const row of rows) {
    const before = chain.undone.length;
    chain.add(row);
    if (isRevalidationRow(row)) found.push({ row, undone: chain.undone.slice(before).map((keep) => keep.iteration), bestAfter: chain.best });
  }
  return found;
}
