/**
 * Adversarial: the user deletes the experiment's worktree by hand while a run goes on. The
 * loop must not die with an internal error: the worktree is re-created from the recorded last
 * keep, the iteration that lost its worktree is rolled back (no row, like an interrupted one)
 * and run again, the user is told, and the run goes on; no row is lost or renumbered.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { git, makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

async function waitForFile(file: string, what: string, timeoutMs = 15_000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('adversarial: the worktree deleted by hand mid-run', () => {
  it('re-creates it from the last keep, runs the cut iteration again, says so, and goes on', async () => {
    const gate = await makeTempDir('ar-gate-');
    // Iteration 1's evaluation announces itself and waits for the test's go.
    const project = await makeProject({
      files: {
        'evaluate.sh': `if [ "$AUTORESEARCH_ITERATION" = 1 ]; then touch ${gate}/evaluating; while [ ! -f ${gate}/go ]; do sleep 0.05; done; fi\nv=$(cat value.txt)\necho "score: $v"\n`,
      },
      plan: ['echo 9 > value.txt', 'echo 8 > value.txt', 'echo 7 > value.txt'],
      config: { max_experiments: '3' },
    });
    const run = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    try {
      await waitForFile(path.join(gate, 'evaluating'), 'iteration 1 evaluating', 15_000, () => run.output());
      const worktree = await project.worktree();
      fs.rmSync(worktree, { recursive: true, force: true });
      fs.writeFileSync(path.join(gate, 'go'), '');
      const r = await run.result();
      const output = run.output();
      expect(output).not.toMatch(/internal error/);
      expect(r.exitCode, output).toBe(0);
      const rows = await project.rows();
      expect(rows.map((row) => row.iteration)).toEqual(['0', '1', '2', '3']);
      expect(rows.map((row) => [row.status, row.metric])).toEqual([
        ['keep', '10.000000'],
        ['keep', '9.000000'],
        ['keep', '8.000000'],
        ['keep', '7.000000'],
      ]);
      expect(output).toContain(`the worktree ${worktree} was deleted during iteration 1; re-created`);
      expect(fs.existsSync(path.join(worktree, 'value.txt'))).toBe(true);
      expect(await git(project.root, 'worktree', 'list')).toContain(worktree);
    } finally {
      try {
        process.kill(run.pid, 'SIGKILL');
      } catch {
        // exited
      }
    }
  });
});

describe('adversarial: a worktree that keeps vanishing', () => {
  it('stops with a clear error naming the worktree, not an internal error and not an endless loop', async () => {
    // Every agent turn deletes the worktree it runs in.
    const project = await makeProject({ plan: ['rm -rf "$(pwd)"', 'rm -rf "$(pwd)"', 'rm -rf "$(pwd)"', 'rm -rf "$(pwd)"', 'rm -rf "$(pwd)"'] });
    const run = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    const r = await run.result();
    const output = run.output();
    expect(output).not.toMatch(/internal error/);
    expect(r.exitCode, output).toBe(1);
    expect(output).toMatch(/its worktree .* was deleted 4 times in a row \(last during iteration 1\)/);
    // The baseline row stays; no row for the cut iterations.
    expect((await project.rows()).map((row) => row.iteration)).toEqual(['0']);
  });
});

describe('adversarial: git in a directory deleted under it', () => {
  it('says the directory is gone, not that git failed to spawn', async () => {
    const { GitClient } = await import('../../src/git/git-client.js');
    const dir = await makeTempDir('ar-gone-');
    const client = new GitClient(dir);
    await client.run(['--version']); // created while the directory exists
    fs.rmSync(dir, { recursive: true });
    await expect(client.run(['status'])).rejects.toThrow(`git status failed: its directory ${dir} does not exist (deleted?)`);
  });
});
