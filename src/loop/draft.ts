/**
 * pipeline: true — the next candidate drafted while this one is evaluated (issue 13).
 *
 * The agent's turn for iteration N+1 runs in a second worktree of the experiment (the
 * draft worktree, `<worktree>@draft` on branch `<branch>@draft`), from the last kept commit,
 * while candidate N is measured in the experiment's worktree. It is the same turn as ever
 * (candidate.ts: prompt, ref guard, capture, scope), writing into runs/<N+1>.draft/ (the
 * iteration's directory once taken); only its intent goes to state.json's `draft` instead of
 * `intent`, which belongs to N.
 *
 *   started ─► agent turn ─► ready (a candidate commit on the draft branch, or a verdict:
 *      │                            crash, no_change, scope_violation)
 *      │                     ─► no row (quota, billing, login: the loop handles it as ever)
 *      └─ abandoned (stop, pause, N ended without a row, last iteration) ─► killed, no row
 *
 * The iteration N+1 takes what is ready (candidate.ts produceDrafted): the commit as it is
 * when the best did not move, re-applied onto the new best when N was kept, or a stale_base
 * row when it no longer applies. A draft never outlives its process: a restart kills what
 * a `draft` intent recorded and forgets it (recovery.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { agentLabel } from '../agents/agent-command.js';
import type { AgentReport } from '../agents/agent-report.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { draftPaths, interruptedCandidateRef } from '../experiment/paths.js';
import type { ExperimentState } from '../experiment/state.js';
import type { StateStore } from '../experiment/state-store.js';
import type { Worktree } from '../git/worktree.js';
import type { LedgerRow } from '../ledger/types.js';
import { bootId } from '../process/process-identity.js';
import { CandidateTurn, type Produced } from './candidate.js';
import type { RunnableAgent } from './exhaustion.js';
import { Interrupted, NoRow } from './iteration-outcome.js';
import type { Evaluating } from './pipeline.js';
import { prepareRunDir } from './run-records.js';
import { runSetupCommand } from './setup.js';

/** What a finished draft hands to its iteration. */
export interface Drafted {
  iteration: number;
  /** The keep it was drafted on. */
  base: string;
  produced: Produced;
  agent: RunnableAgent;
  agentMs: number | null;
  agentReport: AgentReport | null;
  userRefNotes: string[];
  /** Its prompt and agent output (runs/<n>.draft/): the iteration's directory once taken. */
  dir: string;
}

export type DraftOutcome =
  | { kind: 'ready'; drafted: Drafted }
  // The draft worktree cannot be had without touching what is not ours: no draft this run.
  | { kind: 'unavailable'; reason: string }
  | { kind: 'no-row'; result: NoRow['result'] }
  | { kind: 'interrupted' };

/** The draft worktree of an experiment whose worktree is `worktree`: `@` never occurs in an id (config/experiment-id.ts). */
export function draftWorktreePath(worktree: string): string {
  return `${worktree}@draft`;
}

export function draftBranch(branch: string): string {
  return `${branch}@draft`;
}

export class Draft {
  readonly outcome: Promise<DraftOutcome>;
  private readonly controller = new AbortController();
  private readonly best: number | null;
  private readonly ledgerRows: readonly LedgerRow[];

  private constructor(
    private readonly session: Session,
    private readonly deps: LoopDeps,
    readonly iteration: number,
    readonly base: string,
    work: { agent: RunnableAgent; evaluating: Evaluating; signal: AbortSignal } | { carried: Drafted },
  ) {
    // What the prompt says is read now, with the base: the experiment as it was when drafting began.
    this.best = session.store.current.lastKept.metric;
    this.ledgerRows = session.ledger.rows().slice();
    this.outcome = 'carried' in work ? Promise.resolve({ kind: 'ready', drafted: work.carried }) : this.run(work.agent, work.evaluating, AbortSignal.any([work.signal, this.controller.signal]));
    this.outcome.catch(() => undefined); // a failure is the taker's to see, never an unhandled rejection
  }

  /** Start drafting `iteration` on the last keep while `evaluating` is measured. */
  static start(session: Session, deps: LoopDeps, signal: AbortSignal, agent: RunnableAgent, iteration: number, evaluating: Evaluating): Draft {
    return new Draft(session, deps, iteration, session.store.current.lastKept.commit, { agent, evaluating, signal });
  }

  /**
   * A draft that was ready when the daemon's previous turn of this experiment yielded (its
   * process long over, its commit named in state.json's `draft.ready`): taken first by this turn.
   */
  static carried(session: Session, deps: LoopDeps, drafted: Drafted): Draft {
    return new Draft(session, deps, drafted.iteration, drafted.base, { carried: drafted });
  }

