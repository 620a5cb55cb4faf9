/**
 * Which keep is the best after each ledger row, with re-validation (issue 11): a
 * `revalidation_failed` row names (in `commit`) the OLDEST keep whose gain did not reproduce;
 * that keep and every later keep stop counting, and the best steps back to the keep before it.
 * Otherwise every keep is the best from then on (summarizeRows: a reset or a rebase's baseline
 * may step back). Pure.
 *
 * The keeps that count form a stack: a keep pushes, a reset row pops back to the keep it
 * restores and takes its place, a revalidation_failed row pops its commit and all after it.
 *
 * The dashboard's own copy of the rule until the ledger's helper (src/ledger/summary.ts) lands:
 * everything in the dashboard asks this one function, so swapping it is one import.
 */
import { isResetRow } from '../ledger/summary.js';
import type { LedgerRow } from '../ledger/types.js';

export interface KeptLineage {
  /** The best keep row after each row, same index as the rows; null before the first keep with a metric. */
  bestAfter: Array<(LedgerRow & { metric: number }) | null>;
  /** Keep rows a later revalidation_failed row undid. */
  undone: Set<LedgerRow>;
}

export function isRevalidationFailed(row: LedgerRow): boolean {
  return row.reason === 'revalidation_failed' || (row.reason?.startsWith('revalidation_failed:') ?? false);
}

export function keptLineage(rows: readonly LedgerRow[]): KeptLineage {
  // The keeps that count, oldest first: the last one is the best.
  const kept: Array<LedgerRow & { metric: number }> = [];
  const undone = new Set<LedgerRow>();
  const bestAfter: KeptLineage['bestAfter'] = [];
  for (const row of rows) {
    if (row.status === 'keep' && row.metric !== null) {
      // `reset --to N` makes keep N the best again: the keeps after it leave the lineage, so a
      // later failed re-validation of N steps back to what came before N.
      const restored = isResetRow(row) ? kept.findLastIndex((k) => sameCommit(k.commit, row.commit)) : -1;
      if (restored >= 0) kept.splice(restored);
      kept.push(row as LedgerRow & { metric: number });
    } else if (isRevalidationFailed(row)) {
      // The newest keep of that commit (a reset row repeats an older keep's commit).
      const at = kept.findLastIndex((k) => sameCommit(k.commit, row.commit));
      if (at >= 0) for (const gone of kept.splice(at)) undone.add(gone);
    }
    bestAfter.push(kept.at(-1) ?? null);
  }
  return { bestAfter, undone };
}

/** Short hashes of different lengths name the same commit when one starts the other. */
function sameCommit(a: string, b: string): boolean {
  return a !== '' && b !== '' && (a.startsWith(b) || b.startsWith(a));
}
