/**
 * A kill after the row and the state were written but before the worktree was restored
 * (the intent is still there, marked decided): the restart finishes the restore and never
 * judges the same candidate again — with `agent: none` the worktree would otherwise still
 * hold it and the next `run --single` would evaluate it a second time.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';

describe('a decided intent', () => {
  it('is finished by the restart: restore only, no second judgement of the candidate', async () => {
    const project = await makeProject({ config: { agent: 'none' } });
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    const worktree = await project.worktree();
    await fs.writeFile(path.join(worktree, 'value.txt'), '14\n'); // worse: discarded
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    expect((await project.rows()).map((r) => [r.status, r.metric])).toEqual([
      ['keep', '10.000000'],
      ['discard', '14.000000'],
    ]);

    // Put back the moment of the kill: worktree at the judged candidate, intent still recorded.
    const stateFile = path.join(project.expDir, 'state.json');
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8'));
    const candidate = await git(project.root, 'rev-parse', 'refs/autoresearch/test/exp/1');
    await git(worktree, 'checkout', '-q', '--force', '-B', state.branch, candidate);
    state.intent = { phase: 'eval', iteration: 1, base: state.lastKept.commit, candidate, child: null, decided: true };
    await fs.writeFile(stateFile, JSON.stringify(state));

    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/recovered iteration 1: row discard and state were written; finished its git step/);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason])).toEqual([
      ['0', 'keep', 'baseline'],
      ['1', 'discard', 'no_improvement'],
      ['2', 'discard', 'no_change'], // the judged candidate was not evaluated again
    ]);
    expect(JSON.parse(await fs.readFile(stateFile, 'utf8')).intent).toBeNull();
  });
});
