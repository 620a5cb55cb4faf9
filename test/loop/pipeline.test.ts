/**
 * pipeline: true (issue 13): the next candidate is drafted in a second worktree while this one
 * is evaluated. Rows stay one per iteration, in order; a draft that no longer applies on top of
 * a new keep is a stale_base discard; the prompts say what is going on.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killLaunched, launchCli } from '../fault/helpers/launch.js';
import { isSameAlive, procInfo, waitUntil } from '../fault/helpers/procs.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { git, makeProject, type TestProject } from '../helpers/project.js';

afterEach(() => killLaunched());

/** Both worktrees busy at once: iteration 1's evaluation and iteration 2's drafting agent each block and say their pid. */
async function busyProject(): Promise<{ project: TestProject; marks: string; block: string }> {
  const marks = await makeTempDir('ar-pipeline-marks-');
  const block = path.join(marks, 'block');
  await fs.writeFile(block, '');
  const project = await makeProject({
    config: {
      pipeline: 'true',
      evaluate_cmd: `if [ "$AUTORESEARCH_ITERATION" = 1 ] && [ -f ${block} ]; then echo $$ > ${marks}/eval.pid; sleep 600; fi; echo "score: $(cat value.txt)"`,
    },
    plan: ['echo 5 > value.txt', `echo $$ > ${marks}/draft.pid; sleep 600`],
  });
  return { project, marks, block };
}

/** The pid a fixture wrote, with its start time (a reused pid never counts as alive). */
async function pidOf(file: string): Promise<{ pid: number; startTime: number }> {
  return waitUntil(file, async () => {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    const pid = Number(text.trim());
    const info = pid > 0 ? procInfo(pid) : undefined;
    return info === undefined ? undefined : { pid, startTime: info.startTime };
  }, 30_000);
}

