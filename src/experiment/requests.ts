/**
 * Requests to a foreground `run` that holds an experiment (without a daemon there is no
 * socket to it): `pause` and `resume` leave a file in the experiment directory, which the
 * run takes between iterations and on every tick of a quota wait. The runner alone writes
 * state.json, so nothing it holds in memory is overwritten behind its back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AutoresearchError, errorMessage } from '../core/errors.js';

export type RequestKind = 'pause' | 'resume';

export function requestFile(experimentDir: string, kind: RequestKind): string {
  return path.join(experimentDir, `${kind}.request`);
}

export function leaveRequest(experimentDir: string, kind: RequestKind): void {
  const file = requestFile(experimentDir, kind);
  try {
    fs.writeFileSync(file, `${new Date().toISOString()}\n`);
  } catch (error) {
    throw new AutoresearchError('BAD_INPUT', `${file}: cannot leave the ${kind} request for the running \`run\`: ${errorMessage(error)}; check the experiment directory's permissions`, { cause: error });
  }
}

/**
 * True (and the file is gone) if the request was there. A request that cannot be taken
 * (permissions, a directory in its place) is ignored with `onProblem` saying why: the loop
 * goes on, and the problem is reported once per file and error, not on every tick.
 */
export function takeRequest(experimentDir: string, kind: RequestKind, onProblem?: (message: string) => void): boolean {
  const file = requestFile(experimentDir, kind);
  // The usual answer (none) without an exception: asked between every two iterations. A file
  // that appears right after is taken next time.
  let present = true;
  try {
    present = fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    // unreadable: the unlink below says why
  }
  if (!present) return false;
  try {
    fs.unlinkSync(file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    const key = `${file}:${code ?? errorMessage(error)}`;
    if (!reported.has(key)) {
      reported.add(key);
      onProblem?.(`${file}: cannot take the ${kind} request (${errorMessage(error)}); it is ignored until the file can be removed (remove it by hand, or fix the permissions of ${experimentDir})`);
    }
    return false;
  }
}

const reported = new Set<string>();
