/**
 * One runner per experiment (and later, one daemon per root). The lock file is created with
 * O_EXCL and holds the owner's pid, process start time and boot id; a lock whose exact
 * owner is gone (dead pid, reused pid, or another boot) is stale and taken over.
 */
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import os from 'node:os';
import { AutoresearchError, errorMessage } from '../core/errors.js';
import { fsyncDirectory } from '../fs/durable.js';
import path from 'node:path';
import { currentProcessIdentity, isSameProcessAlive, type ProcessIdentity } from '../process/process-identity.js';

export interface LockOwner extends ProcessIdentity {
  hostname: string;
  since: string; // ISO 8601
  command: string;
}

export interface HeldLock {
  file: string;
  release(): Promise<void>; // idempotent
}

export async function acquireLock(
  file: string,
  opts: { what: string; command: string; onStale?: (owner: LockOwner) => void },
): Promise<HeldLock> {
  const owner: LockOwner = { ...currentProcessIdentity(), hostname: os.hostname(), since: new Date().toISOString(), command: opts.command };
  const content = JSON.stringify(owner) + '\n';
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await linkIntoPlace(file, content)) return heldLock(file, owner);
    const current = await readOwner(file);
    if (current === undefined) continue; // released between our attempt and our read: try again
    if (current !== null && isSameProcessAlive(current)) {
      throw new AutoresearchError(
        'LOCKED',
        `${opts.what} is already running (pid ${current.pid} on ${current.hostname}, since ${current.since}: ${current.command}). ` +
          `Lock file: ${file}`,
      );
    }
    // The owner is gone (or the file is unreadable debris): take over, but only that file.
    if (await removeIfStill(file, current)) {
      if (current !== null) opts.onStale?.(current);
    }
  }
  throw new AutoresearchError('LOCKED', `${opts.what}: could not acquire ${file} (another process keeps taking it)`);
}

/**
 * Create the lock with its content in one step: written to a temp file, fsynced, then
 * hard-linked into place (link(2) fails if the lock exists). Nobody ever sees it empty,
 * so nobody mistakes a lock being written for a stale one.
 */
async function linkIntoPlace(file: string, content: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const handle = await fs.open(tmp, 'wx');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.link(tmp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    await fsyncDirectory(path.dirname(file));
    return true;
  } catch (error) {
    throw new AutoresearchError('DURABILITY', `cannot create lock ${file}: ${errorMessage(error)}`);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Remove a stale lock only if it is still the one judged stale: it is first renamed aside
 * (atomic), then compared; a fresh lock that another process created meanwhile is put back.
 */
async function removeIfStill(file: string, judged: LockOwner | null): Promise<boolean> {
  const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await fs.rename(file, aside);
  } catch {
    return false; // someone else took it over (or released it) first
  }
  const moved = await readOwner(aside);
  if (judged !== null && moved !== null && moved !== undefined && (moved.pid !== judged.pid || moved.since !== judged.since)) {
    await fs.link(aside, file).catch(() => undefined); // not ours to remove: back in place unless replaced
    await fs.rm(aside, { force: true });
    return false;
  }
  await fs.rm(aside, { force: true });
  return true;
}

/** The lock's owner; null when the file is unreadable debris, undefined when it is gone. */
async function readOwner(file: string): Promise<LockOwner | null | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return ownerOf(text);
}

function ownerOf(text: string): LockOwner | null {
  try {
    const parsed = JSON.parse(text) as LockOwner;
    return typeof parsed.pid === 'number' ? parsed : null;
  } catch {
    return null;
  }
}

function heldLock(file: string, owner: LockOwner): HeldLock {
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      // Only remove the file if it is still ours.
      const current = await readOwner(file);
      if (current != null && current.pid === owner.pid && current.since === owner.since) await fs.rm(file, { force: true });
    },
  };
}

export async function readLockOwner(file: string): Promise<LockOwner | null> {
  return (await readOwner(file)) ?? null;
}

/** readLockOwner without the thread pool: `status` reads a thousand of them. */
export function readLockOwnerSync(file: string): LockOwner | null {
  let text: string;
  try {
    text = fsSync.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return ownerOf(text) ?? null;
}
