/**
 * Review of pipeline: true, round 3 (issue 13, item 1): guarantees that break when a draft is
 * under way together with repeats/noise, the cluster, the daemon, other commands.
 * Each test states the promise it checks; they fail on 21d1f9c.
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

describe('pipeline: true under review (round 3)', () => {
  it('repeats with drift samples: a drafting agent writing into the experiment worktree during the first candidate sample is no metric (the best’s checkout in between must not hide it)', async () => {
    // Iteration 1's first sample reads value.txt only after the draft of 2 has written into
    // the experiment's worktree. With repeats: 3 and a known noise, the next sample is the
    // best's (drift): its checkout wipes the write before the measurement ends.
    const marks = await makeTempDir('ar-review-marks-');
    const project = await makeProject({
      config: {
        pipeline: 'true',
        repeats: '3',
        noise: '0.5',
        evaluate_cmd: `if [ "$AUTORESEARCH_ITERATION" = 1 ] && [ "$AUTORESEARCH_SAMPLE" = 1 ]; then while [ ! -f ${marks}/edited ]; do sleep 0.05; done; fi; echo "score: $(cat value.txt)"`,
      },
      plan: ['echo 5 > value.txt', `echo 1 > "\${AUTORESEARCH_WORKTREE%@draft}/value.txt"; touch ${marks}/edited`],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    const one = rows.find((row) => row.iteration === '1');
    const result = JSON.parse(await fs.readFile(path.join(runDir(project.expDir, 1), 'result.json'), 'utf8')) as { samples: number[]; reason: string };
    // Either the measurement is refused (worktree_tampered), or every sample is the commit's (5).
    if (one?.reason !== 'worktree_tampered') expect(result.samples, `row 1: ${JSON.stringify(one)}`).toEqual(result.samples.map(() => 5));
    for (const row of rows.filter((x) => x.metric !== 'N/A')) expect(await git(project.root, 'show', `${row.commit}:value.txt`), `row ${row.iteration}`).toBe(String(Number(row.metric)));
  });
  it('check_cmd: a drafting agent writing into the experiment worktree while check_cmd runs cannot turn a failed check into a keep', async () => {
    // check_cmd refuses value 5; iteration 1's check runs only after the draft of 2 has
    // written 4 into the experiment's worktree: the check then passes on what is not the commit.
    const marks = await makeTempDir('ar-review-marks-');
    const project = await makeProject({
      config: {
        pipeline: 'true',
        evaluate_cmd: 'echo "score: $(cat value.txt)"',
        check_cmd: `if [ "$AUTORESEARCH_ITERATION" = 1 ]; then while [ ! -f ${marks}/edited ]; do sleep 0.05; done; fi; [ "$(cat value.txt)" != 5 ]`,
      },
      plan: ['echo 5 > value.txt', `echo 4 > "\${AUTORESEARCH_WORKTREE%@draft}/value.txt"; touch ${marks}/edited`],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    const one = rows.find((row) => row.iteration === '1');
    // value 5 fails check_cmd: iteration 1 is never a keep (check_failed, or worktree_tampered).
    expect(one?.status, JSON.stringify(one)).not.toBe('keep');
  });
  it('the drafting agent works in a worktree prepared as the experiment’s is: what setup_cmd made (ignored data, a venv) is there too', async () => {
    // setup_cmd prepares ignored data the agent's code needs (a dataset, a venv, a build).
    // Each agent turn records whether it found it; a drafted turn is "the same turn as ever".
    const seen = async (pipeline: string) => {
      const marks = await makeTempDir('ar-review-marks-');
      const project = await makeProject({
        files: { 'bonus.txt': '0\n' },
        config: {
          pipeline,
          target: 'value.txt, bonus.txt',
          setup_cmd: 'mkdir -p ignored && echo data > ignored/data.txt',
          evaluate_cmd: 'echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"',
        },
        plan: [
          `if [ -f ignored/data.txt ]; then echo found >> ${marks}/seen; else echo missing >> ${marks}/seen; fi; echo 5 > value.txt`,
          `if [ -f ignored/data.txt ]; then echo found >> ${marks}/seen; else echo missing >> ${marks}/seen; fi; echo 1 > bonus.txt`,
        ],
      });
      const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
      expect(r.exitCode, r.stderr).toBe(0);
      return (await fs.readFile(path.join(marks, 'seen'), 'utf8')).trim().split('\n');
    };
    expect(await seen('false')).toEqual(['found', 'found']);
    expect(await seen('true')).toEqual(['found', 'found']);
  });
  it('a revalidation that undoes keeps while a draft is ready: the drafted change is re-applied onto the restored best (SPEC §12), not thrown away', async () => {
    // Keep 1 (5) does not reproduce at the revalidation before the next iteration (its
    // evaluation, iteration 2's number, says 10 for every commit): the revalidation writes its
    // row and moves the best back to the baseline. The candidate drafted while 1 was measured
    // (bonus 1) should then be re-applied onto the baseline and evaluated, as SPEC §12 says
    // ("the best moved (N kept, or a revalidation undid keeps): the drafted change is re-applied").
    const project = await makeProject({
      files: { 'bonus.txt': '0\n' },
      config: {
        target: 'value.txt, bonus.txt',
        pipeline: 'true',
        revalidate_every: '1',
        evaluate_cmd: 'if [ "$AUTORESEARCH_ITERATION" = 2 ]; then echo "score: 10"; else echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"; fi',
      },
      plan: ['echo 5 > value.txt', 'echo 1 > bonus.txt', 'echo 2 > bonus.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.slice(0, 3).map((row) => [row.iteration, row.status, row.reason])).toEqual([
      ['0', 'keep', 'baseline'],
      ['1', 'keep', 'improved'],
      ['2', 'discard', 'revalidation_failed'],
    ]);
    // The row after the revalidation is the drafted change (bonus 1 on the baseline: 9), not a new agent call's (bonus 2).
    const three = rows.find((row) => row.iteration === '3');
    expect(r.stdout + r.stderr).not.toMatch(/draft discarded/);
    expect(await git(project.root, 'show', `${three?.commit}:bonus.txt`), JSON.stringify(three)).toBe('1');
  });
  it('kill -9 while a drafted candidate is ready (its agent call made) and the one before is evaluated: the restart keeps the drafted change reachable, as it keeps an interrupted candidate', async () => {
    const marks = await makeTempDir('ar-review-marks-');
    const block = path.join(marks, 'block');
    await fs.writeFile(block, '');
    const project = await makeProject({
      files: { 'bonus.txt': '0\n' },
      config: {
        target: 'value.txt, bonus.txt',
        pipeline: 'true',
        evaluate_cmd: `if [ "$AUTORESEARCH_ITERATION" = 1 ]; then while [ -f ${block} ]; do sleep 0.05; done; fi; echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"`,
      },
      // The drafted change is unique to this turn (no later turn makes the same commit).
      plan: ['echo 5 > value.txt', 'echo "1 $$" > bonus.txt; echo drafted > description.txt; mv description.txt "$AUTORESEARCH_RUN_DIR/"'],
    });
    const state = () => fs.readFile(path.join(project.expDir, 'state.json'), 'utf8').then((t) => JSON.parse(t) as { draft?: unknown; intent?: { phase?: string } | null }).catch(() => null);
    const cli = launchCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], project.env);
    // The draft of 2 is ready: its commit on the draft branch, its turn over (state.draft names what it captured), 1 still evaluated.
    const drafted = await waitUntil('the draft of 2 to be ready while 1 is evaluated', async () => {
      const s = await state();
      const ready = (s?.draft as { ready?: string } | null | undefined)?.ready;
      if (s === null || ready === undefined || s.intent?.phase !== 'eval') return undefined;
      const tip = await git(project.root, 'rev-parse', '-q', '--verify', 'refs/heads/autoresearch/test/exp@draft').catch(() => '');
      if (tip === '') return undefined;
      const bonus = await git(project.root, 'show', `${tip}:bonus.txt`).catch(() => '');
      return bonus.startsWith('1 ') ? tip : undefined;
    }, 60_000);
    process.kill(cli.pid, 'SIGKILL');
    await cli.exited;
    await fs.rm(block);
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    // Reachable from a ref (not only a reflog), like refs/autoresearch/<id>/interrupted/… for an abandoned draft.
    const holders = await git(project.root, 'for-each-ref', '--contains', drafted, '--format=%(refname)');
    expect(holders, `${drafted} is reachable from no ref\n${r.stdout}${r.stderr}`).not.toBe('');
  });
  it('a draft that cannot be made (something else at the draft worktree’s path) turns drafting off for the run; the run itself goes on', async () => {
    const project = await makeProject({ plan: ['echo 5 > value.txt', 'echo 4 > value.txt', 'echo 3 > value.txt'] });
    const first = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(first.exitCode, first.stderr).toBe(0);
    // Someone's files where the draft worktree would go (a copy, a stale backup): never ours to delete.
    const draftPath = `${await project.worktree()}@draft`;
    await fs.mkdir(draftPath, { recursive: true });
    await fs.writeFile(path.join(draftPath, 'notes.txt'), 'mine\n');
    const config = path.join(project.expDir, 'config.cfg');
    await fs.appendFile(config, 'pipeline: true\n');
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(await fs.readFile(path.join(draftPath, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '5.000000'],
      ['2', 'keep', '4.000000'],
      ['3', 'keep', '3.000000'],
    ]);
  });
  it('a drafted change that the kept candidate before it already made is not a "no change" of the agent (no-change breaker, backoff)', async () => {
    // 1 and the draft of 2 make the same change on the same base (agents often do the obvious
    // thing twice). 1 is kept; re-applied onto it, 2's change is empty. The agent of 2 did
    // change something: its row must not say it changed nothing, nor count toward
    // max_consecutive_no_change (here 1: the experiment would trip).
    const project = await makeProject({ config: { pipeline: 'true', max_consecutive_no_change: '1' }, plan: ['echo 5 > value.txt', 'echo 5 > value.txt', 'echo 4 > value.txt'] });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env: project.env });
    const rows = await project.rows();
    const two = rows.find((row) => row.iteration === '2');
    expect(two?.reason, JSON.stringify(two)).not.toBe('no_change');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });
});
