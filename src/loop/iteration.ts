/**
 * One iteration (SPEC §5), the heart of the loop:
 *
 *   baseline?  ──yes──────────────────────────────► evaluate(lastKept)
 *      │no                                                │
 *   agent turn ─fail/timeout─► crash                      ▼
 *      │ok                                   metric? ─no─► crash
 *   capture candidate ─none─► discard no_change           │yes
 *      │                                     better than best by > min_improvement?
 *   in scope? ─no─► discard scope_violation        yes ► keep   no ► discard
 *      │yes
 *   evaluate(candidate) ...
 *
 * Every outcome becomes exactly one ledger row, written once and made durable, then state.json
 * (last kept commit, crash count) is updated, then the worktree is restored to the last kept
 * commit. An abort (signal) at any point writes no row: the tree is killed and git rolled back.
 * Before each side effect the intent is persisted, so a restart after kill -9 can tell
 * an unfinished iteration (roll back) from a decided one (finish it).
 */
import fs from 'node:fs';
import { AutoresearchError } from '../core/errors.js';
import { agentCommandLine, agentLabel } from '../agents/agent-command.js';
import { writeFileDurable } from '../fs/durable.js';
import { RefGuard } from '../git/ref-guard.js';
import { readTail, readTailLines } from '../fs/read-tail.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { ledgerDigest } from '../experiment/ledger-digest.js';
import { candidateRef, interruptedCandidateRef, iterationPaths, type IterationPaths } from '../experiment/paths.js';
import type { Intent, WaitRole } from '../experiment/state.js';
import type { LedgerRow, RowReason, RowStatus } from '../ledger/types.js';
import type { SpawnedChild } from '../process/types.js';
import type { AgentReport } from '../agents/agent-report.js';
import { guardViolation } from '../decision/guards.js';
import { EMPTY_NOISE, baselineSampleCount } from '../decision/noise-estimate.js';
import type { Evidence } from '../decision/types.js';
import type { MeasureContext } from '../measure/evaluation.js';
import { localExecutor, type Executor } from '../measure/executor.js';
import { aggregateGuardsOf, aggregateOf, evidenceOf, measureCandidate, measureRepeatedly, type Unmeasured } from '../measure/measurement.js';
import { checkLog } from '../measure/sample-logs.js';
import { usualEvaluationMs } from '../measure/usual-duration.js';
import { runAgentTurn } from './agent-turn.js';
import { childEnv, worktreeTag } from './child-env.js';
import type { RunnableAgent } from './exhaustion.js';
import type { Phase } from './events.js';
import { worktreeMissing } from './missing-worktree.js';
import { metricMatcher } from './metric.js';
import { buildPrompt } from './prompt.js';
import { nextNoChangeCount } from './no-change.js';
import { measuredState } from './measured-state.js';
import { outOfScope } from './scope.js';
import { measureContext, prepareRunDir, recordChild, reportPhase, setIntent } from './run-records.js';
import { suspiciousKeep, type KeepToCheck } from './suspicious.js';
import {
  checkFailedDetail,
  describeOutcome,
  failedProcessDetail,
  knownMessageDetail,
  messageDetail,
  noChangeDetail,
  noImprovementDetail,
  scopeViolationDetail,
  timeoutDetail,
} from './row-detail.js';

export type IterationResult =
  | { kind: 'recorded'; row: LedgerRow }
  | { kind: 'interrupted'; phase: Phase }
  // The agent, or an evaluation that calls an LLM, could not work (quota, billing, not
  // logged in): rolled back, no row, not a crash.
  | { kind: 'exhausted'; role: WaitRole; label: string; resetAt: number | null; message: string; signature: string | null }
  | { kind: 'billing'; role: WaitRole; label: string; message: string; signature: string }
  | { kind: 'auth'; role: WaitRole; label: string; message: string; signature: string }
  // `rerun`: the past candidate's change does not apply to the current best; `rebase`: the
  // re-measured baseline failed (no row either way).
  | { kind: 'not-applicable'; detail: string };

