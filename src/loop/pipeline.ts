/**
 * pipeline: true in the loop (draft.ts has the draft itself): at most one draft at a time,
 * started when an iteration's measurement starts, taken by the next iteration, abandoned
 * whenever that iteration will not be the next to run.
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { Draft, type DraftOutcome, type Drafted } from './draft.js';
import type { RunnableAgent } from './exhaustion.js';

export interface Evaluating {
  iteration: number;
  description: string;
  /** The baseline's row is no experiment: the draft after it does not use up max_experiments. */
  baseline: boolean;
}

export class Pipeline {
  private draft: Draft | null = null;
  private draining = false;
  /** Why no draft can be made this run (the draft branch is someone else's). */
  private unavailable: string | null = null;

  constructor(
    private readonly session: Session,
    private readonly deps: LoopDeps,
    private readonly signal: AbortSignal,
    /** The agent that drafts the iteration after `evaluating`, or null when none should (off, last iteration, exhausted). */
    private readonly drafter: (evaluating: Evaluating) => RunnableAgent | null,
    /** A draft ready when this experiment's previous turn in the daemon yielded: the next iteration's. */
    carried: Drafted | null = null,
  ) {
    if (carried !== null) this.draft = Draft.carried(session, deps, carried);
  }

  /** The iteration's hook: its measurement starts, so the next candidate may be drafted now. */
  readonly onMeasuring = (evaluating: Evaluating): void => {
    if (this.draft !== null || this.draining || this.unavailable !== null || this.signal.aborted) return;
    const agent = this.drafter(evaluating);
    if (agent === null) return;
    this.draft = Draft.start(this.session, this.deps, this.signal, agent, evaluating.iteration + 1, evaluating);
  };

  /** Draining (a daemon's fair turn: the run ends after the drafted iteration): draft no other. A `go` after it lifts it. */
  drain(on: boolean): void {
    this.draining = on;
  }

  /** Whether an agent drafted while `iteration` was measured (it may have written where it should not). */
  draftedDuring(iteration: number): boolean {
    return this.draft?.iteration === iteration + 1;
  }

  /** Whether a draft of `iteration` is under way or ready. */
  has(iteration: number): boolean {
    return this.draft?.iteration === iteration;
  }

  /**
   * What was drafted for `iteration`, once the turn is over (null: no draft). A draft of a
   * later iteration (the previous one ended without a row and runs again) is abandoned; one of
   * an earlier number (a revalidation's row took it) is this iteration's.
   */
  async take(iteration: number): Promise<DraftOutcome | null> {
    const draft = this.draft;
    this.draft = null;
    if (draft === null) return null;
    if (draft.iteration > iteration) {
      await draft.abandon(`iteration ${iteration} runs again before it`);
      return null;
    }
    const outcome = await draft.outcome;
    draft.taken();
    // A revalidation row took the number it drafted: it is the next iteration all the same.
    if (outcome.kind === 'ready' && outcome.drafted.iteration !== iteration) return { kind: 'ready', drafted: { ...outcome.drafted, iteration } };
    if (outcome.kind !== 'unavailable') return outcome;
    this.unavailable = outcome.reason;
    this.deps.report({ kind: 'warning', message: `pipeline: ${outcome.reason}` });
    return null;
  }

  /**
   * A daemon's fair turn ends: the draft of `iteration`, once its agent is done (waited for: it
   * runs within this turn), is handed over to the experiment's next turn when it is ready (null:
   * no draft, or one the loop must handle now: out of quota, unavailable). Nothing of it runs
   * after this; its commit stays named in state.json's `draft.ready`.
   */
  async handOver(iteration: number): Promise<Drafted | null> {
    const draft = this.draft;
    if (draft?.iteration !== iteration) return null;
    const outcome = await draft.outcome.catch(() => null);
    if (outcome?.kind !== 'ready' || this.draft !== draft) return null;
    this.draft = null;
    this.deps.report({ kind: 'draft', iteration, action: 'kept', detail: `ready when the turn ended (another experiment waits): taken first by this experiment's next turn` });
    return outcome.drafted;
  }

  /** Wait until the draft's turn, if any, is over (nothing of it runs), without taking it. */
  async settled(): Promise<void> {
    await this.draft?.outcome.catch(() => undefined);
  }

  /** Kill the draft's turn, if any, and wait until nothing of it runs. */
  async abandon(why: string): Promise<void> {
    const draft = this.draft;
    this.draft = null;
    if (draft !== null) await draft.abandon(why);
  }
}
