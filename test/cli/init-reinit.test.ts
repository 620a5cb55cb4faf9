/**
 * `init` of an id that exists, through the CLI against a real experiment that has run: the
 * refusal says what exists (config, rows, branch, worktree) and writes nothing; `--force`
 * starts it over without losing anything (old files under archive/<ms>/, the old branch tip
 * under a backup ref) and refuses while the experiment runs. Also `--location`, the deprecated
 * `--scope project|user` and `--allow`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/experiment/run-lock.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir, snapshotTree } from '../helpers/git-repo.js';
import { git, makeProject } from '../helpers/project.js';

const INIT = ['--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score', '--no-baseline'];

/** A project whose experiment has run: baseline, one keep, one discard. */
async function ranProject() {
  const project = await makeProject({ plan: ['echo 7 > value.txt && git commit -qam seven', 'echo 9 > value.txt && git commit -qam nine'] });
  const run = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
  expect(run.exitCode, run.stderr).toBe(0);
  expect((await project.rows()).map((r) => r.status)).toEqual(['keep', 'keep', 'discard']);
  return project;
}

describe('init of an existing experiment', () => {
  it('says what exists, writes nothing and exits 1; --force starts it over and keeps the old rows, files and branch', async () => {
    const project = await ranProject();
    const branch = `autoresearch/${project.id}`;
    const tip = await git(project.root, 'rev-parse', branch);
    const worktree = await project.worktree();
    const before = await snapshotTree(project.root);

    const again = await runCli(['--path', project.root, 'init', project.id, ...INIT], { env: project.env });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`experiment ${project.id}: expected a new experiment, found one in ${project.expDir} (project location); nothing was written:`);
    expect(again.stderr).toContain(`config.cfg   ${path.join(project.expDir, 'config.cfg')}`);
    expect(again.stderr).toContain('results.tsv  3 rows');
    expect(again.stderr).toContain(`branch       ${branch} at ${tip.slice(0, 7)}`);
    expect(again.stderr).toContain(`worktree     ${worktree}`);
    expect(again.stderr).toContain('the same command with --force');
    expect(await snapshotTree(project.root)).toEqual(before);
    expect(await git(project.root, 'rev-parse', branch)).toBe(tip);

    const oldResults = await project.results();
    const oldConfig = await fs.readFile(path.join(project.expDir, 'config.cfg'), 'utf8');
    const forced = await runCli(['--path', project.root, 'init', project.id, ...INIT, '--force'], { env: project.env });
    expect(forced.exitCode, forced.stderr).toBe(0);
    const archive = /its (.*) are in (\S+)\n/.exec(forced.stdout);
    expect(archive?.[1]).toBe('config.cfg, results.tsv, state.json, runs, autoresearch.log');
    const archiveDir = archive?.[2] as string;
    expect(path.dirname(archiveDir)).toBe(path.join(project.expDir, 'archive'));
    // Every old row is still there, and the old config next to it.
    expect(await fs.readFile(path.join(archiveDir, 'results.tsv'), 'utf8')).toBe(oldResults);
    expect(await fs.readFile(path.join(archiveDir, 'config.cfg'), 'utf8')).toBe(oldConfig);
    await fs.stat(path.join(archiveDir, 'runs', '00001', 'result.json'));
    // The new experiment: a fresh ledger, no state; the branch back at HEAD, its old tip under a backup ref.
    expect(await project.results()).toBe((oldResults.split('\n')[0] as string) + '\n');
    await expect(fs.stat(path.join(project.expDir, 'state.json'))).rejects.toThrow();
    const backup = new RegExp(`kept as (refs/autoresearch/${project.id}/backup/\\d+)`).exec(forced.stdout)?.[1];
    expect(backup, forced.stdout).toBeDefined();
    expect(await git(project.root, 'rev-parse', backup as string)).toBe(tip);
    expect(await git(project.root, 'rev-parse', branch)).toBe(await git(project.root, 'rev-parse', 'HEAD'));
    expect(forced.stdout).toContain(`its worktree ${worktree} was removed`);
    expect(await git(project.root, 'worktree', 'list')).not.toContain(worktree);
    // The archive is the daemon's: git status shows only what init writes for the user.
    expect(await git(project.root, 'status', '--porcelain', '--untracked-files=all', '.autoresearch')).not.toContain('archive');

    // It runs again from the start: a new baseline at iteration 0 on HEAD's value.
    const rerun = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows[0]).toMatchObject({ iteration: '0', reason: 'baseline', metric: '10.000000' });
  });

  it('--force refuses while the experiment runs, and writes nothing', async () => {
    const project = await ranProject();
    // This test process is the live owner of the experiment's run lock, as a running loop would be.
    const lock = await acquireLock(path.join(project.expDir, 'run.lock'), { what: `experiment ${project.id}`, command: 'autoresearch run (test)' });
    try {
      const before = await snapshotTree(project.root);
      const forced = await runCli(['--path', project.root, 'init', project.id, ...INIT, '--force'], { env: project.env });
      expect(forced.exitCode).toBe(1);
      expect(forced.stderr).toContain(`init --force: experiment ${project.id} is already running (pid ${process.pid}`);
      expect(forced.stderr).toContain('nothing was written');
      const after = await snapshotTree(project.root);
      expect(after).toEqual(before);
    } finally {
      await lock.release();
    }
  });
});

