/**
 * Worktrees of the old layout (`<project>/.git/autoresearch/worktrees/<domain>/<name>`, where
 * Claude Code refuses every edit) move to the new place on the next run, history intact,
 * whatever instant a kill cut the previous move short. Real git, the real CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/project.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { projectWithBaseline, type BaselineProject } from '../fault/helpers/interrupted.js';
import { environOf, killQuietly, procInfo, waitUntil } from '../fault/helpers/procs.js';

/** `git status` of a test project: only the experiment directory the test wrote and never committed. */
const UNCOMMITTED_EXPERIMENT = '?? .autoresearch/';

const groups: number[] = [];
afterEach(() => groups.splice(0).forEach((pgid) => killQuietly(-pgid)));

/** A project whose baseline and one keep ran, then laid out as the previous version did. */
async function legacyProject(): Promise<BaselineProject & { legacy: string; current: string; tip: string }> {
  const project = await projectWithBaseline(['echo 4 > value.txt', 'echo 3 > value.txt']);
  const first = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
  expect(first.exitCode, first.stderr).toBe(0);
  const current = project.worktreeDir;
  const legacy = path.join(project.root, '.git', 'autoresearch', 'worktrees', ...project.id.split('/'));
  fs.mkdirSync(path.dirname(legacy), { recursive: true });
  await git(project.root, 'worktree', 'move', current, legacy);
  project.writeState({ ...project.state(), worktree: legacy });
  return { ...project, legacy, current, tip: await git(project.root, 'rev-parse', `refs/heads/${project.branch}`) };
}

async function worktreeList(root: string): Promise<string[]> {
  return (await git(root, 'worktree', 'list', '--porcelain'))
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
}

/** The next run continues the experiment from the new place: state, git's registration, branch and rows agree. */
async function expectMigrated(project: Awaited<ReturnType<typeof legacyProject>>, stderr: string): Promise<void> {
  expect(project.state().worktree).toBe(project.current);
  expect(await worktreeList(project.root)).toEqual([project.root, project.current]);
  expect(fs.existsSync(path.join(project.root, '.git', 'autoresearch'))).toBe(false); // no empty dirs left behind
  expect(await git(project.current, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(project.branch);
  // The branch grew from the old tip: the kept history is intact.
  await git(project.root, 'merge-base', '--is-ancestor', project.tip, `refs/heads/${project.branch}`);
  expect((await project.rows()).map((r) => [r.iteration, r.status])).toEqual([
    ['0', 'keep'],
    ['1', 'keep'],
    ['2', 'keep'],
  ]);
  expect(fs.readFileSync(path.join(project.current, 'value.txt'), 'utf8')).toBe('3\n');
  expect(await git(project.root, 'status', '--porcelain')).toBe(UNCOMMITTED_EXPERIMENT);
  expect(stderr).not.toMatch(/error/i);
}

describe('a worktree of the old layout inside .git', () => {
  it('is moved out on the next run --single, with its branch and history', async () => {
    const project = await legacyProject();
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`moved the worktree from ${project.legacy} to ${project.current}`);
    await expectMigrated(project, r.stderr);
  });

  it('is only recorded when a kill came between the move and the state write', async () => {
    const project = await legacyProject();
    await git(project.root, 'worktree', 'move', project.legacy, project.current); // the move happened; state.json still names the old place
    fs.rmSync(path.join(project.root, '.git', 'autoresearch'), { recursive: true });
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    await expectMigrated(project, r.stderr);
  });

  it("is repaired when a kill came between git's rename and its bookkeeping", async () => {
    const project = await legacyProject();
    fs.renameSync(project.legacy, project.current); // git's admin dir still names the old path
    expect((await git(project.root, 'worktree', 'list', '--porcelain'))).toContain(`worktree ${project.legacy}`);
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    await expectMigrated(project, r.stderr);
  });

  it('is created afresh at the new place when its directory is gone', async () => {
    const project = await legacyProject();
    fs.rmSync(project.legacy, { recursive: true });
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`the worktree recorded at ${project.legacy} no longer exists`);
    await expectMigrated(project, r.stderr);
  });

  it("has its leftover processes killed first, found by the OLD path in their environment", async () => {
    const project = await legacyProject();
    const leftover = execa('sh', ['-c', 'sleep 1000; :'], {
      cwd: project.legacy,
      detached: true,
      reject: false,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', AUTORESEARCH_WORKTREE: project.legacy },
      extendEnv: false,
    });
    const pid = leftover.pid ?? -1;
    groups.push(pid);
    await waitUntil('the leftover in /proc with its environment', () => (environOf(pid)?.get('AUTORESEARCH_WORKTREE') === project.legacy ? true : undefined));
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const killedAt = r.stderr.indexOf(`killed leftover process group ${pid} of an earlier run`);
    expect(killedAt, r.stderr).toBeGreaterThanOrEqual(0);
    expect(killedAt).toBeLessThan(r.stderr.indexOf('moved the worktree from'));
    expect(await leftover).toMatchObject({ signal: 'SIGTERM' });
    expect(procInfo(pid)).toBeUndefined();
    await expectMigrated(project, r.stderr.replace(/\n.*killed leftover.*\n/, '\n'));
  });
});

