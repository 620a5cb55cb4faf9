/**
 * The steering commands (`rebase`, `reset --to`, `init --force`) against a careless user, a
 * hostile repository and a failing machine: a kill at any instant, commits made by hand in
 * the experiment's worktree, the user's hooks, an experiment started over. Nothing kept is
 * lost, the next start carries on where the command left the experiment, and the user's
 * hooks never run.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, startCli } from '../helpers/cli.js';
import { git, makeRepo, makeTempDir } from '../helpers/git-repo.js';
import { cliEnv, makeProject, type TestProject } from '../helpers/project.js';

const BRANCH = 'refs/heads/autoresearch/test/exp';

function cliFor(project: TestProject) {
  return (...args: string[]) => runCli(['--path', project.root, ...args], { env: project.env });
}

async function commitOnMain(project: TestProject, file: string, content: string, message: string): Promise<string> {
  await fs.writeFile(path.join(project.root, file), content);
  await git(project.root, 'add', file);
  await git(project.root, 'commit', '-q', '-m', message);
  return git(project.root, 'rev-parse', 'HEAD');
}

/** Every ref that contains `commit` (empty: only reflogs hold it, gc drops it). */
async function refsContaining(project: TestProject, commit: string): Promise<string> {
  return git(project.root, 'for-each-ref', '--format=%(refname)', '--contains', commit);
}

async function waitForFile(file: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fs.stat(file).then(() => true, () => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('rebase killed during its evaluation', () => {
  it('the next run measures the baseline on the new base; it never goes back to the old keeps', async () => {
    // Keeps 8 and 6 (iterations 1, 2); the killed rebase's baseline would be 3; iteration 4 tries 5.
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt', '', 'echo 5 > value.txt'] });
    const cli = cliFor(project);
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);
    const oldTip = await git(project.root, 'rev-parse', BRANCH);

    // The fix on main: every score +100; the evaluation waits while `block` exists.
    const marks = await makeTempDir('ar-marks-');
    const started = path.join(marks, 'started');
    const block = path.join(marks, 'block');
    await fs.writeFile(block, '');
    const fixed = await commitOnMain(
      project,
      'evaluate.sh',
      `touch '${started}'\nwhile [ -e '${block}' ]; do sleep 0.05; done\nv=$(cat value.txt)\necho "score: $((v + 100))"\n`,
      'fix the evaluator',
    );
    const rebase = startCli(['--path', project.root, 'rebase', project.id], { env: project.env });
    await waitForFile(started);
    process.kill(rebase.pid, 'SIGKILL');
    await rebase.result();
    await fs.rm(block);

    const r = await cli('run', project.id, '--max-experiments', '1');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/adopted the last keep/);
    const rows = await project.rows();
    expect(rows.slice(3).map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['3', 'keep', 'baseline', '106.000000'],
      ['4', 'keep', 'improved', '105.000000'],
    ]);
    // On the new base: main's fix, the two keeps carried, then keep 4.
    expect(await git(project.root, 'rev-parse', `${BRANCH}~3`)).toBe(fixed);
    // The old keeps stay reachable.
    expect(await refsContaining(project, oldTip)).toMatch(/^refs\/autoresearch\/test\/exp\/rebase\/\d+$/m);
    expect(await git(await project.worktree(), 'status', '--porcelain')).toBe('');
  });
});

describe('a keep the seed skill appends after a rebase killed during its evaluation', () => {
  it('is newer than the rebase: the next run continues from it', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt'] });
    const cli = cliFor(project);
    expect((await cli('run', project.id, '--max-experiments', '1')).exitCode).toBe(0);
    const marks = await makeTempDir('ar-marks-');
    const started = path.join(marks, 'started');
    const block = path.join(marks, 'block');
    await fs.writeFile(block, '');
    await commitOnMain(project, 'evaluate.sh', `touch '${started}'\nwhile [ -e '${block}' ]; do sleep 0.05; done\necho "score: $(cat value.txt)"\n`, 'slow evaluator');
    const rebase = startCli(['--path', project.root, 'rebase', project.id], { env: project.env });
    await waitForFile(started);
    process.kill(rebase.pid, 'SIGKILL');
    await rebase.result();
    await fs.rm(block);
    // The skill commits 7 on a branch of the user's and appends its 4-field row.
    await git(project.root, 'checkout', '-q', '-b', 'skill');
    const skill = await commitOnMain(project, 'value.txt', '7\n', 'skill: 7');
    await git(project.root, 'checkout', '-q', 'main');
    await fs.appendFile(path.join(project.expDir, 'results.tsv'), `${skill.slice(0, 7)}\t7.000000\tkeep\tskill: 7\n`);

    const r = await cli('run', project.id, '--max-experiments', '1');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/adopted the last keep recorded in .* \(iteration 2, commit [0-9a-f]{7}, score 7\)/);
    expect(await git(project.root, 'rev-parse', BRANCH)).toBe(skill); // iteration 3 changed nothing
  });
});

