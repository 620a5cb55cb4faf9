/**
 * `agent: none`: an external agent edits the worktree and each `run --single` evaluates
 * what it left. A kill during that evaluation must not throw the external agent's change
 * away: the restart rolls back (no row) to the candidate, and evaluates it again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/project.js';
import { branchTip, commitCandidate, projectWithBaseline } from './helpers/interrupted.js';

it('a kill during the evaluation of an external agent\'s change: re-evaluated, not lost', async () => {
  const project = await projectWithBaseline([], { agent: 'none' });
  // The external agent's change, captured as the candidate, then the kill mid-evaluation.
  const candidate = await commitCandidate(project, '4');
  project.writeState({ ...project.state(), intent: { phase: 'eval', iteration: 1, base: project.base, candidate, child: null } });
  await git(project.worktreeDir, 'checkout', '-q', '--detach', project.base); // wherever git was left

  const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/recovered iteration 1: interrupted during eval; no row written/);
  expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
    ['0', 'keep', 'baseline', '10.000000'],
    ['1', 'keep', 'improved', '4.000000'],
  ]);
  expect(await branchTip(project)).toBe(candidate);
  expect(fs.readFileSync(path.join(project.worktreeDir, 'value.txt'), 'utf8')).toBe('4\n');
});
