/**
 * One poller for every job of the process: each tick is ONE `squeue` call naming every job
 * someone waits on (a daemon may have 16 in flight), not one call per job. It runs only while
 * someone waits; a tick comes at most every `pollMs` (200 ms: SLURM answers in ~10 ms, and
 * end-to-detect stays ~0.1 s, shared/research/slurm.md).
 */
import { errorMessage } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { SlurmCli, SlurmJob } from './slurm-cli.js';

/** What a tick saw of one name: its newest job, none (not or no longer in squeue), or squeue failed. */
export type Sighting = { kind: 'found'; job: SlurmJob } | { kind: 'missing' } | { kind: 'error'; message: string };

export interface JobWatcher {
  /** The next tick's sighting of `name`; `{kind: 'error', message: 'aborted'}` at once when `signal` aborts. */
  next(name: string, signal?: AbortSignal): Promise<Sighting>;
}

interface Waiter {
  name: string;
  resolve: (sighting: Sighting) => void;
}

export function createJobWatcher(cli: SlurmCli, clock: Clock, pollMs: number): JobWatcher {
  let waiters: Waiter[] = [];
  let running = false;
  let lastTick = -Infinity;

  const loop = async (): Promise<void> => {
    running = true;
    try {
      while (waiters.length > 0) {
        const wait = lastTick + pollMs - clock.monotonic();
        if (wait > 0) await clock.sleep(wait);
        const batch = waiters;
        waiters = [];
        if (batch.length === 0) continue;
        lastTick = clock.monotonic();
        const names = [...new Set(batch.map((w) => w.name))];
        let sightings: Map<string, Sighting>;
        try {
          const jobs = await cli.jobsNamed(names);
          sightings = new Map(names.map((name) => [name, newest(jobs.filter((job) => job.name === name))]));
        } catch (error) {
          const failed: Sighting = { kind: 'error', message: errorMessage(error) };
          sightings = new Map(names.map((name) => [name, failed]));
        }
        for (const waiter of batch) waiter.resolve(sightings.get(waiter.name) ?? { kind: 'missing' });
      }
    } finally {
      running = false;
    }
  };

  return {
    next(name, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve({ kind: 'error', message: 'aborted' });
        const waiter: Waiter = {
          name,
          resolve: (sighting) => {
            signal?.removeEventListener('abort', onAbort);
            resolve(sighting);
          },
        };
        const onAbort = (): void => {
          waiters = waiters.filter((w) => w !== waiter);
          resolve({ kind: 'error', message: 'aborted' });
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
        if (!running) void loop();
      });
    },
  };
}

/** The newest of several jobs with one name (a reused name after a controller crash): the highest id. */
function newest(jobs: SlurmJob[]): Sighting {
  if (jobs.length === 0) return { kind: 'missing' };
  const job = jobs.reduce((a, b) => (Number.parseInt(b.id, 10) > Number.parseInt(a.id, 10) ? b : a));
  return { kind: 'found', job };
}
