/**
 * The autoresearch-agent skill (the seed) and autoresearch on the same experiments, with the
 * skill's real Python scripts (test/helpers/seed-skill.ts: skipped loudly when absent, a
 * failure with CI=true): experiments its setup_experiment.py made run under us, ledgers we
 * wrote are read by its log_results.py and continued by its run_experiment.py, interleaved
 * with our runs, and an experiment our `init` made runs under the skill.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo, makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';
import { SEED_SKILL, seedScript } from '../helpers/seed-skill.js';
import { Ledger } from '../../src/ledger/results-tsv.js';
import { parseLedgerText } from '../../src/ledger/tsv-format.js';
import { LEDGER_COLUMNS } from '../../src/ledger/types.js';

interface Sandbox {
  root: string;
  /** For the skill's scripts and git: an identity in a temp global config, nothing else of the machine's. */
  pyEnv: Record<string, string>;
  /** For our CLI. */
  env: Record<string, string>;
}

async function sandbox(files: Record<string, string>): Promise<Sandbox> {
  const root = await makeRepo(files);
  const home = await makeTempDir('ar-seed-home-');
  const gitConfig = path.join(home, '.gitconfig');
  await fs.writeFile(gitConfig, '[user]\n\tname = Seed User\n\temail = seed@example.com\n[commit]\n\tgpgsign = false\n');
  const worktrees = await makeTempDir('ar-seed-worktrees-');
  const common = { HOME: home, GIT_CONFIG_GLOBAL: gitConfig, GIT_CONFIG_NOSYSTEM: '1', AUTORESEARCH_WORKTREES: worktrees };
  return { root, pyEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...common }, env: cliEnv(common) };
}