  /** Stop the turn (its process group is killed) and wait until nothing of it runs; `why` is said. */
  async abandon(why: string): Promise<void> {
    this.controller.abort();
    const outcome = await this.outcome.catch((error: unknown) => error as Error);
    if (outcome instanceof Error) {
      this.deps.report({ kind: 'draft', iteration: this.iteration, action: 'discarded', detail: `${why} (the draft had failed: ${outcome.message})` });
      return;
    }
    let kept = '';
    const commit = outcome.kind === 'ready' ? capturedCommit(outcome.drafted.produced, this.base) : null;
    if (commit !== null) {
      // Nothing the agent did is lost: its change stays reachable, as an interrupted candidate's.
      const ref = interruptedCandidateRef(this.session.config.id.key, this.iteration, this.deps.clock.now());
      await this.session.worktree.saveRef(ref, commit);
      kept = ` (its change kept as ${ref})`;
    }
    await this.session.store.update((s) => (s.draft == null ? s : { ...s, draft: null }));
    this.deps.report({ kind: 'draft', iteration: this.iteration, action: 'discarded', detail: `${why}${kept}` });
  }

  private async run(agent: RunnableAgent, evaluating: Evaluating, signal: AbortSignal): Promise<DraftOutcome> {
    const { session, deps } = this;
    const { store } = session;
    const worktreePath = draftWorktreePath(store.current.worktree);
    const branch = draftBranch(store.current.branch);
    const files = draftPaths(session.paths, this.iteration);
    /** What the turn captured: kept reachable until the iteration takes it (state.draft.ready). */
    let ready: string | null = null;
    try {
      const worktree = await this.prepareWorktree(worktreePath, branch, signal).catch((error: unknown) => {
        if (error instanceof DraftUnavailable || error instanceof Interrupted) throw error;
        throw new DraftUnavailable(`cannot make the draft worktree ${worktreePath} on branch ${branch}: ${(error as Error).message}; drafting is off for this run (move away what is at that path)`);
      });
      prepareRunDir(files.dir, deps.clock.now());
      deps.report({ kind: 'draft', iteration: this.iteration, action: 'started', detail: `drafting on ${this.base.slice(0, 7)} while #${evaluating.iteration} is evaluated` });
      const turn = new CandidateTurn({
        session: draftSession(session, worktree, worktreePath, branch),
        deps,
        signal,
        agent,
        rerun: null,
        drafted: null,
        evaluating: { iteration: evaluating.iteration, description: evaluating.description },
        ledgerRows: this.ledgerRows,
        number: this.iteration,
        base: this.base,
        best: this.best,
        files,
        iterationInfo: () => ({ number: this.iteration, runDir: files.dir, baseline: false, best: this.best }),
        setIntent: (intent) => store.update((s) => ({ ...s, draft: intent.phase === 'agent' ? { phase: 'agent', iteration: intent.iteration, base: intent.base, child: intent.child, startedAt: new Date(deps.clock.now()).toISOString() } : s.draft })),
        recordChild: (child) =>
          store
            .update((s) => (s.draft == null ? s : { ...s, draft: { ...s.draft, child: { pid: child.pid, pgid: child.pgid, startTime: child.startTime, bootId: bootId() } } }))
            .catch(() => undefined), // a durability failure resurfaces on the next awaited update
        phase: () => undefined, // the iteration being evaluated owns the progress line
        restoreWorktree: () => worktree.restore(this.base, branch),
      });
      const produced = await turn.produce();
      ready = capturedCommit(produced, this.base);
      const drafted: Drafted = { iteration: this.iteration, base: this.base, produced, agent, agentMs: turn.agentMs, agentReport: turn.agentReport, userRefNotes: turn.userRefNotes, dir: files.dir };
      const what = produced.kind === 'candidate' ? `candidate ${produced.commit.slice(0, 7)} ${produced.description}` : `${produced.verdict.status} ${produced.verdict.reason}`;
      deps.report({ kind: 'draft', iteration: this.iteration, action: 'ready', detail: `${agentLabel(agent.spec, agent.role)}: ${what}` });
      return { kind: 'ready', drafted };
    } catch (error) {
      if (error instanceof DraftUnavailable) return { kind: 'unavailable', reason: error.message };
      if (error instanceof NoRow) return { kind: 'no-row', result: error.result };
      if (error instanceof Interrupted) return { kind: 'interrupted' };
      if (signal.aborted) return { kind: 'interrupted' };
      throw error;
    } finally {
      // No process of the draft runs now; what it captured stays named until it is taken.
      const captured = ready;
      await store.update((s) => (s.draft == null ? s : { ...s, draft: captured === null ? null : { ...s.draft, child: null, ready: captured } }));
    }
  }

  /** Taken by its iteration: the draft is forgotten with that iteration's next state write. */
  taken(): void {
    this.session.store.stage((s) => (s.draft == null ? s : { ...s, draft: null }));
  }

