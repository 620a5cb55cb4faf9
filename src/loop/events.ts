/**
 * Everything the loop reports, as typed events (STYLE §8). The loop never prints or logs
 * directly: the CLI maps events to progress lines, the logger maps them to JSON lines.
 */
import type { LedgerRow } from '../ledger/types.js';

/** `queued`: an evaluation submitted to a cluster waits for its resources (not counted against eval_timeout). */
export type Phase = 'setup' | 'agent' | 'capture' | 'queued' | 'eval' | 'decide';

export type LoopEvent =
  | {
      kind: 'experiment-opened';
      id: string;
      worktree: string;
      branch: string;
      worktreeCreated: boolean;
      nextIteration: number;
      best: number | null;
      metric: string;
      direction: 'lower' | 'higher';
    }
  | { kind: 'ledger-repaired'; file: string; tornBytes: number; savedTo: string }
  | { kind: 'ledger-upgraded'; file: string; from: string[]; to: string[] }
  | { kind: 'stale-lock-recovered'; file: string; pid: number }
  | { kind: 'recovered'; iteration: number; action: 'rolled-back' | 'completed' | 'resumed'; detail: string }
  | { kind: 'setup'; status: 'start' | 'ok' | 'failed'; command: string; log: string; detail?: string }
  | { kind: 'iteration-start'; iteration: number; baseline: boolean; best: number | null }
  | { kind: 'phase'; iteration: number; phase: Phase; detail?: string }
  | {
      kind: 'iteration-end';
      iteration: number;
      row: LedgerRow;
      previousBest: number | null;
      best: number | null;
      durationMs: number;
      runDir: string;
    }
  | { kind: 'iteration-interrupted'; iteration: number; phase: Phase }
  | { kind: 'halted'; state: 'tripped' | 'blocked' | 'done'; reason: string }
  | { kind: 'agent-exhausted'; iteration: number; agent: string; message: string; signature: string | null; until: string; fallback: string | null }
  | { kind: 'waiting'; until: string; agent: string; reason: string }
  | { kind: 'wait-over'; how: 'reset-time' | 'resumed' }
  | { kind: 'no-change-backoff'; count: number; until: string; reason: string }
  | { kind: 'revalidated'; iteration: number; why: string }
  // pipeline: the next candidate drafted in the second worktree while this one is evaluated (loop/draft.ts).
  // `kept`: ready when the daemon's fair turn ended, left to the experiment's next turn.
  | { kind: 'draft'; iteration: number; action: 'started' | 'ready' | 'kept' | 'discarded'; detail: string }
  | { kind: 'warning'; message: string };

export type Reporter = (event: LoopEvent) => void;
