/**
 * `autoresearch rerun <id> --status crash|discard|... [--iterations 3,7-9] [--dry-run]`:
 * evaluate selected past candidates again, without calling the agent (e.g. crashes the
 * machine caused, not the change). Each one's change is re-applied to the current best and
 * evaluated as a new iteration whose description names the original ("rerun of #7: …");
 * history is never rewritten, and one that now beats the best is kept as usual.
 */
import fs from 'node:fs';
import { resolveExperiment } from '../../config/discover.js';
import { loadExperimentConfig } from '../../config/parse-config.js';
import { AutoresearchError, EXIT } from '../../core/errors.js';
import { openSession } from '../../experiment/open-session.js';
import { experimentPaths, iterationPaths } from '../../experiment/paths.js';
import { rerunCandidate } from '../../experiment/rerun-candidate.js';
import { isResetRow, isRevalidationRow } from '../../ledger/summary.js';
import { parseLedgerText } from '../../ledger/tsv-format.js';
import type { LedgerRow } from '../../ledger/types.js';
import { runIteration, type Rerun } from '../../loop/iteration.js';
import { recoverInterruptedIteration } from '../../loop/recovery.js';
import { createPrinter } from '../progress-printer.js';
import { foreground } from '../foreground.js';
import { rowWhy } from '../../ledger/row-why.js';

export interface RerunOptions {
  projectRoot: string;
  id: string;
  statuses: string[];
  iterations: string | undefined;
  dryRun: boolean;
}

export async function rerunCommand(opts: RerunOptions, out: (text: string) => void): Promise<number> {
  const found = await resolveExperiment(opts.projectRoot, opts.id);
  const config = await loadExperimentConfig(found.dir, found.id, found.scope);
  const paths = experimentPaths(config.dir);
  const wanted = opts.iterations === undefined ? null : parseIterationList(opts.iterations);
  for (const s of opts.statuses) {
    if (!['keep', 'discard', 'crash'].includes(s)) throw new AutoresearchError('BAD_INPUT', `--status: expected keep, discard or crash, found \`${s}\``);
  }
  if (opts.statuses.length === 0 && wanted === null) {
    throw new AutoresearchError('BAD_INPUT', 'rerun: expected --status (e.g. crash) or --iterations (e.g. 3,7-9), found neither');
  }
  const text = fs.existsSync(paths.results) ? fs.readFileSync(paths.results, 'utf8') : '';
  const rows = parseLedgerText(text, paths.results).rows.filter(
    (r) => (opts.statuses.length === 0 || opts.statuses.includes(r.status)) && (wanted === null || wanted.has(r.iteration)) && r.reason !== 'baseline' && !isResetRow(r) && !isRevalidationRow(r), // a reset or revalidation row repeats a keep: no candidate of its own
  );
  if (rows.length === 0) {
    out(`nothing to rerun: no row of ${config.id.key} matches\n`);
    return EXIT.ok;
  }

  if (opts.dryRun) {
    out(`dry run: would re-evaluate ${rows.length} candidate(s) of ${config.id.key} on top of the current best, without the agent:\n`);
    for (const row of rows) out(`  #${row.iteration} ${row.status} ${rowWhy(row)} [${row.commit}] ${row.description}\n`);
    return EXIT.ok;
  }

  const printer = createPrinter(out, config.metric);
  const { deps, signal, dispose } = foreground(config, printer);
  const session = await openSession(config, opts.projectRoot, deps, `autoresearch rerun ${config.id.key}`);
  try {
    await recoverInterruptedIteration(session, deps);
    await session.worktree.restore(session.store.current.lastKept.commit, session.store.current.branch);
    for (const row of rows) {
      if (signal.aborted) break;
      const rerun = await candidateOf(session.worktree, config.id.key, row, iterationPaths(paths, row.iteration).result);
      if (rerun === null) {
        out(`#${row.iteration}: no candidate commit to rerun (${row.reason ?? row.status}); skipped\n`);
        continue;
      }
      const result = await runIteration(session, deps, signal, null, rerun);
      if (result.kind === 'not-applicable') out(`#${row.iteration}: ${result.detail}; skipped\n`);
      if (result.kind === 'interrupted') break;
      if (result.kind === 'exhausted' || result.kind === 'billing' || result.kind === 'auth') {
        // Only an evaluation that calls an LLM gets here (a rerun runs no agent): the rest must wait too.
        out(`#${row.iteration}: the ${result.label} is out of quota (${result.message}); no row written, stopping: run the rerun again later\n`);
        break;
      }
    }
  } finally {
    await session.close();
    dispose();
  }
  return EXIT.ok;
}

/** The candidate of a past row (experiment/rerun-candidate.ts), as a rerun of it. */
async function candidateOf(
  worktree: { resolveCommit(rev: string): Promise<string | null> },
  idKey: string,
  row: LedgerRow,
  resultFile: string,
): Promise<Rerun | null> {
  const commit = await rerunCandidate((rev) => worktree.resolveCommit(rev), idKey, row, resultFile);
  return commit === null ? null : { iteration: row.iteration, commit, description: row.description };
}

/** "3,7-9" → {3, 7, 8, 9}. */
export function parseIterationList(text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new AutoresearchError('BAD_INPUT', `--iterations: expected numbers and ranges like 3,7-9, found \`${part}\``);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new AutoresearchError('BAD_INPUT', `--iterations: expected a range from low to high, found \`${part}\``);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return out;
}
