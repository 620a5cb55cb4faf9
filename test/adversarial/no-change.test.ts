/**
 * Hostile agent: one that changes nothing (or only files outside the scope) must not run at
 * full speed all night. Each such iteration backs off (doubling), and max_consecutive_no_change
 * of them in a row trip the experiment until `resume`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import fs2 from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { apiStatus, daemonLog, killDaemons, makeDaemonProject, startDaemon, waitUntil } from '../daemon/helpers.js';
import { runCli } from '../helpers/cli.js';
import { makeProject, type TestProject } from '../helpers/project.js';

async function stateOf(project: TestProject): Promise<{ consecutiveNoChange?: number; halt: { state: string; reason: string } | null }> {
  return JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as never;
}

const reasons = async (project: TestProject) => (await project.rows()).map((r) => r.reason);

describe('no-change breaker', () => {
  it('trips after max_consecutive_no_change rows that changed nothing, backing off more each time; resume clears it', async () => {
    const project = await makeProject({
      plan: [], // the agent never changes anything
      config: { max_consecutive_no_change: '4', no_change_backoff: '150ms', no_change_backoff_max: '1m' },
    });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env, timeoutMs: 20_000 });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/tripped: 4 consecutive iterations changed nothing \(or only outside scope\) \(max_consecutive_no_change: 4\)/);
    expect(r.stdout).toMatch(/1 iteration in a row changed nothing.*pausing 150ms/);
    expect(r.stdout).toMatch(/3 iterations in a row changed nothing.*pausing 600ms/);
    expect(r.stdout).not.toMatch(/4 iterations in a row changed nothing.*pausing/); // the 4th trips, no pause
    const rows = await project.rows();
    expect(rows.map((row) => row.reason)).toEqual(['baseline', 'no_change', 'no_change', 'no_change', 'no_change']);
    // Each pause is at least the doubled backoff: the start times of the no-change rows spread out.
    const starts = rows.slice(1).map((row) => Date.parse(row.timestamp ?? ''));
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(0.9 * 150 * 2 ** i));
    expect((await stateOf(project)).halt?.state).toBe('tripped');

    const again = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(again.exitCode).toBe(3); // still tripped: no new row
    expect((await project.rows()).length).toBe(5);

    const resumed = await runCli(['--path', project.root, 'resume', project.id], { env: project.env });
    expect(resumed.exitCode).toBe(0);
    expect(await stateOf(project)).toMatchObject({ halt: null, consecutiveNoChange: 0 });
    // After resume the count starts over: one more no-change row does not trip it again.
    const one = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(one.exitCode).toBe(0);
    expect(await stateOf(project)).toMatchObject({ halt: null, consecutiveNoChange: 1 });
  });

  it('counts scope_violation like no_change; an agent crash leaves the count, a keep resets it', async () => {
    const project = await makeProject({
      plan: [
        'echo 9 > value.txt', // 1 keep
        'true', // 2 no_change (count 1)
        'echo x >> other.txt', // 3 scope_violation (count 2)
        'exit 7', // 4 agent crash (count stays 2)
        'echo 8 > value.txt', // 5 keep (count 0)
        'echo y >> other.txt', // 6 scope_violation (1)
        'true', // 7 no_change (2)
        'echo z >> other.txt', // 8 scope_violation (3): trips
      ],
      config: { max_consecutive_no_change: '3', no_change_backoff: '10ms', no_change_backoff_max: '20ms' },
    });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env, timeoutMs: 20_000 });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/3 consecutive iterations changed nothing \(or only outside scope\).*the last was #8 scope_violation/);
    expect(await reasons(project)).toEqual([
      'baseline',
      'improved',
      'no_change',
      'scope_violation',
      'agent_exit',
      'improved',
      'scope_violation',
      'no_change',
      'scope_violation',
    ]);
  });

  it('run --single (the external-agent flow) never pauses, but the count still trips it', async () => {
    // A pause of an hour would time the runs out: --single must not wait at all.
    const project = await makeProject({ config: { agent: 'none', max_consecutive_no_change: '2', no_change_backoff: '1h', no_change_backoff_max: '2h' } });
    const single = () => runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env, timeoutMs: 20_000 });
    expect((await single()).exitCode).toBe(0); // baseline
    expect((await single()).exitCode).toBe(0); // no change 1
    const third = await single();
    expect(third.exitCode).toBe(3);
    expect(third.stderr).toMatch(/2 consecutive iterations changed nothing/);
    expect(await reasons(project)).toEqual(['baseline', 'no_change', 'no_change']);
  });

  it('refuses a bad max_consecutive_no_change or no_change_backoff with the key and line', async () => {
    const project = await makeProject({ config: { max_consecutive_no_change: '0', no_change_backoff: '5' } });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/max_consecutive_no_change/);
    expect(r.stderr).toMatch(/no_change_backoff/);
    await expect(fs.stat(path.join(project.expDir, 'results.tsv'))).rejects.toThrow();
  });
});

describe.skipIf(process.platform !== 'linux')('no-change breaker in the daemon', () => {
  const tags: string[] = [];
  afterEach(async () => {
    await killDaemons(tags.splice(0));
  });

  it('waits out the pause holding no turn (others go on), resume cuts it short, the count trips', async () => {
    const project = await makeDaemonProject(['nc/busy']);
    tags.push(project.tag);
    const idle = { agent: 'true', no_change_backoff: '1m', no_change_backoff_max: '1m', max_consecutive_no_change: '5' };
    project.writeConfig('nc/idle', { extra: idle });
    project.writeConfig('nc/trip', { extra: { agent: 'true', max_consecutive_no_change: '1' } });
    // One turn for three experiments: a pause that held it would stop nc/busy.
    const info = await startDaemon(project, ['--concurrency', '1']);
    const status = async (id: string) => (await apiStatus(info)).experiments.find((e) => e.id === id);

    await waitUntil(() => project.rows('nc/idle').length === 2, 'baseline and one no_change row of nc/idle', 30_000, () => daemonLog(project));
    expect(project.rows('nc/idle').map((r) => r.reason)).toEqual(['baseline', 'no_change']);
    await waitUntil(async () => (await status('nc/idle'))?.state === 'waiting', 'nc/idle waiting', 20_000, () => daemonLog(project));
    const busyBefore = project.rows('nc/busy').length;
    await waitUntil(() => project.rows('nc/busy').length >= busyBefore + 3, 'three more rows of nc/busy while nc/idle pauses', 30_000, () => daemonLog(project));
    expect(project.rows('nc/idle').length).toBe(2);

    await waitUntil(async () => (await status('nc/trip'))?.state === 'tripped', 'nc/trip tripped', 30_000, () => daemonLog(project));
    const tripped = JSON.parse(fs2.readFileSync(path.join(project.dir('nc/trip'), 'state.json'), 'utf8')) as { halt: { reason: string } };
    expect(tripped.halt.reason).toMatch(/^1 iteration changed nothing \(or only outside scope\)/);
    expect(project.rows('nc/trip').map((r) => r.reason)).toEqual(['baseline', 'no_change']);

    const resumed = await runCli(['--path', project.root, 'resume', 'nc/idle'], { env: project.env });
    expect(resumed.exitCode).toBe(0);
    await waitUntil(() => project.rows('nc/idle').length >= 3, 'the next nc/idle iteration right after resume (not after the 1 m pause)', 20_000, () => daemonLog(project));
  });
});
