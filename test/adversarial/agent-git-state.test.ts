/**
 * Hostile agent vs the user's own git state: refs, stash, HEAD and index of the user's
 * checkout are identical before and after a run whatever the agent does with git inside its
 * worktree, and the experiment goes on (git/ref-guard.ts, git/worktree-identity.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { openProject } from '../../src/git/project-repo.js';
import { RefGuard } from '../../src/git/ref-guard.js';
import { makeRepo, makeTempDir } from '../helpers/git-repo.js';
import { git, makeProject, type TestProject } from '../helpers/project.js';

/** Everything of the user's git state an agent could reach. */
async function userGitState(root: string) {
  const refs = (await git(root, 'for-each-ref', '--format=%(objectname) %(refname)'))
    .split('\n')
    .filter((l) => l !== '' && !/ refs\/(autoresearch|heads\/autoresearch)\//.test(l));
  return {
    refs,
    stash: await git(root, 'stash', 'list', '--format=%H %gd %gs'),
    head: await git(root, 'symbolic-ref', '-q', 'HEAD').catch(() => 'detached'),
    headCommit: await git(root, 'rev-parse', 'HEAD'),
    cached: await git(root, 'diff', '--cached'),
    index: (await fs.readFile(path.join(root, '.git', 'index'))).toString('base64'),
  };
}

/** A user with work in progress: a branch, a tag, two stash entries and a staged change. */
async function userWithWork(project: TestProject): Promise<void> {
  const { root } = project;
  await git(root, 'branch', 'feature');
  await git(root, 'tag', 'v1');
  await fs.writeFile(path.join(root, 'other.txt'), 'stash one\n');
  await git(root, 'stash', 'push', '-q', '-m', 'first');
  await fs.writeFile(path.join(root, 'other.txt'), 'stash two\n');
  await git(root, 'stash', 'push', '-q', '-m', 'second');
  await fs.writeFile(path.join(root, 'other.txt'), 'staged\n');
  await git(root, 'add', 'other.txt');
}

async function runOne(project: TestProject, iterations = 1) {
  const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', String(iterations)], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  return r;
}

async function result(project: TestProject, iteration: number): Promise<{ status: string; reason: string; technicalDetail: string | null }> {
  return JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', String(iteration).padStart(5, '0'), 'result.json'), 'utf8'));
}

describe('a hostile agent and the user refs', () => {
  it("git stash pop / stash drop / stash push: the user's stash list comes back exactly", async () => {
    const project = await makeProject({
      plan: ['git stash pop || true; git stash drop || true; git stash push -m agent || true; git checkout -- . ; echo 5 > value.txt'],
    });
    await userWithWork(project);
    const before = await userGitState(project.root);
    await runOne(project);
    expect(await userGitState(project.root)).toEqual(before);
    const rows = await project.rows();
    expect(rows.at(-1)?.status).toBe('keep'); // the experiment went on: the candidate was judged
  }, 20_000);

  it('branch, tag and update-ref of the user branch are refused by the hook; the candidate is still judged', async () => {
    const project = await makeProject({
      plan: ['echo 5 > value.txt && git commit -qam five; git branch x || true; git tag y || true; git update-ref refs/heads/main HEAD || true; git notes add -m n HEAD || true'],
    });
    await userWithWork(project);
    const before = await userGitState(project.root);
    await runOne(project);
    expect(await userGitState(project.root)).toEqual(before);
    expect((await project.rows()).at(-1)?.status).toBe('keep');
    const stderr = await fs.readFile(path.join(project.expDir, 'runs', '00001', 'agent.stderr.log'), 'utf8');
    expect(stderr).toMatch(/autoresearch: refused to change refs\/heads\/x/);
  }, 20_000);

  it("a CLI whose shell tool appends core.hooksPath= to GIT_CONFIG_COUNT (gemini 0.61 does, for every command): the hook still refuses", async () => {
    // What gemini's run_shell_command puts in the environment of each command it runs.
    const asGemini = 'n=${GIT_CONFIG_COUNT:-0}; env GIT_CONFIG_COUNT=$((n + 1)) "GIT_CONFIG_KEY_$n=core.hooksPath" "GIT_CONFIG_VALUE_$n="';
    const project = await makeProject({ plan: [`echo 5 > value.txt && ${asGemini} git commit -qam five; ${asGemini} git tag y || true`] });
    await userWithWork(project);
    const before = await userGitState(project.root);
    await runOne(project);
    expect(await userGitState(project.root)).toEqual(before);
    expect((await project.rows()).at(-1)?.status).toBe('keep');
    const stderr = await fs.readFile(path.join(project.expDir, 'runs', '00001', 'agent.stderr.log'), 'utf8');
    expect(stderr).toMatch(/autoresearch: refused to change refs\/tags\/y/);
    expect((await result(project, 1)).technicalDetail ?? '').not.toMatch(/refs\/tags\/y/);
  }, 20_000);

  it('the hook bypassed (core.hooksPath overridden, stash reflog rewritten): every ref is put back and the result says so', async () => {
    const bypass = 'git -c core.hooksPath=/dev/null';
    const project = await makeProject({
      plan: [
        `echo 5 > value.txt && git commit -qam five && ${bypass} branch x && ${bypass} tag y && ${bypass} update-ref refs/heads/main HEAD && ${bypass} tag -d v1 && ${bypass} stash drop -q && ${bypass} update-ref refs/heads/feature HEAD`,
      ],
    });
    await userWithWork(project);
    const before = await userGitState(project.root);
    await runOne(project);
    expect(await userGitState(project.root)).toEqual(before);
    const r = await result(project, 1);
    expect(r.status).toBe('keep');
    expect(r.technicalDetail).toMatch(/removed refs\/heads\/x/);
    expect(r.technicalDetail).toMatch(/put back refs\/heads\/main/);
    expect(r.technicalDetail).toMatch(/put back refs\/tags\/v1/);
    // What the agent made is kept under our namespace, never lost.
    expect(await git(project.root, 'for-each-ref', '--format=%(refname)', 'refs/autoresearch/')).toMatch(/displaced\/\d+\/heads\/x/);
  }, 20_000);
});

describe("a hostile agent and the worktree's identity", () => {
  const cases: [string, string, RegExp][] = [
    ['.git replaced by a symlink to the main git dir', 'echo 5 > value.txt; rm .git && ln -s "$AUTORESEARCH_PROJECT/.git" .git', /worktree_tampered: \.git replaced by a symlink to .*\/\.git/],
    ['rm -rf .git && git init', 'echo 5 > value.txt; rm -rf .git && git init -q && git add -A && git commit -qm mine', /worktree_tampered: \.git replaced by a directory/],
  ];
  for (const [name, attack, reason] of cases) {
    it(`${name}: a crash with the reason, the worktree rebuilt, the user's state untouched, the next iteration kept`, async () => {
      const project = await makeProject({ plan: [attack, 'echo 3 > value.txt'] });
      await userWithWork(project);
      const before = await userGitState(project.root);
      await runOne(project, 2);
      expect(await userGitState(project.root)).toEqual(before);
      const rows = await project.rows();
      expect(rows.map((r) => [r.status, r.reason])).toEqual([
        ['keep', 'baseline'],
        ['crash', 'worktree_tampered'],
        ['keep', 'improved'],
      ]);
      expect((await result(project, 1)).technicalDetail).toMatch(reason);
      // The worktree is a linked worktree of the project again, at the new keep.
      const wt = await project.worktree();
      expect((await fs.lstat(path.join(wt, '.git'))).isFile()).toBe(true);
      expect(await git(wt, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('autoresearch/test/exp');
      expect(await fs.readFile(path.join(wt, 'value.txt'), 'utf8')).toBe('3\n');
    }, 20_000);
  }

  it('git checkout main (and a commit) inside the worktree: the user branch does not move, the change is judged', async () => {
    const project = await makeProject({
      plan: ['git checkout -q main 2>/dev/null || git checkout -q --ignore-other-worktrees main; echo 5 > value.txt; git commit -qam five || true', 'echo 3 > value.txt'],
    });
    await userWithWork(project);
    const before = await userGitState(project.root);
    await runOne(project, 2);
    expect(await userGitState(project.root)).toEqual(before);
    expect((await project.rows()).map((r) => [r.status, r.reason])).toEqual([
      ['keep', 'baseline'],
      ['keep', 'improved'],
      ['keep', 'improved'],
    ]);
    expect(await git(await project.worktree(), 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('autoresearch/test/exp');
  }, 20_000);

  it("git update-ref refs/heads/main HEAD through a symlinked .git: the user's branch is put back", async () => {
    const project = await makeProject({
      plan: ['echo 5 > value.txt && git commit -qam five && c=$(git rev-parse HEAD) && rm .git && ln -s "$AUTORESEARCH_PROJECT/.git" .git && git -c core.hooksPath=/dev/null update-ref refs/heads/main $c', 'echo 3 > value.txt'],
    });
    await userWithWork(project);
    const before = await userGitState(project.root);
    await runOne(project, 2);
    expect(await userGitState(project.root)).toEqual(before);
    expect((await project.rows()).map((r) => r.reason)).toEqual(['baseline', 'worktree_tampered', 'improved']);
  }, 20_000);
});

describe('the user working in their own checkout during a turn', () => {
  it('a commit the user makes on their branch while the agent runs is theirs: left as it is', async () => {
    // The "user" commits from the agent's process, without the agent's git settings.
    const asUser = 'env -u GIT_CONFIG_COUNT -u GIT_CONFIG_KEY_0 -u GIT_CONFIG_VALUE_0 -u GIT_CONFIG_PARAMETERS git -C "$AUTORESEARCH_PROJECT"';
    const project = await makeProject({ plan: [`${asUser} commit -qm 'user work' && echo 5 > value.txt`] });
    await userWithWork(project);
    const before = await git(project.root, 'rev-parse', 'HEAD');
    await runOne(project);
    expect(await git(project.root, 'log', '-1', '--format=%s', 'main')).toBe('user work');
    expect(await git(project.root, 'rev-parse', 'HEAD~1')).toBe(before);
    expect((await result(project, 1)).technicalDetail).toBeNull();
  }, 20_000);
});

describe('a hostile agent and the worktree directory itself', () => {
  it("the worktree replaced by a symlink to the user's checkout: nothing of the user's is written or deleted", async () => {
    const project = await makeProject({ plan: ['cd .. && wt=$AUTORESEARCH_WORKTREE && mv "$wt" "$wt.moved" && ln -s "$AUTORESEARCH_PROJECT" "$wt"', 'echo 3 > value.txt'] });
    await userWithWork(project);
    await fs.writeFile(path.join(project.root, 'untracked-user-file.txt'), 'mine\n');
    const before = await userGitState(project.root);
    await runOne(project, 2);
    expect(await userGitState(project.root)).toEqual(before);
    expect(await fs.readFile(path.join(project.root, 'untracked-user-file.txt'), 'utf8')).toBe('mine\n');
    expect((await project.rows()).map((r) => r.reason)).toEqual(['baseline', 'worktree_tampered', 'improved']);
    expect((await result(project, 1)).technicalDetail).toMatch(/worktree_tampered: the worktree directory .* was replaced by a symlink/);
  }, 20_000);
});

describe("the user's own hooks", () => {
  it("still run for the agent's commits (our hooks directory delegates to theirs)", async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt && git commit -qam five'] });
    const marker = path.join(await makeTempDir('ar-hook-'), 'pre-commit-ran');
    await fs.writeFile(path.join(project.root, '.git', 'hooks', 'pre-commit'), `#!/bin/sh\necho ran > '${marker}'\n`, { mode: 0o755 });
    await runOne(project);
    expect(await fs.readFile(marker, 'utf8')).toBe('ran\n');
    expect((await project.rows()).at(-1)?.description).toBe('five');
  }, 20_000);
});

describe('two experiments of one daemon with overlapping agent turns', () => {
  it("one experiment's put-back is not undone by the other's guard", async () => {
    const root = await makeRepo({ 'a.txt': 'a\n' });
    const project = await openProject(root);
    const hooks = await makeTempDir('ar-hooks-');
    const guard = (id: string) => new RefGuard({ root, gitCommonDir: project.gitCommonDir, branch: `autoresearch/${id}`, idKey: id, hooksDir: path.join(hooks, id) });
    const a = guard('eng/a');
    const b = guard('eng/b');
    const x = await git(root, 'rev-parse', 'main');
    await git(root, 'commit', '-q', '--allow-empty', '-m', 'y', '--no-verify');
    const y = await git(root, 'rev-parse', 'main');
    await git(root, 'update-ref', 'refs/heads/main', x); // main at x, y exists
    const beforeA = await a.snapshot();
    await git(root, 'update-ref', 'refs/heads/main', y); // A's agent moves the user's main (hook bypassed)
    const beforeB = await b.snapshot(); // B's turn starts while main is at y
    expect(await a.restore(beforeA, 1, false)).toEqual([expect.stringMatching(/^put back refs\/heads\/main/)]);
    expect(await b.restore(beforeB, 2, false)).toEqual([]);
    expect(await git(root, 'rev-parse', 'main')).toBe(x);
  });
});
