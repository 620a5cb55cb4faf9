/**
 * The loop of one experiment: iterations until a stop condition.
 *
 *   open ─► recover ─► setup ─► ┌─► halted? (tripped/paused/blocked) ───────────────► exit 3
 *                               │   done? (max_experiments, max_runtime) ────────────► exit 0
 *                               │   run limit reached / --single done ───────────────► exit 0
 *                               │   every agent (or the LLM evaluation) exhausted? ─ --single or on_exhaustion: stop ─► exit 2
 *                               │        └─ wait (wall clock; `resume` cuts it short) ─┐
 *                               │   iteration ─ interrupted ─────────────────────────► exit 0
 *                               │       ├─ exhausted ─► record until (reset + margin or backoff);
 *                               │       │               longer than max_exhaustion_wait ─► blocked
 *                               │       ├─ billing, auth ─► blocked ───────────────────► exit 3
 *                               └───────┴─ row; crash count ≥ max_consecutive_crashes ─► tripped, exit 3
 *                                          │    no-change count ≥ max_consecutive_no_change ─► tripped, exit 3
 *                                          └─ no change (or only outside scope): back off (the daemon: end `backoff`)
 *
 * An exhausted iteration writes no row and is not a crash: the same iteration number runs
 * again once an agent is available. An evaluation that calls an LLM (eval_uses_llm) and runs
 * out of quota is handled the same way, under the role `evaluation`.
 */
import formatMs from 'ms';
import { agentLabel } from '../agents/agent-command.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import type { WaitRole } from '../experiment/state.js';
import { countsAsExperiment, isBaselineRow } from '../ledger/summary.js';
import type { LedgerRow } from '../ledger/types.js';
import type { EvalLlmVerdict } from './eval-llm.js';
import { chooseAgent, retryAt, type RunnableAgent } from './exhaustion.js';
import { resumeIteration, runIteration, type IterationResult } from './iteration.js';
import { Pipeline, type Evaluating } from './pipeline.js';
import { carriedDraftStands, type Drafted } from './draft.js';
import { recreateMissingWorktree, worktreeMissing } from './missing-worktree.js';
import { maxExperimentsReached } from './max-experiments.js';
import { noChangeBackoffMs, tripIfIdle } from './no-change.js';
import { clusterJobsFor } from '../measure/slurm/cluster-jobs.js';
import { cancelResumedAttemptJobs, type Resume } from './job-recovery.js';
import { recoverInterruptedIteration } from './recovery.js';
import { revalidationDue, runRevalidation } from './revalidation.js';
import { runSetupIfNeeded } from './setup.js';
import { waitForAgent } from './wait.js';

export interface LoopOptions {
  mode: 'single' | 'loop';
  /**
   * Experiments (baseline not counted) this invocation may run: the CLI's --max-experiments,
   * which replaces the config's max_experiments for this run; null = the config's limit.
   */
  maxIterations: number | null;
  signal: AbortSignal;
  /**
   * The daemon's hook between iterations: go on, pause (persisted), end this run (config edited
   * or removed), or yield (a fair turn: others wait). A yield with a draft (pipeline) waits for
   * its agent, then hands a ready draft over (LoopResult.carried); one the loop must handle now
   * (out of quota, unavailable) is handled first, drafting no other, so no agent call is thrown away.
   * It answers at once: the last iteration's decided state may still be staged (its write
   * goes with the next intent), so waiting here would leave state.json behind.
   */
  between?: () => Promise<'go' | 'pause' | 'end' | 'yield'>;
  /** The daemon: the draft the previous turn of this experiment handed over, taken first if it still stands. */
  carried?: Drafted | null;
  /** false in the daemon: report `exhausted` (or `backoff`) instead of waiting here, so a wait holds no concurrency permit. */
  waitForQuota?: boolean;
}

export type LoopEnd =
  | { kind: 'done'; reason: string } // experiment finished: max_experiments or max_runtime
  | { kind: 'limit'; reason: string } // this invocation's limit (--single, --max-experiments)
  | { kind: 'interrupted' } // signal: graceful stop
  | { kind: 'tripped'; reason: string }
  | { kind: 'blocked'; reason: string } // billing, not logged in, or a wait longer than max_exhaustion_wait
  | { kind: 'exhausted'; until: number; agent: string; message: string } // --single / on_exhaustion: stop
  | { kind: 'backoff'; until: number; reason: string } // the daemon's pause after no change (waitForQuota: false)
  | { kind: 'halted'; state: 'tripped' | 'paused' | 'blocked'; reason: string }; // refused to start

