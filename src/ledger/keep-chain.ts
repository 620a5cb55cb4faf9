/**
 * Which keeps are in effect: the chain of keeps the current best was built on, read from the
 * ledger in order. Pure. Every "best so far" reader goes through it (summary.ts summarizeRows,
 * the dashboard's running best, the report's gains, `reset --to`'s list of undone keeps), so a
 * row that undoes keeps is honoured everywhere the same way:
 *
 *  - a keep with a metric (a baseline, an improvement, a rebase's baseline) goes on the chain;
 *  - a reset row (`reset to iteration N`) puts back keep N's chain (a description without N:
 *    the chain of the newest keep of its commit), then itself on top;
 *  - a `revalidation_failed` row (issue 11) names the OLDEST keep whose gain did not reproduce:
 *    that keep and every keep after it come off the chain, so the best is the keep before it.
 *    A commit the chain does not hold undoes nothing (a hand-edited ledger: nothing to guess).
 *
 * The best is the top of the chain: in a plain run, the last keep.
 */
import type { LedgerRow } from './types.js';

export type KeepRow = LedgerRow & { metric: number };

/** One keep on a chain, linked to the keep below it: chains share their common part (O(1) per row). */
interface Link {
  row: KeepRow;
  below: Link | null;
}

export class KeepChain {
  private top: Link | null = null;
  private readonly byIteration = new Map<number, Link>();
  private readonly undoneRows: KeepRow[] = [];

  /** The next ledger row, in file order. */
  add(row: LedgerRow): void {
    if (isRevalidationRow(row)) {
      // The oldest match: a reset repeats a commit, and every keep of that commit is undone.
      let match: Link | null = null;
      for (let link = this.top; link !== null; link = link.below) if (sameCommit(link.row.commit, row.commit)) match = link;
      if (match !== null) {
        const undone: KeepRow[] = [];
        for (let link = this.top; link !== null && link !== match.below; link = link.below) undone.push(link.row);
        this.undoneRows.push(...undone.reverse());
        this.top = match.below;
      }
      return;
    }
    if (row.status !== 'keep' || row.metric === null) return;
    const keep = row as KeepRow;
    let below = this.top;
    if (isResetRow(row)) {
      // The chain of the keep it restores: named in the description, else the newest keep of its commit.
      const to = resetTargetOf(row);
      below = (to === null ? undefined : this.byIteration.get(to)) ?? newestOf(this.top, row.commit) ?? this.top;
    }
    this.top = { row: keep, below };
    this.byIteration.set(row.iteration, this.top);
  }

  /** The current best: the top of the chain (null: no keep in effect). */
  get best(): KeepRow | null {
    return this.top?.row ?? null;
  }

  /** The keeps in effect, oldest first. */
  get chain(): KeepRow[] {
    return rowsOf(this.top);
  }

  /** The chain right after keep `iteration` was added, oldest first (undefined: not a keep with a metric). */
  chainAt(iteration: number): KeepRow[] | undefined {
    const link = this.byIteration.get(iteration);
    return link === undefined ? undefined : rowsOf(link);
  }

  /** Every keep a revalidation row undid, oldest first within each revalidation. */
  get undone(): readonly KeepRow[] {
    return this.undoneRows;
  }
}

function newestOf(top: Link | null, commit: string): Link | undefined {
  for (let link = top; link !== null; link = link.below) if (sameCommit(link.row.commit, commit)) return link;
  return undefined;
}

function rowsOf(top: Link | null): KeepRow[] {
  const rows: KeepRow[] = [];
  for (let link = top; link !== null; link = link.below) rows.push(link.row);
  return rows.reverse();
}

/** The chain after all of `rows`. */
export function keepChainOf(rows: readonly LedgerRow[]): KeepChain {
  const chain = new KeepChain();
  for (const row of rows) chain.add(row);
  return chain;
}

/** A row `autoresearch reset --to N` wrote: a keep that repeats keep N (no evaluation, no agent). */
export function isResetRow(row: LedgerRow): boolean {
  return row.reason === 'reset';
}

/** A row recording that keeps did not reproduce when measured again (issue 11): not an experiment. */
export function isRevalidationRow(row: LedgerRow): boolean {
  return reasonCode(row.reason) === 'revalidation_failed';
}

/** `guard_failed: val_acc 0.71 < 0.85` → `guard_failed`: the stable token of a reason. */
export function reasonCode(reason: string | null): string | null {
  if (reason === null) return null;
  return /^[^\s:]*/.exec(reason.trim())?.[0] || reason;
}

/** `reset to iteration 3 (undoes keeps 5, 7)` → 3. */
export function resetTargetOf(row: LedgerRow): number | null {
  const m = /^reset to iteration (\d+)/.exec(row.description);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/** Short and full hashes name the same commit when one is a prefix of the other. */
function sameCommit(a: string, b: string): boolean {
  return a !== '' && b !== '' && (a.startsWith(b) || b.startsWith(a));
}
