/**
 * Waiting for an exhausted agent's quota to reset. Timers stall while a laptop sleeps and
 * setTimeout clamps long delays, so this polls the wall clock in short steps: a machine that
 * slept through the reset goes on at once when it wakes. Each step also re-reads state.json,
 * so `autoresearch resume <id>` (which clears the wait) cuts it short.
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { takeRequest } from '../experiment/requests.js';

const POLL_MS = 1000;

export type WaitEnd = 'reset-time' | 'resumed' | 'halted' | 'aborted';

export async function waitForAgent(session: Session, deps: LoopDeps, until: number, signal: AbortSignal): Promise<WaitEnd> {
  const before = JSON.stringify(session.store.current.exhausted);
  await session.store.persist(); // nothing staged waits out the wait unwritten
  for (;;) {
    if (signal.aborted) return 'aborted';
    const left = until - deps.clock.now();
    if (left <= 0) return 'reset-time';
    await deps.clock.sleep(Math.min(POLL_MS, left), signal);
    if (takeRequest(session.config.dir, 'resume', (message) => deps.report({ kind: 'warning', message }))) {
      // `autoresearch resume` while this run waits: the wait is over.
      await session.store.update({ exhausted: {}, consecutiveCrashes: 0, consecutiveNoChange: 0 });
      return 'resumed';
    }
    await session.store.reload();
    if (session.store.current.halt !== null) return 'halted';
    if (JSON.stringify(session.store.current.exhausted) !== before) return 'resumed';
  }
}
