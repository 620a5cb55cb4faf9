/**
 * The identity of the child an intent is running (agent, evaluation), recorded next to
 * state.json as `state.json.child` so that recovery can kill its group after kill -9
 * (loop/recovery.ts). Written atomically but without any fsync (fs/durable.ts `none`): it
 * only matters within this boot (recovery signals a recorded group only when the boot id
 * matches, and no process outlives a reboot), and a kill of our process loses nothing the
 * kernel already has. After a power loss it may be old, empty or missing: read as absent.
 * A record names the intent it belongs to (iteration, phase, startedAt): another intent's
 * record is never taken for this one's.
 */
import fs from 'node:fs';
import { writeFileDurableSync } from '../fs/durable.js';
import type { ChildRecord, Intent } from '../experiment/state.js';

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
  writeFileDurableSync(childRecordFile(stateFile), JSON.stringify(record) + '\n', { durability: 'none' });
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
