/**
 * Revalidation (`revalidate_every: K`, SPEC §5): after K keeps, the current best and the
 * baseline are measured again, interleaved, and the keeps since the last revalidation are
 * checked against what they claimed (decision/revalidation.ts, pure).
 *
 *   due? ─► measure tip + baseline (max(repeats, 3) each, interleaved)
 *             ├─ interrupted ─► no row, back to the tip (it is still the best)
 *             ├─ every gain reproduces ─► no row; the samples join the best's; the window closes
 *             └─ a gain does not reproduce ─► row `discard revalidation_failed` (its commit is
 *                the oldest keep undone), state moves to the newest keep that reproduces,
 *                the undone tip stays reachable under refs/autoresearch/<id>/revalidation/<n>
 *
 * Like an iteration: its run directory is runs/<n> (renamed `<n>.revalidated-<ms>` when no
 * row is written, so the next iteration gets a fresh one), and an eval intent is recorded
 * before each evaluation, so a kill -9 is recovered like an interrupted evaluation.
 */
import fs from 'node:fs';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { iterationPaths } from '../experiment/paths.js';
import type { ExperimentState, MeasuredCommit } from '../experiment/state.js';
import { writeFileDurable } from '../fs/durable.js';
import { ledgerDigest } from '../experiment/ledger-digest.js';
import type { LedgerRow } from '../ledger/types.js';
import { EMPTY_NOISE, withGroup } from '../decision/noise-estimate.js';
import { sumSquaredDeviations } from '../decision/statistics.js';
import type { NoiseEstimate } from '../decision/types.js';
import { revalidate, type KeepRecord } from '../decision/revalidation.js';
import { executorFor } from '../measure/executor-for.js';
import { evidenceOf, measureTipAndBaseline } from '../measure/measurement.js';
import { openRevalidation } from './measured-state.js';
import type { EvalLlmVerdict } from './eval-llm.js';
import { measureContext, newAttempt, prepareRunDir } from './run-records.js';

export type RevalidationOutcome =
  | { kind: 'not-due' }
  | { kind: 'reproduced'; why: string }
  | { kind: 'recorded'; row: LedgerRow }
  | { kind: 'interrupted' }
  // A failed evaluation: nothing is decided (no row); the window stays open and the next keep tries again.
  | { kind: 'unmeasured'; why: string }
  // An evaluation that calls an LLM is out of quota: no row; the loop waits for it as for an iteration's.
  | { kind: 'out-of-quota'; verdict: EvalLlmVerdict };

/** Whether K keeps have been made since the last revalidation. */
export function revalidationDue(session: Session): boolean {
  const every = session.config.revalidateEvery;
  if (every <= 0) return false;
  const record = openRevalidation(session.store.current);
  // After a revalidation that could not measure, the next try waits for one more keep.
  const retry = record?.unmeasuredAt === undefined || record.window.length > record.unmeasuredAt;
  return record !== null && record.window.length >= every && retry && session.store.current.baseline !== undefined;
}

