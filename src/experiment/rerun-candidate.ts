/**
 * The candidate commit a past row evaluated, as `rerun` re-applies it: its candidate ref, else
 * the full hash in its result.json, else (a row the seed skill wrote) its short hash. null when
 * the row has none: `no_change`, or an agent that failed before changing anything (its
 * result.json names its base as its commit). `report` asks the same question, so it only
 * recommends re-running what `rerun` can re-run.
 */
import fs from 'node:fs';
import type { LedgerRow } from '../ledger/types.js';
import { candidateRef } from './paths.js';

export async function rerunCandidate(
  resolveCommit: (rev: string) => Promise<string | null>,
  idKey: string,
  row: LedgerRow,
  resultFile: string,
): Promise<string | null> {
  if (row.reason === 'no_change') return null;
  let commit = await resolveCommit(candidateRef(idKey, row.iteration));
  if (commit === null && fs.existsSync(resultFile)) {
    const record = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { commitFull?: string; base?: string };
    // A row about its base (an agent that failed before changing anything) has no candidate.
    if (record.commitFull === undefined || record.commitFull === record.base) return null;
    commit = await resolveCommit(record.commitFull);
  } else if (commit === null && row.reason === null && row.commit !== '') {
    commit = await resolveCommit(row.commit); // a row written by the seed skill: only its short hash
  }
  return commit;
}
