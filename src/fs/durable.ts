/**
 * Durable whole-file writes: the state file, the ledger header, an upgraded ledger.
 * Every write is atomic (temp file + rename: a reader, or a restart after kill -9, sees the
 * old or the new content, never a mix). How much of it survives a power loss is the
 * caller's choice (`Durability`), by what the file protects (docs/ARCHITECTURE.md, "Which
 * write protects what").
 *
 * A rename is atomic but not durable on its own (npm/write-file-atomic #64): without an
 * fsync of the temp file, ext4's delayed allocation can leave a zero-length file after a
 * power loss, and without an fsync of the directory the rename itself can be lost.
 * fsync errors are never retried: after EIO the kernel may already have dropped the dirty
 * pages, so a second fsync can "succeed" with the data gone (PostgreSQL "fsyncgate").
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AutoresearchError, errorMessage } from '../core/errors.js';

function durabilityError(operation: string, cause: unknown): AutoresearchError {
  return new AutoresearchError('DURABILITY', `${operation} failed: ${errorMessage(cause)}`, { cause });
}

let tempCounter = 0;

/**
 * What survives a power loss (a kill of this process loses nothing at either level: the
 * page cache outlives it):
 *  - `full`: the new content (temp fsynced, renamed, directory fsynced). Two fsyncs.
 *  - `none`: old, new, empty or missing (no fsync). Only for a file whose readers treat an
 *    unreadable one as absent and that something durable already covers, or that matters
 *    within this boot only (a row's result.json, state.json.child).
 */
export type Durability = 'full' | 'none';

export interface WriteOptions {
  /** The new file's permissions from its creation on (e.g. 0o600 for a secret). */
  mode?: number;
  /** Default `full`. */
  durability?: Durability;
}

/**
 * Replace `file` with `data` so that after a crash it holds either the old or the new content.
 * The syscalls are synchronous on purpose: these are small files written on every step of
 * an iteration, and a round trip through libuv's thread pool per syscall costs more than
 * the write itself. (Async signature kept for callers.)
 */
export async function writeFileDurable(file: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  writeFileDurableSync(file, data, opts);
}

export function writeFileDurableSync(file: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const durability = opts.durability ?? 'full';
  const dir = path.dirname(file);
  // Same directory: rename(2) is only atomic within one filesystem. The unique suffix lets
  // two writers (or a leftover from a killed run) never collide; `.tmp` is git-ignored.
  const tmp = path.join(dir, `${path.basename(file)}.${process.pid}-${Date.now()}-${tempCounter++}.tmp`);
  const mode = opts.mode ?? existingMode(file);

  let fd: number | undefined;
  let operation = `create temp file ${tmp} for ${file}`;
  try {
    // 'wx': never reuse (and truncate) a file someone else is writing.
    fd = fsSync.openSync(tmp, 'wx', mode);
    operation = `write temp file ${tmp} for ${file}`;
    fsSync.writeFileSync(fd, data);
    operation = `fsync temp file ${tmp} for ${file}`;
    // The data must be on disk before the rename makes it visible under the real name.
    if (durability === 'full') fsSync.fsyncSync(fd);
    operation = `close temp file ${tmp} for ${file}`;
    fsSync.closeSync(fd);
    fd = undefined;
    operation = `rename ${tmp} to ${file}`;
    fsSync.renameSync(tmp, file);
  } catch (error) {
    if (fd !== undefined) closeQuietly(fd); // already failing: the first error is the one to report
    fsSync.rmSync(tmp, { force: true }); // a leftover .tmp is git-ignored and harmless, but tidy up
    throw durabilityError(operation, error);
  }
  // The rename lives in the directory entry: without this fsync it may not survive a power loss.
  if (durability === 'full') fsyncDirectorySync(dir);
}

/** fsync a directory, so that creates, renames and unlinks in it are durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  fsyncDirectorySync(dir);
}

export function fsyncDirectorySync(dir: string): void {
  let fd: number | undefined;
  let operation = `open directory ${dir}`;
  try {
    fd = fsSync.openSync(dir, 'r');
    operation = `fsync directory ${dir}`;
    fsSync.fsyncSync(fd);
  } catch (error) {
    throw durabilityError(operation, error);
  } finally {
    if (fd !== undefined) closeQuietly(fd); // a read-only descriptor: closing cannot lose data
  }
}

function closeQuietly(fd: number): void {
  try {
    fsSync.closeSync(fd);
  } catch {
    // nothing to save: the caller is already reporting the first error
  }
}

/** The file's content as UTF-8, or null when it does not exist. Other errors propagate. */
export async function readFileIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

/** Keep the permissions of the file being replaced (a user may have restricted them). */
function existingMode(file: string): number {
  try {
    return fsSync.statSync(file).mode & 0o7777;
  } catch {
    return 0o666; // new file: the umask applies, as for any other write
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
