/**
 * `reset <id> --to <iteration>`: an earlier keep is the best again. The branch, the worktree,
 * state.json and the ledger agree on it; the undone tip stays under refs/autoresearch/; the
 * next run continues from it. Refused (nothing changed) while the experiment runs, and for an
 * iteration that is not a keep, unknown, or already the current one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { git, makeProject, type TestProject } from '../helpers/project.js';
import { luckyKeepProject } from '../helpers/lucky-keep.js';

const BRANCH = 'refs/heads/autoresearch/test/exp';

async function state(project: TestProject): Promise<{ lastKept: { commit: string; metric: number | null; iteration: number | null } }> {
  return JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
}

async function commitOf(project: TestProject, iteration: number): Promise<string> {
  const record = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', String(iteration).padStart(5, '0'), 'result.json'), 'utf8')) as { commitFull: string };
  return record.commitFull;
}

/** Everything reset could change: ledger, state, refs (branch and refs/autoresearch/), the worktree's HEAD and files. */
async function snapshot(project: TestProject): Promise<string[]> {
  const worktree = await project.worktree();
  return [
    await project.results(),
    JSON.stringify((await state(project)).lastKept),
    await git(project.root, 'for-each-ref', '--format=%(objectname) %(refname)'),
    await git(worktree, 'rev-parse', 'HEAD'),
    await git(worktree, 'status', '--porcelain'),
    await fs.readFile(path.join(worktree, 'value.txt'), 'utf8'),
  ];
}

