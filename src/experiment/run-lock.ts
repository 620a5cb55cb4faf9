/**
 * One runner per experiment (and later, one daemon per root). The lock file is created with
 * O_EXCL and holds the owner's pid, process start time and boot id; a lock whose exact
 * owner is gone (dead pid, reused pid, or another boot) is stale and taken over.
 */
import fs from 'node:fs/promises';
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
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(file, 'wx');
      try {
        await handle.writeFile(JSON.stringify(owner) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsyncDirectory(path.dirname(file));
      return heldLock(file, owner);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new AutoresearchError('DURABILITY', `cannot create lock ${file}: ${errorMessage(error)}`);
      }
    }
    const current = await readOwner(file);
    if (current !== null && isSameProcessAlive(current)) {
      throw new AutoresearchError(
        'LOCKED',
        `${opts.what} is already running (pid ${current.pid} on ${current.hostname}, since ${current.since}: ${current.command}). ` +
          `Lock file: ${file}`,
      );
    }
    // The owner is gone (or the file is unreadable debris from a crash mid-write): take over.
    if (current !== null) opts.onStale?.(current);
    await fs.rm(file, { force: true });
  }
  throw new AutoresearchError('LOCKED', `${opts.what}: could not acquire ${file} (another process keeps taking it)`);
}

async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as LockOwner;
    return typeof parsed.pid === 'number' ? parsed : null;
  } catch {
    return null; // vanished or torn: treated as stale
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
      if (current !== null && current.pid === owner.pid && current.since === owner.since) await fs.rm(file, { force: true });
    },
  };
}

export async function readLockOwner(file: string): Promise<LockOwner | null> {
  return readOwner(file);
}
