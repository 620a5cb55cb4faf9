/**
 * What an iteration's runs/<n>/result.json says, read back: recovery finishes a row whose
 * state step was cut short from it, and `reset --to` gives the restored best its samples.
 * A missing or unreadable file (killed between the row and the artifact, a seed row) is null:
 * the row is then the truth.
 */
import fs from 'node:fs';
import type { LedgerRow } from '../ledger/types.js';
import { iterationPaths, type ExperimentPaths } from './paths.js';

export function readSavedResult(paths: ExperimentPaths, row: LedgerRow): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(iterationPaths(paths, row.iteration).result, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** A row's samples (or the best's, for drift) from its result.json, when it is about `commit`. */
export function savedSamples(paths: ExperimentPaths, row: LedgerRow, commit: string | null, key: 'samples' | 'bestSamples' = 'samples'): number[] | null {
  const saved = readSavedResult(paths, row);
  const samples = saved?.[key];
  if (commit === null || saved?.['commitFull'] !== commit || !Array.isArray(samples) || samples.length === 0 || !samples.every((x) => typeof x === 'number' && Number.isFinite(x))) return null;
  return samples as number[];
}
