/**
 * The ledger's counts, kept in state.json so that `status` over a thousand experiments reads
 * a small file each instead of every row of every ledger. `ledgerBytes` says which version
 * of results.tsv the digest describes: a ledger edited or rebuilt since is read in full.
 */
import fs from 'node:fs';
import type { Direction } from '../config/types.js';
import { summarizeRows } from '../ledger/summary.js';
import type { LedgerRow } from '../ledger/types.js';

export interface LedgerDigest {
  iterations: number;
  /** What max_experiments counts (summary.ts countsAsExperiment); absent in older state files. */
  experiments?: number;
  keeps: number;
  discards: number;
  crashes: number;
  best: number | null;
  baseline: number | null;
  lastTimestamp: string | null;
  ledgerBytes: number;
}

export function ledgerDigest(rows: readonly LedgerRow[], direction: Direction, ledgerFile: string): LedgerDigest {
  const s = summarizeRows(rows, direction);
  return {
    iterations: s.iterations,
    experiments: s.experiments,
    keeps: s.keeps,
    discards: s.discards,
    crashes: s.crashes,
    best: s.best,
    baseline: s.baseline,
    lastTimestamp: rows.at(-1)?.timestamp ?? null,
    ledgerBytes: fileSize(ledgerFile),
  };
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}