/** `rerun`: evaluate a past candidate's change again, on top of the current best, without the agent. */
export interface Rerun {
  iteration: number;
  commit: string;
  description: string;
}

/**
 * `rebase`: the baseline measured again on the experiment's new base. Its row says why
 * (`description`); a failed evaluation writes no row (the caller puts the experiment back).
 */
export interface Remeasure {
  description: string;
}

/** What an iteration decided, before it becomes a row. */
interface Verdict {
  status: RowStatus;
  reason: RowReason;
  metric: number | null;
  commit: string; // full hash the row is about
  description: string;
  /** What happened, for machines and the report (`exit code 1`, `changed outside scope: a, b`): result.json's technicalDetail. */
  detail: string | null;
  /** The row's `detail`: why, in words (loop/row-detail.ts); for a keep null, or `suspicious: …` (suspicious.ts). */
  why: string | null;
  /** The commit's samples this iteration (none when nothing was evaluated). */
  samples: number[];
  /** Samples of the best taken for drift: they join its samples unless the candidate replaces it. */
  bestSamples: number[];
  evidence: Evidence | null;
  guards: Record<string, number | null> | null;
}

/** A verdict about something that was never measured. */
const NO_EVIDENCE = { samples: [], bestSamples: [], evidence: null, guards: null } satisfies Pick<Verdict, 'samples' | 'bestSamples' | 'evidence' | 'guards'>;

class Interrupted {
  constructor(readonly phase: Phase) {}
}

/** The agent's quota or billing stopped the turn, or a rerun does not apply: unwinds like an interruption, no row. */
class NoRow {
  constructor(readonly result: Extract<IterationResult, { kind: 'exhausted' | 'billing' | 'auth' | 'not-applicable' }>) {}
}

const LOG_TAIL_BYTES = 4096;
/** The end of a log searched for the line that explains a failure (a long traceback fits). */
const DETAIL_TAIL_BYTES = 64 * 1024;
/** Where NaN-like output near the metric line is looked for (suspicious.ts). */
const SUSPICIOUS_TAIL_BYTES = 64 * 1024;

/** `agent` runs the turn (null: the baseline, or `agent: none`, which evaluates the worktree as it is). */
export async function runIteration(session: Session, deps: LoopDeps, signal: AbortSignal, agent: RunnableAgent | null, rerun?: Rerun, remeasure?: Remeasure): Promise<IterationResult> {
  return new Iteration(session, deps, signal, agent, rerun ?? null, remeasure ?? null).run();
}

class Iteration {
  private readonly number: number;
  private readonly base: string;
  private readonly best: number | null;
  private readonly baseline: boolean;
  private readonly files: IterationPaths;
  private readonly startedAt: number;
  private readonly startedMono: number;
  private agentMs: number | null = null;
  private agentReport: AgentReport | null = null;
  /** The candidate commit once captured: kept reachable even if the iteration is interrupted. */
  private candidate: string | null = null;
  private evalMs: number | null = null;
  /** How many evaluations this iteration made, and how long the first of the row's commit took (usual-duration.ts). */
  private evaluations = 0;
  private firstEvalMs: number | null = null;
  /** The output files of the agent's latest attempt (a transient failure retries into new ones). */
  private agentFiles: { stdout: string; stderr: string } | null = null;
  /** User refs the agent changed and we put back (git/ref-guard.ts): said in the row's result. */
  private userRefNotes: string[] = [];
  /** Where evaluations run (src/measure/executor.ts): the loop never knows which. */
  readonly executor: Executor;
  /** The median time of recent evaluations: a much shorter one is suspicious (suspicious.ts). */
  private readonly usualEvalMs: number | null;