describe('pipeline: true', () => {
  it('drafts the next candidate while one is evaluated: rows in order, a stale draft discarded as stale_base, a draft that applies re-applied onto the new keep', async () => {
    const project = await makeProject({
      files: { 'bonus.txt': '0\n' },
      config: {
        target: 'value.txt, bonus.txt',
        pipeline: 'true',
        evaluate_cmd: 'echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"',
      },
      plan: [
        'echo 5 > value.txt', // 1: drafted during the baseline, on the same base: kept (5)
        'echo 7 > value.txt', // 2: drafted on the baseline while 1 is evaluated; 1 is kept: conflicts, stale_base
        'echo 4 > value.txt', // 3: no draft (2 measured nothing): its own turn, kept (4)
        'echo 1 > bonus.txt', // 4: drafted on 1's keep while 3 is evaluated; re-applied onto 3: 4 - 1 = 3, kept
      ],
    });
    const head = await git(project.root, 'rev-parse', 'HEAD');
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '4'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
      ['2', 'discard', 'stale_base', 'N/A'],
      ['3', 'keep', 'improved', '4.000000'],
      ['4', 'keep', 'improved', '3.000000'],
    ]);
    expect(rows[2]?.detail).toMatch(/^stale_base: drafted on [0-9a-f]{7} while an earlier candidate was evaluated; the best is now [0-9a-f]{7} \(#1\)/);
    const run = (n: number, file: string) => fs.readFile(path.join(project.expDir, 'runs', String(n).padStart(5, '0'), file), 'utf8');
    // The drafting agent is told what is being evaluated; the next turn, why its change was not.
    expect(await run(2, 'stdin.txt')).toMatch(/## Iteration 1 is still being evaluated/);
    expect(await run(3, 'stdin.txt')).not.toMatch(/still being evaluated/);
    expect(await run(3, 'stdin.txt')).toMatch(/## Your last change was not evaluated: iteration 2/);
    expect(await run(4, 'stdin.txt')).toMatch(/## Iteration 3 is still being evaluated/);
    // The limit was known when 4 was measured: nothing drafted after it.
    await expect(fs.stat(path.join(project.expDir, 'runs', '00005'))).rejects.toThrow();
    // The kept line, the user's checkout untouched.
    const worktree = await project.worktree();
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('4\n');
    expect(await fs.readFile(path.join(worktree, 'bonus.txt'), 'utf8')).toBe('1\n');
    expect(await git(project.root, 'rev-parse', 'HEAD')).toBe(head);
    expect(await git(project.root, 'status', '--porcelain', '--', 'value.txt', 'bonus.txt')).toBe('');
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(state.draft ?? null).toBeNull();
    expect(state.intent).toBeNull();
  });

  it('kill -9 while a candidate is evaluated and the next is drafted: a restart kills both groups, writes no row for either, and goes on', async () => {
    const { project, marks, block } = await busyProject();
    const cli = launchCli(['--path', project.root, 'run', project.id], project.env);
    const evaluation = await pidOf(path.join(marks, 'eval.pid'));
    const draft = await pidOf(path.join(marks, 'draft.pid'));
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(state.intent).toMatchObject({ phase: 'eval', iteration: 1 });
    expect(state.draft).toMatchObject({ phase: 'agent', iteration: 2 });
    process.kill(cli.pid, 'SIGKILL'); // the CLI alone: its children live on, as after a crash
    await cli.exited;
    expect(isSameAlive(evaluation.pid, evaluation.startTime)).toBe(true);
    expect(isSameAlive(draft.pid, draft.startTime)).toBe(true);

    await fs.rm(block);
    await fs.writeFile(project.planFile, 'echo 5 > value.txt\necho 3 > value.txt\n');
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(isSameAlive(evaluation.pid, evaluation.startTime)).toBe(false);
    expect(isSameAlive(draft.pid, draft.startTime)).toBe(false);
    expect(r.stdout + r.stderr).toMatch(/recovered iteration 2: its draft \(pipeline\) was interrupted during the agent's turn; no row/);
    expect(r.stdout + r.stderr).toMatch(/recovered iteration 1: interrupted during eval; no row written/);
    // Nothing of the interrupted work is a row: iteration 1 ran again, then 2 (drafted anew on
    // the baseline while 1 was evaluated, so it no longer applies once 1 is kept).
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
      ['2', 'discard', 'stale_base', 'N/A'],
    ]);
    const after = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(after.draft ?? null).toBeNull();
  });

  it('SIGTERM while a candidate is evaluated and the next is drafted: both groups die, no row, exit 0', async () => {
    const { project, marks } = await busyProject();
    const cli = launchCli(['--path', project.root, 'run', project.id], project.env);
    const evaluation = await pidOf(path.join(marks, 'eval.pid'));
    const draft = await pidOf(path.join(marks, 'draft.pid'));
    process.kill(cli.pid, 'SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(isSameAlive(evaluation.pid, evaluation.startTime)).toBe(false);
    expect(isSameAlive(draft.pid, draft.startTime)).toBe(false);
    expect((await project.rows()).map((row) => row.iteration)).toEqual(['0']);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(state.intent).toBeNull();
    expect(state.draft ?? null).toBeNull();
  });

  it('a drafting agent out of quota writes no row and is waited for like any other turn (on_exhaustion: stop exits 2)', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const project = await makeProject({
      config: { pipeline: 'true', on_exhaustion: 'stop' },
      plan: ['echo 5 > value.txt', `echo 9 > value.txt; echo "Claude AI usage limit reached|${reset}"; exit 1`],
    });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: { ...project.env, TZ: 'UTC' } });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`usage exhausted for command: Claude AI usage limit reached|${reset}`);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '5.000000'],
    ]);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(state.exhausted.primary.until).toBe(new Date((reset + 120) * 1000).toISOString());
    expect(state.consecutiveCrashes).toBe(0);
    expect(await fs.readFile(path.join(await project.worktree(), 'value.txt'), 'utf8')).toBe('5\n');
  });

  it('a drafting agent that fails is a crash row in its place, its partial change kept reachable', async () => {
    const project = await makeProject({
      config: { pipeline: 'true' },
      plan: ['echo 5 > value.txt', 'echo 9 > value.txt; echo "segfault in the agent" >&2; exit 3', 'echo 4 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
      ['2', 'crash', 'agent_exit', 'N/A'],
      ['3', 'keep', 'improved', '4.000000'],
    ]);
    // The failed draft's change, committed for inspection and kept under refs/autoresearch/.
    expect(await git(project.root, 'show', `refs/autoresearch/${project.id}/2:value.txt`)).toBe('9');
  });

  it('the draft worktree follows the experiment when AUTORESEARCH_WORKTREES moves (the old one is released, not left holding its branch)', async () => {
    const project = await makeProject({
      files: { 'bonus.txt': '0\n' },
      config: { target: 'value.txt, bonus.txt', pipeline: 'true', evaluate_cmd: 'echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"' },
      plan: ['echo 5 > value.txt', 'echo 6 > value.txt', 'echo 1 > bonus.txt', 'echo 2 > bonus.txt'],
    });
    const first = path.join(await makeTempDir('ar-wt-a-'), 'worktrees');
    const second = path.join(await makeTempDir('ar-wt-b-'), 'worktrees');
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: { ...project.env, AUTORESEARCH_WORKTREES: first } })).exitCode).toBe(0);
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: { ...project.env, AUTORESEARCH_WORKTREES: second } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.reason])).toEqual([
      ['0', 'baseline'],
      ['1', 'improved'],
      ['2', 'stale_base'],
      ['3', 'improved'],
      ['4', 'stale_base'],
    ]);
    const worktree = await project.worktree();
    expect(worktree.startsWith(second)).toBe(true);
    const list = await git(project.root, 'worktree', 'list', '--porcelain');
    expect(list).toContain(`worktree ${worktree}@draft\n`);
    expect(list).not.toContain(first);
  });
});
