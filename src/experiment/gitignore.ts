/**
 * The .gitignore files autoresearch maintains in the user's checkout, so that its own files
 * (state, ledger, logs, artifacts, the daemon's files) never show in `git status` while
 * config.cfg and program.md stay committable. Patterns are only ever added: lines the user
 * wrote stay as they are.
 */
import { readFileIfExists, writeFileDurable } from '../fs/durable.js';
import { DAEMON_OWNED, type ExperimentPaths } from './paths.js';

/** Add the `patterns` missing from `file` (created with `header` if absent); false when none was missing. */
export async function ensureIgnored(file: string, patterns: readonly string[], header: string): Promise<boolean> {
  const current = await readFileIfExists(file);
  const present = new Set((current ?? '').split(/\r?\n/).map((line) => line.trim()));
  const missing = patterns.filter((pattern) => !present.has(pattern));
  if (missing.length === 0) return false;
  const prefix = current === null ? `${header}\n` : current === '' || current.endsWith('\n') ? current : `${current}\n`;
  await writeFileDurable(file, `${prefix}${missing.join('\n')}\n`);
  return true;
}

/** The experiment directory's .gitignore, including patterns added by newer versions. */
export function ensureExperimentGitignore(paths: ExperimentPaths): Promise<boolean> {
  return ensureIgnored(paths.gitignore, DAEMON_OWNED, '# Written by autoresearch: files the daemon owns. config.cfg and program.md are meant to be committed.');
}