  constructor(
    readonly session: Session,
    readonly deps: LoopDeps,
    readonly signal: AbortSignal,
    private readonly agent: RunnableAgent | null,
    private readonly rerun: Rerun | null,
    private readonly remeasure: Remeasure | null = null,
  ) {
    const kept = session.store.current.lastKept;
    this.number = session.ledger.nextIteration();
    this.base = kept.commit;
    this.best = kept.metric;
    this.baseline = kept.metric === null;
    this.files = iterationPaths(session.paths, this.number);
    this.startedAt = deps.clock.now();
    this.startedMono = deps.clock.monotonic();
    this.executor = localExecutor(deps.runner, deps.evalSlots);
    this.usualEvalMs = usualEvaluationMs(session.paths, session.ledger.rows());
  }

  async run(): Promise<IterationResult> {
    prepareRunDir(this.files.dir, this.startedAt);
    this.deps.report({ kind: 'iteration-start', iteration: this.number, baseline: this.baseline, best: this.best });
    try {
      const verdict = this.baseline ? await this.evaluateBaseline() : await this.agentIteration();
      const row = await this.record(verdict);
      return { kind: 'recorded', row };
    } catch (error) {
      if (error instanceof NoRow) {
        await this.rollBack();
        return error.result;
      }
      if (!(error instanceof Interrupted)) throw error;
      await this.rollBack();
      this.deps.report({ kind: 'iteration-interrupted', iteration: this.number, phase: error.phase });
      return { kind: 'interrupted', phase: error.phase };
    }
  }

  private async evaluateBaseline(): Promise<Verdict> {
    const verdict = await this.measureBaseline(this.remeasure?.description ?? 'baseline');
    if (this.remeasure !== null && verdict.status !== 'keep') {
      throw new NoRow({ kind: 'not-applicable', detail: `${verdict.reason}${verdict.detail === null ? '' : `: ${verdict.detail}`}` });
    }
    return verdict.status === 'keep' ? { ...verdict, reason: 'baseline' } : verdict;
  }

  private async agentIteration(): Promise<Verdict> {
    if (this.rerun !== null) {
      this.phase('agent', `rerun of #${this.rerun.iteration}`);
      const applied = await this.session.worktree.applyChange(this.rerun.commit);
      if (!applied) throw new NoRow({ kind: 'not-applicable', detail: `the change of #${this.rerun.iteration} (${this.rerun.commit.slice(0, 7)}) does not apply to the current best` });
    } else if (this.agent !== null) {
      const failure = await this.agentTurn(this.agent);
      if (failure !== null) return failure;
    }
    this.checkAbort('capture');
    if (this.agent === null && this.rerun === null) {
      // `agent: none`: the external agent's change is about to be judged; say so first, so a
      // kill after its row can never have it judged again (see recovery).
      await this.setIntent({ phase: 'agent', iteration: this.number, base: this.base, child: null });
    }
    this.phase('capture');
    const capture = await this.session.worktree.captureCandidate(this.base, this.session.store.current.branch, {
      fallbackDescription: this.fallbackDescription(),
    });
    if (capture.kind === 'no_change') {
      return { ...NO_EVIDENCE, status: 'discard', reason: 'no_change', metric: null, commit: this.base, description: 'no change', detail: null, why: noChangeDetail(this.agent === null) };
    }
    this.candidate = capture.commit;
    const outside = outOfScope(capture.changedPaths, this.session.config.allowedPaths);
    if (outside.length > 0) {
      return {
        ...NO_EVIDENCE,
        status: 'discard',
        reason: 'scope_violation',
        metric: null,
        commit: capture.commit,
        description: capture.description,
        detail: `changed outside scope: ${outside.join(', ')}`,
        why: scopeViolationDetail(outside, this.session.config.allowedPaths),
      };
    }
    return this.evaluate(capture.commit, capture.description);
  }

