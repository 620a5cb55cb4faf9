/**
 * pipeline: the draft of an experiment as `status` (text and --json), the daemon's API and the
 * dashboard show it, from state.json's `draft` (loop/draft.ts) and run.lock: the next
 * iteration's agent turn running beside the evaluation, or its candidate ready to be taken.
 */
import type { ExperimentState } from './state.js';

export interface DraftStatus {
  /** The iteration it drafts. */
  iteration: number;
  /**
   * `agent`: its agent's turn runs (in the draft worktree); `ready`: its turn is over and the
   * candidate captured, to be taken by its iteration (in the daemon, possibly by the experiment's
   * next turn); `interrupted`: the run it belonged to is gone (the next start recovers it: no row).
   */
  phase: 'agent' | 'ready' | 'interrupted';
  /** The keep it is drafted on. */
  base: string;
  /** The captured candidate's commit (`ready`); null otherwise. */
  commit: string | null;
  /** When its agent's turn began (ISO 8601); null when unknown. */
  started_at: string | null;
}

/** `running`: a live process holds run.lock (without one, no agent of the draft runs). */
export function draftStatus(state: Pick<ExperimentState, 'draft'> | null, running: boolean): DraftStatus | null {
  const draft = state?.draft ?? null;
  if (draft === null) return null;
  const ready = draft.ready ?? null;
  const phase = ready !== null ? 'ready' : running ? 'agent' : 'interrupted';
  return { iteration: draft.iteration, phase, base: draft.base, commit: ready, started_at: draft.startedAt ?? null };
}

/** One line for people: `drafting iteration 8 (agent, 40s)`, `iteration 8 drafted, ready (abc1234)`. */
export function describeDraft(draft: DraftStatus, now: number, duration: (ms: number) => string): string {
  switch (draft.phase) {
    case 'agent': {
      const since = draft.started_at === null ? Number.NaN : Date.parse(draft.started_at);
      return `drafting iteration ${draft.iteration} (agent${Number.isFinite(since) ? `, ${duration(Math.max(0, now - since))}` : ''})`;
    }
    case 'ready':
      return `iteration ${draft.iteration} drafted, ready (${(draft.commit ?? '').slice(0, 7)})`;
    case 'interrupted':
      return `the draft of iteration ${draft.iteration} was interrupted (no row; recovered at the next start)`;
  }
}
