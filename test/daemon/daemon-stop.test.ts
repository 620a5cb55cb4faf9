/**
 * Stopping the daemon with signals (SPEC §9) while evaluations run: SIGTERM rolls every
 * running iteration back and exits 0 well within 15 s, leaving no child, no partial row
 * and no daemon.json; an evaluation that ignores SIGTERM costs the kill grace (2 s) and
 * no more; a second SIGTERM kills everything at once and exits 130.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { git, makeTempDir } from '../helpers/git-repo.js';
import {
  daemonLog,
  isRunning,
  killDaemons,
  makeDaemonProject,
  processesMatching,
  readDaemonInfo,
  readSlotLog,
  rememberDaemon,
  startDaemon,
  waitUntil,
  type DaemonProject,
} from './helpers.js';

const IDS = ['stop/a', 'stop/b', 'stop/c', 'stop/d'];
const tags: string[] = [];

afterEach(async () => {
  await killDaemons(tags.splice(0));
});

describe.skipIf(process.platform !== 'linux')('stopping the daemon', () => {
  it('SIGTERM with four evaluations running: exit within 15 s, rolled back, no child, no partial row, no daemon.json', async () => {
    const marker = '987681';
    const sleepFile = path.join(await makeTempDir('ar-sleep-'), 'sleep');
    fs.writeFileSync(sleepFile, '0.05\n');
    const project: DaemonProject = await makeDaemonProject(IDS, { sleep: `@${sleepFile}` });
    tags.push(project.tag, `sleep ${marker}`);
    // No GPU index among the default slots: CUDA_VISIBLE_DEVICES stays unset.
    project.env.CUDA_VISIBLE_DEVICES = '';
    const info = await startDaemon(project, ['--concurrency', '4']);
    await waitUntil(() => IDS.every((id) => project.rows(id).length >= 2), 'two rows per experiment', 30_000, () => daemonLog(project));

    fs.writeFileSync(sleepFile, `${marker}\n`); // from now on every evaluation hangs
    await waitUntil(async () => (await processesMatching(`sleep ${marker}`)).length === 4, 'four hanging evaluations', 20_000);
    const before = Object.fromEntries(IDS.map((id) => [id, project.rows(id).length]));

    const signalled = Date.now();
    process.kill(info.pid, 'SIGTERM');
    await waitUntil(() => !isRunning(info.pid), 'the daemon to exit', 15_000, () => daemonLog(project));
    const elapsed = Date.now() - signalled;
    expect(elapsed).toBeLessThan(15_000);

    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
    expect(await processesMatching(project.tag)).toEqual([]);
    expect(readDaemonInfo(project.root)).toBeNull();
    expect(fs.existsSync(path.join(project.root, '.autoresearch', 'daemon.lock'))).toBe(false);
    const log = daemonLog(project);
    expect(log).toContain('"kind":"daemon-stopped"');
    for (const id of IDS) {
      // Parses strictly (every line complete, iterations 0..n-1) and holds no row for the aborted iterations.
      expect(project.rows(id).length, id).toBe(before[id]);
      const state = JSON.parse(fs.readFileSync(path.join(project.dir(id), 'state.json'), 'utf8'));
      expect(state.intent, `${id}: intent`).toBeNull();
      expect(await git(state.worktree, 'status', '--porcelain'), `${id}: worktree rolled back`).toBe('');
      expect(fs.readFileSync(path.join(project.dir(id), 'autoresearch.log'), 'utf8')).toMatch(/"kind":"iteration-interrupted"[^\n]*"phase":"eval"/);
    }
    for (const record of readSlotLog(project.slotLog)) {
      expect(record.slot).toMatch(/^slot-[1-4]$/);
      expect(record.cuda).toBe('-');
    }
  });

  it('an evaluation that ignores SIGTERM: the first SIGTERM still exits 0, after the 2 s kill grace', async () => {
    const marker = '987682';
    const project = await makeDaemonProject([]);
    project.writeConfig('stop/stubborn', { sleep: marker, prefix: 'IGNORE_TERM=1 ' });
    tags.push(project.tag, `sleep ${marker}`);
    const daemon = startCli(['--path', project.root, 'daemon', 'start', '--foreground', '--concurrency', '1'], { env: project.env });
    rememberDaemon(daemon.pid);
    await daemon.waitFor(/daemon started/);
    await waitUntil(async () => (await processesMatching(`sleep ${marker}`)).length === 1, 'the hanging evaluation');

    const signalled = Date.now();
    process.kill(daemon.pid, 'SIGTERM');
    const result = await daemon.result();
    const elapsed = Date.now() - signalled;
    expect(result.exitCode).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(1900); // TERM was ignored: KILL after the grace
    expect(elapsed).toBeLessThan(15_000);
    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
    expect(project.rows('stop/stubborn')).toEqual([]); // the aborted baseline wrote no row
    expect(JSON.parse(fs.readFileSync(path.join(project.dir('stop/stubborn'), 'state.json'), 'utf8')).intent).toBeNull();
  });

  it('a second SIGTERM kills everything now and exits 130', async () => {
    const marker = '987683';
    const project = await makeDaemonProject([]);
    project.writeConfig('stop/stubborn', { sleep: marker, prefix: 'IGNORE_TERM=1 ' });
    tags.push(project.tag, `sleep ${marker}`);
    const daemon = startCli(['--path', project.root, 'daemon', 'start', '--foreground', '--concurrency', '1'], { env: project.env });
    rememberDaemon(daemon.pid);
    await daemon.waitFor(/daemon started/);
    await waitUntil(async () => (await processesMatching(`sleep ${marker}`)).length === 1, 'the hanging evaluation');

    process.kill(daemon.pid, 'SIGTERM');
    await daemon.waitFor(/SIGTERM: stopping/);
    const signalled = Date.now();
    process.kill(daemon.pid, 'SIGTERM');
    const result = await daemon.result();
    expect(result.exitCode).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(1500); // not the 2 s grace
    await waitUntil(async () => (await processesMatching(`sleep ${marker}`)).length === 0, 'the evaluation to be gone', 2000);
    expect(project.rows('stop/stubborn')).toEqual([]);
  });
});