  /** Runs the agent; returns a crash verdict if it failed, null if it finished. */
  private async agentTurn(agent: RunnableAgent): Promise<Verdict | null> {
    const { session } = this;
    const command = agentCommandLine(agent.spec);
    if (command === null) return null;
    await this.setIntent({ phase: 'agent', iteration: this.number, base: this.base, child: null });
    this.phase('agent');
    const ledgerRows = session.ledger.rows();
    const prompt = buildPrompt({
      config: session.config,
      program: readIfExists(session.config.programFile),
      iteration: this.number,
      best: this.best,
      recentRows: ledgerRows.slice(-10),
      lastFailure: this.lastFailure(ledgerRows),
    });
    fs.writeFileSync(this.files.prompt, prompt);
    this.agentMs = 0;
    // The user's branches, tags and stash: refused to the agent's git, verified after (git/ref-guard.ts).
    const guard = userRefGuard(session);
    const refsBefore = await guard.snapshot();
    const turn = await runAgentTurn({
      session,
      deps: this.deps,
      agent,
      command,
      env: await guard.agentEnv(
        childEnv(session, this.deps.env, this.iterationInfo(), {
          AUTORESEARCH_PROMPT_FILE: this.files.prompt,
          AUTORESEARCH_DESCRIPTION_FILE: this.descriptionFile(),
        }),
      ),
      promptFile: this.files.prompt,
      outputFiles: (attempt) =>
        (this.agentFiles =
          attempt === 0
            ? { stdout: this.files.agentStdout, stderr: this.files.agentStderr }
            : { stdout: `${this.files.dir}/agent.${attempt}.stdout.log`, stderr: `${this.files.dir}/agent.${attempt}.stderr.log` }),
      signal: this.signal,
      onSpawn: (child) => void this.recordChild(child),
      beforeRetry: () => this.restoreWorktree(),
      onDuration: (ms) => (this.agentMs = (this.agentMs ?? 0) + ms),
    }).finally(async () => {
      const reachedRepository = session.worktree.tampering(session.store.current.branch)?.kind === 'dotgit';
      // Before refs are put back: HEAD may be on a branch the agent made, about to be removed.
      if (!reachedRepository) await session.worktree.leaveForeignBranch(session.store.current.branch);
      this.userRefNotes = await guard.restore(refsBefore, this.deps.clock.now(), reachedRepository);
      for (const note of this.userRefNotes) this.deps.report({ kind: 'warning', message: `iteration ${this.number}: the agent changed your refs: ${note}` });
    });
    if (turn.kind === 'finished' || turn.kind === 'crashed') {
      // Nothing is captured from a worktree that is no longer ours as made (git/worktree-identity.ts).
      const tampered = session.worktree.tampering(session.store.current.branch);
      if (tampered?.kind === 'dotgit') {
        this.agentReport = turn.report;
        return { ...NO_EVIDENCE, status: 'crash', reason: 'worktree_tampered', metric: null, commit: this.base, description: 'worktree tampered', detail: `worktree_tampered: ${tampered.reason}`, why: messageDetail('worktree_tampered', tampered.reason) };
      }
    }
    switch (turn.kind) {
      case 'finished':
        this.agentReport = turn.report;
        return null;
      case 'aborted':
        throw new Interrupted('agent');
      case 'exhausted':
        throw new NoRow({ kind: 'exhausted', role: agent.role, label: agentLabel(agent.spec, agent.role), resetAt: turn.resetAt, message: turn.message, signature: turn.signature });
      case 'billing':
        throw new NoRow({ kind: 'billing', role: agent.role, label: agentLabel(agent.spec, agent.role), message: turn.message, signature: turn.signature });
      case 'auth':
        throw new NoRow({ kind: 'auth', role: agent.role, label: agentLabel(agent.spec, agent.role), message: turn.message, signature: turn.signature });
      case 'crashed': {
        this.agentReport = turn.report;
        // Whatever the agent changed before failing stays reachable for inspection.
        const capture = await session.worktree.captureCandidate(this.base, session.store.current.branch, {
          fallbackDescription: this.fallbackDescription(),
        });
        const commit = capture.kind === 'candidate' ? capture.commit : this.base;
        const description = capture.kind === 'candidate' ? capture.description : 'agent failed';
        return { ...NO_EVIDENCE, status: 'crash', metric: null, commit, description, reason: turn.reason, detail: turn.detail, why: this.agentCrashDetail(turn.reason, turn.detail, turn.known === true) };
      }
      default: {
        const unreachable: never = turn;
        return unreachable;
      }
    }
  }

