/** results.tsv across crashes and across tools: a torn tail, and files written by the seed skill. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';
import { writeFiles } from '../helpers/git-repo.js';

describe('results.tsv continuity', () => {
  it('repairs and reports a torn last line, then appends after it', async () => {
    const project = await makeProject({ plan: ['echo 4 > value.txt'] });
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    const file = path.join(project.expDir, 'results.tsv');
    const intact = await fs.readFile(file, 'utf8');
    await fs.appendFile(file, 'abc1234\t3.0000'); // a row cut off by a crash mid-write
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/repaired a torn last line/);
    const after = await fs.readFile(file, 'utf8');
    expect(after.startsWith(intact)).toBe(true);
    expect(after).not.toContain('abc1234');
    expect((await project.rows()).map((row) => [row.iteration, row.status])).toEqual([
      ['0', 'keep'],
      ['1', 'keep'],
    ]);
    const saved = (await fs.readdir(project.expDir)).filter((f) => f.startsWith('results.tsv.torn-'));
    expect(saved.length).toBe(1);
    expect(await fs.readFile(path.join(project.expDir, saved[0] ?? ''), 'utf8')).toBe('abc1234\t3.0000');
  });

  it('refuses a corrupt line in the middle, naming file and line, and runs nothing', async () => {
    const project = await makeProject();
    // (After a row the skill wrote, such a line would be the rest of its multi-line description.)
    await writeFiles(project.expDir, {
      'results.tsv': 'commit\tmetric\tstatus\tdescription\nbad\tline\nabc1234\t1.000000\tkeep\tbaseline\n',
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/results\.tsv:2/);
    await expect(fs.stat(path.join(project.expDir, 'state.json'))).rejects.toThrow();
  });

  it('continues a config.cfg and results.tsv written by the Python autoresearch-agent skill', async () => {
    const project = await makeProject({ config: { target: '', evaluate_cmd: '', metric: '', metric_direction: '', time_budget: '', agent: '' } });
    const head = await git(project.root, 'rev-parse', '--short=7', 'HEAD');
    // Exactly what setup_experiment.py / run_experiment.py write (no agent key: an external agent).
    await writeFiles(project.expDir, {
      'config.cfg':
        'target: value.txt\nevaluate_cmd: sh evaluate.sh\nmetric: score\nmetric_direction: lower\nmetric_grep: ^score:\ntime_budget_minutes: 0.5\ncreated: 2026-03-08 14:12\n',
      'results.tsv':
        'commit\tmetric\tstatus\tdescription\n' +
        `${head}\t10.000000\tkeep\tbaseline\n` +
        `${head}\tN/A\tcrash\texit_1\n` +
        `${head}\t12.000000\tdiscard\tno_improvement_12.0000_vs_10.0000\n`,
    });
    const worktreeRun = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(worktreeRun.exitCode).toBe(0);
    expect(worktreeRun.stderr).toMatch(/upgraded|columns/i);
    const rows = await project.rows();
    // No second baseline: the seed's keep is the starting point; the untouched worktree is "no change".
    expect(rows.map((row) => [row.iteration, row.metric, row.status, row.reason])).toEqual([
      ['0', '10.000000', 'keep', ''],
      ['1', 'N/A', 'crash', ''],
      ['2', '12.000000', 'discard', ''],
      ['3', 'N/A', 'discard', 'no_change'],
    ]);
    await fs.writeFile(path.join(await project.worktree(), 'value.txt'), '8\n');
    expect((await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env })).exitCode).toBe(0);
    const last = (await project.rows()).at(-1);
    expect([last?.iteration, last?.metric, last?.status]).toEqual(['4', '8.000000', 'keep']);
    // The seed's reader (>= 4 columns, N/A as null) still understands every line.
    const text = await project.results();
    for (const line of text.trimEnd().split('\n')) expect(line.split('\t').length).toBeGreaterThanOrEqual(4);
  });
});
