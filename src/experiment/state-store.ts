/**
 * The in-memory copy of state.json and the only writer of it. Writes are serialised (an
 * onSpawn callback may record a child while the loop writes the next intent) and each one
 * is durable before `update` resolves.
 */
import type { Clock } from '../core/clock.js';
import { loadState, saveState, type ExperimentState } from './state.js';

export class StateStore {
  private state: ExperimentState;
  private tail: Promise<void> = Promise.resolve();
  /** Whether `state` holds staged changes that no write has carried yet. */
  private unwritten = false;

  constructor(
    readonly file: string,
    initial: ExperimentState,
    private readonly clock: Clock,
  ) {
    this.state = initial;
  }

  get current(): ExperimentState {
    return this.state;
  }

  /** Apply `change` now (synchronously, so readers see it) and persist it in order. */
  update(change: Partial<ExperimentState> | ((s: ExperimentState) => ExperimentState)): Promise<void> {
    this.stage(change);
    const snapshot = this.state;
    this.unwritten = false;
    const write = this.tail.then(() => saveState(this.file, snapshot, new Date(this.clock.now())));
    // A failed write fails this update and every later one: durability errors stop the loop.
    this.tail = write;
    return write;
  }

  /**
   * Apply `change` in memory only: written with the next `update`. For a step whose write
   * would protect nothing because recovery rebuilds it from what is already durable (a
   * decided iteration: from its row and result.json, loop/recovery.ts).
   */
  stage(change: Partial<ExperimentState> | ((s: ExperimentState) => ExperimentState)): void {
    this.state = typeof change === 'function' ? change(this.state) : { ...this.state, ...change };
    this.unwritten = true;
  }

  /** Write what was staged, if anything was: before a wait, a hand-over or the end of a run. */
  persist(): Promise<void> {
    return this.unwritten ? this.update({}) : this.tail;
  }

  /**
   * Adopt what another process wrote (`autoresearch resume` while this one waits). Only
   * called when this process has nothing in flight, so nothing of ours is overwritten; what
   * it staged is written first, never dropped.
   */
  async reload(): Promise<void> {
    await this.persist();
    const loaded = await loadState(this.file);
    if (loaded !== null) this.state = loaded;
  }

  /** Wait for every pending write. */
  flush(): Promise<void> {
    return this.tail;
  }
}
