/**
 * One experiment inside the daemon: its state machine and the life of its loop.
 *
 *   new ──► idle ──turn──► running ──► (between iterations: pause? config edited? others waiting?)
 *            ▲                │  ├─ fair turn / config edited ─► idle (re-queued, reopened)
 *            │                │  ├─ pause ─► paused ──resume──► idle
 *            │                │  ├─ all agents exhausted ─► waiting(until) ──reset or resume──► idle
 *            │                │  ├─ tripped / blocked ──resume──► idle
 *            │                │  ├─ max_experiments / max_runtime ─► done (a config edit may lift it)
 *            └────────────────┘  └─ a git error, a full disk… ─► blocked (contained: the others go on)
 *            idle("held by `run` pid N") ◄── run.lock held by a live foreground run: retried when it frees
 *
 * A concurrency permit (a "turn") is held only while the loop runs; a wait for a quota
 * reset or a pause holds none. Evaluations take a slot from the shared pool inside the loop.
 */
import type { ExperimentConfig } from '../config/types.js';
import type { DiscoveredExperiment } from '../config/discover.js';
import type { Clock } from '../core/clock.js';
import { AutoresearchError, errorMessage } from '../core/errors.js';
import type { SlotPool } from '../core/slot-pool.js';
import { openSession, type LoopDeps, type Session } from '../experiment/open-session.js';
import { assertPreflight } from '../experiment/preflight.js';
import { daemonCpuSharing, noiseSettingsWarning, slurmArgsWarning, timingWarning, uncommittedChangesWarning } from '../experiment/start-warnings.js';
import { experimentPaths } from '../experiment/paths.js';
import { loadState, saveState, waitsForJob } from '../experiment/state.js';
import { readLockOwner } from '../experiment/run-lock.js';
import { isSameProcessAlive } from '../process/process-identity.js';
import type { Logger } from '../log/logger.js';
import { logEvent } from '../log/logger.js';
import type { LoopEvent } from '../loop/events.js';
import { runExperimentLoop, type LoopEnd } from '../loop/experiment-loop.js';
import type { Drafted } from '../loop/draft.js';
import type { ProcessRunner } from '../process/types.js';

export type ExperimentStateName = 'new' | 'idle' | 'running' | 'waiting' | 'blocked' | 'tripped' | 'paused' | 'done';

export interface RunnerDeps {
  projectRoot: string;
  runner: ProcessRunner;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  evalSlots: SlotPool<string>;
  turns: SlotPool<number>;
  /** First sessions are opened one at a time: `git worktree add` in one repository is not concurrent-safe. */
  openMutex: SlotPool<number>;
  logger: Logger;
  /** `--slots` named by the user: each evaluation has its own resource (a CPU set, a GPU). */
  namedSlots: boolean;
  /** The daemon's other experiments that run now or will (for the timing-metric warning). */
  neighbours: (self: string) => string[];
}

/** How many recent warnings `status` shows per experiment. */
const RECENT_WARNINGS = 5;

export interface RunnerSnapshot {
  id: string;
  scope: string;
  dir: string;
  state: ExperimentStateName;
  reason: string | null;
  phase: string | null;
  iteration: number | null;
  lastProgressAt: string | null;
  waitUntil: string | null;
  configError: string | null;
  /** The latest warnings of this experiment since the daemon started it, oldest first. */
  warnings: string[];
}

