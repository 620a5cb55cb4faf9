/**
 * The candidate, the first part of an iteration (then the measurement, src/measure/, and the
 * decision, src/decision/): the agent's turn — or a rerun's re-applied change, or an external
 * agent's edit (`agent: none`) — captured as ONE commit on the last keep, its scope checked.
 *
 * The agent runs with the user's refs guarded (git/ref-guard.ts) and its own process group;
 * a failed turn is a crash verdict (its partial change captured and kept), a quota or billing
 * stop unwinds with NoRow, a signal with Interrupted. The captured commit is kept reachable
 * even when the iteration is interrupted later (`candidate`).
 */
import fs from 'node:fs';
import { agentCommandLine, agentLabel } from '../agents/agent-command.js';
import type { AgentReport } from '../agents/agent-report.js';
import { readTail, readTailLines } from '../fs/read-tail.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { iterationPaths, type IterationPaths } from '../experiment/paths.js';
import type { Intent } from '../experiment/state.js';
import { RefGuard } from '../git/ref-guard.js';
import type { Tampering } from '../git/worktree-identity.js';
import type { LedgerRow } from '../ledger/types.js';
import type { SpawnedChild } from '../process/types.js';
import { runAgentTurn } from './agent-turn.js';
import { childEnv } from './child-env.js';
import type { RunnableAgent } from './exhaustion.js';
import type { Phase } from './events.js';
import { Interrupted, NO_EVIDENCE, NoRow, type Rerun, type Verdict } from './iteration-outcome.js';
import type { Drafted } from './draft.js';
import { buildPrompt } from './prompt.js';
import { failedProcessDetail, knownMessageDetail, messageDetail, noChangeDetail, scopeViolationDetail, staleBaseDetail, timeoutDetail } from './row-detail.js';
import { outOfScope } from './scope.js';

export type Produced = { kind: 'candidate'; commit: string; description: string } | { kind: 'verdict'; verdict: Verdict };

/** What the iteration lends its candidate turn. */
export interface CandidateWork {
  session: Session;
  deps: LoopDeps;
  signal: AbortSignal;
  agent: RunnableAgent | null;
  rerun: Rerun | null;
  /** pipeline: the turn already ran in the draft worktree (draft.ts); this takes its result. */
  drafted: Drafted | null;
  /** pipeline: this turn is a draft, made while that candidate is evaluated (said in the prompt). */
  evaluating?: { iteration: number; description: string } | null;
  /** pipeline: the ledger as it was when the draft started (its prompt must not list the row of the candidate it calls still evaluated). */
  ledgerRows?: readonly LedgerRow[];
  number: number;
  base: string;
  best: number | null;
  files: IterationPaths;
  iterationInfo: () => { number: number; runDir: string; baseline: boolean; best: number | null };
  setIntent: (intent: Intent) => Promise<void>;
  recordChild: (child: SpawnedChild) => Promise<void>;
  phase: (phase: Phase, detail?: string) => void;
  /** Back to the last keep (before an agent retry). */
  restoreWorktree: () => Promise<void>;
}

const LOG_TAIL_BYTES = 4096;
/** The end of a log searched for the line that explains a failure (a long traceback fits). */
const DETAIL_TAIL_BYTES = 64 * 1024;

export class CandidateTurn {
  agentMs: number | null = null;
  agentReport: AgentReport | null = null;
  /** The candidate commit once captured: kept reachable even if the iteration is interrupted. */
  candidate: string | null = null;
  /** User refs the agent changed and we put back (git/ref-guard.ts): said in the row's result. */
  userRefNotes: string[] = [];
  /** The output files of the agent's latest attempt (a transient failure retries into new ones). */
  private agentFiles: { stdout: string; stderr: string } | null = null;
  private readonly session: Session;
  private readonly deps: LoopDeps;
  private readonly signal: AbortSignal;
  private readonly agent: RunnableAgent | null;
  private readonly rerun: Rerun | null;
  private readonly number: number;
  private readonly base: string;
  private readonly best: number | null;
  private readonly files: IterationPaths;

