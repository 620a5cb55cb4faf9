import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { createGit, GitClient, GitCommandError, identityEnv, missingIdentity } from '../../src/git/git-client.js';
import { git, makeRepo, writeFiles } from '../helpers/git-repo.js';
import { setupExperiment } from './fixture.js';

const FALLBACK_ENV = {
  GIT_AUTHOR_NAME: 'autoresearch',
  GIT_AUTHOR_EMAIL: 'autoresearch@localhost',
  GIT_COMMITTER_NAME: 'autoresearch',
  GIT_COMMITTER_EMAIL: 'autoresearch@localhost',
};

describe('commit identity', () => {
  it('on a fresh machine (no identity anywhere), falls back to autoresearch and auto-commits succeed', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    // The premise: no identity in any config (the test helper's git() passes its own).
    await expect(execa('git', ['config', 'user.name'], { cwd: repo })).rejects.toThrow();
    await expect(execa('git', ['config', 'user.email'], { cwd: repo })).rejects.toThrow();
    expect(await identityEnv(repo)).toEqual(FALLBACK_ENV);

    await writeFiles(wtPath, { 'a.txt': 'b\n' });
    const capture = await wt.captureCandidate(base, branch, { fallbackDescription: 'auto' });

    expect(capture.kind).toBe('candidate');
    expect(await git(wtPath, 'log', '-1', '--format=%an <%ae> / %cn <%ce>')).toBe('autoresearch <autoresearch@localhost> / autoresearch <autoresearch@localhost>');
  });

  it("uses the identity in the repository's own config, and adds nothing", async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    await git(repo, 'config', 'user.name', 'Ada Lovelace');
    await git(repo, 'config', 'user.email', 'ada@example.com');
    expect(await identityEnv(repo)).toEqual({});

    const { openProject } = await import('../../src/git/project-repo.js');
    const { branchName } = await import('../../src/experiment/paths.js');
    const { worktreePath } = await import('../../src/experiment/worktree-location.js');
    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');
    const base = await project.head();
    await project.ensureWorktree({ path: wtPath, branch: branchName('eng/x'), startPoint: base });
    await writeFiles(wtPath, { 'a.txt': 'b\n' });
    await project.worktree(wtPath).captureCandidate(base, branchName('eng/x'), { fallbackDescription: 'auto' });

    expect(await git(wtPath, 'log', '-1', '--format=%an <%ae> / %cn <%ce>')).toBe('Ada Lovelace <ada@example.com> / Ada Lovelace <ada@example.com>');
  });

  it('adds only what is missing from config and environment', () => {
    expect(missingIdentity('user.name Ada\n', {})).toEqual({ GIT_AUTHOR_EMAIL: 'autoresearch@localhost', GIT_COMMITTER_EMAIL: 'autoresearch@localhost' });
    expect(missingIdentity('user.email ada@example.com\nuser.name \n', {})).toEqual({ GIT_AUTHOR_NAME: 'autoresearch', GIT_COMMITTER_NAME: 'autoresearch' });
    expect(missingIdentity('', { GIT_AUTHOR_NAME: 'Env', EMAIL: 'env@example.com' })).toEqual({ GIT_COMMITTER_NAME: 'autoresearch' });
    expect(missingIdentity('user.name A\nuser.email a@b\n', {})).toEqual({});
  });
});

describe('createGit / GitClient', () => {
  const saved = { GIT_DIR: process.env.GIT_DIR, GIT_INDEX_FILE: process.env.GIT_INDEX_FILE, EDITOR: process.env.EDITOR };
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('works in its own directory even when the environment points git elsewhere (as inside a git hook)', async () => {
    const ours = await makeRepo({ 'ours.txt': 'x\n' });
    const other = await makeRepo({ 'other.txt': 'y\n' });
    process.env.GIT_DIR = `${other}/.git`;
    process.env.GIT_INDEX_FILE = `${other}/.git/index`;
    process.env.EDITOR = 'vim'; // simple-git refuses EDITOR unless allowed; users have it set

    expect(await createGit(ours).raw(['ls-files'])).toBe('ours.txt\n');
  });

  it('does not wait 50 ms after commands that print nothing (simple-git completion delay)', async () => {
    const repo = await makeRepo();
    const client = new GitClient(repo);
    await client.run(['update-ref', 'refs/test/warm', 'HEAD']);
    const started = performance.now();
    for (let i = 0; i < 10; i++) await client.run(['update-ref', `refs/test/${i}`, 'HEAD']);
    // With the delay this takes at least 10 × 50 ms.
    expect(performance.now() - started).toBeLessThan(500);
    expect(await git(repo, 'for-each-ref', '--count=1', '--format=%(refname)', 'refs/test/9')).toBe('refs/test/9');
  });

  it('returns exit codes the caller expects as answers, and reports others as GIT_FAILED with command and directory', async () => {
    const repo = await makeRepo();
    const client = new GitClient(repo);
    expect(await client.run(['rev-parse', '-q', '--verify', 'refs/heads/nope'], [1])).toEqual({ stdout: '', exitCode: 1, stderr: '' });

    const error = await client.run(['rev-parse', '--verify', 'no such rev']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitCommandError);
    expect(error).toMatchObject({ code: 'GIT_FAILED', gitExitCode: 128, lockFile: undefined });
    expect((error as Error).message).toBe(`git rev-parse --verify "no such rev" failed in ${repo} (exit code 128): fatal: Needed a single revision`);
  });
});
