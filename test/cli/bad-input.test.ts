/**
 * Bad input gets a clear error (what was expected, what was found, where) and exit 1, and
 * nothing runs: no worktree, no ledger, no state.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo, makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { cliEnv, makeProject } from '../helpers/project.js';

async function expectNothingRan(project: { root: string; expDir: string }): Promise<void> {
  for (const f of ['results.tsv', 'state.json', 'runs']) await expect(fs.stat(path.join(project.expDir, f))).rejects.toThrow();
  expect(await git(project.root, 'worktree', 'list')).not.toContain('autoresearch');
  expect(await git(project.root, 'branch', '--list', 'autoresearch/*')).toBe('');
}

describe('bad config.cfg', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['unknown key, with a did-you-mean', { metric_directoin: 'lower' }, /config\.cfg:\d+: metric_directoin: expected a known key, found unknown key `metric_directoin` \(did you mean `metric_direction`\?\)/],
    ['bad duration', { time_budget: '5' }, /config\.cfg:\d+: time_budget: expected a duration.*found `5`/],
    ['bad direction', { metric_direction: 'up' }, /config\.cfg:\d+: metric_direction: expected `lower` or `higher`.*found `up`/],
    ['missing evaluate_cmd', { evaluate_cmd: '' }, /config\.cfg: evaluate_cmd: expected a line `evaluate_cmd: …`, found no `evaluate_cmd` line/],
    // Read into plain objects, `__proto__` would never hold its value: every keep vetoed with `[object Object] > 4`.
    ['a guard named __proto__', { guard: 'memory_gb <= 40, __proto__ <= 4' }, /config\.cfg:\d+: guard: expected comma-separated conditions .*found `__proto__ <= 4`, but `__proto__` cannot name a guard metric/],
  ];
  for (const [name, config, message] of cases) {
    it(`${name}: exit 1, names file, line and key, runs nothing`, async () => {
      const project = await makeProject({ config });
      const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(path.join(project.expDir, 'config.cfg'));
      await expectNothingRan(project);
    });
  }

  it('reports every problem of a config at once', async () => {
    const project = await makeProject({ config: { metric_direction: 'up', time_budget: 'soon', colour: 'blue' } });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/metric_direction/);
    expect(r.stderr).toMatch(/time_budget/);
    expect(r.stderr).toMatch(/colour/);
  });
});

describe('bad experiment ids and projects', () => {
  for (const id of ['../x', 'eng/my exp', 'eng/../x', 'just-a-name']) {
    it(`refuses the id ${JSON.stringify(id)}`, async () => {
      const project = await makeProject();
      const r = await runCli(['--path', project.root, 'run', id], { env: project.env });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/expected `<domain>\/<name>`/);
      expect(r.stderr).toContain(JSON.stringify(id).slice(1, -1));
    });
  }

  it('refuses a project that is not a git repository', async () => {
    const dir = await makeTempDir();
    await writeFiles(dir, { '.autoresearch/test/exp/config.cfg': 'target: a\nevaluate_cmd: echo score: 1\nmetric: score\n' });
    const r = await runCli(['--path', dir, 'run', 'test/exp', '--single'], { env: cliEnv() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/not a git repository/);
    expect(r.stderr).toContain(dir);
  });

  it('refuses a repository without a commit', async () => {
    const dir = await makeTempDir();
    await git(dir, 'init', '-q');
    await writeFiles(dir, { '.autoresearch/test/exp/config.cfg': 'target: a\nevaluate_cmd: echo score: 1\nmetric: score\n' });
    const r = await runCli(['--path', dir, 'run', 'test/exp', '--single'], { env: cliEnv() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no commit/);
  });

  it('names the experiments that exist when the id is unknown', async () => {
    const project = await makeProject();
    const r = await runCli(['--path', project.root, 'run', 'test/exq'], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('test/exp');
  });

  it('rejects a non-numeric --max-experiments', async () => {
    const repo = await makeRepo();
    const r = await runCli(['--path', repo, 'run', 'test/exp', '--max-experiments', 'many'], { env: cliEnv() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/expected a positive integer, found `many`/);
  });
});
