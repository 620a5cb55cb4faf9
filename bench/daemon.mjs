#!/usr/bin/env node
/**
 * `npm run bench` (after loop-overhead.mjs): the daemon under load. Prints each figure next
 * to its target; not a test (a shared machine is noisy), but `--strict` exits 2 on a miss.
 *
 *  1. Parallel efficiency: 8 experiments whose evaluations sleep 1 s (trivial agents), run by
 *     `daemon start --concurrency 8` with `--slots 0,1,2,3` and with `--slots 0`. After every
 *     baseline is in, evaluations completed per second over a fixed window (each evaluation
 *     logs its end time in ms). Target: ratio >= 3.6 (4 is perfect).
 *  2. Stability: 2,000 iterations across 4 experiments (fast agent and evaluation, each
 *     experiment stops at max_experiments). The daemon's VmRSS and open fds (from /proc)
 *     after a warm-up and once every experiment is done. Targets: RSS growth < 20 MB, no
 *     more fds at the end than after the warm-up.
 *  3. Stop latency: SIGTERM while 4 evaluations run (sleeping 10 min): time until the
 *     daemon process exits, with evaluations that die on SIGTERM (target <= 2 s) and with
 *     evaluations that ignore it (target <= 2 s + the 2 s kill grace). The daemon runs in
 *     the foreground as our child here, so its exit is seen at once, with its exit code.
 *
 *  4. Scale: 200 experiments with a trivial agent and evaluation under `--concurrency 16`.
 *     Once every baseline is in, a 60 s window: iterations per second, the fewest and most
 *     iterations any experiment made in it (target: every experiment progresses), and the
 *     daemon's peak RSS (VmHWM, target < 300 MB).
 *
 * Usage: node bench/daemon.mjs [--quick] [--only parallel|stability|stop|scale] [--keep] [--strict]
 *   --quick   shorter windows and 400 iterations instead of 2,000 (about 1 minute)
 *   --only    run one of the four
 *   --keep    leave the temp dirs in place (their path is printed)
 *   --strict  exit 2 when a target is missed (default: only a failed run exits non-zero)
 * Linux only (reads /proc).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const QUICK = flag('--quick');
const WINDOW_S = QUICK ? 8 : 20; // parallel efficiency: measurement window per configuration
const STABILITY_ITERATIONS = QUICK ? 400 : 2000;
const STOP_REPEAT = QUICK ? 1 : 3;
const SCALE_EXPERIMENTS = args.includes('--experiments') ? Number(args[args.indexOf('--experiments') + 1]) : 200;
const SCALE_CONCURRENCY = 16;
const SCALE_WINDOW_S = QUICK ? 20 : 60;
const TARGET_SCALE_RSS_MB = 300;

const TARGET_EFFICIENCY = 3.6;
const TARGET_RSS_GROWTH_MB = 20;
const TARGET_STOP_S = 2;
const KILL_GRACE_S = 2;

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  console.error(`bench: ${cli} not found; build first (npm run build, or npm run bench)`);
  process.exit(1);
}
if (process.platform !== 'linux') {
  console.error('bench/daemon.mjs: Linux only (it reads /proc); skipped');
  process.exit(0);
}

const tmpRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-bench-daemon-')));
/** Every daemon we started: killed on the way out, whatever happened. */
const daemons = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const GIT = ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', '-c', 'commit.gpgsign=false'];

/** A repo with value.txt and one config per experiment; scripts live in the run's dir. */
function makeProject(name, experiments) {
  const dir = path.join(tmpRoot, name);
  const repo = path.join(dir, 'repo');
  fs.mkdirSync(repo, { recursive: true });
  fs.writeFileSync(path.join(repo, 'value.txt'), '0\n');
  for (const argv of [['init', '-q', '-b', 'main'], ['add', '-A'], ['commit', '-q', '-m', 'initial']]) execFileSync('git', [...GIT, ...argv], { cwd: repo, stdio: 'ignore' });
  for (const [id, config] of Object.entries(experiments)) {
    const expDir = path.join(repo, '.autoresearch', ...id.split('/'));
    fs.mkdirSync(expDir, { recursive: true });
    const lines = { target: 'value.txt', metric: 'score', metric_direction: 'lower', time_budget: '20m', ...config };
    fs.writeFileSync(path.join(expDir, 'config.cfg'), Object.entries(lines).map(([k, v]) => `${k}: ${v}\n`).join(''));
  }
  const env = { ...process.env, AUTORESEARCH_HOME: path.join(dir, 'home'), BENCH_LOG: path.join(dir, 'evals.log') };
  return { dir, repo, env, log: env.BENCH_LOG, ids: Object.keys(experiments) };
}