describe('a fresh experiment', () => {
  it('runs in a worktree outside the project and any .git, and shows nothing of it in `git status` of the checkout', async () => {
    const project = await projectWithBaseline(['echo 4 > value.txt', 'echo 12 > value.txt']);
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const worktree = project.worktreeDir;
    expect(worktree.split(path.sep)).not.toContain('.git');
    expect(worktree.startsWith(project.root + path.sep)).toBe(false);
    expect(worktree.startsWith((process.env.AUTORESEARCH_WORKTREES ?? '?') + path.sep)).toBe(true);
    expect(await git(project.root, 'status', '--porcelain')).toBe(UNCOMMITTED_EXPERIMENT);
    expect(fs.existsSync(path.join(project.root, '.git', 'autoresearch'))).toBe(false);
  });
});

describe('a badly set AUTORESEARCH_WORKTREES', () => {
  for (const [what, where, message] of [
    ['inside the project', (root: string) => path.join(root, 'wt'), /AUTORESEARCH_WORKTREES=.*\/wt is inside the project/],
    ['inside its .git', (root: string) => path.join(root, '.git', 'wt'), /AUTORESEARCH_WORKTREES=.*\/\.git\/wt is inside a \.git directory/],
  ] as const) {
    it(`is refused (${what}) before anything is written`, async () => {
      const { makeProject } = await import('../helpers/project.js');
      const project = await makeProject({ plan: [] });
      const before = fs.readdirSync(project.expDir);
      const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: { ...project.env, AUTORESEARCH_WORKTREES: where(project.root) } });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('set AUTORESEARCH_WORKTREES to an absolute, writable directory outside the project and outside any .git directory');
      // Only the run's log (which records the refusal): no state.json, results.tsv or .gitignore.
      expect(fs.readdirSync(project.expDir).filter((f) => f !== 'autoresearch.log')).toEqual(before);
      expect(fs.existsSync(where(project.root))).toBe(false);
      expect(await worktreeList(project.root)).toEqual([project.root]);
    });
  }

  it('that cannot be created is refused with the variable named', async () => {
    const { makeProject } = await import('../helpers/project.js');
    const project = await makeProject({ plan: [] });
    const file = path.join(await makeTempDir('ar-wt-file-'), 'not-a-dir');
    fs.writeFileSync(file, '');
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: { ...project.env, AUTORESEARCH_WORKTREES: file } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`cannot create the experiment worktree's directory ${file}/.*\\(ENOTDIR\\).*\\(it is ${file}\\)`));
    expect(await worktreeList(project.root)).toEqual([project.root]);
  });
});
