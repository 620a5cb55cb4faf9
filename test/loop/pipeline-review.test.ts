/**
 * Review of pipeline: true (issue 13, item 1): guarantees that break when a draft is under way.
 * Each test states the promise it checks; they fail on 5305dff.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killLaunched, launchCli } from '../fault/helpers/launch.js';
import { waitUntil } from '../fault/helpers/procs.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { git, makeProject } from '../helpers/project.js';

afterEach(() => killLaunched());

const runDir = (expDir: string, n: number) => path.join(expDir, 'runs', String(n).padStart(5, '0'));

describe('pipeline: true under review', () => {
  it('a revalidation due before a drafted iteration leaves that iteration its run directory (the drafting agent’s prompt and logs)', async () => {
    // Iteration 1's evaluation waits until the draft of 2 has received its prompt (written by
    // the plan agent into its run dir, runs/00002.draft/stdin.txt), so the draft is under way when 1 is kept;
    // revalidate_every: 1 then revalidates before 2, and the revalidation uses runs/<next>.
    const project = await makeProject({
      files: { 'bonus.txt': '0\n' },
      config: {
        target: 'value.txt, bonus.txt',
        pipeline: 'true',
        revalidate_every: '1',
        evaluate_cmd:
          'if [ "$AUTORESEARCH_ITERATION" = 1 ]; then d="$(dirname "$AUTORESEARCH_RUN_DIR")/00002.draft"; while [ ! -s "$d/stdin.txt" ]; do sleep 0.05; done; fi; ' +
          'echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"',
      },
      plan: ['echo 5 > value.txt', 'echo 1 > bonus.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
      ['2', 'keep', 'improved', '4.000000'],
    ]);
    // Iteration 2's row was made by the drafting agent: its run directory holds the prompt it
    // got (as every agent iteration's does), not only the result.
    const two = runDir(project.expDir, 2);
    const prompt = await fs.readFile(path.join(two, 'stdin.txt'), 'utf8').catch((error: unknown) => `missing: ${(error as Error).message}`);
    expect(prompt, `runs/ holds: ${(await fs.readdir(path.dirname(two))).join(', ')}`).toMatch(/## Iteration 1 is still being evaluated/);
  });

  it('kill -9 of a git updating the draft branch (its stale ref lock): the restart removes the lock, as it does for the experiment branch, and goes on', async () => {
    // Each candidate changes its own file: a draft re-applied onto a new keep still applies.
    const project = await makeProject({
      files: { 'bonus.txt': '0\n', 'extra.txt': '0\n' },
      config: { pipeline: 'true', target: 'value.txt, bonus.txt, extra.txt', evaluate_cmd: 'echo "score: $(( $(cat value.txt) - $(cat bonus.txt) - $(cat extra.txt) ))"' },
      plan: ['echo 5 > value.txt', 'echo 1 > bonus.txt', 'echo 1 > extra.txt'],
    });
    const first = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(first.exitCode, first.stderr).toBe(0);
    // What a git killed mid `commit`/`reset` in the draft worktree leaves behind (git removes
    // its locks on SIGTERM, not on SIGKILL): the draft branch's loose ref lock, no holder.
    const commonDir = path.resolve(project.root, await git(project.root, 'rev-parse', '--git-common-dir'));
    const lock = path.join(commonDir, 'refs', 'heads', 'autoresearch', 'test', 'exp@draft.lock');
    await fs.access(path.join(commonDir, 'refs', 'heads', 'autoresearch', 'test')); // the branch dir exists: the lock is where git would put it
    await fs.writeFile(lock, '');
    // Two more: the second is drafted while the first is evaluated, so the draft branch moves.
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '5.000000'],
      ['2', 'keep', '4.000000'],
      ['3', 'keep', '3.000000'],
    ]);
  });

  it('a revalidation whose evaluation is out of quota while a draft is ready is waited for (on_exhaustion: stop exits 2), not retried at once', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const marks = await makeTempDir('ar-review-marks-');
    const tries = path.join(marks, 'revalidation-tries');
    const project = await makeProject({
      config: {
        pipeline: 'true',
        revalidate_every: '1',
        eval_uses_llm: 'true',
        on_exhaustion: 'stop',
        // The revalidation before iteration 2 runs as iteration 2: its evaluation is out of quota.
        evaluate_cmd: `if [ "$AUTORESEARCH_ITERATION" = 2 ]; then echo x >> ${tries}; echo "Claude AI usage limit reached|${reset}" >&2; exit 1; fi; echo "score: $(cat value.txt)"`,
      },
      plan: ['echo 5 > value.txt', 'echo 4 > value.txt'],
    });
    const cli = launchCli(['--path', project.root, 'run', project.id], { ...project.env, TZ: 'UTC' });
    const count = async () => (await fs.readFile(tries, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length;
    // Either the CLI stops (waits: exit 2) or it keeps calling the exhausted evaluation.
    await waitUntil('the CLI to exit or retry the exhausted evaluation 10 times', async () => (cli.hasExited() || (await count()) >= 10 ? true : undefined), 120_000);
    const tried = await count();
    expect(cli.hasExited(), `the exhausted evaluation was called ${tried} times without a wait\n${cli.output()}`).toBe(true);
    expect((await cli.exited).code, cli.output()).toBe(2);
    expect(tried).toBe(1);
    expect(cli.output()).toContain(`usage exhausted for evaluation: Claude AI usage limit reached|${reset}`);
  });

  it('what setup_cmd left untracked is no part of a drafted candidate, as it is no part of one made in the worktree', async () => {
    // setup_cmd builds into an untracked build/; the agent rebuilds it (as agents do to test
    // their change). In the experiment's worktree build/ is setup output: never captured.
    // Each candidate changes its own file: a draft re-applied onto a new keep still applies.
    const plan = ['echo 5 > value.txt; mkdir -p build && echo lib > build/lib.txt', 'echo 1 > bonus.txt; mkdir -p build && echo lib > build/lib.txt'];
    const outcome = async (pipeline: string) => {
      const project = await makeProject({
        files: { 'bonus.txt': '0\n' },
        config: { pipeline, target: 'value.txt, bonus.txt', evaluate_cmd: 'echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"', setup_cmd: 'mkdir -p build && echo lib > build/lib.txt' },
        plan,
      });
      const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
      expect(r.exitCode, r.stderr).toBe(0);
      return (await project.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric]);
    };
    const expected = [
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
      ['2', 'keep', 'improved', '4.000000'],
    ];
    expect(await outcome('false')).toEqual(expected);
    expect(await outcome('true')).toEqual(expected);
  });

  it('a draft made during a baseline that crashed is not silently dropped when the baseline runs again', async () => {
    const marks = await makeTempDir('ar-review-marks-');
    const once = path.join(marks, 'baseline-failed');
    const project = await makeProject({
      config: {
        pipeline: 'true',
        // The first baseline fails; the second one (iteration 1) measures.
        evaluate_cmd: `if [ ! -f ${once} ]; then touch ${once}; echo broken >&2; exit 1; fi; echo "score: $(cat value.txt)"`,
      },
      plan: ['echo 5 > value.txt', 'echo 4 > value.txt', 'echo 3 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = (await project.rows()).map((row) => [row.iteration, row.status, row.reason]);
    expect(rows.slice(0, 2)).toEqual([
      ['0', 'crash', 'eval_exit'],
      ['1', 'keep', 'baseline'],
    ]);
    // The agent turn drafted as iteration 1 (plan line 1) ran while the first baseline was
    // measured; iteration 1 is a baseline again, so that turn is thrown away: the loop must
    // say so (as for every abandoned draft), and iteration 1's run directory is the
    // baseline's, not one holding an agent's prompt and logs.
    expect(r.stdout + r.stderr).toMatch(/#1 draft discarded/);
    const one = path.join(project.expDir, 'runs', '00001');
    expect(await fs.readdir(one)).not.toContain('stdin.txt');
  });

  it('a worktree of the user that has the draft branch checked out is not deleted to make room for the draft worktree', async () => {
    const project = await makeProject({ config: { pipeline: 'true' }, plan: ['echo 5 > value.txt', 'echo 4 > value.txt', 'echo 3 > value.txt'] });
    const first = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(first.exitCode, first.stderr).toBe(0);
    const draftWorktree = `${await project.worktree()}@draft`;
    await fs.access(path.join(draftWorktree, '.git'));
    // The user looks at what was drafted: the scratch worktree cleaned up, the branch checked
    // out in a worktree of their own, where they start working.
    await git(project.root, 'worktree', 'remove', '--force', draftWorktree);
    const look = path.join(await makeTempDir('ar-user-'), 'look');
    await git(project.root, 'worktree', 'add', '-q', look, 'autoresearch/test/exp@draft');
    await fs.writeFile(path.join(look, 'notes.txt'), 'my notes, not committed yet\n');
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    // Whatever the run does about its draft, the user's worktree and their file stay.
    expect(await fs.readFile(path.join(look, 'notes.txt'), 'utf8').catch((error: unknown) => `gone: ${(error as Error).message}\n${r.stdout}${r.stderr}`)).toBe('my notes, not committed yet\n');
  });
  it('a draft made while the turn after a stale_base is evaluated is not told that its last change was not evaluated', async () => {
    // The scenario of pipeline.test.ts: 2 is stale_base, 3 is the agent's own turn, 4 is drafted while 3 is evaluated.
    const project = await makeProject({
      files: { 'bonus.txt': '0\n' },
      config: {
        target: 'value.txt, bonus.txt',
        pipeline: 'true',
        // 3's evaluation lasts until the draft of 4 has its prompt (as a real evaluation outlasts the prompt's making).
        evaluate_cmd:
          'if [ "$AUTORESEARCH_ITERATION" = 3 ]; then d="$(dirname "$AUTORESEARCH_RUN_DIR")/00004.draft"; while [ ! -s "$d/stdin.txt" ]; do sleep 0.05; done; fi; ' +
          'echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"',
      },
      plan: ['echo 5 > value.txt', 'echo 7 > value.txt', 'echo 4 > value.txt', 'echo 1 > bonus.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '4'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline', 'improved', 'stale_base', 'improved', 'improved']);
    const prompt = (n: number) => fs.readFile(path.join(runDir(project.expDir, n), 'stdin.txt'), 'utf8');
    expect(await prompt(3)).toMatch(/## Your last change was not evaluated: iteration 2/); // right: 3 is the turn after it
    // 4's agent made 3 (being evaluated); the stale_base of 2 is two turns back: said again as
    // "your last change", it contradicts the section just above it.
    expect(await prompt(4)).toMatch(/## Iteration 3 is still being evaluated/);
    expect(await prompt(4)).not.toMatch(/## Your last change was not evaluated/);
  });

  it('a drafting agent that writes into the experiment worktree while a candidate is measured: that measurement is no metric (worktree_tampered), and the run goes on', async () => {
    // Iteration 1's evaluation reads value.txt only after the draft of 2 has written into the
    // experiment's worktree (its path is the draft's minus "@draft"; `git worktree list` says it too).
    const marks = await makeTempDir('ar-review-marks-');
    const project = await makeProject({
      config: {
        pipeline: 'true',
        evaluate_cmd: `if [ "$AUTORESEARCH_ITERATION" = 1 ]; then while [ ! -f ${marks}/edited ]; do sleep 0.05; done; fi; echo "score: $(cat value.txt)"`,
      },
      plan: ['echo 5 > value.txt', `echo 1 > "\${AUTORESEARCH_WORKTREE%@draft}/value.txt"; touch ${marks}/edited`, 'echo 4 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'crash', 'worktree_tampered', 'N/A'],
      ['2', 'discard', 'no_change', 'N/A'],
      ['3', 'keep', 'improved', '4.000000'],
    ]);
    expect(rows[1]?.detail).toMatch(/^worktree_tampered: value\.txt changed in the experiment's worktree while it was evaluated and an agent drafted the next candidate \(pipeline\)/);
    // Every recorded metric is what its commit gives.
    for (const row of rows.filter((x) => x.metric !== 'N/A')) expect(await git(project.root, 'show', `${row.commit}:value.txt`)).toBe(String(Number(row.metric)));
  });
});

