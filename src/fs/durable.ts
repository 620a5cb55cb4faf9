/**
 * Durable whole-file writes: the state file, the ledger header, an upgraded ledger.
 *
 * A rename is atomic but not durable on its own (npm/write-file-atomic #64): without an
 * fsync of the temp file, ext4's delayed allocation can leave a zero-length file after a
 * power loss, and without an fsync of the directory the rename itself can be lost.
 * fsync errors are never retried: after EIO the kernel may already have dropped the dirty
 * pages, so a second fsync can "succeed" with the data gone (PostgreSQL "fsyncgate").
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AutoresearchError, errorMessage } from '../core/errors.js';

function durabilityError(operation: string, cause: unknown): AutoresearchError {
  return new AutoresearchError('DURABILITY', `${operation} failed: ${errorMessage(cause)}`, { cause });
}

/** Replace `file` with `data` so that after a crash it holds either the old or the new content. */
export async function writeFileDurable(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  // Same directory: rename(2) is only atomic within one filesystem. The unique suffix lets
  // two writers (or a leftover from a killed run) never collide; `.tmp` is git-ignored.
  const tmp = path.join(dir, `${path.basename(file)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const mode = await existingMode(file);

  let handle: fs.FileHandle | undefined;
  let operation = `create temp file ${tmp} for ${file}`;
  try {
    // 'wx': never reuse (and truncate) a file someone else is writing.
    handle = await fs.open(tmp, 'wx', mode);
    operation = `write temp file ${tmp} for ${file}`;
    await handle.writeFile(data);
    operation = `fsync temp file ${tmp} for ${file}`;
    // The data must be on disk before the rename makes it visible under the real name.
    await handle.sync();
    operation = `close temp file ${tmp} for ${file}`;
    await handle.close();
    handle = undefined;
    operation = `rename ${tmp} to ${file}`;
    await fs.rename(tmp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined); // already failing: the first error is the one to report
    await fs.rm(tmp, { force: true }).catch(() => undefined); // best effort: a leftover .tmp is git-ignored and harmless
    throw durabilityError(operation, error);
  }
  // The rename lives in the directory entry: without this fsync it may not survive a power loss.
  await fsyncDirectory(dir);
}

/** fsync a directory, so that creates, renames and unlinks in it are durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  let operation = `open directory ${dir}`;
  try {
    handle = await fs.open(dir, 'r');
    operation = `fsync directory ${dir}`;
    await handle.sync();
  } catch (error) {
    throw durabilityError(operation, error);
  } finally {
    await handle?.close().catch(() => undefined); // a read-only handle: closing cannot lose data
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
async function existingMode(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).mode & 0o7777;
  } catch {
    return 0o666; // new file: the umask applies, as for any other write
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
