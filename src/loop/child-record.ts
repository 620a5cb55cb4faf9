/**
 * The identity of the child an intent is running (agent, evaluation), recorded next to
 * state.json as `state.json.child` so that recovery can kill its group after kill -9
 * (loop/recovery.ts). Without any fsync: it only matters within this boot (recovery signals
 * a recorded group only when the boot id matches, and no process outlives a reboot), and a
 * kill of our process loses nothing the kernel already has. After a power loss it may be
 * old, empty, torn or missing: read as absent. A record names the intent it belongs to
 * (iteration, phase, startedAt): another intent's record is never taken for this one's.
 *
 * Written in place, one fixed-size block at offset 0 in one write(2), padded with spaces
 * (valid JSON whitespace), never truncated: a kill of our process sees the old block or the
 * new one (a write of one page is not cut by a signal), and the file never shrinks, so no
 * tail of a longer record survives. Why not temp + rename: on ext4, a rename over a file
 * whose data is not on disk yet starts its writeback (auto_da_alloc), which cost ~0.75 ms
 * per record, twice per iteration, for a file that is never meant to reach the disk.
 * Anything but a plain file of its own in its place (a symlink, a FIFO, a hard link) is replaced, never written through.
 */
import fs from 'node:fs';
import { writeFileDurableSync } from '../fs/durable.js';
import type { ChildRecord, Intent } from '../experiment/state.js';

/** The block every record fills: far more than one needs (~250 bytes), less than a page. */
const RECORD_BYTES = 1024;

interface OnFile {
  intent: { iteration: number; phase: string; startedAt: string | null };
  child: ChildRecord;
}

export function childRecordFile(stateFile: string): string {
  return `${stateFile}.child`;
}

/** Record `child` as the running child of `intent`. */
export function writeChildRecord(stateFile: string, intent: Intent, child: ChildRecord): void {
  const record: OnFile = { intent: { iteration: intent.iteration, phase: intent.phase, startedAt: intent.startedAt ?? null }, child };
  const json = JSON.stringify(record);
  const file = childRecordFile(stateFile);
  if (Buffer.byteLength(json) >= RECORD_BYTES || !writeInPlace(file, json)) {
    // Too long (cannot happen with the fields above), or not a plain file of ours: the atomic
    // replace puts a regular file in its place.
    writeFileDurableSync(file, json + '\n', { durability: 'none' });
  }
}

/**
 * `json` as the file's one block, or false when `file` is not a file of its own to write into:
 * a symlink (never written through: O_NOFOLLOW), a FIFO (O_NONBLOCK: never waits for a reader),
 * a hard link to another file (results.tsv, say).
 */
function writeInPlace(file: string, json: string): boolean {
  const block = Buffer.alloc(RECORD_BYTES, ' ');
  block.write(json);
  block[RECORD_BYTES - 1] = 0x0a;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.nlink !== 1) return false; // a hard link would be written through too
    if (stat.size > RECORD_BYTES) fs.ftruncateSync(fd, RECORD_BYTES); // a longer one of the fallback above
    fs.writeSync(fd, block, 0, RECORD_BYTES, 0);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/** The child recorded for `intent`, or null (none, another intent's, or unreadable). */
export function readChildRecord(stateFile: string, intent: Intent): ChildRecord | null {
  let record: Partial<OnFile>;
  try {
    record = JSON.parse(fs.readFileSync(childRecordFile(stateFile), 'utf8')) as Partial<OnFile>;
  } catch {
    return null;
  }
  const of = record.intent;
  const child = record.child;
  if (of?.iteration !== intent.iteration || of.phase !== intent.phase || of.startedAt !== (intent.startedAt ?? null)) return null;
  if (typeof child?.pid !== 'number' || typeof child.pgid !== 'number') return null;
  return { pid: child.pid, pgid: child.pgid, startTime: typeof child.startTime === 'number' ? child.startTime : null, bootId: typeof child.bootId === 'string' ? child.bootId : null };
}
