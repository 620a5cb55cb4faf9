/**
 * Hostile agents. A process the agent starts that leaves the process group (double fork +
 * setsid) must not outlive the agent turn: it would edit the worktree while the evaluation
 * runs, and the row would record a metric for code that is not the commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { git, makeProject } from '../helpers/project.js';
import { ESCAPEE, EVALUATE_SH, escapeePid, isRunning, killEscapeesAfterAll } from './escapees.js';

const marks = killEscapeesAfterAll();

describe('hostile agent', () => {
  it('kills a process the agent started that left its group (setsid, double fork) before the evaluation', async () => {
    const mark = await makeTempDir('ar-escapee-');
    marks.push(mark);
    const project = await makeProject({ files: { 'evaluate.sh': EVALUATE_SH }, plan: [`echo 5 > value.txt; ${ESCAPEE}`] });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: { ...project.env, MARK: mark } });
    expect(r.exitCode, r.stderr).toBe(0);
    const pid = escapeePid(mark);
    expect(pid, 'the escapee started').not.toBeNull();
    expect(isRunning(pid ?? 0), 'the escapee was killed').toBe(false);
    expect(fs.existsSync(path.join(mark, 'edited')), 'the escapee never edited the worktree').toBe(false);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`killed process group ${pid}, which left the group of`));
    // The evaluation saw the committed code: 5, not the escapee's 1.
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.metric])).toEqual([
      ['keep', '10.000000'],
      ['keep', '5.000000'],
    ]);
    const worktree = await project.worktree();
    expect((await git(worktree, 'show', `${rows[1]?.commit ?? '?'}:value.txt`)).trim()).toBe('5');
  });

  it('a graceful stop (SIGTERM) during the agent turn also kills what the agent left running outside its group', async () => {
    const mark = await makeTempDir('ar-escapee-');
    marks.push(mark);
    const project = await makeProject({ plan: [`${ESCAPEE}; touch "$MARK/agent-running"; sleep 30`] });
    const cli = startCli(['--path', project.root, 'run', project.id], { env: { ...project.env, MARK: mark } });
    const deadline = performance.now() + 20_000;
    while (!fs.existsSync(path.join(mark, 'agent-running'))) {
      if (performance.now() > deadline) throw new Error(`the agent did not start:\n${cli.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    process.kill(cli.pid, 'SIGTERM');
    const r = await cli.result();
    expect(r.exitCode, cli.output()).toBe(0);
    const pid = escapeePid(mark);
    expect(pid).not.toBeNull();
    expect(isRunning(pid ?? 0), 'the escapee was killed').toBe(false);
    expect(cli.output()).toMatch(new RegExp(`killed process group ${pid}, which left the group of`));
    expect((await project.rows()).length).toBe(1); // the baseline only: the interrupted turn writes no row
  });
});

