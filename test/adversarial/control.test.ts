/**
 * Adversarial: the control surface. The daemon's loopback port is reachable by every local user
 * and, through a browser, by any web page (DNS rebinding): a flood of held connections, a forged
 * Host, an oversize body and a request head that never ends must leave the daemon up and
 * answering. The daemon runs under `ulimit -n 1024` (a common default), where an unbounded
 * server dies of EMFILE.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';
import { apiStatus, daemonLog, isRunning, killDaemons, makeDaemonProject, readDaemonInfo, rememberDaemon, startDaemon, waitUntil, type DaemonInfo, type DaemonProject } from '../daemon/helpers.js';

/** One raw HTTP exchange (node's client: it sends whatever Host we give it). */
function request(port: number, opts: { method?: string; path?: string; headers?: Record<string, string | number>; body?: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/api/status', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body) req.write(opts.body, () => {}); // the server may answer (and close) before reading it all
    req.end();
  });
}

describe.skipIf(process.platform !== 'linux')('adversarial: the control port', () => {
  let project: DaemonProject;
  let info: DaemonInfo;

  beforeAll(async () => {
    project = await makeDaemonProject(['exp/a'], { sleep: '0.2' });
    const r = await execa('sh', ['-c', 'ulimit -n 1024 && exec node "$0" "$@"', CLI, '--path', project.root, 'daemon', 'start'], { env: project.env, reject: false, stdin: 'ignore' });
    const started = readDaemonInfo(project.root);
    if (started !== null) rememberDaemon(started.pid);
    if (r.exitCode !== 0 || started === null) throw new Error(`daemon start failed (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}\n${daemonLog(project)}`);
    info = started;
  });

  afterAll(async () => {
    if (project !== undefined) await killDaemons([project.tag]);
  });

  it('survives 2000 connections opened at once and held, then answers status', async () => {
    const sockets: net.Socket[] = [];
    const settled: Array<Promise<'connected' | 'closed'>> = [];
    for (let i = 0; i < 2000; i++) {
      const socket = net.connect(info.port, '127.0.0.1');
      sockets.push(socket);
      settled.push(
        new Promise((resolve) => {
          socket.once('connect', () => resolve('connected'));
          socket.once('error', () => resolve('closed'));
          socket.once('close', () => resolve('closed'));
        }),
      );
    }
    try {
      const outcomes = await Promise.all(settled);
      expect(outcomes).toHaveLength(2000);
      // Every connection got through accept (no refused backlog left behind), and the daemon lived.
      expect(isRunning(info.pid)).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await waitUntil(async () => (await apiStatus(info).catch(() => null)) !== null, 'status answered after the flood', 15_000, () => daemonLog(project));
    expect((await apiStatus(info)).daemon.pid).toBe(info.pid);
    expect(isRunning(info.pid)).toBe(true);
    // Iterations went on.
    const n = project.rows('exp/a').length;
    await waitUntil(() => project.rows('exp/a').length > n, 'one more row after the flood', 15_000, () => daemonLog(project));
  });

  it('refuses a Host that is not a loopback name (DNS rebinding) and answers the loopback names', async () => {
    for (const host of ['evil.example', `evil.example:${info.port}`, `127.0.0.1.evil.example:${info.port}`, `localhost.evil.example`, `127.0.0.2:${info.port}`]) {
      const refused = await request(info.port, { headers: { host } });
      expect(refused.status, host).toBe(421);
      expect(refused.body).toContain(`127.0.0.1:${info.port}`);
      expect(refused.body).not.toContain('exp/a');
    }
    const dashboard = await request(info.port, { path: '/', headers: { host: 'evil.example' } });
    expect(dashboard.status).toBe(421);
    // HTTP/1.0 without any Host: refused too.
    const raw = net.connect(info.port, '127.0.0.1');
    raw.on('error', () => {});
    let answer = '';
    raw.on('data', (c: Buffer) => (answer += c.toString()));
    const ended = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    raw.write('GET /api/status HTTP/1.0\r\n\r\n');
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.[01] 421 /);
    expect(answer).not.toContain('exp/a');
    // Any port: an SSH tunnel (`ssh -L 9000:127.0.0.1:<port>`) sends its own local port.
    for (const host of [`127.0.0.1:${info.port}`, `localhost:${info.port}`, `LOCALHOST:${info.port}`, `[::1]:${info.port}`, 'localhost:9000', '127.0.0.1']) {
      const ok = await request(info.port, { headers: { host } });
      expect(ok.status, host).toBe(200);
      expect(ok.body).toContain('exp/a');
    }
  });

  it('refuses an oversize body with 413 (declared or streamed) and stays up', async () => {
    const headers = { 'x-autoresearch-token': info.token, host: `127.0.0.1:${info.port}` };
    const declared = await request(info.port, { method: 'POST', path: '/api/reload', headers: { ...headers, 'content-length': 50_000_000 } });
    expect(declared.status).toBe(413);
    const streamed = await request(info.port, { method: 'POST', path: '/api/reload', headers: { ...headers, 'transfer-encoding': 'chunked' }, body: Buffer.alloc(200_000, 'x') });
    expect(streamed.status).toBe(413);
    expect((await apiStatus(info)).daemon.pid).toBe(info.pid);
  });

  it('closes a connection whose request head never ends (slowloris)', async () => {
    const socket = net.connect(info.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => {});
    const started = Date.now();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    socket.write(`GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:${info.port}\r\nX-Slow: a`);
    // Trickle a byte every half second, as a slowloris does: the head is never finished.
    const trickle = setInterval(() => socket.writable && socket.write('a'), 500);
    try {
      const ms = await Promise.race([closed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the server kept the slow connection open 15 s')), 15_000))]);
      expect(ms).toBeLessThan(15_000);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    expect((await apiStatus(info)).daemon.pid).toBe(info.pid);
  });
});

describe('adversarial: `daemon logs -f` stops on a signal', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`exits 0 promptly on ${signal}`, async () => {
      const root = await makeRepo();
      const log = path.join(root, '.autoresearch', 'daemon.log');
      fs.mkdirSync(path.dirname(log), { recursive: true });
      fs.writeFileSync(log, 'first line\n');
      const cli = startCli(['--path', root, 'daemon', 'logs', '-f'], { env: cliEnv() });
      try {
        await cli.waitFor(/first line/);
        fs.appendFileSync(log, 'appended while following\n');
        await cli.waitFor(/appended while following/); // following, with its handlers installed
        const sent = Date.now();
        process.kill(cli.pid, signal);
        const r = await cli.result();
        expect(r.exitCode).toBe(0);
        expect(Date.now() - sent).toBeLessThan(5_000);
      } finally {
        try {
          process.kill(cli.pid, 'SIGKILL');
        } catch {
          // exited
        }
      }
    });
  }
});

