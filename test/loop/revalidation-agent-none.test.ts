/**
 * `agent: none` with `revalidate_every`: the external agent's uncommitted change in the
 * worktree is what the next `run --single` must judge. A revalidation checks other commits
 * out, so it must never run while that change is waiting to be judged.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

describe('revalidation with agent: none', () => {
  it('the external change waiting in the worktree is judged, not wiped by a due revalidation', async () => {
    const project = await makeProject({ config: { agent: 'none', revalidate_every: '1' } });
    const single = () => runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env, timeoutMs: 120_000 });
    expect((await single()).exitCode).toBe(0); // the baseline: 10
    const worktree = await project.worktree();
    await fs.writeFile(path.join(worktree, 'value.txt'), '9\n'); // the external agent's first edit
    const kept = await single(); // keep 9: a revalidation is due, once the change is judged
    expect(kept.exitCode).toBe(0);
    expect(kept.stdout).toMatch(/revalidation: .*\(no row\)/);
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('9\n'); // the best, for the next edit
    await fs.writeFile(path.join(worktree, 'value.txt'), '8\n'); // its second edit
    expect((await single()).exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.reason, row.metric, row.agent])).toEqual([
      ['keep', 'baseline', '10.000000', ''],
      ['keep', 'improved', '9.000000', 'external'],
      ['keep', 'improved', '8.000000', 'external'],
    ]);
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('8\n');
  });
});
