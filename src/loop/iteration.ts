/**
 * One iteration (SPEC §5), orchestrated in three parts:
 *
 *   candidate (candidate.ts) ── agent turn, capture, scope ──► crash / no_change / scope_violation
 *      │ one commit on the last keep
 *   measurement (src/measure/) ── evaluations through the executor: the candidate up to
 *      │                          `repeats` times, interleaved with the best (drift)
 *      │                          ─► crash (any failed evaluation of the candidate)
 *   decision (src/decision/, pure) ── samples → keep | no_improvement | within_noise
 *      │ would keep?  guards (guard_failed) ─► check_cmd (check_failed)
 *   record ── one row, result.json, state (samples, noise), git back to the last keep
 *
 * The baseline (and `rebase`'s re-measure) skips the candidate: the last keep measured
 * `repeats` times (at least 3 with noise: auto). Every outcome becomes exactly one ledger
 * row, written once and made durable, then state.json (last kept commit, crash count,
 * samples) is updated, then the worktree is restored to the last kept commit. An abort
 * (signal) at any point writes no row: the tree is killed and git rolled back. Before each
 * side effect the intent is persisted, so a restart after kill -9 can tell an unfinished
 * iteration (roll back) from a decided one (finish it).
 */
import fs from 'node:fs';
import { AutoresearchError } from '../core/errors.js';
import { agentLabel } from '../agents/agent-command.js';
import { writeFileDurable } from '../fs/durable.js';
import { readTailLines } from '../fs/read-tail.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { ledgerDigest } from '../experiment/ledger-digest.js';
import { candidateRef, interruptedCandidateRef, iterationPaths, type IterationPaths } from '../experiment/paths.js';
import type { Intent } from '../experiment/state.js';
import type { LedgerRow } from '../ledger/types.js';
import type { SpawnedChild } from '../process/types.js';
import { guardViolation } from '../decision/guards.js';
import { EMPTY_NOISE, baselineSampleCount } from '../decision/noise-estimate.js';
import type { MeasureContext } from '../measure/evaluation.js';
import { infrastructureDetail, type Executor } from '../measure/executor.js';
import { executorFor } from '../measure/executor-for.js';
import { aggregateOf } from '../decision/sequential-decision.js';
import { aggregateGuards, evidenceOf, measureCandidate, measureRepeatedly, type Unmeasured } from '../measure/measurement.js';
import { checkLog } from '../measure/sample-logs.js';
import { usualEvaluationMs } from '../measure/usual-duration.js';
import { CandidateTurn } from './candidate.js';
import { childEnv, worktreeTag } from './child-env.js';
import type { RunnableAgent } from './exhaustion.js';
import type { Phase } from './events.js';
import type { Drafted } from './draft.js';
import type { Evaluating } from './pipeline.js';
import type { Resume } from './job-recovery.js';
import { Interrupted, NO_EVIDENCE, NoRow, type IterationResult, type Remeasure, type Rerun, type Verdict } from './iteration-outcome.js';
import { measuredState } from './measured-state.js';
import { worktreeMissing } from './missing-worktree.js';
import { metricMatcher } from './metric.js';
import { nextNoChangeCount } from './no-change.js';
import { evaluationCommands, jobName, measureContext, newAttempt, prepareRunDir, recordChild, reportInfrastructureFailure, reportPhase, setIntent } from './run-records.js';
import { suspiciousKeep, type KeepToCheck } from './suspicious.js';
import { checkFailedDetail, describeOutcome, messageDetail, noImprovementDetail } from './row-detail.js';
import { scopeMatcher } from './scope.js';

export type { IterationResult, Remeasure, Rerun } from './iteration-outcome.js';

/** The end of a log searched for the line that explains a failure (a long traceback fits). */
const DETAIL_TAIL_BYTES = 64 * 1024;
/** Where NaN-like output near the metric line is looked for (suspicious.ts). */
const SUSPICIOUS_TAIL_BYTES = 64 * 1024;

