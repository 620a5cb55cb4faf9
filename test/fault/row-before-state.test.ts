/**
 * A kill right after the ledger append (faults.md §3 row 3): results.tsv has the row of the
 * in-flight iteration while state.json still holds its intent. The ledger is the truth: the
 * restart finishes the decision (a keep moves the branch and lastKept; a discard leaves
 * both) and never writes a second row. A torn row (killed mid-write) is no row: repaired,
 * reported, and the iteration is rolled back and run again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/project.js';
import { branchTip, commitCandidate, projectWithBaseline, type BaselineProject } from './helpers/interrupted.js';

/** One results.tsv line for iteration 1, in the file's own column order. */
function rowLine(project: BaselineProject, fields: Record<string, string>): string {
  const header = fs.readFileSync(path.join(project.expDir, 'results.tsv'), 'utf8').split('\n')[0] ?? '';
  return header.split('\t').map((column) => fields[column] ?? '').join('\t') + '\n';
}

/** The state a kill between `ledger.append` and the state update leaves: row written, intent still set. */
async function killedAfterAppend(project: BaselineProject, value: string, status: 'keep' | 'discard', refWritten = true): Promise<string> {
  const candidate = await commitCandidate(project, value);
  project.writeState({ ...project.state(), intent: { phase: 'eval', iteration: 1, base: project.base, candidate, child: null } });
  // record() writes a rejected candidate's ref while it appends the row: either may be first.
  if (status === 'discard' && refWritten) await git(project.root, 'update-ref', `refs/autoresearch/${project.id}/1`, candidate);
  fs.appendFileSync(
    path.join(project.expDir, 'results.tsv'),
    rowLine(project, {
      commit: candidate.slice(0, 7),
      metric: `${value}.000000`,
      status,
      description: `value ${value}`,
      iteration: '1',
      timestamp: new Date().toISOString(),
      duration_s: '0.3',
      reason: status === 'keep' ? 'improved' : 'no_improvement',
      agent: 'command',
    }),
  );
  return candidate;
}

async function restartOnce(project: BaselineProject): Promise<string> {
  // Iteration 2's plan line is empty: no change, so the branch stays where recovery left it.
  const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout + r.stderr;
}

describe('killed between the row and the state update', () => {
  it('a keep: the restart moves the branch and lastKept to the candidate, no second row', async () => {
    const project = await projectWithBaseline(['echo 4 > value.txt', '']);
    const candidate = await killedAfterAppend(project, '4', 'keep');
    await git(project.worktreeDir, 'checkout', '-q', '--detach', project.base); // the worktree may be anywhere

    const output = await restartOnce(project);
    expect(output).toMatch(/recovered iteration 1: row keep was written; finished its git step/);
    expect((await project.rows()).map((r) => [r.iteration, r.status, r.reason, r.commit])).toEqual([
      ['0', 'keep', 'baseline', project.base.slice(0, 7)],
      ['1', 'keep', 'improved', candidate.slice(0, 7)],
      ['2', 'discard', 'no_change', candidate.slice(0, 7)],
    ]);
    const state = project.state();
    expect(state.lastKept).toEqual({ commit: candidate, metric: 4, iteration: 1 }); // killed before result.json: no samples to carry
    expect(state.intent).toBeNull();
    expect(await branchTip(project)).toBe(candidate);
    expect(fs.readFileSync(path.join(project.worktreeDir, 'value.txt'), 'utf8')).toBe('4\n');
  });

  it('a discard: the restart leaves lastKept and moves the branch back to it, no second row', async () => {
    const project = await projectWithBaseline(['echo 12 > value.txt', '']);
    const candidate = await killedAfterAppend(project, '12', 'discard');

    const output = await restartOnce(project);
    expect(output).toMatch(/recovered iteration 1: row discard was written; finished its git step/);
    expect((await project.rows()).map((r) => [r.iteration, r.status, r.reason])).toEqual([
      ['0', 'keep', 'baseline'],
      ['1', 'discard', 'no_improvement'],
      ['2', 'discard', 'no_change'],
    ]);
    const state = project.state();
    expect(state.lastKept).toEqual({ commit: project.base, metric: 10, iteration: 0, samples: [10] });
    expect(await branchTip(project)).toBe(project.base);
    expect(fs.readFileSync(path.join(project.worktreeDir, 'value.txt'), 'utf8')).toBe('10\n');
    expect(await git(project.root, 'rev-parse', `refs/autoresearch/${project.id}/1`)).toBe(candidate);
  });

  it('a discard whose ref git had not written yet: the restart writes it, so the candidate stays reachable', async () => {
    const project = await projectWithBaseline(['echo 12 > value.txt', '']);
    const candidate = await killedAfterAppend(project, '12', 'discard', false);
    await expect(git(project.root, 'rev-parse', '--verify', '-q', `refs/autoresearch/${project.id}/1`)).rejects.toThrow();

    const output = await restartOnce(project);
    expect(output).toMatch(/recovered iteration 1: row discard was written; finished its git step/);
    expect(await git(project.root, 'rev-parse', `refs/autoresearch/${project.id}/1`)).toBe(candidate);
    expect(await branchTip(project)).toBe(project.base);
    expect((await project.rows()).map((r) => [r.iteration, r.status])).toEqual([
      ['0', 'keep'],
      ['1', 'discard'],
      ['2', 'discard'],
    ]);
  });

  it('a torn row: repaired and reported, the iteration rolled back and run again', async () => {
    const project = await projectWithBaseline(['echo 4 > value.txt']);
    const candidate = await commitCandidate(project, '3');
    project.writeState({ ...project.state(), intent: { phase: 'eval', iteration: 1, base: project.base, candidate, child: null } });
    const full = rowLine(project, { commit: candidate.slice(0, 7), metric: '3.000000', status: 'keep', description: 'value 3', iteration: '1', reason: 'improved' });
    fs.appendFileSync(path.join(project.expDir, 'results.tsv'), full.slice(0, 20)); // killed mid-write

    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/repaired a torn last line/);
    expect(r.stdout).toMatch(/recovered iteration 1: interrupted during eval; no row written/);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '4.000000'], // the re-run, not the torn candidate (3)
    ]);
    expect(project.state().lastKept.metric).toBe(4);
  });
});
