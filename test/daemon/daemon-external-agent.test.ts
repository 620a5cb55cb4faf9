/**
 * `agent: none` in the daemon: an external agent drives the experiment with `run --single`,
 * so the daemon must not iterate it (a loop would record "no change" over and over), while
 * the other experiments run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { apiStatus, killDaemons, makeDaemonProject, startDaemon, waitUntil } from './helpers.js';

const tags: string[] = [];
afterEach(async () => {
  await killDaemons(tags.splice(0));
});

describe.skipIf(process.platform !== 'linux')('the daemon and agent: none', () => {
  it('leaves an externally driven experiment idle while the others iterate', async () => {
    const project = await makeDaemonProject(['ext/looped']);
    tags.push(project.tag);
    project.writeConfig('ext/external', { extra: { agent: 'none' } });
    const info = await startDaemon(project, ['--concurrency', '2']);
    await waitUntil(() => project.rows('ext/looped').length >= 4, 'the looped experiment makes progress');
    // /api/status is refreshed once a second: wait for the runner's reason to show.
    const external = async () => (await apiStatus(info)).experiments.find((e) => e.id === 'ext/external') as Record<string, unknown> | undefined;
    await waitUntil(async () => String((await external())?.reason).includes('run --single'), 'the external experiment is reported as driven by run --single');
    expect(await external()).toMatchObject({ state: 'new', iterations: 0 });
    expect(project.rows('ext/external')).toEqual([]); // not even a baseline: `run --single` does that
    expect((await runCli(['--path', project.root, 'daemon', 'stop'], { env: project.env })).exitCode).toBe(0);
  });
});
