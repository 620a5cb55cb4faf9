/**
 * `rebase <id>`: the experiment moves onto the project's current HEAD (the user fixed the
 * evaluator on main), its keeps carried over, and the baseline is measured again there with
 * the fixed evaluator. A conflict or a failing evaluation changes nothing; --onto-head-only
 * drops the keeps. The user's checkout and refs are never touched.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject, type TestProject } from '../helpers/project.js';

const BRANCH = 'refs/heads/autoresearch/test/exp';

/** Everything rebase could change: ledger, state, every ref, the worktree's HEAD and files, the user's checkout. */
async function snapshot(project: TestProject): Promise<string[]> {
  const worktree = await project.worktree();
  const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as { lastKept: unknown };
  return [
    await project.results(),
    JSON.stringify(state.lastKept),
    await git(project.root, 'for-each-ref', '--format=%(objectname) %(refname)'),
    await git(worktree, 'symbolic-ref', 'HEAD'),
    await git(worktree, 'rev-parse', 'HEAD'),
    await git(worktree, 'status', '--porcelain'),
    await fs.readFile(path.join(worktree, 'value.txt'), 'utf8'),
    await git(project.root, 'status', '--porcelain'),
  ];
}

async function commitOnMain(project: TestProject, file: string, content: string, message: string): Promise<string> {
  await fs.writeFile(path.join(project.root, file), content);
  await git(project.root, 'add', file);
  await git(project.root, 'commit', '-q', '-m', message);
  return git(project.root, 'rev-parse', 'HEAD');
}

describe('rebase', () => {
  it('after a fix committed on main: keeps carried, a new baseline measured with the fixed evaluator, improvements counted from it', async () => {
    // Keeps 8 and 6 (iterations 1, 2); iteration 4 (after the rebase baseline, 3) tries 5.
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt', '', 'echo 5 > value.txt'] });
    const cli = (...args: string[]) => runCli(['--path', project.root, ...args], { env: project.env });
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);
    const oldTip = await git(project.root, 'rev-parse', BRANCH);

    // A broken evaluator on main first: the re-measure fails, nothing changes, no row.
    await commitOnMain(project, 'evaluate.sh', 'echo "evaluator broken" >&2\nexit 3\n', 'break the evaluator');
    const before = await snapshot(project);
    const broken = await cli('rebase', project.id);
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toMatch(/rebase test\/exp onto main@[0-9a-f]{7}: the evaluation failed: eval_exit: exit code 3; nothing changed/);
    expect(broken.stderr).toContain('evaluator broken');
    expect(await snapshot(project)).toEqual(before);
    // The log it names is set aside where the next iteration (same number) cannot move it.
    const evalLog = /evaluation log: (\S+)/.exec(broken.stderr)?.[1] ?? '';
    expect(evalLog).toMatch(/runs\/00003\.interrupted-\d+\/eval\.log$/);

    // The fix: every score is now value + 100.
    const fixed = await commitOnMain(project, 'evaluate.sh', 'v=$(cat value.txt)\necho "score: $((v + 100))"\n', 'fix the evaluator');
    const userStatus = await git(project.root, 'status', '--porcelain');
    const r = await cli('rebase', project.id);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(await fs.readFile(evalLog, 'utf8')).toContain('evaluator broken');
    const short = fixed.slice(0, 7);
    const rows = await project.rows();
    expect(rows).toHaveLength(4);
    expect(rows[3]).toMatchObject({ status: 'keep', reason: 'baseline', metric: '106.000000', iteration: '3', description: `baseline after rebase onto main@${short} (2 keeps carried)` });
    expect(r.stdout).toContain(`rebased onto main@${short}`);

    // The branch: main's fix, then the two keeps replayed; the worktree there, clean.
    const tip = await git(project.root, 'rev-parse', BRANCH);
    expect(await git(project.root, 'rev-parse', `${BRANCH}~2`)).toBe(fixed);
    expect(await git(project.root, 'log', '--format=%s', `${fixed}..${BRANCH}`)).toBe((await git(project.root, 'log', '--format=%s', `${oldTip}~2..${oldTip}`)));
    const worktree = await project.worktree();
    expect(await git(worktree, 'rev-parse', 'HEAD')).toBe(tip);
    expect(await git(worktree, 'status', '--porcelain')).toBe('');
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('6\n');
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as { lastKept: unknown };
    expect(state.lastKept).toEqual({ commit: tip, metric: 106, iteration: 3, samples: [106] });
    const saved = await git(project.root, 'for-each-ref', '--format=%(objectname) %(refname)', 'refs/autoresearch/test/exp/rebase/');
    expect(saved).toMatch(new RegExp(`^${oldTip} refs/autoresearch/test/exp/rebase/\\d+$`));
    // The user's checkout: still main at the fix, nothing new in it.
    expect(await git(project.root, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(await git(project.root, 'rev-parse', 'HEAD')).toBe(fixed);
    expect(await git(project.root, 'status', '--porcelain')).toBe(userStatus);

    // Status: baseline and best are the new baseline's; the next keep is judged against 106.
    const status = JSON.parse((await cli('status', '--json')).stdout) as Array<{ best: number; baseline: number }>;
    expect(status[0]).toMatchObject({ best: 106, baseline: 106 });
    expect((await cli('run', project.id, '--max-experiments', '1')).exitCode).toBe(0);
    expect((await project.rows())[4]).toMatchObject({ iteration: '4', status: 'keep', reason: 'improved', metric: '105.000000' });
    const after = JSON.parse((await cli('status', '--json')).stdout) as Array<{ best: number; baseline: number }>;
    expect(after[0]).toMatchObject({ best: 105, baseline: 106 });
  });

  it('a conflict with the keeps leaves everything untouched and names the files; --onto-head-only starts from HEAD', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt'] });
    const cli = (...args: string[]) => runCli(['--path', project.root, ...args], { env: project.env });
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);
    const head = await commitOnMain(project, 'value.txt', '9\n', 'the user changes the value too');
    const before = await snapshot(project);

    const r = await cli('rebase', project.id);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`rebase test/exp onto main@${head.slice(0, 7)}: keep [0-9a-f]{7,} .* conflicts with it in value\\.txt; aborted, nothing changed`));
    expect(r.stderr).toContain(`autoresearch rebase ${project.id} --onto-head-only`);
    expect(await snapshot(project)).toEqual(before);
    expect(await git(await project.worktree(), 'status', '--porcelain')).toBe(''); // no rebase left half done

    const only = await cli('rebase', project.id, '--onto-head-only');
    expect(only.stderr).toBe('');
    expect(only.exitCode).toBe(0);
    expect((await project.rows())[3]).toMatchObject({ status: 'keep', reason: 'baseline', metric: '9.000000', description: `baseline after rebase onto main@${head.slice(0, 7)} (keeps dropped: --onto-head-only)` });
    expect(await git(project.root, 'rev-parse', BRANCH)).toBe(head);
  });
});