  /** The evaluation context lent to the measurement (src/measure/). */
  private measureContext(commit: string): MeasureContext {
    return measureContext(this, this.iterationInfo(), { base: this.base, candidate: commit });
  }

  /** A measurement that ended without samples to decide on: a crash row, or no row at all. */
  private unmeasured(end: Unmeasured, commit: string, description: string): Verdict {
    if (end.kind === 'aborted') throw new Interrupted('eval');
    if (end.kind === 'out-of-quota') throw new NoRow({ ...end.verdict, role: 'evaluation', label: 'evaluation' });
    this.evalMs = (this.evalMs ?? 0) + end.durationMs;
    this.evaluations++;
    return { ...NO_EVIDENCE, status: 'crash', reason: end.reason, metric: null, commit, description, detail: end.detail, why: end.why };
  }

  /** The baseline: `repeats` samples (at least 3 with noise: auto, to know the noise). */
  private async measureBaseline(description: string): Promise<Verdict> {
    this.checkAbort('eval');
    const { config } = this.session;
    const measured = await measureRepeatedly(this.measureContext(this.base), baselineSampleCount(config));
    if (measured.kind !== 'measured') return this.unmeasured(measured, this.base, description);
    this.evalMs = measured.evalMs;
    this.evaluations = measured.samples.length;
    this.firstEvalMs = measured.samples[0]?.durationMs ?? null;
    const values = measured.samples.map((s) => s.value);
    const metric = aggregateOf(values, config.aggregate);
    const evidence = evidenceOf(values, null);
    const guards = aggregateGuardsOf(measured.samples, config.aggregate);
    const checked = await this.runCheck(this.base);
    // A baseline that fails its own checks would veto every keep of the night: a crash, said plainly.
    if (checked !== null) return { ...checked, status: 'crash', metric: null, commit: this.base, description, samples: values, bestSamples: [], evidence, guards };
    const first = measured.samples[0];
    return {
      status: 'keep',
      reason: 'baseline',
      metric,
      commit: this.base,
      description,
      detail: null,
      why: first === undefined ? null : suspiciousKeep({ ...this.suspicionOf(first), value: metric }),
      samples: values,
      bestSamples: [],
      evidence,
      guards,
    };
  }

  private async evaluate(commit: string, description: string): Promise<Verdict> {
    const { session } = this;
    const { config, store } = session;
    this.checkAbort('eval');
    const best = store.current.lastKept;
    if (best.metric === null || best.metric === undefined) throw new Error('evaluate: a candidate is measured against a best with a metric (this is a bug)');
    const bestMetric = best.metric;
    const measured = await measureCandidate(this.measureContext(commit), {
      candidate: commit,
      branch: store.current.branch,
      best: { commit: best.commit, metric: bestMetric, samples: best.samples ?? [bestMetric] },
      noise: store.current.noise ?? EMPTY_NOISE,
      settings: config,
      isSuspicious: (first) => suspiciousKeep(this.suspicionOf(first)) !== null,
    });
    if (measured.kind !== 'measured') return this.unmeasured(measured, commit, description);
    this.evalMs = measured.evalMs;
    this.evaluations = measured.evaluations;
    this.firstEvalMs = measured.first.durationMs;
    this.phase('decide');
    const { decision } = measured;
    const base = {
      metric: decision.metric,
      commit,
      description,
      detail: null,
      samples: measured.samples,
      bestSamples: measured.bestSamples,
      evidence: decision.evidence,
      guards: measured.guards,
    };
    if (!decision.keep) {
      const why = decision.why ?? noImprovementDetail(decision.metric, bestMetric, config.direction, config.minImprovement);
      return { ...base, status: 'discard', reason: decision.reason, why };
    }
    // Guards and check_cmd only for what would be kept: they veto, they never keep.
    const violation = guardViolation(config.guards, measured.guards);
    if (violation !== null) return { ...base, status: 'discard', reason: 'guard_failed', detail: violation, why: violation };
    const checked = await this.runCheck(commit);
    if (checked !== null) return { ...base, ...checked };
    // A keep that looks like a broken evaluation stays a keep, flagged in its why (suspicious.ts).
    return { ...base, status: 'keep', reason: 'improved', why: suspiciousKeep({ ...this.suspicionOf(measured.first), value: decision.metric }) };
  }

