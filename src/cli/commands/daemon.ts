/** `autoresearch daemon start | stop | status | logs | reload | install`. */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { defaultSlotNames } from '../../core/slot-pool.js';
import { daemonFiles, type DaemonInfo } from '../../daemon/daemon-files.js';
import { runDaemon } from '../../daemon/daemon-main.js';
import { defaultServiceOptions, serviceInstallPlan, writeServiceFile } from '../../daemon/service-units.js';
import { readTail } from '../../fs/read-tail.js';
import { followUntilInterrupted } from '../follow.js';
import { isSameProcessAlive } from '../../process/process-identity.js';
import { daemonRequest, liveDaemon } from '../daemon-client.js';
import { printStatusTable } from './status.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 60_000;

export interface StartOptions {
  projectRoot: string;
  foreground: boolean;
  concurrency: number;
  slots: string[] | undefined;
}

export async function daemonStart(opts: StartOptions, out: (text: string) => void): Promise<number> {
  const slots = opts.slots ?? defaultSlotNames(opts.concurrency);
  if (opts.foreground) {
    const code = await runDaemon({ projectRoot: opts.projectRoot, concurrency: opts.concurrency, slots });
    // Everything is stopped and logged (sync); a library timer (chokidar's) must not keep
    // the process up for another second after it said it stopped.
    setTimeout(() => process.exit(code), 100);
    return code;
  }

  const running = await liveDaemon(opts.projectRoot);
  if (running !== null) throw alreadyRunning(running);
  const files = daemonFiles(opts.projectRoot);
  fs.mkdirSync(files.dir, { recursive: true });
  const log = fs.openSync(files.log, 'a');
  // A small young generation (the bin's shebang has 8 MB, for a foreground loop's speed): the
  // daemon holds many experiments for days, and its footprint matters more than ~1 ms of CPU
  // per iteration (bench/daemon.mjs: 30 MB less after warm-up).
  const args = ['--max-semi-space-size=2', CLI, '--path', opts.projectRoot, 'daemon', 'start', '--foreground', '--concurrency', String(opts.concurrency), '--slots', slots.join(',')];
  // Detached: its own session, stdio to daemon.log; this process returns once it is up.
  const child = execa(process.execPath, args, { detached: true, cleanup: false, reject: false, stdin: 'ignore', stdout: 'ignore', stderr: log as 3, cwd: opts.projectRoot });
  fs.closeSync(log);
  child.unref();
  let exited = false;
  void child.then(() => (exited = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const info = await liveDaemon(opts.projectRoot);
    if (info !== null && info.pid === child.pid) {
      out(`daemon started (pid ${info.pid}) for ${info.root}\n  status: http://127.0.0.1:${info.port}/\n  log:    ${files.log}\n`);
      return EXIT.ok;
    }
    if (exited) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = readTail(files.log, 2000);
  if (!exited) child.kill('SIGTERM');
  throw new AutoresearchError('BAD_INPUT', `the daemon did not start${exited ? ' (it exited)' : ` within ${START_TIMEOUT_MS / 1000} s`}; the end of ${files.log}:\n${tail}`);
}

export async function daemonStop(projectRoot: string, out: (text: string) => void): Promise<number> {
  const info = await liveDaemon(projectRoot);
  if (info === null) {
    out('no daemon is running for this project\n');
    return EXIT.ok;
  }
  const started = Date.now();
  process.kill(info.pid, 'SIGTERM');
  while (isSameProcessAlive(info)) {
    if (Date.now() - started > STOP_TIMEOUT_MS) throw new AutoresearchError('BAD_INPUT', `the daemon (pid ${info.pid}) is still running ${STOP_TIMEOUT_MS / 1000} s after SIGTERM`);
    await new Promise((r) => setTimeout(r, 50));
  }
  out(`daemon stopped (pid ${info.pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return EXIT.ok;
}

export async function daemonStatus(projectRoot: string, json: boolean, out: (text: string) => void): Promise<number> {
  const info = await liveDaemon(projectRoot);
  if (info === null) {
    // Not running is not an error, but scripts must tell it from running: exit 3 (SPEC §8), as LSB's `status`.
    if (json) out(JSON.stringify({ daemon: null, experiments: [] }, null, 2) + '\n');
    else out('no daemon is running for this project (`autoresearch daemon start`)\n');
    return EXIT.stopped;
  }
  const status = (await daemonRequest(info, 'GET', '/api/status')) as { daemon: { pid: number; uptime_s: number; root: string }; experiments: Parameters<typeof printStatusTable>[0] };
  if (json) {
    out(JSON.stringify(status, null, 2) + '\n');
    return EXIT.ok;
  }
  out(`daemon pid ${status.daemon.pid}, up ${status.daemon.uptime_s} s, ${status.daemon.root}, http://127.0.0.1:${info.port}/\n`);
  printStatusTable(status.experiments, out);
  return EXIT.ok;
}

export async function daemonReload(projectRoot: string, out: (text: string) => void): Promise<number> {
  const info = await liveDaemon(projectRoot);
  if (info === null) throw new AutoresearchError('BAD_INPUT', 'no daemon is running for this project: nothing to reload');
  process.kill(info.pid, 'SIGHUP');
  out(`sent SIGHUP to the daemon (pid ${info.pid}): configs are rescanned\n`);
  return EXIT.ok;
}

export async function daemonLogs(projectRoot: string, follow: boolean, out: (text: string) => void): Promise<number> {
  const file = daemonFiles(projectRoot).log;
  if (!fs.existsSync(file)) throw new AutoresearchError('BAD_INPUT', `no daemon log yet: expected ${file}`);
  // The tail up to a size read once, and following from exactly there: no line lost or repeated between them.
  let offset = fs.statSync(file).size;
  out(readRange(file, Math.max(0, offset - 64 * 1024), offset));
  if (!follow) return EXIT.ok;
  // Polling the size: simple, and it survives the file being recreated.
  await followUntilInterrupted(() => {
    const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
    if (size < offset) offset = 0;
    if (size > offset) {
      out(readRange(file, offset, size));
      offset = size;
    }
  }, 250);
  return EXIT.ok;
}

/** Bytes [start, end) of a file as UTF-8 ('' if it vanished meanwhile). */
function readRange(file: string, start: number, end: number): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const buffer = Buffer.alloc(end - start);
    const read = fs.readSync(fd, buffer, 0, buffer.length, start);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export async function daemonInstall(
  opts: { projectRoot: string; kind: 'systemd' | 'launchd'; print: boolean; force: boolean; daemonArgs?: string[] },
  out: (text: string) => void,
): Promise<number> {
  const home = os.homedir();
  const plan = serviceInstallPlan(opts.kind, {
    // The real file behind npm's bin symlink: the unit must not depend on how it was found.
    ...defaultServiceOptions({ project: opts.projectRoot, home, node: process.execPath, cli: fs.realpathSync(CLI), currentPath: process.env.PATH }),
    home,
    daemonArgs: opts.daemonArgs ?? [],
    ...(process.env.XDG_CONFIG_HOME ? { configHome: process.env.XDG_CONFIG_HOME } : {}),
  });
  if (opts.print) {
    out(plan.content);
    return EXIT.ok;
  }
  const outcome = await writeServiceFile(plan, { force: opts.force });
  out(`${outcome === 'unchanged' ? 'already up to date' : outcome}: ${plan.path}\nnext:\n${plan.then.map((c) => `  ${c}`).join('\n')}\n`);
  return EXIT.ok;
}

function alreadyRunning(info: DaemonInfo): AutoresearchError {
  return new AutoresearchError('LOCKED', `a daemon is already running for ${info.root} (pid ${info.pid}, since ${info.startedAt}); \`autoresearch daemon stop\` stops it`);
}