export class ExperimentRunner {
  private state: ExperimentStateName = 'new';
  private reason: string | null = null;
  private phase: string | null = null;
  private iteration: number | null = null;
  private lastProgressAt: string | null = null;
  private waitUntil: number | null = null;
  private configError: string | null = null;
  private warnings: string[] = [];
  /** Start warnings are said once per experiment and daemon (experiment/start-warnings.ts). */
  private checkoutChecked = false;
  private timingWarned = false;
  private pendingConfig: ExperimentConfig | null = null;
  /** The config whose cluster (executor: slurm) was last found fine: checked again after an edit. */
  private clusterCheckedFor: ExperimentConfig | null = null;
  private pauseRequested = false;
  /** A halted experiment's interrupted iteration was recovered (once per daemon). */
  private haltedRecovered = false;
  /** Aborts the running stretch for a pause (executor: slurm); `abort` is the daemon's stop. */
  private pauseNow: AbortController | null = null;
  private ending: 'stop' | 'remove' | null = null;
  /**
   * pipeline: the draft that was ready when the last turn yielded (no process of it runs), taken
   * first by the next turn if nothing happened in between (the loop checks state.json; a config
   * edit drops it here). Dropped, it is recovered from state.json like a killed run's.
   */
  private carried: { drafted: Drafted; config: ExperimentConfig } | null = null;
  /** A session was opened once: its worktree exists (opening again needs no mutex). */
  private opened = false;
  private readonly abort = new AbortController();
  private wake: () => void = () => {};
  private done: Promise<void> = Promise.resolve();

  constructor(
    readonly found: DiscoveredExperiment,
    private config: ExperimentConfig,
    private readonly deps: RunnerDeps,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.done = this.main().catch((error: unknown) => {
      // main() contains every expected failure; reaching here is a bug, kept to this experiment.
      this.setState('blocked', `internal error: ${errorMessage(error)}`);
      this.logger.error({ err: error }, 'experiment runner failed');
    });
  }

  snapshot(): RunnerSnapshot {
    return {
      id: this.found.id.key,
      scope: this.found.scope,
      dir: this.found.dir,
      state: this.state,
      reason: this.reason,
      phase: this.phase,
      iteration: this.iteration,
      lastProgressAt: this.lastProgressAt,
      waitUntil: this.waitUntil === null ? null : new Date(this.waitUntil).toISOString(),
      configError: this.configError,
      warnings: [...this.warnings],
    };
  }

  /** A valid edit applies from the next iteration; an invalid one keeps the old config. */
  updateConfig(next: ExperimentConfig | { error: string }): void {
    if ('error' in next) {
      this.configError = next.error;
      this.logger.error({ kind: 'config-rejected' }, `config edit rejected, the previous config stays in force: ${next.error}`);
      return;
    }
    this.configError = null;
    this.pendingConfig = next;
    this.logger.info({ kind: 'config-changed' }, 'config changed: applies from the next iteration');
    this.wake();
  }

  pause(): void {
    this.pauseRequested = true;
    this.carried = null; // a pause abandons the draft: the next start recovers it (its change kept)
    this.pauseIfInJob();
    this.wake();
  }

  /**
   * A cluster job may wait in a queue for hours: a pause cancels it at once (no row) rather than
   * waiting for it. During the agent's turn the pause waits for the job the iteration submits
   * next, or for the iteration's end (checked again on every phase event).
   */
  private pauseIfInJob(): void {
    if (this.pauseRequested && this.config.executor === 'slurm' && this.inJob()) this.pauseNow?.abort();
  }

  /** Whether the running iteration waits for a cluster job (set while a session is open). */
  private inJob: () => boolean = () => false;

  /** Clears paused, tripped, blocked, or a wait (like `autoresearch resume` on the files). */
  async resume(): Promise<void> {
    this.pauseRequested = false;
    const file = experimentPaths(this.found.dir).state;
    if (this.state !== 'running') {
      const state = await loadState(file);
      if (state !== null) await saveState(file, { ...state, halt: null, consecutiveCrashes: 0, consecutiveNoChange: 0, exhausted: {} }, new Date(this.deps.clock.now()));
    }
    this.wake();
  }

  /** Removed from disk: stop after the current iteration. */
  remove(): Promise<void> {
    this.ending = 'remove';
    this.wake();
    return this.done;
  }

  /** Daemon shutdown: abort the running iteration (rolled back, no row) and wait for it. */
  stop(): Promise<void> {
    this.ending = 'stop';
    this.abort.abort();
    this.wake();
    return this.done;
  }

