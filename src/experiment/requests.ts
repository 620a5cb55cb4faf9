/**
 * Requests to a foreground `run` that holds an experiment (without a daemon there is no
 * socket to it): `pause` and `resume` leave a file in the experiment directory, which the
 * run takes between iterations and on every tick of a quota wait. The runner alone writes
 * state.json, so nothing it holds in memory is overwritten behind its back.
 */
import fs from 'node:fs';
import path from 'node:path';

export type RequestKind = 'pause' | 'resume';

export function requestFile(experimentDir: string, kind: RequestKind): string {
  return path.join(experimentDir, `${kind}.request`);
}

export function leaveRequest(experimentDir: string, kind: RequestKind): void {
  fs.writeFileSync(requestFile(experimentDir, kind), `${new Date().toISOString()}\n`);
}

/** True (and the file is gone) if the request was there. */
export function takeRequest(experimentDir: string, kind: RequestKind): boolean {
  try {
    fs.rmSync(requestFile(experimentDir, kind));
    return true;
  } catch {
    return false;
  }
}