export interface LoopResult {
  end: LoopEnd;
  rowsThisRun: LedgerRow[];
  /** A yielded turn's ready draft, for the next turn (its commit named in state.json's `draft.ready`). */
  carried?: Drafted;
}

export async function runExperimentLoop(session: Session, deps: LoopDeps, opts: LoopOptions): Promise<LoopResult> {
  const rowsThisRun: LedgerRow[] = [];
  const result = (end: LoopEnd): LoopResult => ({ end, rowsThisRun });
  // Recovery first, even for a halted experiment: leftover processes die now, not at `resume`.
  // A cluster job cut by kill -9 may be carried on rather than rolled back (job-recovery.ts).
  // A draft handed over by the daemon's previous turn is kept only while nothing ran in between.
  const carried = opts.carried != null && carriedDraftStands(session.store.current, session.ledger.nextIteration(), opts.carried) ? opts.carried : null;
  let pendingResume = await recoverInterruptedIteration(session, deps, { resume: true, keepDraft: carried !== null });
  /** Leaving before the resumed iteration ran: its job is cancelled and it is rolled back. */
  const abandonResume = async (): Promise<void> => {
    if (pendingResume === null) return;
    pendingResume = null;
    await recoverInterruptedIteration(session, deps);
  };
  const halt = session.store.current.halt;
  if (halt !== null) return result({ kind: 'halted', state: halt.state, reason: halt.reason });
  const tripped = (await tripIfCrashing(session, deps)) ?? (await tripIfIdle(session, deps)); // recovery may have finished a row
  if (tripped !== null) {
    await abandonResume();
    return result({ kind: 'tripped', reason: tripped });
  }
  if (session.config.agent.kind !== 'none' && pendingResume === null) {
    // Start from exactly the last kept commit. (With `agent: none`, the worktree holds the
    // external agent's edits: those are what this run evaluates.)
    await session.worktree.restore(session.store.current.lastKept.commit, session.store.current.branch);
  }
  if ((await runSetupIfNeeded(session, deps, opts.signal)) === 'aborted') {
    await abandonResume();
    return result({ kind: 'interrupted' });
  }

  // pipeline: true: the next candidate is drafted while this one is measured (draft.ts).
  const pipeline = session.config.pipeline && opts.mode === 'loop' && session.config.agent.kind !== 'none' ? new Pipeline(session, deps, opts.signal, (evaluating) => drafter(session, deps, opts, rowsThisRun, evaluating), carried) : null;
  // Without drafts, one iteration runs straight into the next (InLoop.nextTurnFollows): its
  // decided state is written with the next intent, its rollback's clean overlaps the next
  // turn's preparation. Anything that waits or returns writes the state first.
  const nextTurnFollows = pipeline === null;
  let ended = false;
  try {
    const end = await iterate();
    ended = true;
    return end;
  } finally {
    await pipeline?.abandon('the run ended before its iteration');
    // After a failure its error is the one to report; a restart rolls back and finishes from the row.
    const unlessFailed = (error: unknown) => {
      if (ended) throw error;
    };
    await session.store.persist().catch(unlessFailed);
    await session.worktree.settled().catch(unlessFailed);
  }

  async function iterate(): Promise<LoopResult> {
    let first = true;
    let worktreeRecreations = 0;
    for (;;) {
      if (opts.signal.aborted) {
        await abandonResume();
        return result({ kind: 'interrupted' });
      }
      if (!first && opts.between !== undefined) {
        const next = await opts.between();
        // A fair turn with a ready draft hands it over to the next turn (the agent ran within this one).
        const handedOver = next === 'yield' && pipeline !== null ? await pipeline.handOver(session.ledger.nextIteration()) : null;
        if (handedOver !== null) return { end: { kind: 'limit', reason: 'ended by the supervisor' }, rowsThisRun, carried: handedOver };
        // Any other draft is handled first (drafting no other): the next `between` ends the turn.
        const drain = next === 'yield' && pipeline?.has(session.ledger.nextIteration()) === true;
        pipeline?.drain(drain);
        if (!drain && (next === 'end' || next === 'yield')) return result({ kind: 'limit', reason: 'ended by the supervisor' });
        if (next === 'pause') {
          const reason = 'paused by `autoresearch pause`';
          await session.store.update({ halt: { state: 'paused', reason, at: new Date(deps.clock.now()).toISOString() } });
          return result({ kind: 'halted', state: 'paused', reason });
        }
      }
      first = false;
      // A resumed attempt (kill -9 during a cluster job) needs no agent and no revalidation first.
      let agent: RunnableAgent | null = null;
      const external = session.config.agent.kind === 'none';
      const resume = pendingResume;
      pendingResume = null;
      let expectDraft = false;
      if (resume === null) {
        const done = doneReason(session, deps, opts);
        if (done !== null) {
          deps.report({ kind: 'halted', state: 'done', reason: done });
          return result({ kind: 'done', reason: done });
        }
        if (limitReached(opts, rowsThisRun)) {
          return result({ kind: 'limit', reason: `--max-experiments ${opts.maxIterations} reached` });
        }

        // With `agent: none` the worktree holds the external agent's change, to be judged now: a
        // revalidation (which checks other commits out) waits until after its row, below.

        // The baseline needs no agent; otherwise pick one that is not exhausted, or wait. Either
        // way an evaluation out of quota is waited for.
        const baseline = session.store.current.lastKept.metric === null;
        // A drafted candidate comes with its agent (taken below, after any revalidation): only an
        // evaluation out of quota is waited for.
        expectDraft = pipeline?.has(session.ledger.nextIteration()) === true;
        const choice = chooseAgent(session.config, session.store.current, deps.clock.now(), baseline || expectDraft);
        if (choice.kind === 'wait') {
          const label = labelOf(session, choice.role);
          if (opts.mode === 'single' || session.config.onExhaustion === 'stop' || opts.waitForQuota === false) {
            return result({ kind: 'exhausted', until: choice.until, agent: label, message: choice.exhaustion.reason });
          }
          deps.report({ kind: 'waiting', until: new Date(choice.until).toISOString(), agent: label, reason: choice.exhaustion.reason });
          const how = await waitForAgent(session, deps, choice.until, opts.signal);
          if (how === 'aborted') return result({ kind: 'interrupted' });
          if (how === 'halted') {
            const halted = session.store.current.halt;
            if (halted !== null) return result({ kind: 'halted', state: halted.state, reason: halted.reason });
          }
          deps.report({ kind: 'wait-over', how: how === 'resumed' ? 'resumed' : 'reset-time' });
          continue;
        }
        agent = choice.kind === 'agent' ? choice.agent : null;

        // Before the next candidate: its keep rule compares with the best this may undo. After the
        // wait above: an evaluation out of quota is waited for before the revalidation too.
        if (!external) {
          // No agent drafts while kept commits are re-measured (it could write where they are).
          if (pipeline !== null && revalidationDue(session)) await pipeline.settled();
          const revalidated = await revalidateIfDue(session, deps, opts.signal, rowsThisRun);
          if (revalidated === 'interrupted') return result({ kind: 'interrupted' });
          if (revalidated !== null) {
            // Out of quota: no agent turn for a candidate nobody can judge now.
            const outcome = { ...revalidated, role: 'evaluation' as const, label: 'evaluation' };
            if (outcome.kind === 'exhausted') {
              const blocked = await recordExhaustion(session, deps, outcome);
              if (blocked !== null) return result({ kind: 'blocked', reason: blocked });
              continue;
            }
            const reason = outcome.kind === 'billing' ? `${outcome.label}: billing problem (no reset time): ${outcome.message}` : outcome.message;
            await block(session, deps, reason);
            return result({ kind: 'blocked', reason });
          }
        }

      }
      let outcome: IterationResult;
      try {
        if (resume !== null) {
          outcome = await resumeIteration(session, deps, opts.signal, resume).finally(() => cancelResumedJobs(session, deps, resume));
        } else {
          const next = session.ledger.nextIteration();
          // A draft made while a baseline measured nothing would be taken by the baseline's retry.
          if (session.store.current.lastKept.metric === null) await pipeline?.abandon(`iteration ${next} is a baseline again (the last one measured nothing)`);
          const taken = pipeline === null ? null : await pipeline.take(next);
          if (taken?.kind === 'interrupted') {
            if (opts.signal.aborted) return result({ kind: 'interrupted' });
            continue;
          }
          // No draft after all (abandoned, unavailable): the agent is chosen as ever, from the top.
          if (taken === null && expectDraft) continue;
          if (taken?.kind === 'no-row') {
            outcome = taken.result; // the drafting agent's quota, billing or login: as if it ran now
          } else {
            const drafted = taken?.kind === 'ready' ? taken.drafted : null;
            if (drafted !== null) agent = drafted.agent;
            outcome = await runIteration(session, deps, opts.signal, agent, undefined, undefined, { nextTurnFollows, drafted, ...(pipeline === null ? {} : { onMeasuring: pipeline.onMeasuring, draftedDuring: (n) => pipeline.draftedDuring(n) }) });
          }
        }
      } catch (error) {
        // Deleted from outside mid-iteration: re-created and recovered, then the loop goes on.
        if (!worktreeMissing(session)) throw error;
        await recreateMissingWorktree(session, deps, error, worktreeRecreations++);
        if ((await runSetupIfNeeded(session, deps, opts.signal)) === 'aborted') return result({ kind: 'interrupted' });
        continue;
      }
      switch (outcome.kind) {
        case 'interrupted':
          return result({ kind: 'interrupted' });
        case 'exhausted': {
          const blocked = await recordExhaustion(session, deps, outcome);
          if (blocked !== null) return result({ kind: 'blocked', reason: blocked });
          continue; // the same iteration again: with the fallback agent, or after a wait
        }
        case 'billing': {
          const reason = `${outcome.label}: billing problem (no reset time): ${outcome.message}`;
          await block(session, deps, reason);
          return result({ kind: 'blocked', reason });
        }
        case 'auth': {
          const reason = outcome.message; // names the CLI and the variable to pass
          await block(session, deps, reason);
          return result({ kind: 'blocked', reason });
        }
        case 'infrastructure': {
          // The executor already re-ran the evaluation up to its bound: the cluster needs a person.
          const reason = `${outcome.detail}; no row (not the candidate's fault). Check the cluster (sinfo, squeue), then \`autoresearch resume ${session.config.id.key}\``;
          await block(session, deps, reason);
          return result({ kind: 'blocked', reason });
        }
        case 'not-applicable': // only `rerun` produces it, through its own loop
        case 'recorded':
          break;
        default: {
          const unreachable: never = outcome;
          return unreachable;
        }
      }
      if (outcome.kind !== 'recorded') continue;
      worktreeRecreations = 0;
      rowsThisRun.push(outcome.row);
      if (agent !== null && session.store.current.exhausted[agent.role] !== undefined) {
        // The agent worked again: its backoff starts over next time.
        const role = agent.role;
        await session.store.update((s) => ({ ...s, exhausted: withoutRole(s.exhausted, role) }));
      }
      if (outcome.row.metric !== null && session.store.current.exhausted.evaluation !== undefined) {
        // The evaluation printed a metric again: its backoff starts over next time.
        await session.store.update((s) => ({ ...s, exhausted: withoutRole(s.exhausted, 'evaluation') }));
      }

      // The worktree is back at the best, the external change judged: the next one is made on what
      // this leaves. (Out of quota: warned; the next `run --single` waits for the evaluation.)
      if (external && (await revalidateIfDue(session, deps, opts.signal, rowsThisRun)) === 'interrupted') return result({ kind: 'interrupted' });

      const tripReason = (await tripIfCrashing(session, deps)) ?? (await tripIfIdle(session, deps));
      if (tripReason !== null) return result({ kind: 'tripped', reason: tripReason });
      if (opts.mode === 'single') return result({ kind: 'limit', reason: '--single' }); // no backoff: the caller paces --single
      const backoff = await backOffAfterNoChange(session, deps, opts, rowsThisRun);
      if (backoff !== null) return result(backoff);
    }
  }
}

