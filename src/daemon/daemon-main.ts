/**
 * The daemon process (`daemon start --foreground`, or detached by `daemon start`): one per
 * `.autoresearch` root. Composition root of the service: lock, logs, supervisor, config
 * watcher, the loopback control server, and the signals of SPEC §9.
 *
 *   SIGTERM / SIGINT  graceful: every running iteration is aborted (process trees killed,
 *                     git rolled back, no row), state saved, exit 0 within 15 s
 *   second signal     kill every child now, exit 130
 *   SIGHUP            rescan configs without stopping running iterations
 *   SIGUSR2           a status snapshot in the log
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { autoresearchHome, discoverExperiments } from '../config/discover.js';
import { systemClock } from '../core/clock.js';
import { EXIT } from '../core/errors.js';
import { areDefaultSlotNames, SlotPool } from '../core/slot-pool.js';
import { experimentPaths } from '../experiment/paths.js';
import { readExperimentStatus, type ExperimentStatus } from '../experiment/experiment-status.js';
import { acquireLock } from '../experiment/run-lock.js';
import { openProject } from '../git/project-repo.js';
import { takeEarlySignals } from '../cli/early-signals.js';
import { createLogger } from '../log/logger.js';
import { LiveGroups } from '../process/live-groups.js';
import { currentProcessIdentity } from '../process/process-identity.js';
import { createProcessRunner } from '../process/run-process.js';
import { watchConfigs } from './config-watcher.js';
import { startControlServer } from './control-server.js';
import { daemonFiles, ensureDaemonGitignore, writeDaemonInfo } from './daemon-files.js';
import { Supervisor } from './supervisor.js';
import { cachedDashboard, collectDashboard } from '../dashboard/collect.js';
import { renderDashboardHtml } from '../dashboard/render.js';

export interface DaemonOptions {
  projectRoot: string;
  concurrency: number;
  slots: string[];
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const project = await openProject(opts.projectRoot); // fails early, with its message, if not a repository
  const root = project.root;
  const files = daemonFiles(root);
  await fs.mkdir(files.dir, { recursive: true });
  await ensureDaemonGitignore(files);
  // JSON lines to daemon.log (what `daemon logs` reads) and to stdout (a service manager's
  // journal; ignored when `daemon start` detached it).
  const logger = createLogger({ file: files.log, consoleLevel: 'silent', stdout: true });
  const lock = await acquireLock(files.lock, {
    what: `the autoresearch daemon for ${root}`,
    command: `autoresearch daemon start`,
    onStale: (owner) => logger.warn({ pid: owner.pid }, `recovered a stale daemon lock left by pid ${owner.pid}`),
  });
  const startedAt = new Date();
  const liveGroups = new LiveGroups();
  const supervisor: Supervisor = new Supervisor(
    {
      projectRoot: root,
      runner: createProcessRunner({ liveGroups }),
      clock: systemClock,
      env: process.env,
      evalSlots: new SlotPool(opts.slots),
      turns: new SlotPool(Array.from({ length: opts.concurrency }, (_, i) => i)),
      openMutex: new SlotPool([0]),
      logger,
      namedSlots: !areDefaultSlotNames(opts.slots),
      neighbours: (self: string): string[] => supervisor.activeIds().filter((id) => id !== self),
    },
    (found) => createLogger({ file: experimentPaths(found.dir).log, consoleLevel: 'silent', name: found.id.key }),
  );

  let stopRequested: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  const status = async () => daemonStatus(root, startedAt, opts, supervisor);
  const token = crypto.randomBytes(24).toString('hex');
  // The dashboard at GET /, with the live states of the status cache; rebuilt at most every 2 s.
  const dashboard = cachedDashboard(() => collectDashboard(root, { live: true, statuses: (statusCache as DaemonStatus).experiments }));
  const server = await startControlServer(token, {
    status: () => statusCache,
    pause: async (id) => {
      const runner = supervisor.get(id);
      runner?.pause();
      return runner !== undefined;
    },
    resume: async (id) => {
      const runner = supervisor.get(id);
      await runner?.resume();
      return runner !== undefined;
    },
    reload: () => supervisor.rescan(),
    stop: () => stopRequested(),
    page: async () => renderDashboardHtml(await dashboard()),
    dashboard: () => dashboard(),
  }, (message, error) => logger.warn({ err: error }, message));
  // Status is recomputed in the background: a request never waits on disk reads.
  let statusCache: unknown = await status();
  const refresh = setInterval(() => void status().then((s) => (statusCache = s)), 1000);

  await writeDaemonInfo(files, { ...currentProcessIdentity(), port: server.port, token, startedAt: startedAt.toISOString(), root, concurrency: opts.concurrency, slots: opts.slots });
  const watcher = watchConfigs([files.dir, autoresearchHome()], () => void supervisor.rescan(), (error) => logger.warn({ err: error }, 'config watcher error'));
  logger.info({ kind: 'daemon-started', pid: process.pid, port: server.port, concurrency: opts.concurrency, slots: opts.slots }, `daemon started for ${root} on http://127.0.0.1:${server.port}/`);

  let signals = 0;
  const onStop = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      logger.info({ signal }, `${signal}: stopping every experiment (running iterations are rolled back)`);
      stopRequested();
      return;
    }
    logger.warn({ signal }, `${signal} again: killing every child now`);
    liveGroups.killAll('SIGKILL');
    process.exit(EXIT.interrupted);
  };
  const onHup = () => {
    logger.info({ signal: 'SIGHUP' }, 'SIGHUP: reloading configs');
    void supervisor.rescan();
  };
  const onUsr2 = () => void status().then((s) => logger.info({ kind: 'status-snapshot', status: s }, 'status snapshot (SIGUSR2)'));
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  process.on('SIGUSR2', onUsr2);
  for (const signal of takeEarlySignals()) onStop(signal); // sent while the daemon was starting

  await supervisor.rescan();
  await stopped;

  const stopping = Date.now();
  clearInterval(refresh);
  await watcher.close();
  await supervisor.stop();
  await server.close();
  await fs.rm(files.info, { force: true });
  await lock.release();
  logger.info({ kind: 'daemon-stopped', ms: Date.now() - stopping }, `daemon stopped in ${Date.now() - stopping} ms`);
  process.off('SIGHUP', onHup);
  process.off('SIGUSR2', onUsr2);
  return EXIT.ok;
}

export interface DaemonStatus {
  daemon: { pid: number; root: string; started_at: string; uptime_s: number; concurrency: number; slots: string[] };
  experiments: Array<ExperimentStatus & { config_error: string | null }>;
}

async function daemonStatus(root: string, startedAt: Date, opts: DaemonOptions, supervisor: Supervisor): Promise<DaemonStatus> {
  const now = Date.now();
  const live = new Map(supervisor.snapshot().map((s) => [s.id, s]));
  const experiments = await Promise.all(
    (await discoverExperiments(root)).map(async (found) => {
      const onDisk = await readExperimentStatus(found, now);
      const runner = live.get(found.id.key);
      if (runner === undefined) return onDisk;
      return {
        ...onDisk,
        // Between turns the files say more (new, done…); otherwise the runner knows best.
        state: runner.state === 'idle' ? onDisk.state : runner.state,
        reason: runner.reason ?? onDisk.reason,
        wait_until: runner.waitUntil ?? onDisk.wait_until,
        phase: runner.phase ?? onDisk.phase,
        // The start time the files know is of their phase: only said when the runner's is the same.
        phase_started_at: runner.phase === null || runner.phase === onDisk.phase ? onDisk.phase_started_at : null,
        last_progress: runner.lastProgressAt ?? onDisk.last_progress,
        config_error: runner.configError ?? onDisk.config_error,
        warnings: runner.warnings,
      } satisfies ExperimentStatus;
    }),
  );
  return {
    daemon: { pid: process.pid, root: path.resolve(root), started_at: startedAt.toISOString(), uptime_s: Math.round((now - startedAt.getTime()) / 1000), concurrency: opts.concurrency, slots: opts.slots },
    experiments,
  };
}
