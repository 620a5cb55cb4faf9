/**
 * pipeline: true — the next candidate drafted while this one is evaluated (issue 13).
 *
 * The agent's turn for iteration N+1 runs in a second worktree of the experiment (the
 * draft worktree, `<worktree>@draft` on branch `<branch>@draft`), from the last kept commit,
 * while candidate N is measured in the experiment's worktree. It is the same turn as ever
 * (candidate.ts: prompt, ref guard, capture, scope), writing into runs/<N+1>/; only its
 * intent goes to state.json's `draft` instead of `intent`, which belongs to N.
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
import path from 'node:path';
import { agentLabel } from '../agents/agent-command.js';
import type { AgentReport } from '../agents/agent-report.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { iterationPaths } from '../experiment/paths.js';
import type { ExperimentState } from '../experiment/state.js';
import type { StateStore } from '../experiment/state-store.js';
import type { Worktree } from '../git/worktree.js';
import { bootId } from '../process/process-identity.js';
import { CandidateTurn, type Produced } from './candidate.js';
import type { RunnableAgent } from './exhaustion.js';
import { Interrupted, NoRow } from './iteration-outcome.js';
import type { Evaluating } from './pipeline.js';
import { prepareRunDir } from './run-records.js';

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
}

export type DraftOutcome =
  | { kind: 'ready'; drafted: Drafted }
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

  private constructor(
    private readonly session: Session,
    private readonly deps: LoopDeps,
    readonly iteration: number,
    readonly base: string,
    agent: RunnableAgent,
    evaluating: Evaluating,
    signal: AbortSignal,
  ) {
    const stop = AbortSignal.any([signal, this.controller.signal]);
    this.outcome = this.run(agent, evaluating, stop);
    this.outcome.catch(() => undefined); // a failure is the taker's to see, never an unhandled rejection
  }

  /** Start drafting `iteration` on the last keep while `evaluating` is measured. */
  static start(session: Session, deps: LoopDeps, signal: AbortSignal, agent: RunnableAgent, iteration: number, evaluating: Evaluating): Draft {
    return new Draft(session, deps, iteration, session.store.current.lastKept.commit, agent, evaluating, signal);
  }

  /** Stop the turn (its process group is killed) and wait until nothing of it runs; `why` is said. */
  async abandon(why: string): Promise<void> {
    this.controller.abort();
    const failed = await this.outcome.then(
      () => null,
      (error: unknown) => (error as Error).message,
    );
    this.deps.report({ kind: 'draft', iteration: this.iteration, action: 'discarded', detail: failed === null ? why : `${why} (the draft had failed: ${failed})` });
  }

  private async run(agent: RunnableAgent, evaluating: Evaluating, signal: AbortSignal): Promise<DraftOutcome> {
    const { session, deps } = this;
    const { store } = session;
    const worktreePath = draftWorktreePath(store.current.worktree);
    const branch = draftBranch(store.current.branch);
    const files = iterationPaths(session.paths, this.iteration);
    try {
      const worktree = await this.prepareWorktree(worktreePath, branch);
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
        number: this.iteration,
        base: this.base,
        best: store.current.lastKept.metric,
        files,
        iterationInfo: () => ({ number: this.iteration, runDir: files.dir, baseline: false, best: store.current.lastKept.metric }),
        setIntent: (intent) => store.update((s) => ({ ...s, draft: intent.phase === 'agent' ? { phase: 'agent', iteration: intent.iteration, base: intent.base, child: intent.child, startedAt: new Date(deps.clock.now()).toISOString() } : s.draft })),
        recordChild: (child) =>
          store
            .update((s) => (s.draft == null ? s : { ...s, draft: { ...s.draft, child: { pid: child.pid, pgid: child.pgid, startTime: child.startTime, bootId: bootId() } } }))
            .catch(() => undefined), // a durability failure resurfaces on the next awaited update
        phase: () => undefined, // the iteration being evaluated owns the progress line
        restoreWorktree: () => worktree.restore(this.base, branch),
      });
      const produced = await turn.produce();
      const drafted: Drafted = { iteration: this.iteration, base: this.base, produced, agent, agentMs: turn.agentMs, agentReport: turn.agentReport, userRefNotes: turn.userRefNotes };
      const what = produced.kind === 'candidate' ? `candidate ${produced.commit.slice(0, 7)} ${produced.description}` : `${produced.verdict.status} ${produced.verdict.reason}`;
      deps.report({ kind: 'draft', iteration: this.iteration, action: 'ready', detail: `${agentLabel(agent.spec, agent.role)}: ${what}` });
      return { kind: 'ready', drafted };
    } catch (error) {
      if (error instanceof NoRow) return { kind: 'no-row', result: error.result };
      if (error instanceof Interrupted) return { kind: 'interrupted' };
      if (signal.aborted) return { kind: 'interrupted' };
      throw error;
    } finally {
      await store.update((s) => (s.draft == null ? s : { ...s, draft: null }));
    }
  }

  /** The draft worktree at the base, on the draft branch: created the first time, reset every time. */
  private async prepareWorktree(worktreePath: string, branch: string): Promise<Worktree> {
    const { project } = this.session;
    await project.releaseScratchBranch(branch, worktreePath);
    await project.ensureWorktree({ path: worktreePath, branch, startPoint: this.base });
    const worktree = project.worktree(worktreePath);
    await worktree.restore(this.base, branch);
    return worktree;
  }
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
    flush: () => store.flush(),
  } as unknown as StateStore;
  // The ref guard's hook names the branch the agent may move: the draft's, in hooks of its own.
  return { ...session, worktree, store: view, paths: { ...session.paths, gitHooks: path.join(session.paths.gitHooks, 'draft') } };
}