describe('rebase when the experiment branch holds a commit made by hand in its worktree', () => {
  it('a conflict puts the branch back on that commit; a rebase that goes through keeps it under refs/autoresearch/<id>/rebase/', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt'] });
    const cli = cliFor(project);
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);
    const worktree = await project.worktree();
    await fs.writeFile(path.join(worktree, 'note.txt'), 'the user tried something by hand\n');
    await git(worktree, 'add', 'note.txt');
    await git(worktree, 'commit', '-q', '-m', 'a commit made by hand');
    const byHand = await git(worktree, 'rev-parse', 'HEAD');

    // A conflict: nothing changed, the branch still holds the commit made by hand.
    await commitOnMain(project, 'value.txt', '9\n', 'the user changes the value too');
    const conflict = await cli('rebase', project.id);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toContain('nothing changed');
    expect(await git(project.root, 'rev-parse', BRANCH)).toBe(byHand);
    expect(await git(project.root, 'for-each-ref', 'refs/autoresearch/test/exp/rebase/')).toBe('');

    // Through: the commit made by hand stays reachable, and the output names it as the previous tip.
    const r = await cli('rebase', project.id, '--onto-head-only');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`the previous tip ${byHand.slice(0, 7)} is kept as refs/autoresearch/test/exp/rebase/`);
    expect(await refsContaining(project, byHand)).toMatch(/^refs\/autoresearch\/test\/exp\/rebase\/\d+$/m);
  });
});

describe('init --force, then a new run', () => {
  it("the old run's rejected candidates stay reachable though the new run gives out their iteration numbers again", async () => {
    // Old run: keep 8 (1), candidate 12 rejected (2). New run: keep 9 (1), candidate 13 rejected (2).
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 12 > value.txt'] });
    const cli = cliFor(project);
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);
    const oldCandidate = await git(project.root, 'rev-parse', 'refs/autoresearch/test/exp/2');
    const config = await fs.readFile(path.join(project.expDir, 'config.cfg'), 'utf8');

    const init = await cli('init', project.id, '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score', '--direction', 'lower', '--force', '--no-baseline');
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toMatch(/its 1 rejected candidate is kept under refs\/autoresearch\/test\/exp\/archive\/\d+\/<iteration>/);
    await fs.writeFile(path.join(project.expDir, 'config.cfg'), config); // the scripted agent again
    await fs.writeFile(project.planFile, 'echo 9 > value.txt\necho 13 > value.txt\n');
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);

    expect((await project.rows()).map((r) => [r.iteration, r.status, r.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '9.000000'],
      ['2', 'discard', '13.000000'],
    ]);
    expect(await git(project.root, 'rev-parse', 'refs/autoresearch/test/exp/2')).not.toBe(oldCandidate);
    expect(await refsContaining(project, oldCandidate)).toMatch(/^refs\/autoresearch\/test\/exp\/archive\/\d+\/2$/m);
  });
});

