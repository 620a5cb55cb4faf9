/**
 * How long an evaluation usually takes: the median `evalMs` per evaluation of the last rows
 * that measured something (their runs/<n>/result.json). An evaluation much shorter than that
 * is suspicious (loop/suspicious.ts): a training run that stopped at step 0 still prints a
 * number. Null until enough evaluations are known.
 */
import { iterationPaths, type ExperimentPaths } from '../experiment/paths.js';
import { readSavedResult } from '../experiment/saved-result.js';
import type { LedgerRow } from '../ledger/types.js';

const RECENT_ROWS = 10;
const MIN_KNOWN = 3;

export function usualEvaluationMs(paths: ExperimentPaths, rows: readonly LedgerRow[]): number | null {
  const durations: number[] = [];
  for (const row of rows.slice(-RECENT_ROWS)) {
    if (row.metric === null) continue;
    const perEvaluation = evaluationMsOfRow(paths, row);
    if (perEvaluation !== null) durations.push(perEvaluation);
  }
  if (durations.length < MIN_KNOWN) return null;
  durations.sort((a, b) => a - b);
  return durations[Math.floor(durations.length / 2)] ?? null;
}

/**
 * A row's result.json read once: the same ten are asked for on every iteration. Keyed by the
 * file and the row's timestamp (a row written again under the same number, after `reset`, is
 * another row); bounded, so a days-long run stays flat.
 */
const known = new Map<string, number | null>();
const KNOWN_MAX = 256;

function evaluationMsOfRow(paths: ExperimentPaths, row: LedgerRow): number | null {
  const key = `${iterationPaths(paths, row.iteration).result}\0${row.timestamp ?? ''}`;
  if (known.has(key)) return known.get(key) ?? null;
  const ms = evaluationMsOf(readSavedResult(paths, row));
  // Only a found artifact is final: one missing now (a seed row, a row being recorded) may come.
  if (ms !== null) {
    if (known.size >= KNOWN_MAX) known.clear();
    known.set(key, ms);
  }
  return ms;
}

/** The first evaluation's time, else the average one's; null without an artifact (a seed-written row). */
function evaluationMsOf(saved: Record<string, unknown> | null): number | null {
  if (saved === null) return null;
  const { firstEvalMs, evalMs, evaluations } = saved;
  if (typeof firstEvalMs === 'number') return firstEvalMs;
  if (typeof evalMs !== 'number') return null;
  return evalMs / (typeof evaluations === 'number' && evaluations > 0 ? evaluations : 1);
}