  private async main(): Promise<void> {
    this.setState('idle', null);
    while (this.ending === null) {
      if (this.pauseRequested) await this.persistPause(); // asked while not running: no iteration to finish
      const halted = await this.haltedOnDisk();
      // An iteration cut by a kill (its cluster job may still run) is recovered even when halted,
      // once, as `run` does: the loop's recovery cancels its job and rolls it back, then says halted.
      if (halted !== null && !this.haltedRecovered && (await this.interruptedOnDisk())) {
        this.haltedRecovered = true;
      } else if (halted !== null) {
        this.setState(halted.state, halted.reason);
        await this.sleepUntilWoken(null);
        continue;
      }
      if ((this.pendingConfig ?? this.config).agent.kind === 'none') {
        // An external agent drives it, one `autoresearch run <id> --single` per change: the
        // daemon has nothing to iterate (a loop would record "no change" over and over).
        this.setState('idle', 'agent: none: evaluated by `autoresearch run --single`');
        await this.sleepUntilWoken(null);
        continue;
      }
      const end = await this.runOnce();
      if (end === 'held-elsewhere') {
        await this.waitForLockFree();
        continue;
      }
      if (end === null) continue; // failed to open, state set: wait was done inside
      switch (end.kind) {
        case 'interrupted':
          if (this.ending === null && this.pauseRequested) continue; // a pause cut the iteration: persisted above
          return;
        case 'limit':
          this.setState('idle', null); // a fair turn or a config edit: queue again
          continue;
        case 'done':
          this.setState('done', end.reason);
          await this.sleepUntilWoken(null);
          continue;
        case 'exhausted':
          this.waitUntil = end.until;
          this.setState('waiting', `${end.agent}: ${end.message}`);
          await this.sleepUntilWoken(end.until);
          this.waitUntil = null;
          continue;
        case 'backoff': // nothing changed: wait holding no turn (resume, pause, stop wake it)
          this.waitUntil = end.until;
          this.setState('waiting', end.reason);
          await this.sleepUntilWoken(end.until);
          this.waitUntil = null;
          continue;
        case 'tripped':
        case 'blocked':
          this.setState(end.kind, end.reason);
          await this.sleepUntilWoken(null);
          continue;
        case 'halted':
          this.setState(end.state, end.reason);
          await this.sleepUntilWoken(null);
          continue;
        default: {
          const unreachable: never = end;
          return unreachable;
        }
      }
    }
  }

