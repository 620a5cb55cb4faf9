/**
 * SIGTERM/SIGINT for foreground runs (SPEC §9): the first asks for a graceful stop (the
 * running iteration is aborted and rolled back, no row); the second kills every child
 * now and exits 130.
 */
import { EXIT } from '../core/errors.js';
import { takeEarlySignals } from './early-signals.js';

export function installStopSignals(handlers: { onFirst: (signal: NodeJS.Signals) => void; onSecond: () => void }): { dispose(): void } {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      handlers.onFirst(signal);
      return;
    }
    handlers.onSecond();
    process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const signal of takeEarlySignals()) onSignal(signal); // sent while the CLI was still loading
  return {
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
