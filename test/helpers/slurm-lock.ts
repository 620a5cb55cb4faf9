/**
 * A lock on the shared SLURM cluster between test files (vitest runs them in parallel forks,
 * and other worktrees' test runs share the cluster too): the file that sets the node down and
 * preempts jobs (test/slurm/cluster-failures.test.ts) holds it exclusively; every other file
 * that submits jobs holds it shared, from beforeAll to afterAll:
 *
 *   beforeAll(async () => { release = await shareCluster(); }, CLUSTER_LOCK_WAIT_MS);
 *   afterAll(() => release?.());
 *
 * Directories under os.tmpdir(): `exclusive/` (mkdir: one holder; its pid inside) and
 * `shared/<pid>-<random>` files. A holder that died (its pid gone) holds nothing.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** How long a file may wait for the cluster (the disturbing file runs ~1 min; readers as long). */
export const CLUSTER_LOCK_WAIT_MS = 300_000;

const LOCK_ROOT = path.join(os.tmpdir(), 'autoresearch-slurm-cluster-lock');
const WRITER = path.join(LOCK_ROOT, 'exclusive');
const READERS = path.join(LOCK_ROOT, 'shared');

function lockDirs(): void {
  for (const dir of [LOCK_ROOT, READERS]) {
    fs.mkdirSync(dir, { recursive: true });
    // Shared by every user running the tests on this machine (CI runs as root, developers not).
    try {
      fs.chmodSync(dir, 0o1777);
    } catch {
      // someone else's directory, already open to all
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The exclusive holder, unless it died (its pid is gone): then its directory is removed. */
function writerHeld(): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(WRITER, 'pid'), 'utf8'));
  } catch {
    // No pid (yet): made a few ms ago, or left by a kill between mkdir and the write.
    let age: number;
    try {
      age = Date.now() - fs.statSync(WRITER).mtimeMs;
    } catch {
      return false; // not held
    }
    if (age < 10_000) return true;
    fs.rmSync(WRITER, { recursive: true, force: true });
    return false;
  }
  if (alive(pid)) return true;
  fs.rmSync(WRITER, { recursive: true, force: true });
  return false;
}

/** Live shared holders (files `<pid>-<random>`; a dead pid's file is removed). */
function liveReaders(): string[] {
  return fs.readdirSync(READERS).filter((entry) => {
    const pid = Number(entry.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) return true;
    fs.rmSync(path.join(READERS, entry), { force: true });
    return false;
  });
}

/**
 * Shared use of the cluster: waits while a file holds it exclusively (and gives way to one that
 * asked: a reader registers, then looks for the exclusive holder, which registers, then looks
 * for readers — one of the two always sees the other). Returns the release.
 */
export async function shareCluster(timeoutMs = CLUSTER_LOCK_WAIT_MS): Promise<() => void> {
  lockDirs();
  const me = path.join(READERS, `${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!writerHeld()) {
      fs.writeFileSync(me, '');
      if (!writerHeld()) return () => fs.rmSync(me, { force: true });
      fs.rmSync(me, { force: true });
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for the SLURM cluster: ${WRITER} is held`);
    await sleep(250);
  }
}

/** Exclusive use of the cluster (setting the node down, preempting): waits for every shared holder to finish. */
export async function holdClusterExclusively(timeoutMs = CLUSTER_LOCK_WAIT_MS): Promise<() => void> {
  lockDirs();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(WRITER);
      fs.writeFileSync(path.join(WRITER, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      writerHeld(); // removes a dead holder's directory
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for the SLURM cluster: ${WRITER} is held`);
    await sleep(250);
  }
  const release = () => fs.rmSync(WRITER, { recursive: true, force: true });
  for (;;) {
    const readers = liveReaders();
    if (readers.length === 0) return release;
    if (Date.now() > deadline) {
      release();
      throw new Error(`waited ${timeoutMs} ms for the SLURM test files sharing the cluster to finish: ${readers.join(', ')} in ${READERS}`);
    }
    await sleep(250);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