  /** check_cmd on the commit the worktree holds: null when it passed (or there is none), else the veto. */
  private async runCheck(commit: string): Promise<Pick<Verdict, 'status' | 'reason' | 'detail' | 'why'> | null> {
    const { checkCmd } = this.session.config;
    if (checkCmd === null) return null;
    this.checkAbort('eval');
    const log = checkLog(this.files.dir);
    const outcome = await this.executor.evaluate({
      command: checkCmd,
      cwd: this.session.store.current.worktree,
      env: childEnv(this.session, this.deps.env, this.iterationInfo(), { AUTORESEARCH_CHECK: '1' }),
      logFile: log,
      timeoutMs: this.session.config.evalTimeoutMs,
      signal: this.signal,
      escapeTag: worktreeTag(this.session.store.current.worktree),
      onEscapee: (message) => this.deps.report({ kind: 'warning', message }),
      onSpawn: (child) => void this.recordChild(child),
      onStart: async (where) => {
        await this.setIntent({ phase: 'eval', iteration: this.number, base: this.base, candidate: commit, child: null });
        this.phase('eval', ['check_cmd', where].filter((x) => x !== undefined).join(', '));
      },
    });
    if (outcome.kind === 'aborted') throw new Interrupted('eval');
    this.evalMs = (this.evalMs ?? 0) + outcome.durationMs;
    if (outcome.kind === 'exit' && outcome.code === 0) return null;
    const why = checkFailedDetail(outcome, this.session.config.evalTimeoutMs, readTailLines(log, DETAIL_TAIL_BYTES));
    return { status: 'discard', reason: 'check_failed', detail: `check_cmd ${describeOutcome(outcome)} (${log})`, why };
  }

  /** What suspicion is judged on: the first sample, the best before it, the usual evaluation time. */
  private suspicionOf(first: { value: number; log: string; durationMs: number }): KeepToCheck {
    const { config } = this.session;
    return {
      metric: config.metric,
      value: first.value,
      previousBest: this.best,
      direction: config.direction,
      // Only a value of 0 is checked against the log: no read for every other sample.
      logLines: first.value === 0 ? readTailLines(first.log, SUSPICIOUS_TAIL_BYTES).split(/\r?\n|\r/) : [],
      matches: metricMatcher(config.metricGrep, config.metricRegex),
      evalMs: first.durationMs,
      usualEvalMs: this.usualEvalMs,
    };
  }