describe("the user's hooks", () => {
  it("never run for init's baseline worktree (post-checkout, reference-transaction)", async () => {
    const root = await makeRepo({ 'value.txt': '10\n', 'evaluate.sh': 'echo "score: $(cat value.txt)"\n' });
    const hooks = await makeTempDir('ar-hooks-');
    const fired = path.join(hooks, 'fired');
    for (const name of ['post-checkout', 'reference-transaction', 'pre-commit', 'post-commit']) {
      await fs.writeFile(path.join(hooks, name), `#!/bin/sh\necho "${name} $*" >> '${fired}'\n`, { mode: 0o755 });
    }
    await git(root, 'config', 'core.hooksPath', hooks);
    const r = await runCli(['--path', root, 'init', 'test/exp', '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score'], { env: cliEnv() });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('baseline score: 10');
    expect(await fs.readFile(fired, 'utf8').catch(() => 'no hook ran')).toBe('no hook ran');
  });
});

describe("rebase while the user's checkout is in the middle of a rebase", () => {
  it('refuses with what is in progress and how to end it; nothing changed (HEAD there is an intermediate commit)', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt'] });
    const cli = cliFor(project);
    expect((await cli('run', project.id, '--max-experiments', '1')).exitCode).toBe(0);
    // The user's own rebase stops on a conflict in other.txt.
    await git(project.root, 'checkout', '-q', '-b', 'feature');
    await commitOnMain(project, 'other.txt', 'feature\n', 'feature change');
    await git(project.root, 'checkout', '-q', 'main');
    await commitOnMain(project, 'other.txt', 'main\n', 'main change');
    await git(project.root, 'checkout', '-q', 'feature');
    await expect(git(project.root, 'rebase', 'main')).rejects.toThrow(/conflict/i);
    const refs = await git(project.root, 'for-each-ref');
    const results = await project.results();

    const r = await cli('rebase', project.id);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/rebase test\/exp: expected the project's checkout .* on a finished commit to move onto, found a rebase in progress there \(.*rebase-merge\); finish it \(git rebase --continue, or git rebase --abort\), then rebase again; nothing changed/);
    expect(await git(project.root, 'for-each-ref')).toBe(refs);
    expect(await project.results()).toBe(results);
  });
});

describe('the experiment branch moved off its last keep by hand (`git reset --hard HEAD~1` in the worktree)', () => {
  for (const command of ['reset', 'rebase'] as const) {
    it(`${command} keeps the last keep reachable: the ledger's row names it`, async () => {
      const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt', 'echo 4 > value.txt'] });
      const cli = cliFor(project);
      expect((await cli('run', project.id, '--max-experiments', '3')).exitCode).toBe(0);
      const keep3 = await git(project.root, 'rev-parse', BRANCH);
      await git(await project.worktree(), 'reset', '-q', '--hard', 'HEAD~1');
      if (command === 'rebase') await commitOnMain(project, 'other.txt', 'moved on\n', 'main moves on');

      const r = command === 'reset' ? await cli('reset', project.id, '--to', '1') : await cli('rebase', project.id);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`which the branch no longer held \\(moved by hand\\?\\), is kept as refs/autoresearch/test/exp/${command}/[0-9-]+-last-keep`));
      expect(await refsContaining(project, keep3)).toMatch(new RegExp(`^refs/autoresearch/test/exp/${command}/[0-9-]+-last-keep$`, 'm'));
    });
  }
});

