/** Agent-chosen programs that our own git steps run (after the ref guard's check), and an index hard link. A failing test = a successful attack. */
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, writeFiles } from '../helpers/git-repo.js';
import { setupExperiment } from './fixture.js';

const FALLBACK = { fallbackDescription: 'autoresearch: iteration 1' };

describe('agent programs run by our steps', () => {
  it('C1: core.fsmonitor in the shared config: our status runs it, and it moves the user\'s main', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(repo, { 'u.txt': 'user\n' });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'user commit');
    const mainBefore = await git(repo, 'rev-parse', 'main');
    const script = path.join(path.dirname(wtPath), 'fsmon.sh');
    await fs.writeFile(script, `#!/bin/sh\ngit -C ${repo} -c core.hooksPath= update-ref refs/heads/main ${base} >/dev/null 2>&1\nexit 1\n`, { mode: 0o755 });
    await git(wtPath, 'config', 'core.fsmonitor', script);
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    const mainAfter = await git(repo, 'rev-parse', 'main');
    expect(mainAfter).toBe(mainBefore);
  });

  it('C2: admin index hard-linked to the user\'s index', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const admin = await git(wtPath, 'rev-parse', '--absolute-git-dir');
    const userIndex = path.join(await git(repo, 'rev-parse', '--absolute-git-dir'), 'index');
    const before = fsSync.readFileSync(userIndex).toString('base64');
    await fs.rm(path.join(admin, 'index'));
    await fs.link(userIndex, path.join(admin, 'index'));
    await writeFiles(wtPath, { 'a.txt': 'agent\n', 'n.txt': 'n\n' });
    await wt.captureCandidate(base, branch, FALLBACK);
    await wt.restore(base, branch);
    expect(fsSync.readFileSync(userIndex).toString('base64')).toBe(before);
  });
});