function script(dir, name, body) {
  const file = path.join(dir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`);
  return file;
}

const rowsOf = (project, id) => {
  try {
    return fs.readFileSync(path.join(project.repo, '.autoresearch', ...id.split('/'), 'results.tsv'), 'utf8').trimEnd().split('\n').length - 1;
  } catch {
    return 0;
  }
};

function running(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat[stat.lastIndexOf(')') + 2];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function until(check, what, timeoutMs, detail = () => '') {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n${detail()}`);
    await sleep(50);
  }
}

/** `daemon start` (detached), as a user runs it; returns daemon.json. */
function startDetached(project, extra) {
  try {
    execFileSync(process.execPath, [cli, '--path', project.repo, 'daemon', 'start', ...extra], { env: project.env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`daemon start failed: ${error.stderr ?? error.message}`);
  }
  const info = JSON.parse(fs.readFileSync(path.join(project.repo, '.autoresearch', 'daemon.json'), 'utf8'));
  daemons.add(info.pid);
  return info;
}

async function stopDetached(pid) {
  if (running(pid)) process.kill(pid, 'SIGTERM');
  await until(() => !running(pid), `the daemon (pid ${pid}) to stop`, 30_000);
  daemons.delete(pid);
}

/** The last lines of a log, for an error message. */
function tail(file, lines = 8) {
  try {
    return `--- ${file}\n${fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}\n`;
  } catch {
    return `--- ${file}: missing\n`;
  }
}

/** Running processes whose command line contains `pattern` (pgrep exits 1 when there is none). */
function pgrep(pattern) {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  } catch (error) {
    if (error.status !== 1) throw error;
  }
  return out.split('\n').filter(Boolean).map(Number).filter((pid) => pid !== process.pid && running(pid));
}

