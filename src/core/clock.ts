/**
 * Time as a dependency (STYLE §5): decisions never call Date.now() themselves, so tests
 * can drive time. `sleep` is abortable; long waits must poll `now()` in short steps
 * because timers stall while a laptop sleeps.
 */
export interface Clock {
  now(): number; // wall clock, ms since epoch
  monotonic(): number; // ms, for measuring durations
  sleep(ms: number, signal?: AbortSignal): Promise<void>; // resolves early (no throw) on abort
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, Math.min(Math.max(0, ms), 2 ** 31 - 1));
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};
