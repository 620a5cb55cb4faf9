/**
 * executor: slurm in the daemon (issue 12): an experiment whose cluster does not answer is
 * blocked at its turn with sinfo's words (no row), while its neighbours go on; slurm_args
 * without executor: slurm is a start warning in daemon.log and status.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { apiStatus, daemonLog, killDaemons, makeDaemonProject, startDaemon, waitUntil } from './helpers.js';

const tags: string[] = [];
afterEach(async () => {
  await killDaemons(tags.splice(0));
});

describe.skipIf(process.platform !== 'linux')('daemon with executor: slurm', () => {
  it('blocks the experiment whose controller is unreachable, warns about unused slurm_args, and the other one runs', async () => {
    const project = await makeDaemonProject([]);
    tags.push(project.tag);
    project.writeConfig('t/cluster', { extra: { executor: 'slurm', slurm_args: '--partition=gpu' } });
    project.writeConfig('t/local', { extra: { slurm_args: '--gres=gpu:1' } });
    const bin = await makeTempDir('ar-fake-slurm-');
    fs.writeFileSync(path.join(bin, 'sinfo'), '#!/bin/sh\necho "sinfo: error: Unable to contact slurm controller (connect failure)" >&2\nexit 1\n', { mode: 0o755 });
    project.env.PATH = `${bin}:${project.env.PATH ?? ''}`;
    const info = await startDaemon(project, ['--concurrency', '2']);

    const stateOf = async (id: string) => ((await apiStatus(info)).experiments as unknown as Array<{ id: string; state: string; reason: string | null }>).find((e) => e.id === id);
    await waitUntil(async () => (await stateOf('t/cluster'))?.state === 'blocked', 't/cluster blocked', 20_000, () => daemonLog(project));
    expect((await stateOf('t/cluster'))?.reason).toContain('Unable to contact slurm controller');
    expect(project.rows('t/cluster')).toEqual([]);

    await waitUntil(() => project.rows('t/local').length >= 2, 't/local iterates', 20_000, () => daemonLog(project));
    expect(daemonLog(project)).toContain('t/local: slurm_args is set (--gres=gpu:1) but executor is local');
    const status = await runCli(['--path', project.root, 'status'], { env: project.env });
    expect(status.stdout).toMatch(/t\/cluster: blocked experiment t\/cluster cannot start \(nothing was run\):\n.*config\.cfg:6: executor: `slurm` needs the SLURM client tools/);
    expect((await runCli(['--path', project.root, 'daemon', 'stop'], { env: project.env })).exitCode).toBe(0);
  });
});
