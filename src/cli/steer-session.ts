/**
 * How `reset` and `rebase` open an experiment: like `rerun`, through its run lock
 * (experiment/open-session.ts), so no run, daemon turn or other command moves the branch
 * meanwhile. A running experiment is refused with the way to stop it; an experiment that never
 * ran has nothing to steer. An iteration a kill cut short is settled first (loop/recovery.ts),
 * so the ledger's last keep and state.json agree before anything moves.
 */
import type { ExperimentConfig } from '../config/types.js';
import { AutoresearchError } from '../core/errors.js';
import { openSession, type LoopDeps, type Session } from '../experiment/open-session.js';
import { experimentPaths } from '../experiment/paths.js';
import { loadState } from '../experiment/state.js';
import { recoverInterruptedIteration } from '../loop/recovery.js';

export async function openSteerSession(config: ExperimentConfig, projectRoot: string, deps: LoopDeps, command: string): Promise<Session> {
  const id = config.id.key;
  if ((await loadState(experimentPaths(config.dir).state)) === null) {
    throw new AutoresearchError('BAD_INPUT', `${command}: experiment ${id} has not run yet (no ${experimentPaths(config.dir).state}): nothing to change; \`autoresearch run ${id}\` starts it`);
  }
  let session: Session;
  try {
    session = await openSession(config, projectRoot, deps, command);
  } catch (error) {
    if (error instanceof AutoresearchError && error.code === 'LOCKED') {
      throw new AutoresearchError(
        'LOCKED',
        `${error.message}\n  ${command} would move the branch under it: run \`autoresearch pause ${id}\` first ` +
          `(it stops after its current iteration; wait until \`autoresearch status ${id}\` says paused), ` +
          `then this command again, then \`autoresearch resume ${id}\``,
      );
    }
    throw error;
  }
  try {
    await recoverInterruptedIteration(session, deps);
  } catch (error) {
    await session.close();
    throw error;
  }
  return session;
}