  constructor(private readonly work: CandidateWork) {
    ({ session: this.session, deps: this.deps, signal: this.signal, agent: this.agent, rerun: this.rerun, number: this.number, base: this.base, best: this.best, files: this.files } = work);
  }

  /** The agent's change as one commit on the last keep, or the verdict that ends the iteration before any evaluation. */
  async produce(): Promise<Produced> {
    if (this.work.drafted !== null) return this.produceDrafted(this.work.drafted);
    if (this.rerun !== null) {
      this.phase('agent', `rerun of #${this.rerun.iteration}`);
      const applied = await this.session.worktree.applyChange(this.rerun.commit);
      if (!applied) throw new NoRow({ kind: 'not-applicable', detail: `the change of #${this.rerun.iteration} (${this.rerun.commit.slice(0, 7)}) does not apply to the current best` });
    } else if (this.agent !== null) {
      const failure = await this.agentTurn(this.agent);
      if (failure !== null) return { kind: 'verdict', verdict: failure };
    }
    this.checkAbort('capture');
    if (this.agent === null && this.rerun === null) {
      // `agent: none`: the external agent's change is about to be judged; say so first, so a
      // kill after its row can never have it judged again (see recovery).
      await this.setIntent({ phase: 'agent', iteration: this.number, base: this.base, child: null });
    }
    this.phase('capture');
    return this.capture(this.fallbackDescription());
  }

  /**
   * The drafted turn's result as this iteration's candidate: as it is when the best did not
   * move while it was drafted, re-applied onto the best when it did (as `rerun` re-applies),
   * or a stale_base discard when it no longer applies.
   */
  private async produceDrafted(drafted: Drafted): Promise<Produced> {
    if (drafted.iteration !== this.number) throw new Error(`drafted iteration ${drafted.iteration} taken by iteration ${this.number} (this is a bug)`);
    this.agentMs = drafted.agentMs;
    this.agentReport = drafted.agentReport;
    this.userRefNotes = drafted.userRefNotes;
    // The iteration is this worktree's from here, as after an agent turn: a row that follows
    // with no evaluation (the draft's own verdict, stale_base) finds the intent that counts it
    // after a kill, and without a row the restart rolls back to the last keep.
    await this.setIntent({ phase: 'agent', iteration: this.number, base: this.base, child: null });
    if (drafted.produced.kind === 'verdict') return drafted.produced;
    const { commit, description } = drafted.produced;
    this.phase('capture', `drafted on ${drafted.base.slice(0, 7)}`);
    const { worktree, store } = this.session;
    if (drafted.base === this.base) {
      // Captured and scope-checked in the draft worktree, on this very base: nothing to redo.
      await worktree.restore(commit, store.current.branch);
      this.candidate = commit;
      return drafted.produced;
    }
    if (!(await worktree.applyChange(commit))) {
      const { lastKept } = store.current;
      return verdictOf({
        ...NO_EVIDENCE,
        status: 'discard',
        reason: 'stale_base',
        metric: null,
        commit,
        description,
        detail: `drafted on ${drafted.base}; does not apply to the best ${this.base}`,
        why: staleBaseDetail(drafted.base.slice(0, 7), this.base.slice(0, 7), lastKept.commit === this.base ? lastKept.iteration : null),
      });
    }
    const produced = await this.capture(description);
    if (produced.kind === 'verdict' && produced.verdict.reason === 'no_change') {
      // The best already holds this very change (the keep before it made it too): not the
      // agent's "nothing changed", and no step towards the no-change breaker.
      const { lastKept } = store.current;
      return verdictOf({
        ...produced.verdict,
        reason: 'stale_base',
        commit,
        description,
        detail: `drafted on ${drafted.base}; the best ${this.base} already holds this change`,
        why: staleBaseDetail(drafted.base.slice(0, 7), this.base.slice(0, 7), lastKept.commit === this.base ? lastKept.iteration : null, 'already holds this change'),
      });
    }
    return produced;
  }

