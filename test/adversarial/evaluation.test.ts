/**
 * A hostile or careless evaluation: what it prints and what its setup leaves behind, through
 * the real CLI and a real repository (the evaluation prints `score: <value.txt>`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';

async function resultOf(expDir: string, iteration: number): Promise<{ reason: string; technicalDetail: string; metric: number | null }> {
  const file = path.join(expDir, 'runs', String(iteration).padStart(5, '0'), 'result.json');
  return JSON.parse(await fs.readFile(file, 'utf8'));
}

describe('adversarial evaluation: the metric is one number token', () => {
  it('crashes a candidate whose metric reads `3/4` or `5-3` (never its first number), and accepts a unit', async () => {
    const project = await makeProject({
      plan: [
        /* 1 */ `echo '3/4' > value.txt`,
        /* 2 */ `echo '5-3' > value.txt`,
        /* 3 */ `echo '7 bpb' > value.txt`,
        /* 4 */ `echo '6ms' > value.txt`,
      ],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '4'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'crash', 'metric_invalid', 'N/A'],
      ['2', 'crash', 'metric_invalid', 'N/A'],
      ['3', 'keep', 'improved', '7.000000'],
      ['4', 'keep', 'improved', '6.000000'],
    ]);
    // The reason says what was found, so the user can fix the evaluation's output.
    expect((await resultOf(project.expDir, 1)).technicalDetail).toMatch(/expected one number optionally followed by a unit, found "3\/4".*score: 3\/4/);
    expect((await resultOf(project.expDir, 2)).technicalDetail).toMatch(/found "5-3"/);
  });
});

describe('adversarial evaluation: setup_cmd output the project does not ignore', () => {
  it('survives every rollback (also after a restart) and never becomes part of a candidate', async () => {
    const project = await makeProject({
      // Like `npm install` into an unignored node_modules/: the evaluation fails without it.
      config: { setup_cmd: `mkdir -p deps/lib && echo ok > deps/lib/marker && echo ok > setup-stamp.txt` },
      files: { 'evaluate.sh': 'test -f deps/lib/marker && test -f setup-stamp.txt || { echo "deps missing"; exit 3; }\necho "score: $(cat value.txt)"\n' },
      plan: [
        /* 1 */ `echo 5 > value.txt && echo junk > junk.txt`, // kept (junk.txt is outside scope… a scope violation)
        /* 2 */ `echo 4 > value.txt`, // kept
        /* 3 */ `echo 9 > value.txt`, // worse: rolled back
        /* 4 */ `echo 3 > value.txt`, // kept, after the rollback
        /* 5 */ `echo 2 > value.txt`, // second run, after a restart
      ],
    });
    const first = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '4'], { env: project.env });
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(second.exitCode, second.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'discard', 'scope_violation', 'N/A'],
      ['2', 'keep', 'improved', '4.000000'],
      ['3', 'discard', 'no_improvement', '9.000000'],
      ['4', 'keep', 'improved', '3.000000'],
      ['5', 'keep', 'improved', '2.000000'],
    ]);
    const worktree = await project.worktree();
    // setup ran once; its output is still there, and no commit of the branch holds it.
    expect(await fs.readFile(path.join(worktree, 'deps', 'lib', 'marker'), 'utf8')).toBe('ok\n');
    const initial = await git(project.root, 'rev-list', '--max-parents=0', 'HEAD');
    const files = await git(worktree, 'log', '--name-only', '--format=', `${initial}..autoresearch/test/exp`);
    expect(files.split('\n').filter(Boolean).sort()).toEqual(['value.txt', 'value.txt', 'value.txt']);
    // The candidate's own untracked file was rolled back; setup's output was not.
    expect(await fs.stat(path.join(worktree, 'junk.txt')).catch(() => null)).toBeNull();
    expect(await git(worktree, 'status', '--porcelain', '--untracked-files=normal')).toBe('?? deps/\n?? setup-stamp.txt');
  });
});