/**
 * pipeline: the agent that drafts the iteration after `evaluating`, or null when that
 * iteration will not run (a limit reached by this row, max_runtime, a halt) or no agent can
 * work now (the wait is the loop's, as ever).
 */
function drafter(session: Session, deps: LoopDeps, opts: LoopOptions, rowsThisRun: readonly LedgerRow[], evaluating: Evaluating): RunnableAgent | null {
  if (session.store.current.halt !== null || doneReason(session, deps, opts) !== null) return null;
  const thisRow = evaluating.baseline ? 0 : 1;
  if (opts.maxIterations !== null && experimentsAmong(rowsThisRun) + thisRow >= opts.maxIterations) return null;
  const { maxExperiments } = session.config;
  if (opts.maxIterations === null && maxExperiments !== null && session.ledger.rows().filter(countsAsExperiment).length + thisRow >= maxExperiments) return null;
  const choice = chooseAgent(session.config, session.store.current, deps.clock.now());
  return choice.kind === 'agent' ? choice.agent : null;
}

/** The resumed attempt's jobs its measurement did not wait for (job-recovery.ts); a cluster that does not answer is said, not fatal. */
async function cancelResumedJobs(session: Session, deps: LoopDeps, resume: Resume): Promise<void> {
  await cancelResumedAttemptJobs(session, deps, clusterJobsFor(deps), resume).catch((error: unknown) => {
    deps.report({ kind: 'warning', message: `iteration ${resume.iteration}: could not check the cluster for jobs of the resumed attempt left running: ${(error as Error).message}` });
  });
}

