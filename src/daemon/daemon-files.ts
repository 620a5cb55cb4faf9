/**
 * The daemon's own files, next to the experiments of the project scope:
 * <project>/.autoresearch/daemon.lock (one daemon per root), daemon.json (pid, port, token:
 * how the CLI finds and talks to it), daemon.log (its JSON log when detached).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ensureIgnored } from '../experiment/gitignore.js';
import { writeFileDurable } from '../fs/durable.js';
import { isSameProcessAlive, type ProcessIdentity } from '../process/process-identity.js';

export interface DaemonFiles {
  dir: string;
  lock: string;
  info: string;
  log: string;
}

export function daemonFiles(projectRoot: string): DaemonFiles {
  const dir = path.join(projectRoot, '.autoresearch');
  return { dir, lock: path.join(dir, 'daemon.lock'), info: path.join(dir, 'daemon.json'), log: path.join(dir, 'daemon.log') };
}

export interface DaemonInfo extends ProcessIdentity {
  port: number;
  /** Required on every request that changes something: a web page in a browser must not pause experiments. */
  token: string;
  startedAt: string;
  root: string;
  concurrency: number;
  slots: string[];
}

export async function writeDaemonInfo(files: DaemonFiles, info: DaemonInfo): Promise<void> {
  // 0600 from the first byte: the token must never be readable by another user.
  await writeFileDurable(files.info, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
}

/** The running daemon's info, or null when none runs (a stale file is ignored). */
export async function readLiveDaemon(files: DaemonFiles): Promise<DaemonInfo | null> {
  let info: DaemonInfo;
  try {
    info = JSON.parse(await fs.readFile(files.info, 'utf8')) as DaemonInfo;
  } catch {
    return null;
  }
  return typeof info.pid === 'number' && isSameProcessAlive(info) ? info : null;
}

/** Daemon-owned files never show in `git status`. */
export async function ensureDaemonGitignore(files: DaemonFiles): Promise<void> {
  await ensureIgnored(path.join(files.dir, '.gitignore'), ['daemon.lock', 'daemon.json', 'daemon.log', '*.tmp'], "# Written by autoresearch: the daemon's own files.");
}
