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

  constructor(
    private readonly session: Session,
    private readonly deps: LoopDeps,
    private readonly signal: AbortSignal,
    /** The agent that drafts the iteration after `evaluating`, or null when none should (off, last iteration, exhausted). */
    private readonly drafter: (evaluating: Evaluating) => RunnableAgent | null,
  ) {}

  /** The iteration's hook: its measurement starts, so the next candidate may be drafted now. */
  readonly onMeasuring = (evaluating: Evaluating): void => {
    if (this.draft !== null || this.draining || this.signal.aborted) return;
    const agent = this.drafter(evaluating);
    if (agent === null) return;
    this.draft = Draft.start(this.session, this.deps, this.signal, agent, evaluating.iteration + 1, evaluating);
  };

  /** The run ends after the drafted iteration (a daemon's fair turn): draft no other. */
  drain(): void {
    this.draining = true;
  }

  /** Whether a draft of `iteration` is under way or ready. */
  has(iteration: number): boolean {
    return this.draft?.iteration === iteration;
  }

  /**
   * What was drafted for `iteration`, once the turn is over (null: no draft). A draft of
   * another iteration (the previous one ended without a row and runs again) is abandoned.
   */
  async take(iteration: number): Promise<DraftOutcome | null> {
    const draft = this.draft;
    this.draft = null;
    if (draft === null) return null;
    if (draft.iteration !== iteration) {
      await draft.abandon(`iteration ${iteration} runs again before it`);
      return null;
    }
    return draft.outcome;
  }

  /** Kill the draft's turn, if any, and wait until nothing of it runs. */
  async abandon(why: string): Promise<void> {
    const draft = this.draft;
    this.draft = null;
    if (draft !== null) await draft.abandon(why);
  }
}
