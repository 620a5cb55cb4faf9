/**
 * How many git processes one iteration costs (the loop-overhead benchmark compares us with
 * a bare shell loop). Counted from GIT_TRACE, which every git process writes one
 * `built-in:` line to, children included.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git, makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { setupExperiment } from './fixture.js';

let traceFile = '';

beforeEach(async () => {
  traceFile = path.join(await makeTempDir('ar-trace-'), 'trace.log');
  await fs.writeFile(traceFile, '');
  process.env.GIT_TRACE = traceFile; // before setupExperiment: our simple-git instances copy the environment
});

afterEach(() => {
  delete process.env.GIT_TRACE;
});

/** Runs `fn` and returns the git commands it started (subcommand + first args). */
async function gitProcessesDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const start = (await fs.stat(traceFile)).size;
  await fn();
  const trace = (await fs.readFile(traceFile)).subarray(start).toString('utf8');
  expect(trace).not.toMatch(/trace: run_command:/); // no hooks, no background gc, no helper processes
  return [...trace.matchAll(/trace: (?:built-in|exec): git (.*)$/gm)].map((m) => (m[1] ?? '').replace(/^((-c \S+|--no-optional-locks) )*/, '').split(' ').slice(0, 2).join(' '));
}

describe('git processes per iteration', () => {
  it('agent left changes uncommitted, candidate discarded: capture 3 (2 without new files) + saveRef 1 + restore 2', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'b\n', 'new.txt': 'n\n' });

    let commit = '';
    const capture = await gitProcessesDuring(async () => {
      const c = await wt.captureCandidate(base, branch, { fallbackDescription: 'x' });
      if (c.kind !== 'candidate') throw new Error('expected a candidate');
      commit = c.commit;
    });
    const discard = await gitProcessesDuring(async () => {
      await wt.saveRef('refs/autoresearch/eng/x/1', commit);
      await wt.restore(base, branch);
    });

    expect(capture).toEqual(['status --porcelain=v2', 'add -A', 'commit --no-verify']);
    expect(discard).toEqual(['update-ref --no-deref', 'checkout --force', 'clean -f']);

    await writeFiles(wtPath, { 'a.txt': 'c\n' }); // only a tracked file edited: commit -a alone
    expect(await gitProcessesDuring(() => wt.captureCandidate(base, branch, { fallbackDescription: 'y' }))).toEqual([
      'status --porcelain=v2',
      'commit --no-verify',
    ]);
  });

  it('agent committed once: capture 2; nothing done: capture 1', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    expect(await gitProcessesDuring(() => wt.captureCandidate(base, branch, { fallbackDescription: 'x' }))).toEqual(['status --porcelain=v2']);

    await writeFiles(wtPath, { 'a.txt': 'b\n' });
    await git(wtPath, 'commit', '-qam', 'agent');
    expect(await gitProcessesDuring(() => wt.captureCandidate(base, branch, { fallbackDescription: 'x' }))).toEqual([
      'status --porcelain=v2',
      'log -1',
    ]);
  });
});
