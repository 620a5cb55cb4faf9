/**
 * The daemon as users run it: `daemon start` detaches a real process on a temp project with
 * four experiments (scripted shell agent, evaluations that sleep 0.15 s and record the slot
 * they held). One daemon serves the whole file, in order: parallel progress, the single
 * instance lock, the loopback-only API, config changes picked up by the watcher (a new
 * experiment, a valid edit, an invalid one), pause/resume, SIGHUP, the slot accounting
 * over everything that ran, and finally `daemon stop`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  apiStatus,
  daemonLog,
  isRunning,
  killDaemons,
  makeDaemonProject,
  maxOverlap,
  processesMatching,
  readDaemonInfo,
  readSlotLog,
  startDaemon,
  tcpSocketsOf,
  waitUntil,
  type DaemonInfo,
  type DaemonProject,
} from './helpers.js';

const IDS = ['exp/a', 'exp/b', 'exp/c', 'exp/d'];
/** Row i of an experiment left alone: the agent writes 1000 - i, the evaluation prints it. */
const natural = (i: number) => (1000 - i).toFixed(6);

describe.skipIf(process.platform !== 'linux')('the detached daemon with four experiments, --concurrency 4 --slots 0,1', () => {
  let project: DaemonProject;
  let info: DaemonInfo;

  beforeAll(async () => {
    project = await makeDaemonProject(IDS, { sleep: '0.15' });
    info = await startDaemon(project, ['--concurrency', '4', '--slots', '0,1']);
  });

  afterAll(async () => {
    if (project !== undefined) await killDaemons([project.tag]);
  });

  const rowCount = (id: string) => project.rows(id).length;
  const status = async (id: string) => (await apiStatus(info)).experiments.find((e) => e.id === id);

  it('runs every experiment, in parallel', async () => {
    expect(isRunning(info.pid)).toBe(true);
    await waitUntil(() => IDS.every((id) => rowCount(id) >= 3), 'three rows in every results.tsv', 30_000, () => IDS.map((id) => `${id}: ${rowCount(id)}`).join(', ') + `\n${daemonLog(project)}`);
    for (const id of IDS) {
      const rows = project.rows(id);
      expect(rows.map((r) => r.metric)).toEqual(rows.map((_, i) => natural(i)));
      expect(rows[0]?.reason).toBe('baseline');
    }
    // Two evaluations of different experiments were running at the same instant.
    await waitUntil(
      () => {
        const records = readSlotLog(project.slotLog);
        return records.some((a) => records.some((b) => a.id !== b.id && a.start < b.end && b.start < a.end));
      },
      'two experiments evaluating at the same time',
    );
  });

  it('refuses a second start, naming the running pid', async () => {
    const again = await runCli(['--path', project.root, 'daemon', 'start'], { env: project.env });
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toContain(`pid ${info.pid}`);
    // The same straight to the foreground process, past the CLI's check: the lock refuses it.
    const foreground = await runCli(['--path', project.root, 'daemon', 'start', '--foreground'], { env: project.env });
    expect(foreground.exitCode).not.toBe(0);
    expect(foreground.stderr).toContain(`pid ${info.pid}`);
    expect(readDaemonInfo(project.root)?.pid).toBe(info.pid);
    expect(isRunning(info.pid)).toBe(true);
  });

  it('serves status on 127.0.0.1 and listens on no other interface; control needs the token', async () => {
    const body = await apiStatus(info);
    expect(body.daemon.pid).toBe(info.pid);
    expect(body.experiments.map((e) => e.id)).toEqual(expect.arrayContaining(IDS));

    const listening = tcpSocketsOf(info.pid).filter((s) => s.state === '0A');
    expect(listening.map((s) => s.port)).toContain(info.port);
    for (const socket of listening) expect(socket).toMatchObject({ table: 'tcp', local: '0100007F' });

    const noToken = await fetch(`http://127.0.0.1:${info.port}/api/pause/exp/a`, { method: 'POST' });
    expect(noToken.status).toBe(403);
    const unknown = await fetch(`http://127.0.0.1:${info.port}/api/pause/exp/nope`, { method: 'POST', headers: { 'x-autoresearch-token': info.token } });
    expect(unknown.status).toBe(404);

    const cli = await runCli(['--path', project.root, 'daemon', 'status', '--json'], { env: project.env });
    expect(cli.exitCode).toBe(0);
    expect(JSON.parse(cli.stdout).daemon.pid).toBe(info.pid);
  });

  it('starts an experiment whose config appears while it runs (file watcher)', async () => {
    project.writeConfig('exp/new');
    await waitUntil(() => rowCount('exp/new') >= 2, 'rows of exp/new', 20_000, () => daemonLog(project));
    expect(daemonLog(project)).toContain('starting exp/new');
  });

  it('applies an edited config from a later iteration', async () => {
    const before = rowCount('exp/b');
    project.writeConfig('exp/b', { sleep: '0.15', metric: '4242' });
    await waitUntil(() => project.rows('exp/b').filter((r) => r.metric === '4242.000000').length >= 2, 'two rows with the edited evaluation');
    const rows = project.rows('exp/b');
    const first = rows.findIndex((r) => r.metric === '4242.000000');
    expect(first).toBeGreaterThanOrEqual(before);
    expect(rows.slice(0, first).map((r) => r.metric)).toEqual(rows.slice(0, first).map((_, i) => natural(i)));
    expect(rows.slice(first).every((r) => r.metric === '4242.000000' && r.status === 'discard')).toBe(true);
    expect(fs.readFileSync(path.join(project.dir('exp/b'), 'autoresearch.log'), 'utf8')).toContain('config-changed');
  });

  it('rejects an invalid edit, reports it in status --json, and goes on with the old config', async () => {
    const file = path.join(project.dir('exp/c'), 'config.cfg');
    const valid = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, valid.replace('metric_direction: lower', 'metric_direction: sideways'));
    // Rejected by the running daemon (not only seen by status reading the file).
    const log = path.join(project.dir('exp/c'), 'autoresearch.log');
    await waitUntil(() => fs.readFileSync(log, 'utf8').includes('"kind":"config-rejected"'), 'the daemon to reject the edit');
    await waitUntil(async () => ((await status('exp/c'))?.config_error ?? null) !== null, 'config_error for exp/c');

    const cli = await runCli(['--path', project.root, 'status', '--json'], { env: project.env });
    expect(cli.exitCode).toBe(0);
    const shown = (JSON.parse(cli.stdout) as Array<{ id: string; config_error: string | null; state: string }>).find((e) => e.id === 'exp/c');
    expect(shown?.config_error).toContain('metric_direction');
    expect(shown?.state).not.toBe('blocked');

    const n = rowCount('exp/c');
    await waitUntil(() => rowCount('exp/c') >= n + 2, 'two more rows of exp/c under the old config');
    for (const row of project.rows('exp/c')) {
      expect(row.metric).toBe(natural(row.iteration));
      expect(row.status).toBe('keep');
    }

    fs.writeFileSync(file, valid);
    await waitUntil(async () => (await status('exp/c'))?.config_error === null, 'config_error cleared once fixed');
    const m = rowCount('exp/c');
    await waitUntil(() => rowCount('exp/c') > m, 'exp/c goes on after the fix');
  });

  it('pause stops new rows; resume brings them back', async () => {
    const paused = await runCli(['--path', project.root, 'pause', 'exp/d'], { env: project.env });
    expect(paused.exitCode).toBe(0);
    await waitUntil(async () => (await status('exp/d'))?.state === 'paused', 'exp/d paused');
    const state = JSON.parse(fs.readFileSync(path.join(project.dir('exp/d'), 'state.json'), 'utf8'));
    expect(state.halt?.state).toBe('paused');
    expect(state.intent).toBeNull();

    const n = rowCount('exp/d');
    const others = rowCount('exp/a');
    await waitUntil(() => rowCount('exp/a') >= others + 3, 'three more rows of exp/a while exp/d is paused');
    expect(rowCount('exp/d')).toBe(n);
    expect((await status('exp/d'))?.state).toBe('paused');

    const resumed = await runCli(['--path', project.root, 'resume', 'exp/d'], { env: project.env });
    expect(resumed.exitCode).toBe(0);
    await waitUntil(() => rowCount('exp/d') >= n + 2, 'rows of exp/d after resume');
    // The API's status is refreshed in the background (about once a second).
    await waitUntil(async () => (await status('exp/d'))?.state !== 'paused', 'exp/d no longer paused in status');
    expect(JSON.parse(fs.readFileSync(path.join(project.dir('exp/d'), 'state.json'), 'utf8')).halt).toBeNull();
  });

  it('SIGHUP (daemon reload) picks up an experiment the watcher does not see', async () => {
    // User scope: $AUTORESEARCH_HOME did not exist when the daemon started, so nothing
    // watches it; only a rescan finds the experiment.
    expect(fs.existsSync(project.home)).toBe(false);
    project.writeConfig('usr/hup', { scope: 'user' });
    const reload = await runCli(['--path', project.root, 'daemon', 'reload'], { env: project.env });
    expect(reload.exitCode).toBe(0);
    expect(reload.stdout).toContain(`pid ${info.pid}`);
    await waitUntil(() => rowCount('usr/hup') >= 2, 'rows of usr/hup', 20_000, () => daemonLog(project));
    const log = daemonLog(project);
    expect(log.indexOf('SIGHUP: reloading configs')).toBeGreaterThan(-1);
    expect(log.indexOf('starting usr/hup')).toBeGreaterThan(log.indexOf('SIGHUP: reloading configs'));
  });

  it('never gives a slot to two evaluations at once, and runs at most two with --slots 0,1', () => {
    const records = readSlotLog(project.slotLog);
    expect(records.length).toBeGreaterThan(20);
    for (const r of records) {
      expect(['0', '1']).toContain(r.slot);
      expect(r.cuda).toBe(r.slot); // CUDA_VISIBLE_DEVICES for a numeric slot
      expect(r.end).toBeGreaterThanOrEqual(r.start);
    }
    for (const slot of ['0', '1']) {
      const mine = records.filter((r) => r.slot === slot).sort((a, b) => a.start - b.start);
      expect(mine.length).toBeGreaterThan(0);
      for (let i = 1; i < mine.length; i++) {
        const [prev, cur] = [mine[i - 1], mine[i]];
        if (prev !== undefined && cur !== undefined && cur.start < prev.end) throw new Error(`slot ${slot} double-booked: ${JSON.stringify(prev)} and ${JSON.stringify(cur)}`);
      }
    }
    expect(maxOverlap(records)).toBe(2);
  });

  it('daemon stop: exits cleanly, leaves no child, no partial row, no daemon.json', async () => {
    const started = Date.now();
    const stop = await runCli(['--path', project.root, 'daemon', 'stop'], { env: project.env });
    expect({ exitCode: stop.exitCode, stderr: stop.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(stop.stdout).toContain(`daemon stopped (pid ${info.pid})`);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(isRunning(info.pid)).toBe(false);
    expect(fs.existsSync(path.join(project.root, '.autoresearch', 'daemon.json'))).toBe(false);
    expect(await processesMatching(project.tag)).toEqual([]);
    expect(daemonLog(project)).toContain('"kind":"daemon-stopped"');
    for (const id of [...IDS, 'exp/new', 'usr/hup']) {
      expect(project.rows(id).length).toBeGreaterThan(0); // parses strictly: complete lines, iterations 0..n-1
      expect(JSON.parse(fs.readFileSync(path.join(project.dir(id), 'state.json'), 'utf8')).intent, `${id}: intent after a graceful stop`).toBeNull();
    }
    // No error-level line in the daemon's log.
    const errors = daemonLog(project)
      .split('\n')
      .filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
  });
});