/** A revalidation when K keeps are due one (revalidation.ts); its row, if any, joins this run's. */
async function revalidateIfDue(session: Session, deps: LoopDeps, signal: AbortSignal, rowsThisRun: LedgerRow[]): Promise<'interrupted' | EvalLlmVerdict | null> {
  if (!revalidationDue(session)) return null;
  const revalidated = await runRevalidation(session, deps, signal);
  if (revalidated.kind === 'recorded') rowsThisRun.push(revalidated.row);
  if (revalidated.kind === 'out-of-quota') {
    deps.report({ kind: 'warning', message: `revalidation could not measure: the evaluation is out of quota: ${revalidated.verdict.message}` });
    return revalidated.verdict;
  }
  return revalidated.kind === 'interrupted' ? 'interrupted' : null;
}

/**
 * The pause after an iteration that changed nothing (see no-change.ts). The daemon gets it as
 * an end (it waits holding no turn); here it is waited out on the wall clock, in short steps
 * that take `pause`/`resume` requests (a resume clears the count: the pause is over).
 */
async function backOffAfterNoChange(session: Session, deps: LoopDeps, opts: LoopOptions, rowsThisRun: readonly LedgerRow[]): Promise<LoopEnd | null> {
  const count = session.store.current.consecutiveNoChange ?? 0;
  const ms = noChangeBackoffMs(count, session.config);
  if (ms === 0 || lastIteration(session, deps, opts, rowsThisRun)) return null; // no next agent call to pace
  const until = deps.clock.now() + ms;
  const reason = `${count} iteration${count === 1 ? '' : 's'} in a row changed nothing (or only outside scope): pausing ${formatMs(ms)} before the next agent call`;
  deps.report({ kind: 'no-change-backoff', count, until: new Date(until).toISOString(), reason });
  if (opts.waitForQuota === false) return { kind: 'backoff', until, reason };
  await session.store.persist(); // nothing staged waits out the pause unwritten
  for (;;) {
    if (opts.signal.aborted) return { kind: 'interrupted' };
    const left = until - deps.clock.now();
    if (left <= 0) return null;
    await deps.clock.sleep(Math.min(1000, left), opts.signal);
    if (opts.signal.aborted) return { kind: 'interrupted' };
    if (opts.between !== undefined) {
      const next = await opts.between();
      if (next === 'end' || next === 'yield') return { kind: 'limit', reason: 'ended by the supervisor' };
      if (next === 'pause') {
        const paused = 'paused by `autoresearch pause`';
        await session.store.update({ halt: { state: 'paused', reason: paused, at: new Date(deps.clock.now()).toISOString() } });
        return { kind: 'halted', state: 'paused', reason: paused };
      }
    }
    if ((session.store.current.consecutiveNoChange ?? 0) === 0) return null; // resumed
  }
}

