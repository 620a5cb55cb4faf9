/**
 * For program.md: the committed files outside the agent's scope that a file the evaluation runs
 * imports (karpathy's `train.py` imports `prepare.py`, which holds the data and the metric).
 * They are named in the template as off limits, so "change only train.py" and "never touch the
 * measurement" say the same thing. A best effort, from the text at HEAD: Python `import x` /
 * `from x import y` and JS/TS relative `import … from './x'` / `require('./x')`.
 */
import path from 'node:path';
import { execa } from 'execa';
import { scopeMatcher } from '../loop/scope.js';

/** At most this many names: a hint for the agent, not an inventory. */
const MAX_NAMED = 5;

export async function importedOutsideScope(projectRoot: string, evaluated: readonly string[], allowed: readonly string[], committed: readonly string[]): Promise<string[]> {
  const inScope = scopeMatcher(allowed);
  const files = new Set(committed);
  const found = new Set<string>();
  for (const file of evaluated) {
    if (!files.has(file)) continue;
    const shown = await execa('git', ['show', `HEAD:${file}`], { cwd: projectRoot, reject: false, maxBuffer: 4 * 1024 * 1024 });
    if (shown.exitCode !== 0) continue;
    for (const candidate of importCandidates(file, shown.stdout)) {
      if (files.has(candidate) && !inScope(candidate)) found.add(candidate);
    }
  }
  return [...found].sort().slice(0, MAX_NAMED);
}

/** Paths (repo-relative) that `source`, the text of `file`, may import. */
export function importCandidates(file: string, source: string): string[] {
  const dir = path.posix.dirname(file);
  const out: string[] = [];
  const pythonModule = (name: string) => {
    const rel = name.replaceAll('.', '/');
    for (const base of dir === '.' ? [''] : [`${dir}/`, '']) out.push(`${base}${rel}.py`, `${base}${rel}/__init__.py`);
  };
  if (/\.py$/.test(file)) {
    for (const m of source.matchAll(/^\s*from\s+([\w.]+)\s+import\b/gm)) if (!m[1]?.startsWith('.')) pythonModule(m[1] as string);
    // `import a.b as c, d`: each comma-separated part's first word.
    for (const m of source.matchAll(/^[ \t]*import[ \t]+([^\n#]+)/gm)) {
      for (const part of (m[1] as string).split(',')) {
        const name = /^\s*([\w.]+)/.exec(part)?.[1];
        if (name !== undefined) pythonModule(name);
      }
    }
  }
  if (/\.[cm]?[jt]sx?$/.test(file)) {
    for (const m of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.posix.normalize(path.posix.join(dir, m[1] as string));
      out.push(target, ...['.js', '.mjs', '.cjs', '.ts', '.mts', '.tsx', '.jsx'].map((ext) => `${target.replace(/\.js$/, '')}${ext}`), `${target}/index.js`, `${target}/index.ts`);
    }
  }
  return out;
}
