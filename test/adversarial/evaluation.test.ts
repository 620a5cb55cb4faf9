/**
 * A hostile or careless evaluation: what it prints and what its setup leaves behind, through
 * the real CLI and a real repository (the evaluation prints `score: <value.txt>`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

async function resultOf(expDir: string, iteration: number): Promise<{ reason: string; detail: string; metric: number | null }> {
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
    expect((await resultOf(project.expDir, 1)).detail).toMatch(/expected one number optionally followed by a unit, found "3\/4".*score: 3\/4/);
    expect((await resultOf(project.expDir, 2)).detail).toMatch(/found "5-3"/);
  });
});