  /** The draft worktree at the base, on the draft branch: created (and set up) the first time, reset every time. */
  private async prepareWorktree(worktreePath: string, branch: string, signal: AbortSignal): Promise<Worktree> {
    const { project } = this.session;
    const someone = await project.releaseScratchBranch(branch, worktreePath);
    if (someone !== null) throw new DraftUnavailable(`the draft branch ${branch} is checked out in ${someone}, which is not ours: drafting is off for this run (remove that worktree, or check out another branch there)`);
    const { created } = await project.ensureWorktree({ path: worktreePath, branch, startPoint: this.base });
    const worktree = project.worktree(worktreePath);
    // What setup_cmd made untracked in the experiment's worktree is no part of a candidate here either.
    const mainOutput = this.session.store.current.setupOutput ?? [];
    worktree.keepSetupOutput(mainOutput);
    await worktree.restore(this.base, branch);
    const own = await this.setUp(worktree, worktreePath, branch, created, signal);
    worktree.keepSetupOutput([...mainOutput, ...own]);
    return worktree;
  }

  /**
   * setup_cmd once in the draft worktree, as in the experiment's (the agent may run the code it
   * changes): again whenever the worktree is new. Returns what it made (kept by every reset).
   * Recorded in runs/draft-setup.json, its output in runs/draft-setup.log.
   */
  private async setUp(worktree: Worktree, worktreePath: string, branch: string, created: boolean, signal: AbortSignal): Promise<string[]> {
    const { config, paths } = this.session;
    if (config.setupCmd === null) return [];
    const marker = path.join(paths.runs, 'draft-setup.json');
    const log = path.join(paths.runs, 'draft-setup.log');
    if (!created) {
      const done = readSetupMarker(marker);
      if (done !== null && done.worktree === worktreePath && done.command === config.setupCmd) return done.output;
    }
    fs.rmSync(marker, { force: true });
    fs.mkdirSync(paths.runs, { recursive: true });
    const view = draftSession(this.session, worktree, worktreePath, branch);
    const outcome = await runSetupCommand(view, this.deps, { log, iteration: { number: this.iteration, runDir: paths.runs, baseline: false, best: this.best }, signal });
    if (outcome.kind === 'aborted') throw new Interrupted('setup');
    if (outcome.kind === 'failed') {
      throw new DraftUnavailable(`setup_cmd \`${config.setupCmd}\` failed in the draft worktree ${worktreePath} (${outcome.detail}; ${log}): drafting is off for this run`);
    }
    const { output } = outcome;
    fs.writeFileSync(marker, JSON.stringify({ worktree: worktreePath, command: config.setupCmd, output }) + '\n');
    return output;
  }
}

function readSetupMarker(file: string): { worktree: string; command: string; output: string[] } | null {
  try {
    const done = JSON.parse(fs.readFileSync(file, 'utf8')) as { worktree?: unknown; command?: unknown; output?: unknown };
    if (typeof done.worktree !== 'string' || typeof done.command !== 'string' || !Array.isArray(done.output) || !done.output.every((p) => typeof p === 'string')) return null;
    return { worktree: done.worktree, command: done.command, output: done.output as string[] };
  } catch {
    return null; // none yet, or torn: set up again
  }
}

class DraftUnavailable extends Error {}

/**
 * Whether a draft kept over from the previous turn (daemon, pipeline) is still the one
 * state.json names and still the next iteration's: nothing ran in between (a foreground `run`,
 * `reset`, a pause, a kill would have recovered it and cleared `draft`, or moved the ledger).
 */
export function carriedDraftStands(state: ExperimentState, nextIteration: number, drafted: Drafted): boolean {
  if (state.halt !== null || state.intent !== null || nextIteration !== drafted.iteration) return false;
  const commit = capturedCommit(drafted.produced, drafted.base);
  const named = state.draft ?? null;
  if (commit === null) return named === null; // a verdict with no change: nothing was named
  return named !== null && named.iteration === drafted.iteration && named.base === drafted.base && named.ready === commit && named.child === null;
}

/** The commit a finished turn made (its candidate, or a crash's or scope violation's partial change), or null. */
function capturedCommit(produced: Produced, base: string): string | null {
  const commit = produced.kind === 'candidate' ? produced.commit : produced.verdict.commit;
  return commit === base ? null : commit;
}

/**
 * The session as the draft's turn sees it: the same experiment, its own worktree, branch and
 * hooks. State is written only through the draft's own setIntent (state.json's `draft`).
 */
function draftSession(session: Session, worktree: Worktree, worktreePath: string, branch: string): Session {
  const { store } = session;
  const view = {
    file: store.file,
    get current(): ExperimentState {
      return { ...store.current, worktree: worktreePath, branch };
    },
    update(): Promise<void> {
      throw new Error('the draft turn writes state only through its own intent (this is a bug)');
    },
    reload: () => store.reload(),
    persist: () => store.persist(),
    flush: () => store.flush(),
  } as unknown as StateStore;
  // The ref guard's hook names the branch the agent may move: the draft's, in hooks of its own.
  return { ...session, worktree, store: view, paths: { ...session.paths, gitHooks: path.join(session.paths.gitHooks, 'draft') } };
}
