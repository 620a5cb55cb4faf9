/**
 * Which executor an experiment's evaluations go through (`executor:` in config.cfg). The loop
 * asks here once per unit of work and never looks at the answer's kind.
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { localExecutor, type Executor } from './executor.js';
import { slurmExecutor } from './slurm/slurm-executor.js';

export function executorFor(session: Session, deps: LoopDeps): Executor {
  const { config } = session;
  if (config.executor === 'slurm') return slurmExecutor({ slurmArgs: config.slurmArgs, slots: deps.evalSlots, clock: deps.clock, env: deps.env });
  return localExecutor(deps.runner, deps.evalSlots);
}
