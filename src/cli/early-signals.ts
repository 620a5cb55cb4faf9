/**
 * Imported first by main.ts: until the real handlers are installed (after every module has
 * loaded), a SIGTERM or SIGINT is recorded instead of killing the process by default, and
 * handed to them. A stop requested in the first instant is still a graceful stop.
 */
const received: NodeJS.Signals[] = [];
const record = (signal: NodeJS.Signals): void => void received.push(signal);
process.on('SIGTERM', record);
process.on('SIGINT', record);

/** The signals received so far; the provisional handlers are removed. */
export function takeEarlySignals(): NodeJS.Signals[] {
  process.off('SIGTERM', record);
  process.off('SIGINT', record);
  return received.splice(0);
}