/** What the experiment loop adds to an iteration it drives (other callers pass nothing); pipeline: true, draft.ts. */
export interface InLoop {
  /**
   * The loop goes straight on to the next iteration, with no draft running meanwhile. So the
   * decided state is left staged, to be written with the loop's next write (the next
   * iteration's intent) or by its `StateStore.persist` before any wait, hand-over or return: a
   * kill in between finds the row, and recovery finishes from it as after any kill between
   * the row and the state write (loop/recovery.ts). And, with an agent of ours, the rollback's
   * removal of untracked files runs on while the next turn is prepared: the agent starts only
   * once it is done (`Worktree.settled`), and a restart rolls back again anyway.
   */
  nextTurnFollows?: boolean;
  /** The turn already made in the draft worktree: the iteration takes it instead of running the agent. */
  drafted?: Drafted | null;
  /** Called when the measurement starts: the loop may draft the next candidate meanwhile. */
  onMeasuring?: (evaluating: Evaluating) => void;
  /** Whether an agent drafted while this iteration was measured. */
  draftedDuring?: (iteration: number) => boolean;
}

/** `agent` runs the turn (null: the baseline, or `agent: none`, which evaluates the worktree as it is). */
export async function runIteration(session: Session, deps: LoopDeps, signal: AbortSignal, agent: RunnableAgent | null, rerun?: Rerun, remeasure?: Remeasure, inLoop: InLoop = {}): Promise<IterationResult> {
  return new Iteration(session, deps, signal, agent, rerun ?? null, remeasure ?? null, null, inLoop).run();
}

/**
 * Carry on an attempt cut by kill -9 while its cluster job ran (job-recovery.ts): no agent
 * turn, the measurement again with the same job names (finished jobs are read, a running one
 * re-attached), then the row as usual.
 */
export async function resumeIteration(session: Session, deps: LoopDeps, signal: AbortSignal, resume: Resume): Promise<IterationResult> {
  return new Iteration(session, deps, signal, null, null, null, resume).run();
}

class Iteration {
  private readonly number: number;
  private readonly base: string;
  private readonly best: number | null;
  private readonly baseline: boolean;
  private readonly files: IterationPaths;
  private readonly startedAt: number;
  private readonly startedMono: number;
  /** The candidate part: the agent's turn and its capture (candidate.ts). */
  private readonly turn: CandidateTurn;
  private evalMs: number | null = null;
  /** How many evaluations this iteration made, and how long the first of the row's commit took (usual-duration.ts). */
  private evaluations = 0;
  private firstEvalMs: number | null = null;
  /** Where evaluations run (src/measure/executor.ts): the loop never knows which. */
  readonly executor: Executor;
  /** The median time of recent evaluations: a much shorter one is suspicious (suspicious.ts). */
  private usualEvalMsCache: number | null | undefined;
  /** This attempt at the iteration, in its jobs' names (run-records.ts jobName); a resumed one keeps its own. */
  private readonly attempt: string;
  /** Who made a resumed attempt's candidate, as its eval intent recorded it (undefined: not recorded). */
  private readonly resumedAgent: string | null | undefined;
  /** pipeline: the candidate turn made in the draft worktree while the previous iteration was evaluated. */
  private readonly drafted: Drafted | null;
  /** pipeline: scope files found changed in the worktree while an agent drafted (the measurement is not the commit's). */
  private tampered: string[] | null = null;

  constructor(
    readonly session: Session,
    readonly deps: LoopDeps,
    readonly signal: AbortSignal,
    private readonly agent: RunnableAgent | null,
    private readonly rerun: Rerun | null,
    private readonly remeasure: Remeasure | null = null,
    private readonly resume: Resume | null = null,
    private readonly inLoop: InLoop = {},
  ) {
    const kept = session.store.current.lastKept;
    this.number = session.ledger.nextIteration();
    if (resume !== null && resume.iteration !== this.number) {
      throw new Error(`resume: the interrupted iteration is ${resume.iteration}, the next row is ${this.number} (this is a bug)`);
    }
    this.drafted = inLoop.drafted ?? null;
    if (this.drafted !== null && this.drafted.iteration !== this.number) {
      throw new Error(`pipeline: the draft is of iteration ${this.drafted.iteration}, the next row is ${this.number} (this is a bug)`);
    }
    this.attempt = resume?.attempt ?? newAttempt();
    const interrupted = session.store.current.intent;
    this.resumedAgent = resume !== null && interrupted?.phase === 'eval' ? interrupted.agent : undefined;
    this.base = kept.commit;
    this.best = kept.metric;
    this.baseline = kept.metric === null;
    this.files = iterationPaths(session.paths, this.number);
    this.startedAt = deps.clock.now();
    this.startedMono = deps.clock.monotonic();
    this.executor = executorFor(session, deps);
    this.turn = new CandidateTurn({
      session,
      deps,
      signal,
      agent,
      rerun,
      drafted: this.drafted,
      number: this.number,
      base: this.base,
      best: this.best,
      files: this.files,
      iterationInfo: () => this.iterationInfo(),
      setIntent: (intent) => this.setIntent(intent),
      recordChild: (child) => this.recordChild(child),
      phase: (phase, detail) => this.phase(phase, detail),
      restoreWorktree: () => this.restoreWorktree(),
    });
  }

