/**
 * Start warnings in the daemon (issue 10): a timing metric while the daemon runs other
 * experiments at --concurrency 2 with undedicated evaluation slots, and uncommitted changes
 * in the checkout, land in the daemon's log and in `daemon status --json`. With one
 * evaluation slot (`--slots cpu`) evaluations take turns: no timing warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { apiStatus, daemonLog, killDaemons, makeDaemonProject, startDaemon, waitUntil } from './helpers.js';

const tags: string[] = [];
afterEach(async () => {
  await killDaemons(tags.splice(0));
});

const TIMING = 't/timed: score looks like a timing (metric_kind: timing), and the daemon runs up to 2 experiments at once (--concurrency 2) with 2 evaluation slots, none dedicated, so its evaluations may overlap with those of t/other';

type Warned = { id: string; warnings?: string[] };

describe.skipIf(process.platform !== 'linux')('daemon start warnings', () => {
  it('a timing metric at --concurrency 2, and a dirty checkout: in the daemon log and status', async () => {
    const project = await makeDaemonProject(['t/other']);
    tags.push(project.tag);
    project.writeConfig('t/timed', { extra: { metric_kind: 'timing' } });
    fs.writeFileSync(path.join(project.root, 'value.txt'), '5\n'); // uncommitted
    const info = await startDaemon(project, ['--concurrency', '2']);

    await waitUntil(() => daemonLog(project).includes(TIMING), 'the timing warning in daemon.log', 20_000, () => daemonLog(project));
    expect(daemonLog(project)).toContain('restart it with `autoresearch daemon start --concurrency 1`, or `--slots cpu` so evaluations take turns');
    for (const id of ['t/timed', 't/other']) {
      await waitUntil(() => daemonLog(project).includes(`${id}: your checkout has 1 uncommitted change the experiment will not see`), `the checkout warning of ${id}`);
    }
    expect(daemonLog(project)).not.toContain('t/other: score looks like a timing');

    // status is refreshed once a second: wait for the runner's warnings to show.
    const warningsOf = async (id: string) => ((await apiStatus(info)).experiments as Warned[]).find((e) => e.id === id)?.warnings ?? [];
    await waitUntil(async () => (await warningsOf('t/timed')).some((w) => `t/timed: ${w}`.startsWith(TIMING)), 'the timing warning in /api/status');
    const status = await runCli(['--path', project.root, 'status'], { env: project.env });
    expect(status.stdout).toContain(`warning: ${TIMING}`);
    expect(status.stdout).toMatch(/warning: t\/other: your checkout has 1 uncommitted change .*: value\.txt \(in scope\); commit them first/);
    expect((await runCli(['--path', project.root, 'daemon', 'stop'], { env: project.env })).exitCode).toBe(0);
  });

  it('with one evaluation slot (--slots cpu) evaluations take turns: no timing warning', async () => {
    const project = await makeDaemonProject(['t/other']);
    tags.push(project.tag);
    project.writeConfig('t/timed', { extra: { metric_kind: 'timing' } });
    await startDaemon(project, ['--concurrency', '2', '--slots', 'cpu']);
    // Start warnings come before an experiment's first iteration: two rows of each are past them.
    await waitUntil(() => project.rows('t/timed').length >= 2 && project.rows('t/other').length >= 2, 'both experiments iterate');
    expect(daemonLog(project)).not.toContain('looks like a timing');
    expect(daemonLog(project)).not.toContain('uncommitted');
    expect((await runCli(['--path', project.root, 'daemon', 'stop'], { env: project.env })).exitCode).toBe(0);
  });
});