describe.skipIf(process.platform !== 'linux')('adversarial: a daemon started while a foreground `run` holds an experiment', () => {
  let project: DaemonProject;

  afterAll(async () => {
    if (project !== undefined) await killDaemons([project.tag]);
  });

  it('shows it held by the run (never blocked), and takes it over when the run ends', async () => {
    project = await makeDaemonProject(['exp/a'], { sleep: '0.3' });
    const run = startCli(['--path', project.root, 'run', 'exp/a'], { env: project.env });
    try {
      const lock = path.join(project.dir('exp/a'), 'run.lock');
      await waitUntil(() => fs.existsSync(lock) && project.rows('exp/a').length >= 1, 'the foreground run to hold exp/a', 20_000, () => run.output());
      const info = await startDaemon(project);
      const shown = async () => (await apiStatus(info)).experiments.find((e) => e.id === 'exp/a') as { state: string; reason: string | null } | undefined;
      await waitUntil(async () => (await shown())?.reason?.includes(`pid ${run.pid}`) === true, 'exp/a shown as held by the run', 15_000, () => daemonLog(project));
      // Its files say a foreground run runs it; the daemon does not claim it, nor calls it blocked.
      expect((await shown())?.state).toBe('running');

      process.kill(run.pid, 'SIGTERM');
      expect((await run.result()).exitCode).toBe(0);
      const afterRun = project.rows('exp/a').length;
      // The daemon takes the experiment over: new rows, numbered on from the run's.
      await waitUntil(() => project.rows('exp/a').length >= afterRun + 2, 'rows written by the daemon after the run ended', 15_000, () => daemonLog(project));
      expect(fs.readFileSync(path.join(project.dir('exp/a'), 'autoresearch.log'), 'utf8')).toContain('"kind":"held-elsewhere"');
      const states = (await apiStatus(info)).experiments.map((e) => e.state);
      expect(states).not.toContain('blocked');
    } finally {
      try {
        process.kill(run.pid, 'SIGKILL');
      } catch {
        // exited
      }
    }
  });
});
