/**
 * The narrow process port the core sees (STYLE §2). One adapter (run-process.ts) wraps
 * execa; core tests may pass a fake.
 */
import type { EnvTag } from './escapees.js';

export interface RunSpec {
  /** Shell command line, run with /bin/sh -c in its own process group. */
  command: string;
  cwd: string;
  /** The child's complete environment (not merged with process.env: callers decide what leaks). */
  env: Record<string, string | undefined>;
  /** A file fed to stdin; stdin is /dev/null when absent. */
  stdinFile?: string;
  /** stdout is appended to this file (never held in memory). */
  stdoutFile: string;
  /** stderr is appended here; defaults to stdoutFile (interleaved, one log). */
  stderrFile?: string;
  /** Hard limit for the whole process tree: TERM to the group, grace, then KILL. */
  timeoutMs: number;
  /** Time between TERM and KILL. Default 2000 ms. */
  killGraceMs?: number;
  /** Abort (graceful stop): same tree kill as a timeout, outcome `aborted`. */
  signal?: AbortSignal;
  /**
   * Processes carrying this `name=value` in their environment are the run's: any that left
   * the process group (setsid, double fork) are killed once the group is gone.
   */
  escapeTag?: EnvTag;
  /** Told about each escapee group that was killed (or survived SIGKILL). */
  onEscapee?: (message: string) => void;
  /** Called once the child runs, e.g. to record its identity in an intent record. */
  onSpawn?: (child: SpawnedChild) => void;
}

export interface SpawnedChild {
  pid: number;
  /** = pid: the child leads its own process group. */
  pgid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22), null if unknown. */
  startTime: number | null;
}

export type ProcessOutcome =
  | { kind: 'exit'; code: number; durationMs: number }
  | { kind: 'signal'; signal: string; durationMs: number }
  | { kind: 'timeout'; durationMs: number }
  | { kind: 'aborted'; durationMs: number }
  | { kind: 'spawn-error'; message: string; durationMs: number };

export interface ProcessRunner {
  run(spec: RunSpec): Promise<ProcessOutcome>;
}
