/**
 * The no-change breaker (SPEC §7): an agent that changes nothing, or only files outside the
 * scope, costs a paid agent call per iteration and teaches nothing. Such iterations are
 * counted; after each one the loop backs off (doubling, from no_change_backoff up to
 * no_change_backoff_max), and after max_consecutive_no_change of them the experiment is
 * `tripped` until `autoresearch resume`.
 *
 * What moves the count: `no_change` and `scope_violation` rows add one; a row whose change
 * was evaluated (keep, discard with a metric, an evaluation crash) resets it; an agent crash
 * (agent_exit, agent_timeout, agent_spawn) leaves it as it is, so an agent that alternates
 * "nothing" and "failed" escapes neither this breaker nor the crash breaker (each of its
 * no_change rows resets the crash count).
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import type { ExperimentConfig } from '../config/types.js';
import type { LedgerRow } from '../ledger/types.js';

export function isNoChangeRow(row: Pick<LedgerRow, 'status' | 'reason'>): boolean {
  return row.status === 'discard' && (row.reason === 'no_change' || row.reason === 'scope_violation');
}

/** The count after `row` (see the header for why an agent crash leaves it alone). */
export function nextNoChangeCount(previous: number, row: Pick<LedgerRow, 'status' | 'reason'>): number {
  if (isNoChangeRow(row)) return previous + 1;
  if (row.status === 'crash' && typeof row.reason === 'string' && row.reason.startsWith('agent_')) return previous;
  return 0;
}

/** The pause after the `count`-th such iteration in a row: doubling, capped. 0 when count is 0. */
export function noChangeBackoffMs(count: number, config: Pick<ExperimentConfig, 'noChangeBackoffMs' | 'noChangeBackoffMaxMs'>): number {
  if (count <= 0) return 0;
  const doubled = config.noChangeBackoffMs * 2 ** Math.min(count - 1, 40);
  return Math.min(doubled, config.noChangeBackoffMaxMs);
}

/** Trips the experiment when the count reached max_consecutive_no_change; returns the reason. */
export async function tripIfIdle(session: Session, deps: Pick<LoopDeps, 'clock' | 'report'>): Promise<string | null> {
  const count = session.store.current.consecutiveNoChange ?? 0;
  const max = session.config.maxConsecutiveNoChange;
  if (count < max) return null;
  const last = [...session.ledger.rows()].reverse().find(isNoChangeRow);
  const lastNote = last === undefined ? '' : `; the last was #${last.iteration} ${last.detail ?? `${last.reason} (details in its runs/ directory)`}`;
  const reason =
    `${count === 1 ? '1 iteration' : `${count} consecutive iterations`} changed nothing (or only outside scope) (max_consecutive_no_change: ${max})${lastNote}; ` +
    `check the agent's output and that \`target\`/\`scope\` name the files it should edit`;
  await session.store.update({ halt: { state: 'tripped', reason, at: new Date(deps.clock.now()).toISOString() } });
  deps.report({ kind: 'halted', state: 'tripped', reason });
  return reason;
}