describe('init --location, --scope (deprecated) and --allow', () => {
  async function freshProject() {
    const project = await makeProject({ files: { 'helper.txt': 'h\n' } });
    await fs.rm(project.expDir, { recursive: true });
    const home = path.join(await makeTempDir('ar-home-'), 'home');
    return { ...project, env: { ...project.env, AUTORESEARCH_HOME: home }, home };
  }

  it('--location user writes under $AUTORESEARCH_HOME; --scope user still works with a one-line notice', async () => {
    const project = await freshProject();
    const byLocation = await runCli(['--path', project.root, 'init', 'a/one', ...INIT, '--location', 'user'], { env: project.env });
    expect(byLocation.exitCode, byLocation.stderr).toBe(0);
    expect(byLocation.stderr).toBe('');
    await fs.stat(path.join(project.home, 'a', 'one', 'config.cfg'));

    const byScope = await runCli(['--path', project.root, 'init', 'a/two', ...INIT, '--scope', 'user'], { env: project.env });
    expect(byScope.exitCode, byScope.stderr).toBe(0);
    expect(byScope.stderr).toBe('note: init --scope user is renamed --location user (--scope will go away)');
    await fs.stat(path.join(project.home, 'a', 'two', 'config.cfg'));
  });

  it('--scope with paths is an error that points to --allow', async () => {
    const project = await freshProject();
    const r = await runCli(['--path', project.root, 'init', 'a/one', ...INIT, '--scope', 'value.txt,helper.txt'], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('--scope: expected project or user (the old name of --location), found `value.txt,helper.txt`');
    expect(r.stderr).toContain('use --allow value.txt,helper.txt');
    await expect(fs.stat(path.join(project.root, '.autoresearch', 'a'))).rejects.toThrow();
  });

  it('--allow writes the config key scope, checked against committed files and the target', async () => {
    const project = await freshProject();
    const ok = await runCli(['--path', project.root, 'init', 'a/one', ...INIT, '--allow', 'value.txt, helper.txt'], { env: project.env });
    expect(ok.exitCode, ok.stderr).toBe(0);
    const dir = path.join(project.root, '.autoresearch', 'a', 'one');
    const config = await fs.readFile(path.join(dir, 'config.cfg'), 'utf8');
    expect(config).toMatch(/^scope: value\.txt, helper\.txt$/m);
    expect(config).not.toMatch(/^# scope: /m);
    const program = await fs.readFile(path.join(dir, 'program.md'), 'utf8');
    expect(program).toContain('   - `value.txt`\n   - `helper.txt`\n');
    expect(program).toContain('Focus on `value.txt`');

    const missing = await runCli(['--path', project.root, 'init', 'a/two', ...INIT, '--allow', 'value.txt,nope/**'], { env: project.env });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('--allow: expected each comma-separated path or glob to match at least one committed file, found one that does not');
    expect(missing.stderr).toContain(`nope/**: matches no file in ${project.root}`);

    const narrow = await runCli(['--path', project.root, 'init', 'a/three', ...INIT, '--allow', 'helper.txt'], { env: project.env });
    expect(narrow.exitCode).toBe(1);
    expect(narrow.stderr).toContain('--allow: expected paths that include the target (value.txt), found helper.txt, which leaves out value.txt');
    for (const name of ['two', 'three']) await expect(fs.stat(path.join(project.root, '.autoresearch', 'a', name))).rejects.toThrow();
  });
});
