/**
 * `program:` names the instructions file every agent turn reads. Checked when a run opens,
 * before any row: a directory, an unreadable file, or a file set explicitly that is missing
 * would otherwise fail (or silently fall back to the built-in instructions) in every iteration.
 */
import fs from 'node:fs';
import { AutoresearchError, errorMessage } from '../core/errors.js';
import type { ExperimentConfig } from './types.js';

export function checkProgramFile(config: Pick<ExperimentConfig, 'file' | 'programFile' | 'programSet'>): void {
  const where = `${config.file}: program`;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(config.programFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && config.programSet !== true) return; // the default, not written: built-in instructions
    throw new AutoresearchError('BAD_INPUT', `${where}: expected a readable file, found ${describeMissing(error)} at ${config.programFile}`, { cause: error });
  }
  if (!stat.isFile()) {
    throw new AutoresearchError('BAD_INPUT', `${where}: expected a file, found a ${stat.isDirectory() ? 'directory' : 'special file'} at ${config.programFile}`);
  }
  try {
    fs.accessSync(config.programFile, fs.constants.R_OK);
  } catch (error) {
    throw new AutoresearchError('BAD_INPUT', `${where}: expected a readable file, found one that cannot be read at ${config.programFile} (${errorMessage(error)})`, { cause: error });
  }
}

function describeMissing(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'nothing';
  if (code === 'ENOTDIR') return 'a path through a file';
  return `an error (${errorMessage(error)})`;
}
