/**
 * The loop behind every `-f` (`logs -f`, `daemon logs -f`): call `tick` every `pollMs` until
 * SIGINT or SIGTERM — the user's way to stop following, so exit 0 (SPEC §8, stopped cleanly) —
 * or until stdout is gone (`… -f | head` after head exits), as `tail -f` ends.
 */
import { takeEarlySignals } from './early-signals.js';
import { isOpen } from './output-guard.js';

export async function followUntilInterrupted(tick: () => void, pollMs: number): Promise<void> {
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let stopping = takeEarlySignals().length > 0;
  const onSignal = () => {
    stopping = true;
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    while (!stopping && isOpen(process.stdout)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, pollMs)))]);
      clearTimeout(timer);
      if (!stopping) tick();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
