/**
 * The ref guard starts no git when nothing changed (ref-files.ts), and still sees every change
 * an agent can make to the user's refs: the fingerprint must change with each of them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hooksPathKey, refFilesFingerprint } from '../../src/git/ref-files.js';
import { RefGuard } from '../../src/git/ref-guard.js';
import { git, makeRepo, makeTempDir } from '../helpers/git-repo.js';

const gitDirOf = (repo: string) => path.join(repo, '.git');

describe('refFilesFingerprint', () => {
  it('changes with every user ref change (branch, tag, packed, deleted, stash), not with the daemon refs', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const dirs = [gitDirOf(repo)];
    const head = await git(repo, 'rev-parse', 'HEAD');
    const steps: [string, () => Promise<unknown>][] = [
      ['branch created', () => git(repo, 'branch', 'x')],
      ['tag created', () => git(repo, 'tag', 'v1')],
      ['refs packed', () => git(repo, 'pack-refs', '--all')],
      ['packed branch moved', async () => {
        await fs.writeFile(path.join(repo, 'b.txt'), 'b\n');
        await git(repo, 'add', '-A');
        await git(repo, 'commit', '-q', '-m', 'b');
        await git(repo, 'update-ref', 'refs/heads/x', 'HEAD');
      }],
      ['packed branch deleted', () => git(repo, 'branch', '-D', 'x')],
      ['stash pushed', async () => {
        await fs.writeFile(path.join(repo, 'a.txt'), 'changed\n');
        await git(repo, 'stash', 'push', '-q');
      }],
      ['branch moved back to the same value it had', () => git(repo, 'update-ref', 'refs/heads/main', head)],
    ];
    let before = refFilesFingerprint(dirs);
    expect(before).not.toBeNull();
    for (const [what, step] of steps) {
      await step();
      const after = refFilesFingerprint(dirs);
      expect(after, what).not.toBeNull();
      expect(after, what).not.toBe(before);
      before = after;
    }
    // What the daemon changes every iteration is not the user's: no difference.
    await git(repo, 'update-ref', 'refs/autoresearch/d/x/1', head);
    await git(repo, 'branch', 'autoresearch/d/x', head);
    expect(refFilesFingerprint(dirs)).toBe(before);
  });

  it('says nothing (null) for a reftable repository: the caller asks git', async () => {
    const dir = await makeTempDir();
    await fs.mkdir(path.join(dir, 'reftable'));
    expect(refFilesFingerprint([dir])).toBeNull();
  });
});

describe('hooksPathKey', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('changes when the repository config, an included file, or the config environment changes', async () => {
    const repo = await makeRepo();
    const gitDir = gitDirOf(repo);
    const home = await makeTempDir();
    const env = { HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
    const k0 = hooksPathKey(gitDir, gitDir, env);
    await git(repo, 'config', 'core.hooksPath', 'my-hooks');
    const k1 = hooksPathKey(gitDir, gitDir, env);
    expect(k1).not.toBe(k0);
    const included = path.join(home, 'extra.cfg');
    await fs.writeFile(path.join(home, '.gitconfig'), '[include]\n\tpath = ~/extra.cfg\n');
    const k2 = hooksPathKey(gitDir, gitDir, env);
    expect(k2).not.toBe(k1);
    await fs.writeFile(included, '[core]\n\thooksPath = /elsewhere\n');
    const k3 = hooksPathKey(gitDir, gitDir, env);
    expect(k3).not.toBe(k2);
    expect(hooksPathKey(gitDir, gitDir, { ...env, GIT_CONFIG_PARAMETERS: "'core.hookspath'='x'" })).not.toBe(k3);
    expect(hooksPathKey(gitDir, gitDir, env)).toBe(k3);
  });
});

describe('RefGuard over a turn that changed nothing', () => {
  afterEach(() => {
    delete process.env.GIT_TRACE;
  });

  it('starts no git process; a turn that moved a user branch is still put back', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const hooks = await makeTempDir();
    const trace = path.join(await makeTempDir(), 'trace.log');
    const guard = () => new RefGuard({ root: repo, gitCommonDir: gitDirOf(repo), branch: 'autoresearch/d/x', idKey: 'd/x', hooksDir: hooks });
    // The first turn lists the refs and asks for the hooks dir: remembered.
    const first = guard();
    await first.agentEnv({});
    expect(await first.restore(await first.snapshot(), 1)).toEqual([]);

    await fs.writeFile(trace, '');
    process.env.GIT_TRACE = trace;
    const quiet = guard();
    await quiet.agentEnv({});
    const before = await quiet.snapshot();
    await git(repo, 'update-ref', 'refs/autoresearch/d/x/7', 'HEAD'); // the daemon's own ref: not a change
    expect(await quiet.restore(before, 2)).toEqual([]);
    const started = (await fs.readFile(trace, 'utf8')).split('\n').filter((l) => / trace: (built-in|exec): git /.test(l));
    expect(started.filter((l) => !l.includes('update-ref refs/autoresearch/'))).toEqual([]);

    delete process.env.GIT_TRACE;
    const moved = guard();
    const snapshot = await moved.snapshot();
    const main = await git(repo, 'rev-parse', 'main');
    await git(repo, 'commit', '-q', '--allow-empty', '-m', 'the agent moved main');
    const notes = await moved.restore(snapshot, 3, true);
    expect(notes).toEqual([expect.stringMatching(/^put back refs\/heads\/main/)]);
    expect(await git(repo, 'rev-parse', 'main')).toBe(main);
  });
});