/** VmRSS in MB and the number of open fds of `pid`. */
function footprint(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
  return { rssMb: rssKb / 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

const verdict = (ok) => (ok ? 'ok' : 'MISSED');
const results = [];
function report(label, value, target, ok) {
  results.push(ok);
  console.log(`  ${label.padEnd(34)} ${value.padEnd(28)} target ${target.padEnd(12)} ${verdict(ok)}`);
}

// 1. Parallel efficiency ------------------------------------------------------------------

async function evalsPerSecond(name, slots) {
  const dir = path.join(tmpRoot, name);
  const evalSh = script(dir, 'eval.sh', 'sleep 1\necho "$(date +%s%3N) $AUTORESEARCH_SLOT" >> "$BENCH_LOG"\necho "score: $(cat value.txt)"');
  const experiments = {};
  for (let i = 1; i <= 8; i++) experiments[`par/e${i}`] = { evaluate_cmd: `sh ${evalSh}`, agent: 'echo $AUTORESEARCH_ITERATION > value.txt' };
  const project = makeProject(name, experiments);
  const info = startDetached(project, ['--concurrency', '8', '--slots', slots]);
  try {
    // Warm-up: every worktree created and every baseline evaluated.
    await until(() => project.ids.every((id) => rowsOf(project, id) >= 1), 'every baseline', 120_000, () => tail(path.join(project.repo, '.autoresearch', 'daemon.log')));
    const t0 = Date.now();
    await sleep(WINDOW_S * 1000);
    const t1 = Date.now();
    const ends = fs
      .readFileSync(project.log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.split(' ')[0]))
      .filter((t) => t >= t0 && t <= t1)
      .sort((a, b) => a - b);
    if (ends.length < 2) throw new Error(`--slots ${slots}: only ${ends.length} evaluations finished in ${WINDOW_S} s`);
    return { rate: (ends.length - 1) / ((ends.at(-1) - ends[0]) / 1000), count: ends.length };
  } finally {
    await stopDetached(info.pid);
  }
}

async function benchParallel() {
  console.log(`1. parallel efficiency: 8 experiments, evaluations sleep 1 s, --concurrency 8, ${WINDOW_S} s window after the baselines`);
  const one = await evalsPerSecond('par-1', '0');
  const four = await evalsPerSecond('par-4', '0,1,2,3');
  console.log(`  --slots 0        : ${one.rate.toFixed(2)} evaluations/s (${one.count} in the window)`);
  console.log(`  --slots 0,1,2,3  : ${four.rate.toFixed(2)} evaluations/s (${four.count} in the window)`);
  const ratio = four.rate / one.rate;
  report('throughput ratio 4 slots / 1 slot', ratio.toFixed(2), `>= ${TARGET_EFFICIENCY}`, ratio >= TARGET_EFFICIENCY);
}

// 2. Stability ----------------------------------------------------------------------------

async function benchStability() {
  const perExperiment = STABILITY_ITERATIONS / 4;
  console.log(`2. stability: ${STABILITY_ITERATIONS} iterations across 4 experiments (${perExperiment} each), fast agent and evaluation`);
  const experiments = {};
  for (let i = 1; i <= 4; i++) {
    experiments[`stab/e${i}`] = {
      evaluate_cmd: 'echo "score: $(cat value.txt)"',
      // Alternating values: keeps and discards, so both git paths (advance, roll back) run.
      agent: 'echo $(( (AUTORESEARCH_ITERATION * 7919) % 1000 )) > value.txt',
      max_experiments: String(perExperiment),
    };
  }
  const project = makeProject('stability', experiments);
  const started = Date.now();
  const info = startDetached(project, ['--concurrency', '4']);
  const total = () => project.ids.reduce((n, id) => n + rowsOf(project, id), 0);
  try {
    const warmRows = Math.round(STABILITY_ITERATIONS * 0.1);
    await until(() => total() >= warmRows, `${warmRows} rows (warm-up)`, 600_000);
    // The smallest of a few samples: evaluations and git processes in flight hold pipes.
    const samples = [];
    for (let i = 0; i < 5; i++) {
      samples.push(footprint(info.pid));
      await sleep(100);
    }
    const warm = { rssMb: Math.min(...samples.map((s) => s.rssMb)), fds: Math.min(...samples.map((s) => s.fds)) };
    const warmAt = total();
    // RSS along the way: a leak keeps climbing, a warming heap levels off.
    const trend = [];
    for (const share of [0.25, 0.5, 0.75]) {
      await until(() => total() >= STABILITY_ITERATIONS * share, `${share * 100}% of the iterations`, 3_600_000);
      trend.push(`${total()} rows: ${footprint(info.pid).rssMb.toFixed(1)} MB`);
    }
    await until(() => total() >= STABILITY_ITERATIONS + 4, `${STABILITY_ITERATIONS} iterations`, 3_600_000);
    const elapsed = (Date.now() - started) / 1000;
    // Every experiment is done: nothing in flight. One status refresh later, sample again.
    await sleep(1500);
    const end = footprint(info.pid);
    const fdList = fs.readdirSync(`/proc/${info.pid}/fd`).map((fd) => {
      try {
        return fs.readlinkSync(`/proc/${info.pid}/fd/${fd}`);
      } catch {
        return '?';
      }
    });
    console.log(`  ${total()} rows in ${elapsed.toFixed(1)} s (${(total() / elapsed).toFixed(1)} iterations/s, 4 in parallel on ${os.cpus().length} cores)`);
    console.log(`  after warm-up (${warmAt} rows): RSS ${warm.rssMb.toFixed(1)} MB, ${warm.fds} fds; at the end: RSS ${end.rssMb.toFixed(1)} MB, ${end.fds} fds`);
    console.log(`  RSS on the way: ${trend.join(', ')}`);
    const growth = end.rssMb - warm.rssMb;
    report('RSS growth', `${growth.toFixed(1)} MB`, `< ${TARGET_RSS_GROWTH_MB} MB`, growth < TARGET_RSS_GROWTH_MB);
    report('fd growth', `${end.fds - warm.fds}`, '<= 0', end.fds <= warm.fds);
    if (end.fds > warm.fds) console.log(`  open fds at the end:\n${fdList.map((f) => `    ${f}`).join('\n')}`);
  } finally {
    await stopDetached(info.pid);
  }
}

// 4. Scale ---------------------------------------------------------------------------------

/** How many live git shells `pid` has (its worktrees' long-lived `/bin/sh` children). */
function gitShellsOf(pid) {
  let n = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== pid || fields[0] === 'Z') continue;
      // `/bin/sh` with no arguments: an agent or evaluation is `/bin/sh -c <command>`.
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8') === '/bin/sh\0') n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

/** VmHWM (peak RSS so far) and VmRSS of `pid`, in MB. */
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1]) / 1024;
  return { peakMb: kb('VmHWM'), rssMb: kb('VmRSS') };
}