function limitReached(opts: LoopOptions, rowsThisRun: readonly LedgerRow[]): boolean {
  return opts.maxIterations !== null && experimentsAmong(rowsThisRun) >= opts.maxIterations;
}

/** Rows that count as experiments, counted once each: a run's rows are only ever appended, and asked about every iteration. */
const counted = new WeakMap<readonly LedgerRow[], { length: number; experiments: number }>();
function experimentsAmong(rows: readonly LedgerRow[]): number {
  const seen = counted.get(rows);
  const upTo = seen !== undefined && seen.length <= rows.length ? seen : { length: 0, experiments: 0 };
  const experiments = upTo.experiments + rows.slice(upTo.length).filter(countsAsExperiment).length;
  counted.set(rows, { length: rows.length, experiments });
  return experiments;
}

function lastIteration(session: Session, deps: LoopDeps, opts: LoopOptions, rowsThisRun: readonly LedgerRow[]): boolean {
  return limitReached(opts, rowsThisRun) || doneReason(session, deps, opts) !== null;
}

/**
 * Persist when the exhausted agent may run again. Returns the reason when the experiment is
 * blocked instead (the wait would exceed max_exhaustion_wait).
 */
async function recordExhaustion(
  session: Session,
  deps: LoopDeps,
  outcome: { role: WaitRole; label: string; resetAt: number | null; message: string; signature: string | null },
): Promise<string | null> {
  const { config } = session;
  const now = deps.clock.now();
  const { role, label } = outcome;
  const attempt = (session.store.current.exhausted[role]?.attempt ?? 0) + 1;
  const until = retryAt(outcome.resetAt, attempt, config, now);
  if (until - now > config.maxExhaustionWaitMs) {
    const reason = `${label}: usage exhausted until ${new Date(until).toISOString()}, longer than max_exhaustion_wait (${Math.round(config.maxExhaustionWaitMs / 60_000)} min): ${outcome.message}`;
    await block(session, deps, reason);
    return reason;
  }
  await session.store.update((s) => ({
    ...s,
    exhausted: { ...s.exhausted, [role]: { until: new Date(until).toISOString(), reason: outcome.message, signature: outcome.signature, attempt } },
  }));
  const fallback = role === 'primary' && config.agentFallback !== null ? agentLabel(config.agentFallback, 'fallback') : null;
  deps.report({
    kind: 'agent-exhausted',
    iteration: session.ledger.nextIteration(),
    agent: label,
    message: outcome.message,
    signature: outcome.signature,
    until: new Date(until).toISOString(),
    fallback,
  });
  return null;
}

