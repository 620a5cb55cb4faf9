/**
 * What a foreground command that runs iterations (`run`, `rerun`) is wired with: the
 * experiment's log, progress on stdout, a process runner whose groups a second Ctrl-C
 * kills, and the first Ctrl-C as a graceful stop.
 */
import type { ExperimentConfig } from '../config/types.js';
import { systemClock } from '../core/clock.js';
import type { LoopDeps } from '../experiment/open-session.js';
import { experimentPaths } from '../experiment/paths.js';
import { createLogger, logEvent, type Logger } from '../log/logger.js';
import { LiveGroups } from '../process/live-groups.js';
import { createProcessRunner } from '../process/run-process.js';
import type { Printer } from './progress-printer.js';
import { cancelRecordedJobNow } from '../measure/slurm/cancel-now.js';
import { installStopSignals } from './stop-signals.js';

/** Events the progress printer shows on stdout: said once, not again as a warning on stderr. */
const PRINTED_KINDS = ['setup', 'recovered', 'halted', 'agent-exhausted', 'waiting', 'no-change-backoff', 'revalidated', 'draft', 'wait-over', 'iteration-end', 'iteration-interrupted'];

export interface Foreground {
  deps: LoopDeps;
  logger: Logger;
  /** Aborted by the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  dispose(): void;
}

export function foreground(config: ExperimentConfig, printer: Printer): Foreground {
  const logger = createLogger({ file: experimentPaths(config.dir).log, name: config.id.key, consoleSkipKinds: PRINTED_KINDS });
  const liveGroups = new LiveGroups();
  const controller = new AbortController();
  const deps: LoopDeps = {
    runner: createProcessRunner({ liveGroups }),
    clock: systemClock,
    env: process.env,
    report: (event) => {
      logEvent(logger, event);
      printer.event(event);
    },
  };
  const signals = installStopSignals({
    onFirst: (signal) => {
      printer.line(`${signal}: stopping after rolling back the current iteration (send it again to kill everything now)`);
      controller.abort();
    },
    onSecond: () => {
      liveGroups.killAll('SIGKILL');
      if (config.executor === 'slurm') cancelRecordedJobNow(experimentPaths(config.dir).state, process.env);
    },
  });
  return {
    deps,
    logger,
    signal: controller.signal,
    dispose() {
      signals.dispose();
      logger.flush();
    },
  };
}