  /** Row first (the source of truth), then the artifact, then state, then git. */
  private async record(verdict: Verdict): Promise<LedgerRow> {
    const { session, deps } = this;
    // A worktree deleted from outside mid-iteration (by hand, a cleanup job) measured nothing
    // of the candidate: no row; the loop re-creates it and runs the iteration again
    // (loop/missing-worktree.ts). A .git *replaced* by the agent is tampering: a crash row.
    if (worktreeMissing(session)) {
      throw new AutoresearchError('GIT_FAILED', `the worktree ${session.worktree.path} vanished during iteration ${this.number}: nothing of it is recorded`);
    }
    if (this.userRefNotes.length > 0) {
      const refs = `user refs put back: ${this.userRefNotes.join('; ')}`;
      verdict = { ...verdict, detail: verdict.detail === null ? refs : `${verdict.detail}; ${refs}` };
    }
    const durationMs = deps.clock.monotonic() - this.startedMono;
    const row: LedgerRow = {
      commit: verdict.commit.slice(0, 7),
      metric: verdict.metric,
      status: verdict.status,
      description: verdict.description,
      iteration: this.number,
      timestamp: new Date(this.startedAt).toISOString(),
      durationS: durationMs / 1000,
      reason: verdict.reason,
      agent: this.baseline ? null : this.rerun !== null ? 'rerun' : this.agent === null ? 'external' : agentLabel(this.agent.spec, this.agent.role),
      costUsd: this.agentReport?.costUsd ?? null,
      tokensIn: this.agentReport?.inputTokens ?? null,
      tokensOut: this.agentReport?.outputTokens ?? null,
      detail: verdict.why,
      evidence: verdict.evidence,
      guards: verdict.guards,
    };
    // A rejected candidate stays reachable under refs/autoresearch/ (a keep is on the branch).
    // Until this point the branch's reflog holds it, so a kill before here loses nothing.
    if (verdict.status !== 'keep' && verdict.commit !== this.base) {
      await session.worktree.saveRef(candidateRef(session.config.id.key, this.number), verdict.commit);
    }
    const writeResult = () => writeFileDurable(
      this.files.result,
      JSON.stringify(
        {
          ...row,
          commitFull: verdict.commit,
          base: this.base,
          technicalDetail: verdict.detail,
          agentMs: this.agentMs,
          evalMs: this.evalMs,
          evaluations: this.evaluations,
          firstEvalMs: this.firstEvalMs,
          agentReport: this.agentReport,
          rerunOf: this.rerun?.iteration ?? null,
          samples: verdict.samples,
          bestSamples: verdict.bestSamples,
        },
        null,
        2,
      ) + '\n',
    );
    // A row the ledger refused (a corrupt replacement, a failed write) still has its artifact,
    // so `results --rebuild` can restore it.
    await session.ledger.append(row).catch(async (error: unknown) => {
      await writeResult().catch(() => undefined); // the append's error is the one to report
      throw error;
    });
    await writeResult();
    await session.store.update((s) => ({
      ...s,
      ...measuredState(s, verdict, this.number),
      consecutiveCrashes: verdict.status === 'crash' ? s.consecutiveCrashes + 1 : 0,
      consecutiveNoChange: nextNoChangeCount(s.consecutiveNoChange ?? 0, verdict),
      // Kept (as decided) until the worktree is restored: see Intent.
      intent: s.intent === null ? null : { ...s.intent, decided: true },
      digest: ledgerDigest(session.ledger.rows(), session.config.direction, session.paths.results),
    }));
    await this.restoreWorktree();
    if (session.store.current.intent !== null) await session.store.update({ intent: null });
    deps.report({ kind: 'iteration-end', iteration: this.number, row, previousBest: this.best, best: session.store.current.lastKept.metric, durationMs, runDir: this.files.dir });
    if (row.status === 'keep' && row.detail?.startsWith('suspicious:') === true) {
      deps.report({ kind: 'warning', message: `iteration ${this.number} kept, but ${row.detail} (${this.files.evalLog})` });
    }
    return row;
  }

  private async rollBack(): Promise<void> {
    if (this.candidate !== null) {
      const ref = interruptedCandidateRef(this.session.config.id.key, this.number, this.deps.clock.now());
      await this.session.worktree.saveRef(ref, this.candidate);
    }
    if (this.session.config.agent.kind === 'none' && this.rerun === null && !this.baseline) {
      // The external agent's change is not ours to throw away: it is judged again next time
      // (as the commit we made of it, or still uncommitted if we were stopped before that).
      if (this.candidate !== null) await this.session.worktree.restore(this.candidate, this.session.store.current.branch);
    } else {
      await this.restoreWorktree();
    }
    await this.session.store.update({ intent: null });
  }

