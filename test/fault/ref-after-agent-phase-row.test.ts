/**
 * Review of issue 13 item 5 (record() writes a rejected candidate's ref while the row is
 * appended; recovery writes it after a kill between). Recovery only knows the candidate from
 * an *eval* intent. A row that follows an *agent* intent (scope_violation, an agent crash
 * whose partial change was captured) also has a rejected candidate commit: record() saves its
 * ref (verdict.commit !== base) concurrently with the append, so a kill after the row and
 * before update-ref leaves the candidate reachable from nothing but the branch, which the
 * recovery's restore then moves back to the keep. The promise: rejected candidates stay
 * reachable under refs/autoresearch/<id>/<n>. (record() now writes the ref of such a row
 * before the row; recovery still finishes one whose ref is missing, from the branch.) And an
 * agent that plants the ref's lock: no row for a candidate no ref can hold.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/project.js';
import { branchTip, projectWithBaseline, type BaselineProject } from './helpers/interrupted.js';

function rowLine(project: BaselineProject, fields: Record<string, string>): string {
  const header = fs.readFileSync(path.join(project.expDir, 'results.tsv'), 'utf8').split('\n')[0] ?? '';
  return header.split('\t').map((column) => fields[column] ?? '').join('\t') + '\n';
}

/** What a kill -9 right after the row's fsync and before git's update-ref leaves, for a row decided without an eval intent. */
async function killedAfterAgentPhaseRow(project: BaselineProject, status: 'discard' | 'crash', reason: string): Promise<string> {
  // The agent's change, captured as one commit on the branch (as captureCandidate leaves it).
  fs.writeFileSync(path.join(project.worktreeDir, 'other.txt'), 'changed outside scope\n');
  await git(project.worktreeDir, 'commit', '-q', '-am', 'touch other.txt');
  const candidate = await git(project.worktreeDir, 'rev-parse', 'HEAD');
  // The intent the agent turn wrote (candidate.ts agentTurn); no eval intent follows these rows.
  project.writeState({ ...project.state(), intent: { phase: 'agent', iteration: 1, base: project.base, child: null } });
  fs.appendFileSync(
    path.join(project.expDir, 'results.tsv'),
    rowLine(project, {
      commit: candidate.slice(0, 7),
      metric: 'N/A',
      status,
      description: 'touch other.txt',
      iteration: '1',
      timestamp: new Date().toISOString(),
      duration_s: '0.3',
      reason,
      agent: 'command',
    }),
  );
  return candidate;
}

describe('killed after a row decided in the agent phase, before its candidate ref', () => {
  it.each([
    ['discard', 'scope_violation'],
    ['crash', 'agent_exit'],
  ] as const)('a %s (%s): the restart keeps the rejected candidate reachable under refs/autoresearch/<id>/1', async (status, reason) => {
    const project = await projectWithBaseline(['']);
    const candidate = await killedAfterAgentPhaseRow(project, status, reason);
    await expect(git(project.root, 'rev-parse', '--verify', '-q', `refs/autoresearch/${project.id}/1`)).rejects.toThrow();

    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`recovered iteration 1: row ${status} was written; finished its git step`));
    expect(await branchTip(project)).toBe(project.base); // the restore moved the branch off the candidate
    // Only the ref can hold it now (the branch moved; the reflog is not a promise).
    expect(await git(project.root, 'rev-parse', '--verify', '-q', `refs/autoresearch/${project.id}/1`).catch(() => 'missing')).toBe(candidate);
  });
});

describe('an agent that makes its rejected candidate\'s ref update fail (a planted ref lock)', () => {
  it('no row for a candidate that cannot be kept reachable, run after run, each failing loudly', async () => {
    // Iteration 1: a change outside scope (decided in the agent's turn: its ref is written
    // before its row), and a lock in the way of refs/autoresearch/<id>/1. A plain file: no git,
    // so no ref guard sees it. The plan agent does it again whenever iteration 1 runs.
    const plant = 'echo x >> other.txt; d="$(git rev-parse --path-format=absolute --git-common-dir)/refs/autoresearch/test/exp"; mkdir -p "$d"; : > "$d/1.lock"';
    const project = await projectWithBaseline([plant]);

    for (const attempt of [1, 2]) {
      const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
      expect(r.exitCode, `attempt ${attempt}`).not.toBe(0);
      expect(r.stderr).toMatch(/update-ref --no-deref refs\/autoresearch\/test\/exp\/1 .*cannot lock ref/);
      // The restart removed the first attempt's lock (no git process held it) before running again.
      if (attempt === 2) expect(r.stdout + r.stderr).toMatch(/removed stale git lock .*1\.lock/);
      expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason])).toEqual([['0', 'keep', 'baseline']]);
      // Never moved off it: the branch still holds the candidate no ref could name.
      expect(await branchTip(project)).not.toBe(project.base);
    }
  });
});
