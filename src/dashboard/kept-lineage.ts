/**
 * Which keep is the best after each ledger row, with re-validation (issue 11): a
 * `revalidation_failed` row names (in `commit`) the OLDEST keep whose gain did not reproduce;
 * that keep and every later keep stop counting, and the best steps back to the keep before it.
 * Otherwise every keep is the best from then on (a reset or a rebase's baseline may step back).
 * Pure: the ledger's keep chain (ledger/keep-chain.ts), row by row, so the chart's running best
 * is what summarizeRows, status and report call the best.
 */
import { KeepChain, isRevalidationRow, type KeepRow } from '../ledger/keep-chain.js';
import type { LedgerRow } from '../ledger/types.js';

export interface KeptLineage {
  /** The best keep row after each row, same index as the rows; null before the first keep with a metric. */
  bestAfter: Array<KeepRow | null>;
  /** Keep rows a later revalidation_failed row undid. */
  undone: Set<LedgerRow>;
}

export function isRevalidationFailed(row: LedgerRow): boolean {
  return isRevalidationRow(row);
}

export function keptLineage(rows: readonly LedgerRow[]): KeptLineage {
  const chain = new KeepChain();
  const bestAfter: KeptLineage['bestAfter'] = [];
  for (const row of rows) {
    chain.add(row);
    bestAfter.push(chain.best);
  }
  return { bestAfter, undone: new Set<LedgerRow>(chain.undone) };
}
