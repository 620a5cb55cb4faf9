/**
 * `kill -9` of the daemon while every experiment is evaluating: the evaluations (in their
 * own process groups) outlive it, daemon.json and every lock are left behind. A new
 * `daemon start` must take over: the stale daemon lock and run locks recovered, the leftover
 * evaluations killed, each interrupted iteration rolled back (no row) and run again under
 * the same number, no duplicate and no partial row.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { daemonLog, isRunning, killDaemons, makeDaemonProject, processesMatching, readDaemonInfo, startDaemon, waitUntil } from './helpers.js';

const IDS = ['rec/a', 'rec/b', 'rec/c'];
const tags: string[] = [];

afterEach(async () => {
  await killDaemons(tags.splice(0));
});

describe.skipIf(process.platform !== 'linux')('the daemon after kill -9', () => {
  it('a new start recovers every experiment, kills the leftover evaluations, and continues the iterations', async () => {
    const marker = '987691';
    const sleepFile = path.join(await makeTempDir('ar-sleep-'), 'sleep');
    fs.writeFileSync(sleepFile, '0.05\n');
    const project = await makeDaemonProject(IDS, { sleep: `@${sleepFile}` });
    tags.push(project.tag, `sleep ${marker}`);
    const first = await startDaemon(project, ['--concurrency', '3']);
    await waitUntil(() => IDS.every((id) => project.rows(id).length >= 2), 'two rows per experiment', 30_000, () => daemonLog(project));

    fs.writeFileSync(sleepFile, `${marker}\n`);
    await waitUntil(async () => (await processesMatching(`sleep ${marker}`)).length === 3, 'three hanging evaluations');
    const before = Object.fromEntries(IDS.map((id) => [id, project.rows(id)]));

    process.kill(first.pid, 'SIGKILL');
    await waitUntil(() => !isRunning(first.pid), 'the daemon to die');
    const leftovers = await processesMatching(`sleep ${marker}`);
    expect(leftovers).toHaveLength(3); // its evaluations outlive it
    expect(readDaemonInfo(project.root)?.pid).toBe(first.pid); // stale daemon.json
    for (const id of IDS) expect(JSON.parse(fs.readFileSync(path.join(project.dir(id), 'state.json'), 'utf8')).intent?.phase).toBe('eval');

    fs.writeFileSync(sleepFile, '0.05\n');
    const second = await startDaemon(project, ['--concurrency', '3']);
    expect(second.pid).not.toBe(first.pid);
    await waitUntil(async () => (await processesMatching(`sleep ${marker}`)).length === 0, 'the leftover evaluations to be killed', 10_000);
    for (const pid of leftovers) expect(isRunning(pid)).toBe(false);
    await waitUntil(() => IDS.every((id) => project.rows(id).length >= before[id]!.length + 2), 'two more rows per experiment', 30_000, () => daemonLog(project));

    const stop = await runCli(['--path', project.root, 'daemon', 'stop'], { env: project.env });
    expect({ exitCode: stop.exitCode, stderr: stop.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(isRunning(second.pid)).toBe(false);

    expect(daemonLog(project)).toContain(`recovered a stale daemon lock left by pid ${first.pid}`);
    for (const id of IDS) {
      // Strict parse: complete lines, iterations 0..n-1 (no duplicate, none lost); the old rows untouched.
      const rows = project.rows(id);
      expect(rows.slice(0, before[id]!.length)).toEqual(before[id]);
      const interrupted = before[id]!.length; // the iteration the kill cut short, run again
      expect(rows[interrupted]?.iteration).toBe(interrupted);
      expect(rows.slice(interrupted).every((r) => r.status !== 'crash')).toBe(true);
      const log = fs.readFileSync(path.join(project.dir(id), 'autoresearch.log'), 'utf8');
      expect(log).toMatch(new RegExp(`"kind":"recovered","iteration":${interrupted},"action":"rolled-back"`));
      expect(log).toMatch(/"kind":"stale-lock-recovered"/);
      expect(JSON.parse(fs.readFileSync(path.join(project.dir(id), 'state.json'), 'utf8')).intent).toBeNull();
    }
  });
});
