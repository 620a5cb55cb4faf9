/**
 * `autoresearch reset <id> --to <iteration>`: make an earlier keep the best again
 * (experiment/reset-to-keep.ts), through the experiment's run lock.
 */
import { resolveExperiment } from '../../config/discover.js';
import { loadExperimentConfig } from '../../config/parse-config.js';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { branchName } from '../../experiment/paths.js';
import { resetToKeep } from '../../experiment/reset-to-keep.js';
import { KeepChain } from '../../ledger/keep-chain.js';
import type { LedgerRow } from '../../ledger/types.js';
import { foreground } from '../foreground.js';
import { createPrinter, fmt } from '../progress-printer.js';
import { openSteerSession } from '../steer-session.js';

export interface ResetOptions {
  projectRoot: string;
  id: string;
  to: string;
}

export async function resetCommand(opts: ResetOptions, out: (text: string) => void): Promise<number> {
  if (!/^\d+$/.test(opts.to)) throw new AutoresearchError('BAD_INPUT', `reset --to: expected the iteration number of a keep (e.g. 3), found \`${opts.to}\``);
  const iteration = Number(opts.to);
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  const config = await loadExperimentConfig(found.dir, found.id, found.scope);
  const printer = createPrinter(out, config.metric);
  const { deps, logger, dispose } = foreground(config, printer);
  try {
    const session = await openSteerSession(config, opts.projectRoot, deps, `autoresearch reset ${config.id.key} --to ${iteration}`);
    try {
      const r = await resetToKeep(session, deps, iteration);
      logger.info({ kind: 'reset', to: iteration, row: r.row.iteration, commit: r.commit, undone: r.undone, backupRef: r.backupRef, previousTip: r.previousTip }, r.row.description);
      printer.line(`${config.id.key}: keep ${iteration} is the best again: ${config.metric} ${fmt(r.target.metric)} (${r.target.description})`);
      printer.line(`  row ${r.row.iteration}: keep reset "${r.row.description}"`);
      printer.line(`  branch ${branchName(config.id.key)} and the worktree are at ${r.commit.slice(0, 7)}; the next run continues from it`);
      printer.line(`  the previous tip ${r.previousTip.slice(0, 7)} is kept as ${r.backupRef} (see: git log ${r.backupRef})`);
      if (r.lastKeepRef !== null) printer.line(`  the last keep, which the branch no longer held (moved by hand?), is kept as ${r.lastKeepRef}`);
      const undoneBy = revalidationThatUndid(session.ledger.rows(), iteration);
      if (undoneBy !== null) {
        printer.line(`  note: the gain of keep ${iteration} did not reproduce: the revalidation of iteration ${undoneBy.iteration} measured ${config.metric} ${fmt(undoneBy.metric)} (recorded ${fmt(r.target.metric)}); the next candidates are judged against ${fmt(r.target.metric)}`);
      }
      const rebase = session.ledger.rows().find((row) => row.iteration > iteration && row.reason === 'baseline');
      if (rebase !== undefined) {
        printer.line(`  note: keep ${iteration} was measured before the new baseline of iteration ${rebase.iteration} (${rebase.description}); \`autoresearch rebase ${config.id.key}\` measures it again on the project's HEAD`);
      }
    } finally {
      await session.close();
    }
  } finally {
    dispose();
  }
  return EXIT.ok;
}

/** The `revalidation_failed` row that undid keep `iteration` (ledger/keep-chain.ts), or null. */
function revalidationThatUndid(rows: readonly LedgerRow[], iteration: number): LedgerRow | null {
  const chain = new KeepChain();
  for (const row of rows) {
    const before = chain.undone.length;
    chain.add(row);
    if (chain.undone.slice(before).some((keep) => keep.iteration === iteration)) return row;
  }
  return null;
}