describe('reset --to', () => {
  it('after three keeps, makes keep 1 the best again: branch, worktree, state, a reset row, the old tip under refs/, and the next run continues from it', async () => {
    // Iterations 1-3 keep 8, 6, 4 (lower is better); iteration 4 is the reset row; 5 tries 7.
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt', 'echo 4 > value.txt', '', 'echo 7 > value.txt'] });
    const cli = (...args: string[]) => runCli(['--path', project.root, ...args], { env: project.env });
    expect((await cli('run', project.id, '--max-experiments', '3')).exitCode).toBe(0);
    expect((await project.rows()).map((r) => r.status)).toEqual(['keep', 'keep', 'keep', 'keep']);
    const keep1 = await commitOf(project, 1);
    const oldTip = await git(project.root, 'rev-parse', BRANCH);
    expect(oldTip).toBe(await commitOf(project, 3));

    const r = await cli('reset', project.id, '--to', '1');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('keep 1 is the best again: score 8 ');

    const rows = await project.rows();
    expect(rows).toHaveLength(5);
    expect(rows[4]).toMatchObject({
      commit: keep1.slice(0, 7),
      metric: '8.000000',
      status: 'keep',
      description: 'reset to iteration 1 (undoes keeps 2, 3)',
      iteration: '4',
      reason: 'reset',
    });
    expect(await git(project.root, 'rev-parse', BRANCH)).toBe(keep1);
    const worktree = await project.worktree();
    expect(await git(worktree, 'rev-parse', 'HEAD')).toBe(keep1);
    expect(await git(worktree, 'symbolic-ref', 'HEAD')).toBe(BRANCH);
    expect(await git(worktree, 'status', '--porcelain')).toBe('');
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('8\n');
    expect((await state(project)).lastKept).toEqual({ commit: keep1, metric: 8, iteration: 4, samples: [8] }); // keep 1's own sample
    const backups = (await git(project.root, 'for-each-ref', '--format=%(objectname) %(refname)', 'refs/autoresearch/test/exp/reset/')).split('\n');
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(new RegExp(`^${oldTip} refs/autoresearch/test/exp/reset/1-\\d+$`));
    expect(r.stdout).toContain(backups[0]?.split(' ')[1]);

    // "Best so far" is the last keep everywhere, not the minimum over all keep rows (4).
    const status = JSON.parse((await cli('status', '--json')).stdout) as Array<{ best: number }>;
    expect(status[0]?.best).toBe(8);
    expect((await cli('results', project.id)).stdout).toMatch(/best score 8 at iteration 4/);
    const overview = JSON.parse((await cli('results', '--all', '--format', 'json')).stdout) as Array<{ best: number }>;
    expect(overview[0]?.best).toBe(8);

    // The next run starts from keep 1 with best 8: 7 beats it (it would not beat 4).
    const next = await cli('run', project.id, '--max-experiments', '1');
    expect(next.exitCode).toBe(0);
    expect(next.stdout).toMatch(/best so far 8\b/);
    expect(next.stdout).toMatch(/best score: 7\b/);
    const after = await project.rows();
    expect(after[5]).toMatchObject({ iteration: '5', status: 'keep', reason: 'improved', metric: '7.000000' });
    expect(await git(project.root, 'rev-parse', `${BRANCH}~1`)).toBe(keep1);
  });

  it('a reset whose state.json write was lost (a kill right after its row) is taken from the ledger on the next start', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt', '', 'echo 7 > value.txt'] });
    const cli = (...args: string[]) => runCli(['--path', project.root, ...args], { env: project.env });
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);
    const file = path.join(project.expDir, 'state.json');
    const before = JSON.parse(await fs.readFile(file, 'utf8')) as { lastKept: unknown };
    expect((await cli('reset', project.id, '--to', '1')).exitCode).toBe(0);
    // As if killed after the row: state.json still names keep 2.
    const after = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(file, JSON.stringify({ ...after, lastKept: before.lastKept }, null, 2));
    const next = await cli('run', project.id, '--max-experiments', '1');
    expect(next.exitCode).toBe(0);
    expect(next.stdout + next.stderr).toMatch(/adopted the last keep recorded in .*iteration 3/);
    expect((await project.rows())[4]).toMatchObject({ iteration: '4', status: 'keep', metric: '7.000000' }); // judged against 8, not 6
    expect(await git(project.root, 'rev-parse', `${BRANCH}~1`)).toBe(await commitOf(project, 1));
  });

  it('refuses an iteration that is not a keep, an unknown one and the current keep, changing nothing', async () => {
    const project = await makeProject({ plan: ['echo 12 > value.txt'] });
    const cli = (...args: string[]) => runCli(['--path', project.root, ...args], { env: project.env });
    expect((await cli('run', project.id, '--max-experiments', '1')).exitCode).toBe(0);
    expect((await project.rows()).map((r) => `${r.status} ${r.reason}`)).toEqual(['keep baseline', 'discard no_improvement']);
    const before = await snapshot(project);

    const discard = await cli('reset', project.id, '--to', '1');
    expect(discard.exitCode).toBe(1);
    expect(discard.stderr).toMatch(/reset --to 1: expected a keep \(baseline or improved\), found a discard \(no_improvement\) at iteration 1 in .*results\.tsv \(keeps: 0\)/);
    const unknown = await cli('reset', project.id, '--to', '9');
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/found no row for iteration 9 \(keeps: 0\)/);
    const current = await cli('reset', project.id, '--to', '0');
    expect(current.exitCode).toBe(1);
    expect(current.stderr).toMatch(/keep 0 \(\w+\) is already the current keep; nothing changed/);
    const word = await cli('reset', project.id, '--to', 'last');
    expect(word.exitCode).toBe(1);
    expect(word.stderr).toMatch(/expected the iteration number of a keep \(e\.g\. 3\), found `last`/);
    expect(await snapshot(project)).toEqual(before);
  });

  it('refuses while a run holds the experiment, saying to pause it first', async () => {
    const gate = path.join(await makeTempDir('ar-gate-'), 'open'); // the evaluation waits for it
    const project = await makeProject({
      config: { evaluate_cmd: `echo started; while [ ! -f ${gate} ]; do sleep 0.05; done; sh evaluate.sh` },
      plan: ['echo 8 > value.txt'],
    });
    const run = startCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    await run.waitFor(/#0 eval/);
    const refused = await runCli(['--path', project.root, 'reset', project.id, '--to', '0'], { env: project.env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/experiment test\/exp is already running \(pid \d+/);
    expect(refused.stderr).toContain(`run \`autoresearch pause ${project.id}\` first`);
    await fs.writeFile(gate, '');
    expect((await run.result()).exitCode).toBe(0);
    expect((await project.rows()).map((r) => r.reason)).toEqual(['baseline', 'improved']); // no reset row
  });
});

describe('reset --to a keep a revalidation undid', () => {
  it('is done, with a note that its gain did not reproduce and what the revalidation measured', async () => {
    // `lucky` is worth 9, but its first evaluation prints 7: the revalidation after it (iteration 3) undoes it.
    const { project, env } = await luckyKeepProject();
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env, timeoutMs: 120_000 })).exitCode).toBe(0);
    expect((await project.rows()).map((r) => r.reason)).toEqual(['baseline', 'improved', 'improved', 'revalidation_failed', 'improved']);

    const r = await runCli(['--path', project.root, 'reset', project.id, '--to', '2'], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('note: the gain of keep 2 did not reproduce: the revalidation of iteration 3 measured score 9 (recorded 7)');
    // A keep no revalidation undid gets no such note.
    const again = await runCli(['--path', project.root, 'reset', project.id, '--to', '1'], { env });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).not.toContain('did not reproduce');
  }, 120_000);
});
