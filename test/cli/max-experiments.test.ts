/**
 * `run --max-experiments N` replaces the config's max_experiments for that run: N more
 * experiments (the baseline not counted), also on an experiment the config says is done.
 * A done experiment says how to go on, in `run` and `status`.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

describe('run --max-experiments', () => {
  it('on a done experiment runs N more; done says how to continue', async () => {
    const project = await makeProject({ config: { max_experiments: '2' }, plan: ['echo 8 > value.txt', 'echo 9 > value.txt', 'echo 6 > value.txt', 'echo 4 > value.txt', 'echo 3 > value.txt'] });
    const cli = (...args: string[]) => runCli(['--path', project.root, ...args], { env: project.env });
    expect((await cli('run', project.id)).exitCode).toBe(0);
    expect(await project.rows()).toHaveLength(3); // the baseline and 2 experiments

    const hint = 'max_experiments (2) reached — raise max_experiments in config.cfg, or run `autoresearch run test/exp --max-experiments 1` for 1 more';
    const again = await cli('run', project.id);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`done: ${hint}`);
    expect(await project.rows()).toHaveLength(3);
    const [status] = JSON.parse((await cli('status', '--json')).stdout) as Array<{ state: string; reason: string }>;
    expect(status).toMatchObject({ state: 'done', reason: hint });

    const more = await cli('run', project.id, '--max-experiments', '3');
    expect(more.stdout).not.toMatch(/done: max_experiments/);
    expect(more.exitCode).toBe(0);
    expect(more.stdout).toContain('--max-experiments 3 reached');
    const rows = await project.rows();
    expect(rows.map((r) => r.iteration)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(rows.slice(3).map((r) => r.metric)).toEqual(['6.000000', '4.000000', '3.000000']);
  });
});
