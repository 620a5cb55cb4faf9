/**
 * The experiment directory's .gitignore: daemon-owned files never show in the user's
 * `git status`, while config.cfg and program.md stay committable.
 */
import fs from 'node:fs/promises';
import { DAEMON_OWNED, type ExperimentPaths } from './paths.js';

export function daemonGitignoreText(): string {
  return ['# Written by autoresearch: files the daemon owns (state, ledger, logs, artifacts).', ...DAEMON_OWNED, ''].join('\n');
}

/** Written once if missing; a .gitignore the user already has is left alone. */
export async function ensureExperimentGitignore(paths: ExperimentPaths): Promise<void> {
  try {
    await fs.writeFile(paths.gitignore, daemonGitignoreText(), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