  private async restoreWorktree(): Promise<void> {
    const { lastKept, branch } = this.session.store.current;
    const tampered = this.session.worktree.tampering(branch);
    if (tampered?.kind === 'dotgit') {
      // restore rebuilds it from the branch; ignored files made by setup_cmd are gone with it.
      this.deps.report({ kind: 'warning', message: `worktree_tampered: ${tampered.reason}; ${this.session.store.current.worktree} is rebuilt at the last keep ${lastKept.commit.slice(0, 7)} (setup_cmd runs again at the next start)` });
      if (this.session.store.current.setupDone) await this.session.store.update({ setupDone: false });
    }
    await this.session.worktree.restore(lastKept.commit, branch);
  }

  private checkAbort(phase: Phase): void {
    if (this.signal.aborted) throw new Interrupted(phase);
  }

  private phase(phase: Phase, detail?: string): void {
    reportPhase(this.deps, this.number, phase, detail);
  }

  private setIntent(intent: Intent): Promise<void> {
    return setIntent(this.session, this.deps, intent);
  }

  private recordChild(child: SpawnedChild): Promise<void> {
    return recordChild(this.session, child);
  }

  private iterationInfo() {
    return { number: this.number, runDir: this.files.dir, baseline: this.baseline, best: this.best };
  }

  private descriptionFile(): string {
    return `${this.files.dir}/description.txt`;
  }

  /** The commit message when the agent did not commit: its description file, if it wrote one. */
  private fallbackDescription(): string {
    if (this.rerun !== null) return `rerun of #${this.rerun.iteration}: ${this.rerun.description}`;
    const written = readIfExists(this.descriptionFile())?.split('\n')[0]?.trim();
    return written || `iteration ${this.number}: uncommitted agent changes`;
  }

  /** A failed agent turn's why: the classifier's message (its error text, refused tool calls), or where a timeout left it. */
  private agentCrashDetail(reason: 'agent_exit' | 'agent_timeout' | 'agent_spawn', message: string, known: boolean): string {
    if (reason === 'agent_spawn') return messageDetail(reason, message);
    if (reason === 'agent_exit') return known ? knownMessageDetail(reason, message) : failedProcessDetail(reason, null, message);
    const files = this.agentFiles ?? { stdout: this.files.agentStdout, stderr: this.files.agentStderr };
    const stderr = readTailLines(files.stderr, DETAIL_TAIL_BYTES);
    // A built-in CLI's stdout is JSON events, not words: a command agent's is said when stderr is empty.
    const stdout = this.agent?.spec.kind === 'command' ? readTailLines(files.stdout, DETAIL_TAIL_BYTES) : '';
    return timeoutDetail(reason, this.session.config.agentTimeoutMs, stderr.trim() !== '' ? stderr : stdout);
  }

  private lastFailure(rows: readonly LedgerRow[]): { row: LedgerRow; logTail: string } | null {
    const row = [...rows].reverse().find((r) => r.status === 'crash');
    if (row === undefined) return null;
    const files = iterationPaths(this.session.paths, row.iteration);
    const log = row.reason?.startsWith('agent_') ? files.agentStderr : files.evalLog;
    return { row, logTail: readTail(log, LOG_TAIL_BYTES) };
  }
}

function userRefGuard(session: Session): RefGuard {
  const { project, config, store } = session;
  return new RefGuard({
    root: project.root,
    gitCommonDir: project.gitCommonDir,
    branch: store.current.branch,
    idKey: config.id.key,
    hooksDir: session.paths.gitHooks, // daemon-owned (paths.ts DAEMON_OWNED)
  });
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