  async run(): Promise<IterationResult> {
    // A resumed attempt keeps its directory: its logs and its jobs' exit files are read again.
    // A drafted one takes the draft's (its prompt and agent output).
    if (this.resume !== null) fs.mkdirSync(this.files.dir, { recursive: true });
    else prepareRunDir(this.files.dir, this.startedAt, this.drafted?.dir);
    this.deps.report({ kind: 'iteration-start', iteration: this.number, baseline: this.baseline, best: this.best });
    try {
      const verdict = this.baseline ? await this.evaluateBaseline() : this.resume !== null ? await this.resumedIteration(this.resume) : await this.agentIteration();
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

  /** Candidate, then measurement and decision. */
  private async agentIteration(): Promise<Verdict> {
    const produced = await this.turn.produce();
    if (produced.kind === 'verdict') return produced.verdict;
    return this.evaluate(produced.commit, produced.description);
  }

  private async resumedIteration(resume: Resume): Promise<Verdict> {
    this.turn.candidate = resume.candidate; // kept reachable if this is interrupted too
    // No checkout here: the worktree holds what the interrupted job evaluates (recovery put it
    // back), and that job may still run; a checkout waits until a job is submitted.
    return this.evaluate(resume.candidate, await this.session.worktree.subject(resume.candidate));
  }

  private async evaluateBaseline(): Promise<Verdict> {
    // A baseline run again (the last one crashed) has no capture to wait behind: the last
    // rollback's clean may still be running (InLoop.nextTurnFollows).
    await this.session.worktree.settled();
    const verdict = await this.measureBaseline(this.remeasure?.description ?? 'baseline');
    if (this.remeasure !== null && verdict.status !== 'keep') {
      throw new NoRow({ kind: 'not-applicable', detail: `${verdict.reason}${verdict.detail === null ? '' : `: ${verdict.detail}`}` });
    }
    return verdict.status === 'keep' ? { ...verdict, reason: 'baseline' } : verdict;
  }

  /** The evaluation context lent to the measurement (src/measure/). */
  private measureContext(commit: string): MeasureContext {
    const context = measureContext(this, this.iterationInfo(), { base: this.base, candidate: commit, attempt: this.attempt, agent: this.rowAgent() }, this.resume !== null);
    if (this.inLoop.draftedDuring === undefined) return context;
    return {
      ...context,
      checkOut: async (other) => {
        await this.noteTampering(); // before the checkout wipes what was written meanwhile
        await context.checkOut(other);
      },
    };
  }

  /** A measurement that ended without samples to decide on: a crash row, or no row at all. */
  private unmeasured(end: Unmeasured, commit: string, description: string): Verdict {
    if (end.kind === 'aborted') throw new Interrupted('eval');
    if (end.kind === 'out-of-quota') throw new NoRow({ ...end.verdict, role: 'evaluation', label: 'evaluation' });
    if (end.kind === 'infrastructure') throw new NoRow({ kind: 'infrastructure', detail: `iteration ${this.number}: ${end.detail}` });
    this.evalMs = (this.evalMs ?? 0) + end.durationMs;
    this.evaluations++;
    return { ...NO_EVIDENCE, status: 'crash', reason: end.reason, metric: null, commit, description, detail: end.detail, why: end.why };
  }

  /** The baseline: `repeats` samples (at least 3 with noise: auto, to know the noise). */
  private async measureBaseline(description: string): Promise<Verdict> {
    this.checkAbort('eval');
    const { config } = this.session;
    this.inLoop.onMeasuring?.({ iteration: this.number, description, baseline: true });
    const measured = await measureRepeatedly(this.measureContext(this.base), this.base, baselineSampleCount(config));
    if (measured.kind !== 'measured') return this.unmeasured(measured, this.base, description);
    const tampered = await this.tamperedWhileDrafting(this.base, description);
    if (tampered !== null) return tampered;
    this.evalMs = measured.evalMs;
    this.evaluations = measured.samples.length;
    this.firstEvalMs = measured.samples[0]?.durationMs ?? null;
    const values = measured.samples.map((s) => s.value);
    const metric = aggregateOf(values, config.aggregate);
    const evidence = evidenceOf(values, null);
    const guards = aggregateGuards(measured.samples, config.aggregate);
    const checked = await this.runCheck(this.base);
    const tamperedCheck = await this.tamperedWhileDrafting(this.base, description);
    if (tamperedCheck !== null) return tamperedCheck;
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
    this.inLoop.onMeasuring?.({ iteration: this.number, description, baseline: false });
    const measured = await measureCandidate(this.measureContext(commit), {
      candidate: commit,
      branch: store.current.branch,
      best: { commit: best.commit, metric: bestMetric, samples: best.samples ?? [bestMetric] },
      noise: store.current.noise ?? EMPTY_NOISE,
      settings: config,
      isSuspicious: (first) => suspiciousKeep(this.suspicionOf(first)) !== null,
    });
    if (measured.kind !== 'measured') return this.unmeasured(measured, commit, description);
    const tampered = await this.tamperedWhileDrafting(commit, description);
    if (tampered !== null) return tampered;
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
      // Without a noise model the old words say it best: the value, the best, the rule.
      const why = config.noise.kind === 'off' || decision.why === null ? noImprovementDetail(decision.metric, bestMetric, config.direction, config.minImprovement) : decision.why;
      return { ...base, status: 'discard', reason: decision.reason, why };
    }
    // Guards and check_cmd only for what would be kept: they veto, they never keep.
    const violation = guardViolation(config.guards, measured.guards);
    if (violation !== null) return { ...base, status: 'discard', reason: 'guard_failed', detail: violation, why: violation };
    const checked = await this.runCheck(commit);
    const tamperedCheck = await this.tamperedWhileDrafting(commit, description); // check_cmd ran while the draft may still write
    if (tamperedCheck !== null) return tamperedCheck;
    if (checked !== null) return { ...base, ...checked };
    // A keep that looks like a broken evaluation stays a keep, flagged in its why (suspicious.ts).
    return { ...base, status: 'keep', reason: 'improved', why: suspiciousKeep({ ...this.suspicionOf(measured.first), value: decision.metric }) };
  }

  /**
   * pipeline: an agent drafted while this was measured, with the rights of any agent on this
   * machine. A file of the scope that no longer matches the commit means something wrote into
   * this worktree meanwhile: the samples are not the commit's, so the row is a crash, never
   * a metric (an evaluation rewriting the very files it measures is refused the same way).
   */
  private async tamperedWhileDrafting(commit: string, description: string): Promise<Verdict | null> {
    await this.noteTampering();
    const touched = this.tampered;
    if (touched === null) return null;
    const what = `${touched.slice(0, 5).join(', ')}${touched.length > 5 ? ` and ${touched.length - 5} more` : ''} changed in the experiment's worktree while it was evaluated and an agent drafted the next candidate (pipeline)`;
    this.deps.report({ kind: 'warning', message: `iteration ${this.number}: ${what}; its measurement is not recorded` });
    return { ...NO_EVIDENCE, status: 'crash', reason: 'worktree_tampered', metric: null, commit, description, detail: `worktree_tampered: ${what}`, why: messageDetail('worktree_tampered', `${what}; the measurement is not this commit's`) };
  }

  /**
   * Looked at after every evaluation that the worktree will not keep (before each checkout of
   * another commit: it would wipe the evidence) and at the end: the first finding counts.
   */
  private async noteTampering(): Promise<void> {
    if (this.tampered !== null || this.inLoop.draftedDuring?.(this.number) !== true) return;
    const touched = (await this.session.worktree.changedTrackedPaths()).filter(scopeMatcher(this.session.config.allowedPaths));
    if (touched.length > 0) this.tampered = touched;
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
      jobName: jobName(this.session, this.number, this.attempt, log),
      commit,
      onSubmit: async (job) => {
        await this.setIntent({ phase: 'eval', iteration: this.number, base: this.base, candidate: commit, child: null, log, job, queued: true, agent: this.rowAgent(), commands: evaluationCommands(this.session) });
        // A resumed attempt checks out only what it submits (MeasureContext.checkOut).
        if (job.id === null && this.resume !== null) await this.session.worktree.restore(commit, this.session.store.current.branch);
        this.phase('queued', job.id === null ? 'check_cmd' : `check_cmd, slurm job ${job.id}`);
      },
      onInfrastructureFailure: (failure) => reportInfrastructureFailure(this.session, this.deps, this.number, failure),
      onStart: async (where) => {
        const intent = this.session.store.current.intent;
        const job = intent?.phase === 'eval' ? intent.job : undefined;
        await this.setIntent({ phase: 'eval', iteration: this.number, base: this.base, candidate: commit, child: null, log, agent: this.rowAgent(), commands: evaluationCommands(this.session), ...(job === undefined ? {} : { job }) });
        this.phase('eval', ['check_cmd', where].filter((x) => x !== undefined).join(', '));
      },
    });
    if (outcome.kind === 'aborted') throw new Interrupted('eval');
    if (outcome.kind === 'infrastructure') throw new NoRow({ kind: 'infrastructure', detail: `iteration ${this.number}, check_cmd: ${infrastructureDetail(outcome)}` });
    this.evalMs = (this.evalMs ?? 0) + outcome.durationMs;
    if (outcome.kind === 'exit' && outcome.code === 0) return null;
    const why = checkFailedDetail(outcome, this.session.config.evalTimeoutMs, readTailLines(log, DETAIL_TAIL_BYTES));
    return { status: 'discard', reason: 'check_failed', detail: `check_cmd ${describeOutcome(outcome)} (${log})`, why };
  }

  /** Read once, and only by an iteration that measured something: up to 10 result.json files. */
  private usualEvalMs(): number | null {
    if (this.usualEvalMsCache === undefined) this.usualEvalMsCache = usualEvaluationMs(this.session.paths, this.session.ledger.rows());
    return this.usualEvalMsCache;
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
      usualEvalMs: this.usualEvalMs(),
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
    if (this.turn.userRefNotes.length > 0) {
      const refs = `user refs put back: ${this.turn.userRefNotes.join('; ')}`;
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
      agent: this.rowAgent(),
      costUsd: this.turn.agentReport?.costUsd ?? null,
      tokensIn: this.turn.agentReport?.inputTokens ?? null,
      tokensOut: this.turn.agentReport?.outputTokens ?? null,
      detail: verdict.why,
      evidence: verdict.evidence,
      guards: verdict.guards,
    };
    // A rejected candidate stays reachable under refs/autoresearch/ (a keep is on the branch).
    // When the intent on disk names it (an evaluated candidate), git writes the ref while the
    // worktree is checked out (Worktree.restore's keepReachable): a kill or a failure before it
    // is there is finished by recovery, which writes it from the intent (loop/recovery.ts). A
    // row decided without one (scope violation, agent crash) has its ref first, as recovery could not.
    const rejected = verdict.status !== 'keep' && verdict.commit !== this.base;
    const { intent } = session.store.current;
    const refWithRow = rejected && intent?.phase === 'eval' && intent.candidate === verdict.commit;
    const ref = { ref: candidateRef(session.config.id.key, this.number), commit: verdict.commit };
    if (rejected && !refWithRow) await session.worktree.saveRef(ref.ref, ref.commit);
    // The artifact needs no fsync of its own once the row is durable: a reader of a missing or
    // unreadable result.json uses the row (recovery, `results --rebuild`, report). Only when the
    // ledger refused the row is it the sole copy, and then it is written durably (below).
    const writeResult = (durability: 'full' | 'none') => writeFileDurable(
      this.files.result,
      JSON.stringify(
        {
          ...row,
          commitFull: verdict.commit,
          base: this.base,
          technicalDetail: verdict.detail,
          agentMs: this.turn.agentMs,
          evalMs: this.evalMs,
          evaluations: this.evaluations,
          firstEvalMs: this.firstEvalMs,
          agentReport: this.turn.agentReport,
          rerunOf: this.rerun?.iteration ?? null,
          samples: verdict.samples,
          bestSamples: verdict.bestSamples,
        },
        null,
        2,
      ) + '\n',
      { durability },
    );
    // A row the ledger refused (a corrupt replacement, a failed write) still has its artifact,
    // so `results --rebuild` can restore it.
    await session.ledger.append(row).catch(async (error: unknown) => {
      await writeResult('full').catch(() => undefined); // the append's error is the one to report
      if (refWithRow) await session.worktree.saveRef(ref.ref, ref.commit).catch(() => undefined);
      throw error;
    });
    await writeResult('none');
    // Decided, in memory only: written once, with the cleared intent after the restore (or, in
    // the loop, with its next write: InLoop.nextTurnFollows). A kill in between finds the row
    // and an undecided intent, and recovery finishes the iteration from the row and
    // result.json exactly as this would (loop/recovery.ts).
    session.store.stage((s) => ({
      ...s,
      ...measuredState(s, verdict, this.number),
      consecutiveCrashes: verdict.status === 'crash' ? s.consecutiveCrashes + 1 : 0,
      consecutiveNoChange: nextNoChangeCount(s.consecutiveNoChange ?? 0, verdict),
      // Kept (as decided) until the worktree is restored: see Intent.
      intent: s.intent === null ? null : { ...s.intent, decided: true },
      digest: ledgerDigest(session.ledger.rows(), session.config.direction, session.paths.results),
    }));
    const straightOn = this.inLoop.nextTurnFollows === true;
    // A failure leaves the row standing: a restart finishes from it (ref, restore).
    await this.restoreWorktree({ cleanLater: straightOn && session.config.agent.kind !== 'none', ...(refWithRow ? { keepReachable: ref } : {}) });
    session.store.stage({ intent: null });
    if (!straightOn) await session.store.persist();
    deps.report({ kind: 'iteration-end', iteration: this.number, row, previousBest: this.best, best: session.store.current.lastKept.metric, durationMs, runDir: this.files.dir });
    if (row.status === 'keep' && row.detail?.startsWith('suspicious:') === true) {
      deps.report({ kind: 'warning', message: `iteration ${this.number} kept, but ${row.detail} (${this.files.evalLog})` });
    }
    return row;
  }

  /** The row's `agent`: who made the candidate (a resumed attempt: as its intent recorded). */
  private rowAgent(): string | null {
    if (this.baseline) return null;
    if (this.rerun !== null) return 'rerun';
    if (this.agent !== null) return agentLabel(this.agent.spec, this.agent.role);
    if (this.resume !== null) return this.resumedAgent ?? agentLabel(this.session.config.agent);
    return 'external';
  }

  private async rollBack(): Promise<void> {
    if (this.turn.candidate !== null) {
      const ref = interruptedCandidateRef(this.session.config.id.key, this.number, this.deps.clock.now());
      await this.session.worktree.saveRef(ref, this.turn.candidate);
    }
    if (this.session.config.agent.kind === 'none' && this.rerun === null && !this.baseline) {
      // The external agent's change is not ours to throw away: it is judged again next time
      // (as the commit we made of it, or still uncommitted if we were stopped before that).
      if (this.turn.candidate !== null) await this.session.worktree.restore(this.turn.candidate, this.session.store.current.branch);
    } else {
      await this.restoreWorktree();
    }
    await this.session.store.update({ intent: null });
  }

  private async restoreWorktree(opts: { cleanLater?: boolean; keepReachable?: { ref: string; commit: string } } = {}): Promise<void> {
    const { lastKept, branch } = this.session.store.current;
    const tampered = this.session.worktree.tampering(branch);
    if (tampered?.kind === 'dotgit') {
      // restore rebuilds it from the branch; ignored files made by setup_cmd are gone with it.
      this.deps.report({ kind: 'warning', message: `worktree_tampered: ${tampered.reason}; ${this.session.store.current.worktree} is rebuilt at the last keep ${lastKept.commit.slice(0, 7)} (setup_cmd runs again at the next start)` });
      if (this.session.store.current.setupDone) await this.session.store.update({ setupDone: false });
    }
    await this.session.worktree.restore(lastKept.commit, branch, { ...opts, checked: tampered });
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


}

