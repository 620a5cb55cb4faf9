/**
 * Finding a program the way a shell would, without running one: `run`'s preflight (is the
 * agent installed?) and `dashboard --png` (is there a Chromium?).
 */
import fs from 'node:fs';
import path from 'node:path';

/** The first executable file called `name` in a PATH directory; an empty entry (the current directory) is skipped. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue; // the current directory: not where a program is looked for here
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