async function python(s: Sandbox, script: Parameters<typeof seedScript>[0], args: string[]): Promise<{ exitCode: number; output: string }> {
  const r = await execa('python3', [seedScript(script), ...args], { cwd: s.root, env: s.pyEnv, extendEnv: false, reject: false, all: true, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, output: String(r.all) };
}

async function ours(s: Sandbox, args: string[]) {
  return runCli(['--path', s.root, ...args], { env: s.env, timeoutMs: 90_000 });
}

async function ledger(file: string) {
  return parseLedgerText(await fs.readFile(file, 'utf8'), file).rows;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

describe.skipIf(SEED_SKILL === null)('the seed skill and autoresearch on the same experiment', () => {
  it("runs an experiment its setup made on its branch, with its benchmark_size evaluator, once its branch is freed (refused before any write until then)", async () => {
    const s = await sandbox({ 'dist/main.js': `${'x'.repeat(999)}\n`, 'README.md': '# app\n' });
    const setup = await python(s, 'setup_experiment.py', [
      '--domain', 'engineering', '--name', 'size', '--target', 'dist/main.js', '--metric', 'size_bytes', '--direction', 'lower',
      '--eval', 'python3 .autoresearch/engineering/size/evaluate.py', '--evaluator', 'benchmark_size', '--path', s.root,
    ]);
    expect(setup.exitCode, setup.output).toBe(0);
    expect(setup.output).toContain('Eval works. Baseline: size_bytes: 1000');
    expect(await git(s.root, 'branch', '--show-current')).toBe('autoresearch/engineering/size');
    const dir = path.join(s.root, '.autoresearch', 'engineering', 'size');
    // The agent: a shell command that shrinks the target by a quarter each turn.
    await fs.appendFile(path.join(dir, 'config.cfg'), `agent: python3 -c "p='dist/main.js'; t=open(p).read(); open(p,'w').write(t[:len(t)*3//4])"\n`);
    const ledgerBefore = await fs.readFile(path.join(dir, 'results.tsv'));

    const refused = await ours(s, ['run', 'engineering/size', '--single']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('autoresearch/engineering/size is checked out in');
    expect(refused.stderr).toContain(`git -C ${s.root} checkout main`);
    expect(await fs.readFile(path.join(dir, 'results.tsv'))).toEqual(ledgerBefore);
    expect(await exists(path.join(dir, 'state.json'))).toBe(false);
    expect(await exists(path.join(dir, 'run.lock'))).toBe(false);
    expect(await exists(path.join(dir, '.gitignore'))).toBe(false);

    // The one command the message gives.
    await git(s.root, 'checkout', '-q', 'main');
    const run = await ours(s, ['run', 'engineering/size', '--loop', '--max-experiments', '2']);
    expect(run.exitCode, run.stderr).toBe(0);
    const rows = await ledger(path.join(dir, 'results.tsv'));
    expect(rows.map((r) => [r.status, r.metric])).toEqual([
      ['keep', 1000],
      ['keep', 750],
      ['keep', 562],
    ]);
    // The user's checkout is as it was; the evaluator copies are gone from the worktree.
    expect((await fs.stat(path.join(s.root, 'dist/main.js'))).size).toBe(1000);
    const state = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as { worktree: string };
    expect(await exists(path.join(state.worktree, '.autoresearch', 'engineering', 'size', 'evaluate.py'))).toBe(false);

    // The skill reads our ledger.
    const report = await python(s, 'log_results.py', ['--experiment', 'engineering/size']);
    expect(report.exitCode, report.output).toBe(0);
    expect(report.output).not.toContain('Traceback');
    expect(report.output).toContain('Total: 3 | Keep: 3 | Discard: 0 | Crash: 0');
    expect(report.output).toContain('Baseline: 1000.000000 -> Best: 562.000000 (+43.8%)');
  });

  it("an agent cannot change the evaluator the skill's command runs, even where git ignores it: the evaluation runs the user's", async () => {
    // `.autoresearch/` ignored by the project: the agent's evaluator is not even a scope violation.
    const s = await sandbox({ 'value.txt': '10\n', '.gitignore': '.autoresearch/\n' });
    const setup = await python(s, 'setup_experiment.py', [
      '--domain', 'custom', '--name', 'guard', '--target', 'value.txt', '--metric', 'score', '--eval', 'python3 .autoresearch/custom/guard/evaluate.py', '--skip-branch', '--path', s.root,
    ]);
    expect(setup.exitCode, setup.output).toBe(0);
    const dir = path.join(s.root, '.autoresearch', 'custom', 'guard');
    await writeFiles(dir, { 'evaluate.py': "print('score:', float(open('value.txt').read()))\n" });
    // The agent lowers the value AND writes its own evaluator, which would print 0.
    const cheat = `mkdir -p .autoresearch/custom/guard && echo "print('score: 0')" > .autoresearch/custom/guard/evaluate.py && echo 9 > value.txt`;
    await fs.appendFile(path.join(dir, 'config.cfg'), `agent: ${cheat}\n`);
    const run = await ours(s, ['run', 'custom/guard', '--loop', '--max-experiments', '1']);
    expect(run.exitCode, run.stderr).toBe(0);
    const rows = await ledger(path.join(dir, 'results.tsv'));
    expect(rows.map((r) => [r.status, r.metric, r.reason])).toEqual([
      ['keep', 10, 'baseline'],
      ['keep', 9, 'improved'],
    ]);
    expect(await fs.readFile(path.join(dir, 'evaluate.py'), 'utf8')).toContain('float(open'); // the user's, untouched
  });

  it("continues a ledger we wrote with its run_experiment.py, interleaved with ours, with a literal metric_grep and a multi-line description, and its log_results reads every row", async () => {
    const s = await sandbox({ 'value.txt': '10\n' });
    const setup = await python(s, 'setup_experiment.py', [
      '--domain', 'custom', '--name', 'val', '--target', 'value.txt', '--metric', 'score(%)', '--direction', 'lower',
      '--eval', 'python3 .autoresearch/custom/val/evaluate.py', '--skip-branch', '--path', s.root,
    ]);
    expect(setup.exitCode, setup.output).toBe(0);
    const dir = path.join(s.root, '.autoresearch', 'custom', 'val');
    const results = path.join(dir, 'results.tsv');
    // A tiny evaluator of the user's own, where the skill's commands expect it (untracked).
    await writeFiles(dir, { 'evaluate.py': "print('warming up')\nprint(f\"score(%): {float(open('value.txt').read())}\")\n" });
    expect(await fs.readFile(path.join(dir, 'config.cfg'), 'utf8')).toContain('metric_grep: ^score(%):\n');
    await fs.appendFile(path.join(dir, 'config.cfg'), `agent: python3 -c "p='value.txt'; v=int(open(p).read()); open(p,'w').write(str(v-1))"\n`);

    // 1. Ours: the baseline and one keep; the ledger gets our columns.
    const first = await ours(s, ['run', 'custom/val', '--loop', '--max-experiments', '1']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect((await fs.readFile(results, 'utf8')).split('\n')[0], await fs.readFile(results, 'utf8')).toContain('\titeration\t');
    expect((await ledger(results)).map((r) => r.status), await fs.readFile(results, 'utf8')).toEqual(['keep', 'keep']);
    // Issue 11: the evidence columns, and a guard column after them, as a run with
    // `guard: memory_gb <= 40` opens the ledger (the skill's 4 columns stay first).
    await (await Ledger.open(results, { guards: ['memory_gb'] })).close();
    const withGuard = [...LEDGER_COLUMNS, 'memory_gb'].join('\t');
    expect((await fs.readFile(results, 'utf8')).split('\n')[0]).toBe(withGuard);

    // 2. The skill, in the user's checkout: a change committed there, judged by run_experiment.py,
    //    described on two lines (it does not sanitise descriptions).
    await fs.writeFile(path.join(s.root, 'value.txt'), '5\n');
    await git(s.root, 'commit', '-qam', 'five');
    const skillCommit = await git(s.root, 'rev-parse', '--short=7', 'HEAD');
    const skill = await python(s, 'run_experiment.py', ['--experiment', 'custom/val', '--single', '--description', 'set to five\nby hand']);
    expect(skill.exitCode, skill.output).toBe(0);
    expect(skill.output).toContain('KEEP');

    // 3. Ours again: the skill's row is a row, its continuation line is its description, and
    //    its keep is where we continue from (not reset away to our last keep, 9).
    const second = await ours(s, ['run', 'custom/val', '--loop', '--max-experiments', '1']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toContain(`adopted the last keep recorded in ${results} (iteration 2, commit ${skillCommit}`);
    let rows = await ledger(results);
    expect(rows.map((r) => [r.commit.length, r.metric, r.status, r.iteration])).toEqual([
      [7, 10, 'keep', 0],
      [7, 9, 'keep', 1],
      [7, 5, 'keep', 2],
      [7, 4, 'keep', 3],
    ]);
    expect(rows[2]?.description).toBe('set to five by hand');
    const state = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as { worktree: string; lastKept: { commit: string } };
    expect(await git(s.root, 'rev-parse', `${state.lastKept.commit}^`)).toBe(await git(s.root, 'rev-parse', skillCommit));

    // 4. The skill again, on a change that is worse: a discard row after ours.
    await fs.writeFile(path.join(s.root, 'value.txt'), '7\n');
    await git(s.root, 'commit', '-qam', 'seven');
    const worse = await python(s, 'run_experiment.py', ['--experiment', 'custom/val', '--single', '--description', 'seven']);
    expect(worse.exitCode, worse.output).toBe(0);
    expect(worse.output).toContain('DISCARD');

    // 5. Every row read by both: ours (results, rebuild) and the skill's log_results.py.
    const json = await ours(s, ['results', 'custom/val', '--format', 'json']);
    expect(json.exitCode, json.stderr).toBe(0);
    const rebuilt = await ours(s, ['results', 'custom/val', '--rebuild']);
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
    rows = await ledger(results);
    expect(rows.map((r) => [r.metric, r.status, r.iteration])).toEqual([
      [10, 'keep', 0],
      [9, 'keep', 1],
      [5, 'keep', 2],
      [4, 'keep', 3],
      [7, 'discard', 4],
    ]);
    // The guard column stays (no config names it now), last.
    expect((await fs.readFile(results, 'utf8')).split('\n')[0]).toBe(withGuard);
    const report = await python(s, 'log_results.py', ['--experiment', 'custom/val']);
    expect(report.exitCode, report.output).toBe(0);
    expect(report.output).not.toContain('Traceback');
    expect(report.output).toContain('Total: 5 | Keep: 4 | Discard: 1 | Crash: 0');
    const csv = await python(s, 'log_results.py', ['--experiment', 'custom/val', '--format', 'csv']);
    expect(csv.exitCode, csv.output).toBe(0);
    expect(csv.output).toContain('# Best,4.000000 (+60.0%)');
    const dashboard = await python(s, 'log_results.py', ['--dashboard', '--format', 'markdown']);
    expect(dashboard.output).toMatch(/\| custom \| val \| score\(%\) \| 5 \| 4 \| `4\.0000` \| \+60\.0% \|/);
  });

  it('runs an experiment our init made: it reads our metric_grep and whole-minute budget and its crash path never runs', async () => {
    const s = await sandbox({ 'value.txt': '10\n', 'eval.py': "print(f\"val.bpb: {float(open('value.txt').read())}\")\n" });
    const init = await ours(s, ['init', 'custom/mine', '--target', 'value.txt', '--eval', 'python3 eval.py', '--metric', 'val.bpb', '--time-budget', '90s']);
    expect(init.exitCode, init.stderr).toBe(0);
    const dir = path.join(s.root, '.autoresearch', 'custom', 'mine');
    const config = await fs.readFile(path.join(dir, 'config.cfg'), 'utf8');
    expect(config).toContain('\nmetric_grep: ^val.bpb:\ntime_budget_minutes: 2\ntime_budget: 90s\n');
    const head = await git(s.root, 'rev-parse', 'HEAD');

    const skill = await python(s, 'run_experiment.py', ['--experiment', 'custom/mine', '--single', '--description', 'baseline']);
    expect(skill.exitCode, skill.output).toBe(0);
    expect(skill.output).toContain('(budget: 2m)');
    expect(skill.output).toContain('KEEP');
    expect(await git(s.root, 'rev-parse', 'HEAD')).toBe(head); // no `reset --hard HEAD~1`
    const rows = await ledger(path.join(dir, 'results.tsv'));
    expect(rows.map((r) => [r.metric, r.status, r.description])).toEqual([[10, 'keep', 'baseline']]);

    // And we continue from the skill's baseline: no second baseline.
    await fs.writeFile(path.join(dir, 'config.cfg'), config.replace('\nagent: none\n', '\nagent: echo 8 > value.txt\n'));
    const run = await ours(s, ['run', 'custom/mine', '--loop', '--max-experiments', '1']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect((await ledger(path.join(dir, 'results.tsv'))).map((r) => [r.metric, r.status])).toEqual([
      [10, 'keep'],
      [8, 'keep'],
    ]);
  });
});