describe('rebase killed during the replay (the whole process group, git included)', () => {
  it('the next run is on the last keep, the worktree clean, no rebase left half done, no keep lost', async () => {
    const marks = await makeTempDir('ar-marks-');
    const slow = path.join(marks, 'slow');
    const started = path.join(marks, 'started');
    // A smudge filter (the user's repository config) holds git mid-rebase while `slow` exists.
    const project = await makeProject({ plan: ['echo 8 > value.txt', 'echo 6 > value.txt', 'echo 5 > value.txt'], files: { '.gitattributes': 'value.txt filter=slow\n' } });
    await git(project.root, 'config', 'filter.slow.smudge', `sh -c 'if [ -e ${slow} ]; then touch ${started}; sleep 30; fi; cat'`);
    await git(project.root, 'config', 'filter.slow.clean', 'cat');
    const cli = cliFor(project);
    expect((await cli('run', project.id, '--max-experiments', '2')).exitCode).toBe(0);
    const keep2 = await git(project.root, 'rev-parse', BRANCH);
    await commitOnMain(project, 'evaluate.sh', 'v=$(cat value.txt)\necho "score: $((v + 100))"\n', 'fix the evaluator');

    await fs.writeFile(slow, '');
    const rebase = execa('node', [CLI, '--path', project.root, 'rebase', project.id], { env: project.env, reject: false, detached: true, stdin: 'ignore' });
    await waitForFile(started);
    process.kill(-(rebase.pid as number), 'SIGKILL');
    await rebase;
    await fs.rm(slow);

    const r = await cli('run', project.id, '--max-experiments', '1');
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '8.000000'],
      ['2', 'keep', '6.000000'],
      ['3', 'keep', '5.000000'],
    ]);
    expect(await git(project.root, 'rev-parse', `${BRANCH}~1`)).toBe(keep2);
    const worktree = await project.worktree();
    expect(await git(worktree, 'status', '--porcelain')).toBe('');
    expect(await git(worktree, 'symbolic-ref', 'HEAD')).toBe(BRANCH);
    const rebaseState = path.resolve(worktree, await git(worktree, 'rev-parse', '--git-path', 'rebase-merge'));
    expect(rebaseState).toMatch(/rebase-merge$/);
    await expect(fs.stat(rebaseState)).rejects.toThrow();

    // And a rebase now goes through.
    const again = await cli('rebase', project.id);
    expect(again.exitCode).toBe(0);
    expect((await project.rows())[4]).toMatchObject({ status: 'keep', reason: 'baseline', metric: '105.000000' });
  });
});

describe('init of an experiment whose results.tsv is damaged', () => {
  it('says so in the refusal, and --force starts it over (the damaged file archived byte for byte)', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt'] });
    const cli = cliFor(project);
    expect((await cli('run', project.id, '--max-experiments', '1')).exitCode).toBe(0);
    const results = path.join(project.expDir, 'results.tsv');
    await fs.appendFile(results, 'garbage line\n');
    const damaged = await fs.readFile(results, 'utf8');
    const init = ['init', project.id, '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score', '--no-baseline'];

    const refused = await cli(...init);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/expected a new experiment, found one .*nothing was written/);
    expect(refused.stderr).toMatch(/results\.tsv {2}unreadable: .*results\.tsv:4: expected 17 tab-separated fields/);

    const forced = await cli(...init, '--force');
    expect(forced.stderr).toBe('');
    expect(forced.exitCode).toBe(0);
    const archive = /are in (\S+)\n/.exec(forced.stdout)?.[1] ?? '';
    expect(await fs.readFile(path.join(archive, 'results.tsv'), 'utf8')).toBe(damaged);
    expect((await project.results()).split('\n')[1]).toBe('');
  });
});

describe('rebase with the fix left uncommitted in the checkout', () => {
  it('warns that the rebase does not see it (and says it is up to date only with that warning)', async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt'] });
    const cli = cliFor(project);
    expect((await cli('run', project.id, '--max-experiments', '1')).exitCode).toBe(0);
    await fs.writeFile(path.join(project.root, 'evaluate.sh'), 'v=$(cat value.txt)\necho "score: $((v + 100))"\n');
    const r = await cli('rebase', project.id);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/already based on main@[0-9a-f]{7}: nothing changed/);
    expect(r.stderr).toMatch(/warning: rebase: your checkout has 1 uncommitted change the experiment will not see \(it starts from HEAD [0-9a-f]{7}\): evaluate\.sh; commit them first/);
  });
});

describe('started from a git hook (git exports GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE to hooks)', () => {
  it("the agent's git works in the experiment's worktree, never in the user's index", async () => {
    const project = await makeProject({ plan: ['echo 8 > value.txt; git add -A; git -c user.name=a -c user.email=a@b commit -qm "agent commit"'] });
    const status = await git(project.root, 'status', '--porcelain');
    const gitDir = path.join(project.root, '.git');
    const env = { ...project.env, GIT_DIR: gitDir, GIT_WORK_TREE: project.root, GIT_INDEX_FILE: path.join(gitDir, 'index') };
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env });
    expect(r.exitCode).toBe(0);
    expect((await project.rows())[1]).toMatchObject({ status: 'keep', description: 'agent commit', metric: '8.000000' });
    expect(await git(project.root, 'status', '--porcelain')).toBe(status);
  });
});