export async function runRevalidation(session: Session, deps: LoopDeps, signal: AbortSignal): Promise<RevalidationOutcome> {
  const state = session.store.current;
  const record = openRevalidation(state);
  const baseline = state.baseline;
  if (!revalidationDue(session) || record === null || baseline === undefined) return { kind: 'not-due' };
  const tip = record.window.at(-1);
  if (tip === undefined) return { kind: 'not-due' };
  const number = session.ledger.nextIteration();
  const files = iterationPaths(session.paths, number);
  const startedAt = deps.clock.now();
  const startedMono = deps.clock.monotonic();
  prepareRunDir(files.dir, startedAt);
  const { branch } = state;
  const count = Math.max(session.config.repeats, 3);
  deps.report({ kind: 'phase', iteration: number, phase: 'eval', detail: `revalidation of ${record.window.length} keeps: the best and the baseline, ${count} samples each` });
  const ctx = measureContext(
    { session, deps, signal, executor: executorFor(session, deps) },
    { number, runDir: files.dir, baseline: false, best: tip.metric },
    { base: tip.commit, candidate: tip.commit, attempt: newAttempt() },
  );
  const measured = await measureTipAndBaseline(ctx, { tip: tip.commit, baseline: baseline.commit, branch, count });
  if (measured.kind !== 'measured') {
    await session.worktree.restore(state.lastKept.commit, branch);
    await session.store.update({ intent: null });
    if (measured.kind === 'aborted') return { kind: 'interrupted' };
    setAside(files.dir, deps.clock.now());
    if (measured.kind === 'out-of-quota') return { kind: 'out-of-quota', verdict: measured.verdict };
    // The cluster failing it (preemption, node failure) is no verdict either: tried again after the next keep.
    const why = measured.kind === 'infrastructure' ? measured.detail : measured.why;
    await session.store.update((s) => (s.revalidation === undefined ? s : { ...s, revalidation: { ...s.revalidation, unmeasuredAt: record.window.length } }));
    deps.report({ kind: 'warning', message: `revalidation could not measure: ${why}; it is tried again after the next keep` });
    return { kind: 'unmeasured', why };
  }
  const verdict = revalidate({
    before: keepRecord(record.validated),
    window: record.window.map(keepRecord),
    tip: measured.tip,
    baselineNew: measured.baseline,
    baselineRecorded: baseline.samples,
    noise: state.noise ?? EMPTY_NOISE,
    settings: session.config,
  });
  // The baseline's new samples are a group of their own. The tip's join the best's samples when it
  // stays (pooled with them from then on: counted once), and are a group of their own when undone.
  const withBaseline = withGroup(state.noise ?? EMPTY_NOISE, measured.baseline);
  if (verdict.kind === 'reproduced') {
    const validated: MeasuredCommit = { ...tip, samples: [...tip.samples, ...measured.tip] };
    await session.store.update((s) => ({
      ...s,
      lastKept: { ...s.lastKept, samples: [...(s.lastKept.samples ?? [tip.metric]), ...measured.tip] },
      revalidation: { validated, window: [] },
      noise: withBaseline,
    }));
    // Back to the tip as recorded: no evaluation output or placed experiment file is left for the next agent.
    await session.worktree.restore(tip.commit, branch);
    await session.store.update({ intent: null });
    setAside(files.dir, deps.clock.now());
    deps.report({ kind: 'revalidated', iteration: number, why: verdict.why });
    return { kind: 'reproduced', why: verdict.why };
  }
  const noise = withGroup(withBaseline, measured.tip);
  const undone = record.window[verdict.oldestUndone] ?? tip;
  const restoreTo = record.window[verdict.oldestUndone - 1] ?? record.validated;
  const row: LedgerRow = {
    commit: undone.commit.slice(0, 7),
    metric: verdict.measured,
    status: 'discard',
    description: `revalidation: ${describeUndone(record.window.slice(verdict.oldestUndone))} did not reproduce`,
    iteration: number,
    timestamp: new Date(startedAt).toISOString(),
    durationS: (deps.clock.monotonic() - startedMono) / 1000,
    reason: 'revalidation_failed',
    agent: null,
    detail: verdict.why,
    evidence: { ...evidenceOf(measured.tip, verdict.pValue), mean: verdict.measured },
    guards: null,
  };
  // The undone keeps stay reachable; the branch moves back below.
  await session.worktree.saveRef(`refs/autoresearch/${session.config.id.key}/revalidation/${number}`, tip.commit);
  await session.ledger.append(row);
  await writeFileDurable(
    files.result,
    JSON.stringify({ ...row, commitFull: undone.commit, base: tip.commit, restoreTo, tipSamples: measured.tip, baselineSamples: measured.baseline, evalMs: measured.evalMs }, null, 2) + '\n',
  );
  await session.store.update((s) => ({
    ...s,
    ...restoredState(restoreTo, noise),
    intent: s.intent === null ? null : { ...s.intent, decided: true },
    digest: ledgerDigest(session.ledger.rows(), session.config.direction, session.paths.results),
  }));
  await session.worktree.restore(restoreTo.commit, branch);
  await session.store.update({ intent: null });
  deps.report({ kind: 'iteration-end', iteration: number, row, previousBest: tip.metric, best: restoreTo.metric, durationMs: (row.durationS ?? 0) * 1000, runDir: files.dir });
  return { kind: 'recorded', row };
}

/**
 * The state after keeps were undone: the restored keep is the best, and validated. Its samples
 * were pooled into the noise when it retired; as the best's again they are pooled when it
 * retires again, so they leave the estimate now (never counted twice).
 */
export function restoredState(restoreTo: MeasuredCommit, noise: ExperimentState['noise']): Partial<ExperimentState> {
  return {
    lastKept: { commit: restoreTo.commit, metric: restoreTo.metric, iteration: restoreTo.iteration, samples: restoreTo.samples },
    revalidation: { validated: restoreTo, window: [] },
    ...(noise === undefined ? {} : { noise: withoutGroup(noise, restoreTo.samples) }),
  };
}

/** The estimate with one pooled group's spread taken back out (clamped: the pooled group held these samples and maybe more). */
function withoutGroup(estimate: NoiseEstimate, samples: readonly number[]): NoiseEstimate {
  if (samples.length < 2) return estimate;
  return { sumSquares: Math.max(0, estimate.sumSquares - sumSquaredDeviations(samples)), df: Math.max(0, estimate.df - (samples.length - 1)) };
}

function keepRecord(m: MeasuredCommit): KeepRecord {
  return { iteration: m.iteration ?? 0, commit: m.commit, metric: m.metric, samples: m.samples };
}

function describeUndone(keeps: readonly MeasuredCommit[]): string {
  const names = keeps.map((k) => `#${k.iteration ?? 0}`);
  return names.length === 1 ? `keep ${names[0]}` : `keeps ${names.join(', ')}`;
}

/** A run directory without a row is kept for inspection under another name. */
function setAside(dir: string, now: number): void {
  try {
    fs.renameSync(dir, `${dir}.revalidated-${now}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
