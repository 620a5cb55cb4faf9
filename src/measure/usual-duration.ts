/**
 * How long an evaluation usually takes: the median `evalMs` per evaluation of the last rows
 * that measured something (their runs/<n>/result.json). An evaluation much shorter than that
 * is suspicious (loop/suspicious.ts): a training run that stopped at step 0 still prints a
 * number. Null until enough evaluations are known.
 */
import fs from 'node:fs';
import type { ExperimentPaths } from '../experiment/paths.js';
import { iterationPaths } from '../experiment/paths.js';
import type { LedgerRow } from '../ledger/types.js';

const RECENT_ROWS = 10;
const MIN_KNOWN = 3;

export function usualEvaluationMs(paths: ExperimentPaths, rows: readonly LedgerRow[]): number | null {
  const durations: number[] = [];
  for (const row of rows.slice(-RECENT_ROWS)) {
    if (row.metric === null) continue;
    const perEvaluation = evaluationMsOf(iterationPaths(paths, row.iteration).result);
    if (perEvaluation !== null) durations.push(perEvaluation);
  }
  if (durations.length < MIN_KNOWN) return null;
  durations.sort((a, b) => a - b);
  return durations[Math.floor(durations.length / 2)] ?? null;
}

function evaluationMsOf(resultFile: string): number | null {
  try {
    const saved = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { evalMs?: unknown; evaluations?: unknown; firstEvalMs?: unknown };
    if (typeof saved.firstEvalMs === 'number') return saved.firstEvalMs;
    if (typeof saved.evalMs !== 'number') return null;
    const count = typeof saved.evaluations === 'number' && saved.evaluations > 0 ? saved.evaluations : 1;
    return saved.evalMs / count;
  } catch {
    return null; // no artifact (a seed-written row) or a damaged one: not known
  }
}
