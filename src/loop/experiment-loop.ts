/**
 * The loop of one experiment: iterations until a stop condition.
 *
 *   open ─► recover ─► setup ─► ┌─► halted? (tripped/paused/blocked) ─► exit 3
 *                               │   done? (max_experiments, max_runtime) ─► exit 0
 *                               │   run limit reached / --single done ─► exit 0
 *                               │   iteration ─interrupted─► exit 0 (graceful stop)
 *                               └── crash count ≥ max_consecutive_crashes ─► tripped, exit 3
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import type { LedgerRow } from '../ledger/types.js';
import { runIteration } from './iteration.js';
import { recoverInterruptedIteration } from './recovery.js';
import { runSetupIfNeeded } from './setup.js';

export interface LoopOptions {
  mode: 'single' | 'loop';
  /** Iterations this invocation may run (the CLI's --max-experiments); null = no limit. */
  maxIterations: number | null;
  signal: AbortSignal;
}

export type LoopEnd =
  | { kind: 'done'; reason: string } // experiment finished: max_experiments or max_runtime
  | { kind: 'limit'; reason: string } // this invocation's limit (--single, --max-experiments)
  | { kind: 'interrupted' } // signal: graceful stop
  | { kind: 'tripped'; reason: string }
  | { kind: 'halted'; state: 'tripped' | 'paused' | 'blocked'; reason: string }; // refused to start

export interface LoopResult {
  end: LoopEnd;
  rowsThisRun: LedgerRow[];
}

export async function runExperimentLoop(session: Session, deps: LoopDeps, opts: LoopOptions): Promise<LoopResult> {
  const rowsThisRun: LedgerRow[] = [];
  const result = (end: LoopEnd): LoopResult => ({ end, rowsThisRun });
  const halt = session.store.current.halt;
  if (halt !== null) return result({ kind: 'halted', state: halt.state, reason: halt.reason });

  await recoverInterruptedIteration(session, deps);
  if (session.config.agent.kind !== 'none') {
    // Start from exactly the last kept commit. (With `agent: none`, the worktree holds the
    // external agent's edits: those are what this run evaluates.)
    await session.worktree.restore(session.store.current.lastKept.commit, session.store.current.branch);
  }
  if ((await runSetupIfNeeded(session, deps, opts.signal)) === 'aborted') return result({ kind: 'interrupted' });

  for (;;) {
    if (opts.signal.aborted) return result({ kind: 'interrupted' });
    const done = doneReason(session, deps);
    if (done !== null) {
      deps.report({ kind: 'halted', state: 'done', reason: done });
      return result({ kind: 'done', reason: done });
    }
    // Like max_experiments, --max-experiments counts the iterations after the baseline.
    if (opts.maxIterations !== null && rowsThisRun.filter((r) => !isBaselineRow(r)).length >= opts.maxIterations) {
      return result({ kind: 'limit', reason: `--max-experiments ${opts.maxIterations} reached` });
    }
    const outcome = await runIteration(session, deps, opts.signal);
    if (outcome.kind === 'interrupted') return result({ kind: 'interrupted' });
    rowsThisRun.push(outcome.row);

    const { consecutiveCrashes } = session.store.current;
    if (consecutiveCrashes >= session.config.maxConsecutiveCrashes) {
      const reason = `${consecutiveCrashes} consecutive crashes (max_consecutive_crashes: ${session.config.maxConsecutiveCrashes})`;
      await session.store.update({ halt: { state: 'tripped', reason, at: new Date(deps.clock.now()).toISOString() } });
      deps.report({ kind: 'halted', state: 'tripped', reason });
      return result({ kind: 'tripped', reason });
    }
    if (opts.mode === 'single') return result({ kind: 'limit', reason: '--single' });
  }
}

/** max_experiments counts iterations after the baseline; max_runtime counts from the first run. */
export function doneReason(session: Session, deps: Pick<LoopDeps, 'clock'>): string | null {
  const { config } = session;
  if (config.maxExperiments !== null) {
    const experiments = session.ledger.rows().filter((r) => !isBaselineRow(r)).length;
    if (experiments >= config.maxExperiments) return `max_experiments (${config.maxExperiments}) reached`;
  }
  if (config.maxRuntimeMs !== null) {
    const elapsed = deps.clock.now() - Date.parse(session.store.current.firstStartedAt);
    if (elapsed >= config.maxRuntimeMs) return `max_runtime reached`;
  }
  return null;
}

export function isBaselineRow(row: LedgerRow): boolean {
  return row.reason === 'baseline' || (row.reason === null && row.description.startsWith('baseline')) || row.description === 'baseline';
}
