/**
 * `autoresearch reset <id> --to <iteration>`: an earlier keep is the best again (SPEC §8).
 *
 * Nothing is rewritten: the ledger gets one more row, a keep with reason `reset` that repeats
 * keep N's commit and metric, so the ledger's last keep (the truth on start, see
 * loop/adopt-ledger-keep.ts) and state.json agree, and "best so far" (ledger/summary.ts) is
 * keep N's metric. The undone keeps stay reachable: the branch's tip is saved under
 * refs/autoresearch/<id>/reset/<N>-<ms> before the branch moves.
 *
 * Order, so a kill at any step leaves a state the next start understands:
 *   backup ref ─► row (the truth) ─► runs/<n>/result.json ─► state.json ─► worktree restored.
 * A kill after the row: the next start adopts it as the ledger's newer keep.
 * The caller holds the experiment's run lock (open-session.ts): nothing else runs meanwhile.
 */
import fs from 'node:fs';
import { AutoresearchError } from '../core/errors.js';
import { writeFileDurable } from '../fs/durable.js';
import { isResetRow, keepChainOf, resetTargetOf } from '../ledger/keep-chain.js';
import type { LedgerRow } from '../ledger/types.js';
import { setAsideExternalChange } from '../loop/set-aside-external-change.js';
import { ledgerDigest } from './ledger-digest.js';
import type { LoopDeps, Session } from './open-session.js';
import { savedSamples } from './saved-result.js';
import { iterationPaths, resetBackupRef } from './paths.js';
import { saveBranchTip } from './save-branch-tip.js';

export interface ResetOutcome {
  /** The row written for the reset. */
  row: LedgerRow;
  /** Keep N's row. */
  target: LedgerRow;
  /** Full hash the branch now points at. */
  commit: string;
  /** Keeps in effect before the reset that it undoes (their iterations). */
  undone: number[];
  /** Where the branch's previous tip is kept. */
  backupRef: string;
  previousTip: string;
  /** Where the last keep is saved when the branch no longer held it (moved by hand), else null. */
  lastKeepRef: string | null;
}

export async function resetToKeep(session: Session, deps: LoopDeps, iteration: number): Promise<ResetOutcome> {
  const { config, ledger, paths, store } = session;
  const rows = ledger.rows();
  const target = rows.find((r) => r.iteration === iteration);
  const keeps = rows.filter((r) => r.status === 'keep' && r.metric !== null && !isResetRow(r)).map((r) => r.iteration);
  const available = keeps.length === 0 ? 'there is none yet' : `keeps: ${keeps.join(', ')}`;
  const where = `${paths.results}`;
  if (target === undefined) {
    throw new AutoresearchError('BAD_INPUT', `reset --to ${iteration}: expected the iteration of a keep in ${where}, found no row for iteration ${iteration} (${available})`);
  }
  if (isResetRow(target)) {
    const to = resetTargetOf(target);
    throw new AutoresearchError('BAD_INPUT', `reset --to ${iteration}: iteration ${iteration} is itself a reset${to === null ? '' : ` to iteration ${to}: use --to ${to}`} (${available})`);
  }
  if (target.status !== 'keep' || target.metric === null) {
    const what = target.status === 'keep' ? 'a keep without a metric' : `a ${target.status}${target.reason === null ? '' : ` (${target.reason})`}`;
    throw new AutoresearchError('BAD_INPUT', `reset --to ${iteration}: expected a keep (baseline or improved), found ${what} at iteration ${iteration} in ${where} (${available})`);
  }
  const commit = await commitOf(session, target);
  if (commit === null) {
    throw new AutoresearchError('BAD_INPUT', `reset --to ${iteration}: the commit of keep ${iteration} (${target.commit}) is not in the repository ${session.project.root}; nothing to go back to`);
  }
  const { lastKept, branch } = store.current;
  if (lastKept.commit === commit) {
    throw new AutoresearchError('BAD_INPUT', `reset --to ${iteration}: keep ${iteration} (${target.commit}) is already the current keep; nothing changed (${available})`);
  }

  const undone = keepsUndone(rows, iteration);
  await setAsideExternalChange(session, deps, `before the reset to iteration ${iteration}`);
  const now = deps.clock.now();
  const previousTip = (await session.project.resolveCommit(`refs/heads/${branch}`)) ?? lastKept.commit;
  const backupRef = resetBackupRef(config.id.key, iteration, now);
  const saved = await saveBranchTip(session, backupRef, previousTip, lastKept.commit);

  const number = ledger.nextIteration();
  const row: LedgerRow = {
    commit: target.commit,
    metric: target.metric,
    status: 'keep',
    description: `reset to iteration ${iteration}${undone.length === 0 ? '' : ` (undoes keep${undone.length === 1 ? '' : 's'} ${undone.join(', ')})`}`,
    iteration: number,
    timestamp: new Date(now).toISOString(),
    durationS: 0,
    reason: 'reset',
    agent: null,
    costUsd: null,
    tokensIn: null,
    tokensOut: null,
  };
  const samples = savedSamples(paths, target, commit);
  await ledger.append(row);
  const files = iterationPaths(paths, number);
  fs.mkdirSync(files.dir, { recursive: true });
  const record = { ...row, commitFull: commit, base: previousTip, resetTo: iteration, undone, backupRef, detail: null };
  await writeFileDurable(files.result, JSON.stringify(record, null, 2) + '\n');
  // The reset row is the ledger's last keep: state.json names it, so adopt-ledger-keep agrees.
  await store.update((s) => ({
    ...s,
    // The restored best keeps what it was measured on (repeats), so the next decision compares with all of it.
    lastKept: { commit, metric: target.metric, iteration: number, ...(samples === null ? {} : { samples }) },
    consecutiveCrashes: 0,
    consecutiveNoChange: 0,
    intent: null,
    digest: ledgerDigest(ledger.rows(), config.direction, paths.results),
  }));
  await session.worktree.restore(commit, branch);
  return { row, target, commit, undone, backupRef, previousTip, lastKeepRef: saved[1] ?? null };
}

/** The full hash of a keep: its result.json says it exactly; a seed row only has its short hash. */
async function commitOf(session: Session, row: LedgerRow): Promise<string | null> {
  const file = iterationPaths(session.paths, row.iteration).result;
  try {
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as { commitFull?: unknown };
    if (typeof record.commitFull === 'string') {
      const full = await session.project.resolveCommit(record.commitFull);
      if (full !== null) return full;
    }
  } catch {
    // no (readable) artifact: the row's short hash
  }
  return row.commit === '' ? null : session.project.resolveCommit(row.commit);
}

/**
 * The keeps a reset to `iteration` undoes: those in effect now (the chain of keeps the
 * current one was built on, earlier resets, rebases and revalidations followed) that keep
 * `iteration`'s chain does not hold.
 */
function keepsUndone(rows: readonly LedgerRow[], iteration: number): number[] {
  const chains = keepChainOf(rows);
  const kept = new Set((chains.chainAt(iteration) ?? []).map((row) => row.iteration));
  return chains.chain.filter((row) => !kept.has(row.iteration) && !isResetRow(row)).map((row) => row.iteration);
}
