/**
 * pipeline: true in the loop (draft.ts has the draft itself): at most one draft at a time,
 * started when an iteration's measurement starts, taken by the next iteration, abandoned
 * whenever that iteration will not be the next to run.
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { Draft, type DraftOutcome } from './draft.js';
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
  ) {}

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