  /** Whatever the worktree holds on top of the base as one commit, its scope checked. */
  private async capture(fallbackDescription: string): Promise<Produced> {
    const capture = await this.session.worktree.captureCandidate(this.base, this.session.store.current.branch, { fallbackDescription });
    if (capture.kind === 'no_change') {
      return verdictOf({ ...NO_EVIDENCE, status: 'discard', reason: 'no_change', metric: null, commit: this.base, description: 'no change', detail: null, why: noChangeDetail(this.agent === null) });
    }
    this.candidate = capture.commit;
    const outside = outOfScope(capture.changedPaths, this.session.config.allowedPaths);
    if (outside.length > 0) {
      return verdictOf({
        ...NO_EVIDENCE,
        status: 'discard',
        reason: 'scope_violation',
        metric: null,
        commit: capture.commit,
        description: capture.description,
        detail: `changed outside scope: ${outside.join(', ')}`,
        why: scopeViolationDetail(outside, this.session.config.allowedPaths),
      });
    }
    return { kind: 'candidate', commit: capture.commit, description: capture.description };
  }


  /** Runs the agent; returns a crash verdict if it failed, null if it finished. */
  private async agentTurn(agent: RunnableAgent): Promise<Verdict | null> {
    const { session } = this;
    const command = agentCommandLine(agent.spec);
    if (command === null) return null;
    await this.setIntent({ phase: 'agent', iteration: this.number, base: this.base, child: null });
    this.phase('agent');
    const ledgerRows = this.work.ledgerRows ?? session.ledger.rows();
    const prompt = buildPrompt({
      config: session.config,
      program: readIfExists(session.config.programFile),
      iteration: this.number,
      best: this.best,
      recentRows: ledgerRows.slice(-10),
      lastFailure: this.lastFailure(ledgerRows),
      evaluating: this.work.evaluating ?? null,
    });
    fs.writeFileSync(this.files.prompt, prompt);
    this.agentMs = 0;
    // The user's branches, tags and stash: refused to the agent's git, verified after (git/ref-guard.ts).
    const guard = userRefGuard(session);
    const refsBefore = await guard.snapshot();
    const env = await guard.agentEnv(
      childEnv(session, this.deps.env, this.iterationInfo(), {
        AUTORESEARCH_PROMPT_FILE: this.files.prompt,
        AUTORESEARCH_DESCRIPTION_FILE: this.descriptionFile(),
      }),
    );
    // The last rollback may still be removing untracked files (InLoop.nextTurnFollows): all
    // of the above is done meanwhile, nothing in the worktree.
    await session.worktree.settled();
    const afterTurn: { tampered: Tampering | null } = { tampered: null };
    const turn = await runAgentTurn({
      session,
      deps: this.deps,
      agent,
      command,
      env,
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
      // Checked once, as soon as the agent's processes are gone: nothing of theirs runs after.
      afterTurn.tampered = session.worktree.tampering(session.store.current.branch);
      const reachedRepository = afterTurn.tampered?.kind === 'dotgit';
      // Before refs are put back: HEAD may be on a branch the agent made, about to be removed.
      if (!reachedRepository) await session.worktree.leaveForeignBranch(session.store.current.branch, afterTurn.tampered);
      this.userRefNotes = await guard.restore(refsBefore, this.deps.clock.now(), reachedRepository);
      for (const note of this.userRefNotes) this.deps.report({ kind: 'warning', message: `iteration ${this.number}: the agent changed your refs: ${note}` });
    });
    if (turn.kind === 'finished' || turn.kind === 'crashed') {
      // Nothing is captured from a worktree that is no longer ours as made (git/worktree-identity.ts).
      const { tampered } = afterTurn;
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


  private checkAbort(phase: Phase): void {
    if (this.signal.aborted) throw new Interrupted(phase);
  }

  private phase(phase: Phase, detail?: string): void {
    this.work.phase(phase, detail);
  }

  private setIntent(intent: Intent): Promise<void> {
    return this.work.setIntent(intent);
  }

  private recordChild(child: SpawnedChild): Promise<void> {
    return this.work.recordChild(child);
  }

  private restoreWorktree(): Promise<void> {
    return this.work.restoreWorktree();
  }

  private iterationInfo() {
    return this.work.iterationInfo();
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
  }}

function verdictOf(verdict: Verdict): Produced {
  return { kind: 'verdict', verdict };
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