  /** One stretch of the loop while holding a turn. null: it could not start (state says why). */
  private async runOnce(): Promise<LoopEnd | 'held-elsewhere' | null> {
    const turn = await this.deps.turns.acquire(this.abort.signal);
    if (turn === null) return { kind: 'interrupted' };
    try {
      const carried = this.carried;
      this.carried = null;
      if (this.pendingConfig !== null) {
        this.config = this.pendingConfig;
        this.pendingConfig = null;
      }
      const deps: LoopDeps = {
        runner: this.deps.runner,
        clock: this.deps.clock,
        env: this.deps.env,
        evalSlots: this.deps.evalSlots,
        report: (event) => this.onEvent(event),
      };
      // A target that matches nothing, an agent not installed: blocked with the reason, no crash rows.
      // The cluster (executor: slurm) once per config: a controller restart between turns is no reason to block.
      await assertPreflight(this.config, this.deps.projectRoot, this.deps.env, { cluster: this.clusterCheckedFor !== this.config });
      this.clusterCheckedFor = this.config;
      // The first open in this daemon may create or move the worktree: one at a time. Later
      // opens find it in place and run side by side (200 experiments taking turns would
      // otherwise queue on this one mutex for every iteration).
      const opening = this.opened ? null : await this.deps.openMutex.acquire(this.abort.signal);
      if (!this.opened && opening === null) return { kind: 'interrupted' };
      let session;
      try {
        session = await openSession(this.config, this.deps.projectRoot, deps, 'autoresearch daemon');
        this.opened = true;
      } finally {
        opening?.release();
      }
      this.setState('running', null);
      try {
        await this.warnAtStart(session, deps.report);
        if (this.pauseRequested) {
          // Asked while this experiment waited for its turn: not one more iteration.
          this.pauseRequested = false;
          const reason = 'paused by `autoresearch pause`';
          await session.store.update({ halt: { state: 'paused', reason, at: new Date(this.deps.clock.now()).toISOString() } });
          return { kind: 'halted', state: 'paused', reason };
        }
        this.pauseNow = new AbortController();
        this.inJob = () => waitsForJob(session.store.current);
        const result = await runExperimentLoop(session, deps, {
          mode: 'loop',
          maxIterations: null,
          signal: AbortSignal.any([this.abort.signal, this.pauseNow.signal]),
          waitForQuota: false,
          // Drafted under the config in force: a config edit in between drops it (it was read above).
          carried: carried !== null && carried.config === this.config ? carried.drafted : null,
          between: async () => {
            this.warnTiming(deps.report);
            if (this.ending !== null) return 'end';
            if (this.pauseRequested) {
              this.pauseRequested = false;
              return 'pause';
            }
            if (this.pendingConfig !== null) return 'end';
            if (this.deps.turns.waiting > 0) return 'yield'; // a ready draft (pipeline) is handed over to the next turn
            return 'go';
          },
        });
        if (result.carried !== undefined) this.carried = { drafted: result.carried, config: this.config };
        return result.end;
      } finally {
        this.inJob = () => false;
        await session.close();
      }
    } catch (error) {
      if (this.abort.signal.aborted) return { kind: 'interrupted' };
      if (error instanceof AutoresearchError && error.code === 'LOCKED') {
        // A foreground `run` (or another daemon's runner) holds it: not a failure of this
        // experiment. Idle, saying who holds it, and take it over once it is released.
        const owner = await readLockOwner(experimentPaths(this.found.dir).lock).catch(() => null);
        const who = owner === null ? 'another process' : `\`${owner.command}\` pid ${owner.pid}`;
        this.setState('idle', `held by ${who}; retried when it is released`);
        this.logger.info({ kind: 'held-elsewhere', pid: owner?.pid ?? null }, `experiment held by ${who}: waiting for it to finish`);
        return 'held-elsewhere';
      }
      // Contained: this experiment is blocked with the reason; the others go on.
      this.setState('blocked', errorMessage(error));
      this.logger.error({ kind: 'experiment-failed', err: error }, `experiment stopped: ${errorMessage(error)}`);
      return { kind: 'blocked', reason: errorMessage(error) };
    } finally {
      turn.release();
    }
  }

