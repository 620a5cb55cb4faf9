/**
 * `reset` beside the daemon: refused while the daemon runs the experiment (it holds the run
 * lock), accepted once it is paused; after `resume` the daemon continues from the keep the
 * reset restored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { apiStatus, daemonLog, killDaemons, makeDaemonProject, startDaemon, waitUntil, type DaemonProject } from './helpers.js';

const ID = 'exp/a';

function result(project: DaemonProject, iteration: number): { commitFull: string; base: string } {
  return JSON.parse(fs.readFileSync(path.join(project.dir(ID), 'runs', String(iteration).padStart(5, '0'), 'result.json'), 'utf8'));
}

describe.skipIf(process.platform !== 'linux')('reset and the daemon', () => {
  let project: DaemonProject | undefined;
  afterAll(async () => {
    if (project !== undefined) await killDaemons([project.tag]);
  });

  it('is refused while the daemon runs the experiment, works once it is paused, and the daemon goes on from the restored keep', async () => {
    project = await makeDaemonProject([ID], { sleep: '0.2' });
    const p = project;
    const info = await startDaemon(p, ['--concurrency', '1']);
    const rows = () => p.rows(ID).length;
    await waitUntil(() => rows() >= 3, 'three rows', 30_000, () => daemonLog(p));

    const refused = await runCli(['--path', p.root, 'reset', ID, '--to', '1'], { env: p.env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/experiment exp\/a is already running \(pid \d+ .*autoresearch daemon\)/);
    expect(refused.stderr).toContain('run `autoresearch pause exp/a` first');
    expect(p.rows(ID).every((r) => r.reason !== 'reset')).toBe(true);

    expect((await runCli(['--path', p.root, 'pause', ID], { env: p.env })).exitCode).toBe(0);
    await waitUntil(async () => (await apiStatus(info)).experiments.find((e) => e.id === ID)?.state === 'paused', 'exp/a paused');
    const reset = await runCli(['--path', p.root, 'reset', ID, '--to', '1'], { env: p.env });
    expect(reset.stderr).toBe('');
    expect(reset.exitCode).toBe(0);
    const resetRow = p.rows(ID).at(-1);
    expect(resetRow).toMatchObject({ status: 'keep', reason: 'reset', metric: (999).toFixed(6) });

    expect((await runCli(['--path', p.root, 'resume', ID], { env: p.env })).exitCode).toBe(0);
    const after = resetRow?.iteration ?? -1;
    // The row is appended before runs/<n>/result.json is written: wait for both.
    const resultFile = path.join(p.dir(ID), 'runs', String(after + 1).padStart(5, '0'), 'result.json');
    await waitUntil(() => rows() >= after + 2 && fs.existsSync(resultFile), 'a row after the reset, and its result.json', 30_000, () => daemonLog(p));
    // The first iteration after the reset started from keep 1's commit.
    expect(result(p, after + 1).base).toBe(result(p, 1).commitFull);
    expect(p.rows(ID)[after + 1]).toMatchObject({ status: 'keep', reason: 'improved' });
  });
});