/** The circuit breaker (SPEC §7): too many crash rows in a row trips the experiment. */
async function tripIfCrashing(session: Session, deps: LoopDeps): Promise<string | null> {
  const { consecutiveCrashes } = session.store.current;
  if (consecutiveCrashes < session.config.maxConsecutiveCrashes) return null;
  // The last crash's why, so `status` says what keeps failing without opening runs/.
  const last = [...session.ledger.rows()].reverse().find((r) => r.status === 'crash');
  // First, so that a table cutting the reason short still shows it.
  const lastWhy = last === undefined ? '' : `; last: ${last.detail ?? last.reason ?? last.description}`;
  const reason = `${consecutiveCrashes} consecutive crashes${lastWhy} (max_consecutive_crashes: ${session.config.maxConsecutiveCrashes})`;
  await session.store.update({ halt: { state: 'tripped', reason, at: new Date(deps.clock.now()).toISOString() } });
  deps.report({ kind: 'halted', state: 'tripped', reason });
  return reason;
}

async function block(session: Session, deps: LoopDeps, reason: string): Promise<void> {
  await session.store.update({ halt: { state: 'blocked', reason, at: new Date(deps.clock.now()).toISOString() } });
  deps.report({ kind: 'halted', state: 'blocked', reason });
}

function labelOf(session: Session, role: WaitRole): string {
  if (role === 'evaluation') return 'evaluation';
  const spec = role === 'primary' ? session.config.agent : session.config.agentFallback;
  return spec === null ? role : agentLabel(spec, role);
}

function withoutRole<T>(map: Partial<Record<WaitRole, T>>, role: WaitRole): Partial<Record<WaitRole, T>> {
  const copy = { ...map };
  delete copy[role];
  return copy;
}

/**
 * max_experiments counts iterations that tried a change (no baseline, no reset); max_runtime
 * counts from the first run. `--max-experiments N` replaces max_experiments for its run: that
 * run does N experiments (limitReached), whatever the config's limit.
 */
export function doneReason(session: Session, deps: Pick<LoopDeps, 'clock'>, opts: Pick<LoopOptions, 'maxIterations'> = { maxIterations: null }): string | null {
  const { config } = session;
  if (config.maxExperiments !== null && opts.maxIterations === null) {
    const experiments = session.ledger.rows().filter(countsAsExperiment).length;
    if (experiments >= config.maxExperiments) return maxExperimentsReached(config);
  }
  if (config.maxRuntimeMs !== null) {
    const elapsed = deps.clock.now() - Date.parse(session.store.current.firstStartedAt);
    if (elapsed >= config.maxRuntimeMs) return `max_runtime reached`;
  }
  return null;
}

export { isBaselineRow }; // one definition, with the ledger's counts (ledger/summary.ts)