/** CPU seconds (user + system) the process `pid` used so far. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

async function benchScale() {
  console.log(`4. scale: ${SCALE_EXPERIMENTS} experiments, trivial agent and evaluation, --concurrency ${SCALE_CONCURRENCY}, ${SCALE_WINDOW_S} s window after every baseline`);
  const experiments = {};
  for (let i = 1; i <= SCALE_EXPERIMENTS; i++) {
    experiments[`scale/e${String(i).padStart(3, '0')}`] = {
      evaluate_cmd: 'echo "score: $(cat value.txt)"',
      agent: 'echo $(( (AUTORESEARCH_ITERATION * 7919) % 1000 )) > value.txt',
    };
  }
  const project = makeProject('scale', experiments);
  const started = Date.now();
  if (process.env.BENCH_DAEMON_NODE_OPTIONS) project.env.NODE_OPTIONS = process.env.BENCH_DAEMON_NODE_OPTIONS;
  const info = startDetached(project, ['--concurrency', String(SCALE_CONCURRENCY)]);
  try {
    const counts = () => project.ids.map((id) => rowsOf(project, id));
    await until(() => counts().every((n) => n >= 1), 'every baseline', 900_000, () => tail(path.join(project.repo, '.autoresearch', 'daemon.log')));
    const warmS = (Date.now() - started) / 1000;
    const before = counts();
    const t0 = Date.now();
    const cpu0 = cpuSeconds(info.pid);
    let peakRss = 0;
    let peakShells = 0;
    while (Date.now() - t0 < SCALE_WINDOW_S * 1000) {
      peakRss = Math.max(peakRss, memory(info.pid).rssMb);
      peakShells = Math.max(peakShells, gitShellsOf(info.pid));
      await sleep(500);
    }
    const after = counts();
    const seconds = (Date.now() - t0) / 1000;
    const progress = after.map((n, i) => n - before[i]);
    const total = progress.reduce((a, b) => a + b, 0);
    const min = Math.min(...progress);
    const max = Math.max(...progress);
    const { peakMb } = memory(info.pid);
    const cpuS = cpuSeconds(info.pid) - cpu0;
    const stalled = project.ids.filter((_, i) => progress[i] === 0);
    console.log(`  every baseline in after ${warmS.toFixed(0)} s; in the window: ${total} iterations in ${seconds.toFixed(0)} s`);
    console.log(`  iterations per experiment in the window: min ${min}, max ${max}${stalled.length > 0 ? ` (no progress: ${stalled.slice(0, 5).join(', ')}${stalled.length > 5 ? '…' : ''})` : ''}`);
    console.log(`  the daemon process itself used ${((cpuS / seconds) * 100).toFixed(0)}% of a core in the window (its children not counted)`);
    report('iterations per second', `${(total / seconds).toFixed(1)} it/s`, 'reported', true);
    report('daemon peak RSS (VmHWM)', `${peakMb.toFixed(0)} MB (window max ${peakRss.toFixed(0)})`, `< ${TARGET_SCALE_RSS_MB} MB`, peakMb < TARGET_SCALE_RSS_MB);
    report('every experiment progressed', `min ${min}, max ${max}`, '>= 1 each', min >= 1);
    // The worktrees' long-lived git shells (src/git/git-shell.ts; ended after 1 s idle): not in the daemon's RSS.
    console.log(`  git shells (the daemon's /bin/sh children): at most ${peakShells} at once in the window`);
  } finally {
    await stopDetached(info.pid);
  }
}

// 3. Stop latency -------------------------------------------------------------------------

/** One foreground daemon with 4 hanging evaluations; SIGTERM; ms until it exits. */
async function stopOnce(name, ignoreTerm) {
  const dir = path.join(tmpRoot, name);
  const evalSh = script(dir, 'eval.sh', `${ignoreTerm ? "trap '' TERM\n" : ''}echo started >> "$BENCH_LOG"\nsleep 600\necho "score: 1"`);
  const experiments = {};
  for (let i = 1; i <= 4; i++) experiments[`stop/e${i}`] = { evaluate_cmd: `sh ${evalSh}`, agent: 'true' };
  const project = makeProject(name, experiments);
  const out = fs.openSync(path.join(dir, 'daemon.out'), 'w');
  const child = spawn(process.execPath, [cli, '--path', project.repo, 'daemon', 'start', '--foreground', '--concurrency', '4'], {
    env: project.env,
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  daemons.add(child.pid);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  const started = () => (fs.existsSync(project.log) ? fs.readFileSync(project.log, 'utf8').split('\n').filter(Boolean).length : 0);
  await until(() => started() >= 4, 'four running evaluations', 60_000, () => tail(path.join(dir, 'daemon.out')) + project.ids.map((id) => tail(path.join(project.repo, '.autoresearch', ...id.split('/'), 'autoresearch.log'))).join(''));
  const t0 = performance.now();
  child.kill('SIGTERM');
  const end = await exited;
  daemons.delete(child.pid);
  const ms = end.at - t0;
  const log = fs.readFileSync(path.join(dir, 'daemon.out'), 'utf8');
  const internal = Number(/"kind":"daemon-stopped","ms":(\d+)/.exec(log)?.[1] ?? NaN);
  const leftover = pgrep(evalSh);
  if (leftover.length > 0) throw new Error(`evaluations left running after the daemon stopped: pids ${leftover.join(', ')}`);
  if (end.code !== 0) throw new Error(`the daemon exited with ${end.signal ?? end.code} after SIGTERM (expected 0); see ${path.join(dir, 'daemon.out')}`);
  return { ms, internal };
}

async function benchStop() {
  console.log(`3. stop latency: SIGTERM with 4 evaluations running (median of ${STOP_REPEAT}); "shutdown" is the daemon's own log figure`);
  for (const ignoreTerm of [false, true]) {
    const runs = [];
    for (let r = 1; r <= STOP_REPEAT; r++) runs.push(await stopOnce(`stop-${ignoreTerm ? 'ignore' : 'term'}-${r}`, ignoreTerm));
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    const ms = median(runs.map((r) => r.ms));
    const internal = median(runs.map((r) => r.internal));
    const target = ignoreTerm ? TARGET_STOP_S + KILL_GRACE_S : TARGET_STOP_S;
    const label = ignoreTerm ? 'to exit, evaluations ignore TERM' : 'to exit, evaluations die on TERM';
    report(label, `${(ms / 1000).toFixed(2)} s (shutdown ${(internal / 1000).toFixed(2)} s)`, `<= ${target} s`, ms <= target * 1000);
  }
}

// -----------------------------------------------------------------------------------------

async function cleanup() {
  for (const pid of daemons) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  // Evaluations left by a failed run: their command lines name our temp dir.
  for (const pid of pgrep(tmpRoot)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (flag('--keep')) console.log(`bench: temp dirs kept in ${tmpRoot}`);
  else fs.rmSync(tmpRoot, { recursive: true, force: true });
}

process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

let exitCode = 0;
try {
  console.log(`bench/daemon.mjs${QUICK ? ' --quick' : ''}: node ${process.version}, ${os.cpus().length} cores`);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
  if (only === null || only === 'parallel') await benchParallel();
  if (only === null || only === 'stability') await benchStability();
  if (only === null || only === 'stop') await benchStop();
  if (only === null || only === 'scale') await benchScale();
  if (flag('--strict') && results.some((ok) => !ok)) exitCode = 2;
} catch (error) {
  console.error(`bench: FAILED: ${error instanceof Error ? error.stack : error}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
