/** Where experiment worktrees live: outside the project, outside any .git, one directory per repository. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openProject } from '../../src/git/project-repo.js';
import { prepareWorktreeParent, repositorySlug, worktreePath, worktreesRoot } from '../../src/experiment/worktree-location.js';
import { git, makeRepo, makeTempDir } from '../helpers/git-repo.js';

describe('the worktrees root', () => {
  it('is AUTORESEARCH_WORKTREES, else $XDG_STATE_HOME/autoresearch/worktrees, else ~/.local/state/autoresearch/worktrees', () => {
    expect(worktreesRoot({ AUTORESEARCH_WORKTREES: '/srv/wt/', XDG_STATE_HOME: '/x', HOME: '/home/u' })).toBe('/srv/wt');
    expect(worktreesRoot({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' })).toBe('/x/state/autoresearch/worktrees');
    expect(worktreesRoot({ HOME: '/home/u' })).toBe('/home/u/.local/state/autoresearch/worktrees');
    // The XDG spec: a relative XDG_STATE_HOME is ignored; an empty variable is unset.
    expect(worktreesRoot({ XDG_STATE_HOME: 'state', HOME: '/home/u', AUTORESEARCH_WORKTREES: '' })).toBe('/home/u/.local/state/autoresearch/worktrees');
  });

  it('refuses a relative AUTORESEARCH_WORKTREES and a missing HOME, naming the variable to set', () => {
    expect(() => worktreesRoot({ AUTORESEARCH_WORKTREES: 'wt', HOME: '/home/u' })).toThrow(/AUTORESEARCH_WORKTREES=wt: expected an absolute path/);
    expect(() => worktreesRoot({})).toThrow(/HOME is not set and neither AUTORESEARCH_WORKTREES nor XDG_STATE_HOME is set; set AUTORESEARCH_WORKTREES/);
  });
});

describe('the repository slug', () => {
  it('differs for two repositories with the same directory name, and is stable for one', async () => {
    const parentA = await makeTempDir('ar-slug-a-');
    const parentB = await makeTempDir('ar-slug-b-');
    const places = [];
    for (const parent of [parentA, parentB]) {
      const root = path.join(parent, 'app');
      fs.mkdirSync(root);
      await git(root, 'init', '-q', '-b', 'main');
      await git(root, 'commit', '-q', '--allow-empty', '-m', 'initial');
      places.push(await openProject(root));
    }
    const [a, b] = places.map((p) => repositorySlug(p));
    expect(a).toMatch(/^app-[0-9a-f]{10}$/);
    expect(b).toMatch(/^app-[0-9a-f]{10}$/);
    expect(a).not.toBe(b);
    expect(repositorySlug(await openProject(path.join(parentA, 'app')))).toBe(a);
  });

  it('is the same from a subdirectory and from a linked worktree of the repository (same git common dir)', async () => {
    const repo = await makeRepo({ 'sub/a.txt': 'a\n' });
    const linked = path.join(await makeTempDir('ar-linked-'), path.basename(repo));
    await git(repo, 'worktree', 'add', '-q', '-b', 'other', linked);
    const slug = repositorySlug(await openProject(repo));
    expect(repositorySlug(await openProject(path.join(repo, 'sub')))).toBe(slug);
    expect(repositorySlug(await openProject(linked))).toBe(slug);
  });

  it('never makes a hidden or odd directory name', () => {
    expect(repositorySlug({ root: '/p/.git', gitCommonDir: '/p/.git' })).toMatch(/^git-[0-9a-f]{10}$/);
    expect(repositorySlug({ root: '/p/my app (v2)', gitCommonDir: '/p/.git' })).toMatch(/^my-app-v2-?-[0-9a-f]{10}$/);
    expect(repositorySlug({ root: '/', gitCommonDir: '/.git' })).toMatch(/^project-[0-9a-f]{10}$/);
  });
});

describe('an experiment worktree path', () => {
  it('has no .git component and lies outside the project', async () => {
    const project = await openProject(await makeRepo());
    const wt = worktreePath(project, 'eng/x');
    expect(wt.split(path.sep)).not.toContain('.git');
    expect(wt.startsWith(project.root + path.sep)).toBe(false);
    expect(wt).toBe(path.join(process.env.AUTORESEARCH_WORKTREES ?? '?', repositorySlug(project), 'eng', 'x'));
  });

  it('is refused when the root is inside the project, inside its git dir, or inside any .git directory', async () => {
    const project = await openProject(await makeRepo());
    const inProject = path.join(project.root, 'worktrees');
    expect(() => worktreePath(project, 'eng/x', { AUTORESEARCH_WORKTREES: inProject })).toThrow(
      new RegExp(`AUTORESEARCH_WORKTREES=${inProject} is inside the project ${project.root}`),
    );
    expect(() => worktreePath(project, 'eng/x', { AUTORESEARCH_WORKTREES: path.join(project.gitCommonDir, 'wt') })).toThrow(/is inside a \.git directory/);
    expect(() => worktreePath(project, 'eng/x', { AUTORESEARCH_WORKTREES: '/elsewhere/.git/wt' })).toThrow(/is inside a \.git directory/);
    expect(() => worktreePath(project, 'eng/x', { HOME: project.root })).toThrow(/the worktree directory .* is inside the project/);
    expect(() => worktreePath(project, 'eng/.git', { AUTORESEARCH_WORKTREES: '/srv/wt' })).toThrow(/a name `\.git` would put its worktree in a \.git directory/);
  });

  it('says which variable to change when its directory cannot be created', async () => {
    const file = path.join(await makeTempDir('ar-notdir-'), 'a-file');
    fs.writeFileSync(file, '');
    const env = { AUTORESEARCH_WORKTREES: file };
    expect(() => prepareWorktreeParent(path.join(file, 'slug', 'eng', 'x'), env)).toThrow(
      new RegExp(`cannot create the experiment worktree's directory ${file}/slug/eng \\(ENOTDIR\\): set AUTORESEARCH_WORKTREES to .* \\(it is ${file}\\)`),
    );
  });
});
