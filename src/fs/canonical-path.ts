/**
 * One spelling of a path for comparisons: absolute, symlinks resolved as far as the path
 * exists (git, the user and macOS's /tmp → /private/tmp may each give another form).
 */
import fs from 'node:fs';
import path from 'node:path';

export function canonicalPath(p: string): string {
  const absolute = path.resolve(p);
  try {
    // realpath(3) in one call: the JS walk lstats every component (the tampering checks call this often).
    return fs.realpathSync.native(absolute);
  } catch {
    const parent = path.dirname(absolute);
    return parent === absolute ? absolute : path.join(canonicalPath(parent), path.basename(absolute));
  }
}

/**
 * Do `a` and `b` name the same place? The same absolute spelling needs no lookup (the common
 * case: the tampering checks compare paths git wrote with the ones we gave it, several
 * times per iteration); otherwise both are resolved.
 */
export function samePath(a: string, b: string): boolean {
  const absoluteA = path.resolve(a);
  const absoluteB = path.resolve(b);
  return absoluteA === absoluteB || canonicalPath(absoluteA) === canonicalPath(absoluteB);
}
