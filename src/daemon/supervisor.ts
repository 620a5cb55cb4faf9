/**
 * Every experiment under the root, each in its own ExperimentRunner. A rescan (start, a
 * config file event, SIGHUP) diffs what is on disk against what runs: new experiments
 * start, edited configs are handed over (invalid edits are rejected, the old config kept),
 * removed ones stop after their current iteration.
 */
import fs from 'node:fs';
import { discoverExperiments, type DiscoveredExperiment } from '../config/discover.js';
import { parseConfigText } from '../config/parse-config.js';
import type { ExperimentConfig } from '../config/types.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { ExperimentRunner, type RunnerDeps, type RunnerSnapshot } from './experiment-runner.js';

const ACTIVE_STATES: ReadonlySet<string> = new Set(['new', 'idle', 'running']);

interface Entry {
  runner: ExperimentRunner;
  configText: string;
}

export class Supervisor {
  private readonly entries = new Map<string, Entry>();
  /** Removed from disk, finishing their current iteration: a stop must wait for them too. */
  private readonly removing = new Set<ExperimentRunner>();
  /** Experiments whose config never parsed: shown in status, started once fixed. */
  private readonly invalid = new Map<string, { found: DiscoveredExperiment; error: string; text: string }>();
  private scanning: Promise<void> = Promise.resolve();
  /** The rescan queued behind the one running, not started yet. */
  private queued: Promise<void> | null = null;
  private stopping = false;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly experimentLogger: (found: DiscoveredExperiment) => Logger,
  ) {}

  /**
   * Serialised: events arrive in bursts, and each rescan reads the whole tree anyway. Calls
   * while one waits to start join it (a burst of 200 new experiments is one more rescan, not
   * 200 queued ones, each reading every config).
   */
  rescan(): Promise<void> {
    if (this.queued !== null) return this.queued;
    const next = this.scanning
      .then(() => {
        this.queued = null;
        return this.rescanNow();
      })
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error }, `rescan failed: ${errorMessage(error)}`);
      });
    this.queued = next;
    this.scanning = next;
    return next;
  }

  get(id: string): ExperimentRunner | undefined {
    return this.entries.get(id)?.runner;
  }

  /** Experiments that run now or will without anyone's action (not paused, tripped, blocked or done). */
  activeIds(): string[] {
    return [...this.entries.values()].map((e) => e.runner.snapshot()).filter((s) => ACTIVE_STATES.has(s.state)).map((s) => s.id);
  }

  snapshot(): RunnerSnapshot[] {
    const invalid: RunnerSnapshot[] = [...this.invalid.values()].map(({ found, error }) => ({
      id: found.id.key,
      scope: found.scope,
      dir: found.dir,
      state: 'new',
      reason: 'config.cfg is invalid',
      phase: null,
      iteration: null,
      lastProgressAt: null,
      waitUntil: null,
      configError: error,
      warnings: [],
    }));
    return [...[...this.entries.values()].map((e) => e.runner.snapshot()), ...invalid].sort((a, b) => a.id.localeCompare(b.id));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Every runner is stopped at once, a rescan in progress or not (it starts no runner once
    // stopping); then the rescan's end, then any runner it started before it saw `stopping`.
    const stopping = [...[...this.entries.values()].map((e) => e.runner), ...this.removing].map((runner) => runner.stop());
    await this.scanning;
    const late = [...this.entries.values()].map((e) => e.runner).map((runner) => runner.stop());
    await Promise.all([...stopping, ...late]);
  }

  private async rescanNow(): Promise<void> {
    if (this.stopping) return;
    const found = await discoverExperiments(this.deps.projectRoot);
    const seen = new Set<string>();
    for (const experiment of found) {
      const id = experiment.id.key;
      seen.add(id);
      if (this.stopping) return;
      const text = readConfigText(`${experiment.dir}/config.cfg`);
      if (text === null) continue; // vanished between the scan and the read: the next event rescans
      const entry = this.entries.get(id);
      if (entry !== undefined) {
        if (entry.configText === text) continue;
        entry.configText = text;
        entry.runner.updateConfig(parse(text, experiment));
        continue;
      }
      const config = parse(text, experiment);
      const logger = this.experimentLogger(experiment);
      if ('error' in config) {
        // Never ran with a valid config: reported, and picked up when the file is fixed.
        if (this.invalid.get(id)?.text !== text) {
          logger.error({ kind: 'config-rejected' }, config.error);
          this.deps.logger.error({ experiment: id }, `not starting ${id}: ${config.error}`);
        }
        this.invalid.set(id, { found: experiment, error: config.error, text });
        continue;
      }
      this.invalid.delete(id);
      const runner = new ExperimentRunner(experiment, config, this.deps, logger);
      this.entries.set(id, { runner, configText: text });
      this.deps.logger.info({ experiment: id }, `starting ${id}`);
      runner.start();
    }
    for (const id of this.invalid.keys()) if (!seen.has(id)) this.invalid.delete(id);
    for (const [id, entry] of this.entries) {
      if (seen.has(id)) continue;
      this.entries.delete(id);
      this.deps.logger.info({ experiment: id }, `${id} was removed: stopping it after its current iteration`);
      this.removing.add(entry.runner);
      void entry.runner.remove().finally(() => this.removing.delete(entry.runner));
    }
  }
}

/**
 * Read synchronously: a few hundred bytes each, and the thread pool may be queued behind the
 * loops' fsyncs (a rescan of 200 configs then took seconds, and held up the daemon's stop).
 */
function readConfigText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function parse(text: string, found: DiscoveredExperiment): ExperimentConfig | { error: string } {
  try {
    return parseConfigText(text, { file: `${found.dir}/config.cfg`, dir: found.dir, id: found.id, scope: found.scope });
  } catch (error) {
    return { error: errorMessage(error) };
  }
}