  /** Polls run.lock until its owner is gone (or released), a wake-up (resume, config edit) or stop. */
  private async waitForLockFree(): Promise<void> {
    const lock = experimentPaths(this.found.dir).lock;
    while (this.ending === null) {
      const owner = await readLockOwner(lock).catch(() => null);
      if (owner === null || !isSameProcessAlive(owner)) return;
      let woken = false;
      const previousWake = this.wake;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.wake = () => {
            woken = true;
            resolve();
          };
        }),
        this.deps.clock.sleep(500, this.abort.signal).catch(() => undefined),
      ]);
      this.wake = previousWake;
      if (woken) return;
    }
  }

  private async persistPause(): Promise<void> {
    this.pauseRequested = false;
    const file = experimentPaths(this.found.dir).state;
    const state = await loadState(file);
    const at = new Date(this.deps.clock.now()).toISOString();
    if (state !== null && state.halt === null) await saveState(file, { ...state, halt: { state: 'paused', reason: 'paused by `autoresearch pause`', at } }, new Date(this.deps.clock.now()));
  }

  /** state.json holds an intent: an iteration a kill cut short, not yet recovered. */
  private async interruptedOnDisk(): Promise<boolean> {
    try {
      const state = await loadState(experimentPaths(this.found.dir).state);
      return state?.intent != null || state?.draft != null; // pipeline: a draft's agent may be left too
    } catch {
      return false; // haltedOnDisk says why the state cannot be read
    }
  }

  private async haltedOnDisk(): Promise<{ state: 'tripped' | 'paused' | 'blocked'; reason: string } | null> {
    try {
      const state = await loadState(experimentPaths(this.found.dir).state);
      return state?.halt ?? null;
    } catch (error) {
      return { state: 'blocked', reason: errorMessage(error) };
    }
  }

  /** Until resume, a config edit, pause, stop, or (if given) the wall clock reaches `until`. */
  private async sleepUntilWoken(until: number | null): Promise<void> {
    if (this.ending !== null) return;
    let woken = false;
    const wakePromise = new Promise<void>((resolve) => {
      this.wake = () => {
        woken = true;
        resolve();
      };
    });
    if (until === null) {
      await wakePromise;
      return;
    }
    // Poll the wall clock in short steps: timers stall while a laptop sleeps.
    while (!woken && this.ending === null && this.deps.clock.now() < until) {
      const step = new AbortController();
      await Promise.race([wakePromise, this.deps.clock.sleep(Math.min(1000, until - this.deps.clock.now()), step.signal)]);
      step.abort();
    }
  }

  /** Before the first iteration of a turn: a dirty checkout (once), a timing metric sharing the CPUs (once it does). */
  private async warnAtStart(session: Session, report: (event: LoopEvent) => void): Promise<void> {
    if (!this.checkoutChecked) {
      this.checkoutChecked = true;
      const dirty = await uncommittedChangesWarning(this.config, session.project, session.store.current.lastKept.commit).catch(
        (error: unknown) => `could not check your checkout for uncommitted changes: ${errorMessage(error)}`,
      );
      if (dirty !== null) report({ kind: 'warning', message: dirty });
      const noise = noiseSettingsWarning(this.config);
      if (noise !== null) report({ kind: 'warning', message: noise });
      const slurmArgs = slurmArgsWarning(this.config);
      if (slurmArgs !== null) report({ kind: 'warning', message: slurmArgs });
    }
    this.warnTiming(report);
  }

  /** Also between iterations: an experiment added later makes this one share the CPUs. */
  private warnTiming(report: (event: LoopEvent) => void): void {
    if (!this.timingWarned) {
      const sharing = daemonCpuSharing({
        concurrency: this.deps.turns.size,
        evalSlots: this.deps.evalSlots.size,
        namedSlots: this.deps.namedSlots,
        others: this.deps.neighbours(this.found.id.key),
      });
      const timing = timingWarning(this.config, sharing);
      if (timing !== null) {
        this.timingWarned = true;
        report({ kind: 'warning', message: timing });
      }
    }
  }

  private onEvent(event: LoopEvent): void {
    logEvent(this.logger, event);
    if (event.kind === 'phase') this.pauseIfInJob(); // a pause asked during the agent's turn, now that a job is submitted
    if (event.kind === 'warning') {
      // The daemon's log too: `daemon logs` is where a user looks in the morning.
      this.deps.logger.warn({ experiment: this.found.id.key, kind: 'warning' }, `${this.found.id.key}: ${event.message}`);
      this.warnings = [...this.warnings, event.message].slice(-RECENT_WARNINGS);
    }
    this.lastProgressAt = new Date(this.deps.clock.now()).toISOString();
    if (event.kind === 'phase') this.phase = event.phase;
    if (event.kind === 'setup') this.phase = event.status === 'start' ? 'setup' : null;
    if (event.kind === 'iteration-start') {
      this.iteration = event.iteration;
      this.phase = event.baseline ? 'baseline' : 'start';
    }
    if (event.kind === 'iteration-end') this.phase = 'between iterations';
  }

  private setState(state: ExperimentStateName, reason: string | null): void {
    if (state !== this.state || reason !== this.reason) this.logger.info({ kind: 'state', state, reason }, `state ${state}${reason ? `: ${reason}` : ''}`);
    this.state = state;
    this.reason = reason;
  }
}
