#!/usr/bin/env node
/**
 * `npm run bench`: what one iteration of our loop costs in durable writes and processes, on
 * the loop-overhead work (bench/overhead-fixture.mjs: agent writes value.txt, constant
 * metric, every iteration a discarded tie).
 *
 * Exact counts, no dependency: the CLI runs with an `--import` hook (io-count-hook.mjs) that
 * records every fsync/fdatasync (with its file) and every process started (with its argv),
 * in order. One iteration = everything from one ledger row's fsync to the next one's; the
 * steady-state iterations (after the baseline and the first) must all cost the same, or the
 * spread is printed. Printed per iteration: fsyncs by file (ledger, state.json, result.json,
 * other; a directory fsync counted with the file whose rename it makes durable) and
 * processes by program (git subcommand, agent, eval), each next to its target:
 *   fsyncs: 1 ledger append + 1 atomic state write per transition recovery reads;
 *   processes: the agent, the evaluation and the git steps the capture and rollback need.
 *
 * With --strace (if strace is installed) the same run is cross-checked from outside: the
 * fsync/fdatasync/execve syscalls of the whole process tree (git's own fsyncs included),
 * per iteration from the difference between a short and a long run.
 *
 * Usage: node bench/iteration-cost.mjs [--iterations N] [--strace] [--keep] [--strict]
 *   --iterations  iterations after the baseline (default 20)
 *   --strace      cross-check with strace -f (skipped, loudly, when strace is absent)
 *   --keep        leave the temp dirs in place (their path is printed)
 *   --strict      exit 2 when a target is missed
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, positiveInt } from './args.mjs';
import { AGENT, EVAL, ID, RunFailed, cleanup, cli, fail, makeRepo, requireBuiltCli, run, writeExperiment } from './overhead-fixture.mjs';

const N = positiveInt('--iterations', '20');
const hook = path.join(path.dirname(fileURLToPath(import.meta.url)), 'io-count-hook.mjs');
/** What the guarantees need per discarded iteration (docs/ARCHITECTURE.md, "Which write protects what"). */
const TARGET = { fsyncs: 5, processes: 7 };

requireBuiltCli();

/** Runs our loop for `n` iterations in a fresh repo under `dir`; `wrap`: a command line to run it under (strace). */
async function runOurs(dir, n, { hookOut, wrap = [] } = {}) {
  const repo = path.join(dir, 'repo');
  await makeRepo(repo);
  const experimentDir = writeExperiment(repo);
  const env = { ...process.env, AUTORESEARCH_HOME: path.join(dir, 'home') };
  if (hookOut !== undefined) Object.assign(env, { IO_COUNT_OUT: hookOut, NODE_OPTIONS: `--import ${hook}` });
  const logFile = path.join(dir, 'ours.stdout.log');
  const argv = [cli, '--path', repo, 'run', ID, '--max-experiments', String(n)];
  const result = await run(wrap[0] ?? argv[0], [...wrap.slice(1), ...(wrap.length > 0 ? argv : argv.slice(1))], { cwd: repo, env, logFile });
  if (result.code !== 0) throw fail('our loop', result, logFile);
  const rows = fs.readFileSync(path.join(experimentDir, 'results.tsv'), 'utf8').trim().split('\n').slice(1);
  if (rows.length !== n + 1 || rows.slice(1).some((row) => row.split('\t')[2] !== 'discard')) {
    throw fail(`our loop wrote ${rows.length} rows (expected ${n + 1}: baseline + ${n} discards)`, result, logFile);
  }
}

/** The kind of file an fsync was made on: a temp file of a durable write counts as the file it replaces. */
function fileKind(file) {
  const base = path.basename(file).replace(/\.\d+-\d+-[0-9a-z]+\.tmp$/, '');
  if (base === 'results.tsv') return file.endsWith('.tmp') ? 'ledger (whole file)' : 'ledger';
  if (base === 'state.json' || base === 'result.json') return base;
  return `other (${base})`;
}

/** What a started process is: `git <subcommand>`, the agent, the evaluation, or its program. */
function programOf(argv) {
  const [command, ...args] = argv;
  if (path.basename(command) === 'git') {
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-c' || args[i] === '-C') i++;
      else if (!args[i].startsWith('-')) return `git ${args[i]}`;
    }
    return 'git';
  }
  // A worktree's long-lived git shell (src/git/git-shell.ts), started once and again after 1 s idle.
  if (command === '/bin/sh' && args.length === 0) return 'git shell (start)';
  const script = args[0] === '-c' ? args[1] : undefined;
  if (script === AGENT) return 'agent';
  if (script === EVAL) return 'eval';
  return path.basename(command);
}

/**
 * The hook's events as iterations: from just after one ledger append's fsync to the next one's
 * (inclusive). A directory fsync joins the kind of the fsync before it (the rename it makes durable).
 */
function iterationsOf(events) {
  const cycles = [];
  let current = null;
  let lastKind = 'other';
  for (const event of events) {
    let key;
    if (event.t === 'fsync') {
      const isDir = !event.file.endsWith('.tmp') && isDirectory(event.file);
      const kind = isDir ? lastKind : fileKind(event.file);
      lastKind = kind;
      key = `fsync ${kind}${isDir ? ' (directory)' : ''}`;
    } else key = `spawn ${programOf(event.argv)}`;
    if (current !== null) current.set(key, (current.get(key) ?? 0) + 1);
    if (key === 'fsync ledger') {
      if (current !== null) cycles.push(current);
      current = new Map();
    }
  }
  return cycles;
}

function isDirectory(file) {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

const total = (cycle, prefix) => [...cycle].filter(([k]) => k.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0);
const signature = (cycle) => JSON.stringify([...cycle].sort());

/** strace -f over a short and a long run: the per-iteration difference of fsync-like calls and execve. */
async function straceCrossCheck(tmpRoot) {
  const counts = {};
  for (const n of [Math.max(2, Math.floor(N / 2)), N]) {
    const dir = path.join(tmpRoot, `strace-${n}`);
    fs.mkdirSync(dir);
    const trace = path.join(dir, 'strace.txt');
    await runOurs(dir, n, { wrap: ['strace', '-f', '-qq', '-o', trace, '-e', 'trace=fsync,fdatasync,execve'] });
    const lines = fs.readFileSync(trace, 'utf8').split('\n');
    counts[n] = {
      fsync: lines.filter((l) => /\b(fsync|fdatasync)\(/.test(l) && !l.includes('<unfinished')).length + lines.filter((l) => /<\.\.\. f(data)?sync resumed>/.test(l)).length,
      execve: lines.filter((l) => /\bexecve\(/.test(l) && !/= -1 /.test(l) && !l.includes('<unfinished')).length + lines.filter((l) => /<\.\.\. execve resumed>/.test(l) && !/= -1 /.test(l)).length,
    };
    await cleanup(dir);
  }
  const [short, long] = Object.keys(counts).map(Number).sort((a, b) => a - b);
  const per = (what) => (counts[long][what] - counts[short][what]) / (long - short);
  return { fsync: per('fsync'), execve: per('execve') };
}

const tmpRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'autoresearch-bench-iocost-')));
let exitCode = 0;
try {
  console.log(`bench: fsyncs and processes per iteration, ${N} iterations (agent: ${AGENT}; eval: ${EVAL}; every iteration a discarded tie)`);
  const dir = path.join(tmpRoot, 'hooked');
  fs.mkdirSync(dir);
  const hookOut = path.join(tmpRoot, 'events');
  await runOurs(dir, N, { hookOut });
  const events = fs
    .readdirSync(tmpRoot)
    .filter((name) => name.startsWith('events.'))
    .flatMap((name) => fs.readFileSync(path.join(tmpRoot, name), 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)));
  // Iteration 1's cycle also ends the baseline; the steady state starts with iteration 2.
  const steady = iterationsOf(events).slice(1);
  if (steady.length < 2) throw new RunFailed(`only ${steady.length} steady-state iterations found in the hook's events (expected ${N - 1})`);
  const shapes = new Map();
  for (const cycle of steady) shapes.set(signature(cycle), cycle);
  // The most common shape is the iteration; others (if any) are said.
  const typical = [...shapes.values()].sort((a, b) => steady.filter((c) => signature(c) === signature(b)).length - steady.filter((c) => signature(c) === signature(a)).length)[0];
  const fsyncs = total(typical, 'fsync ');
  const spawns = total(typical, 'spawn ');
  const line = (prefix) =>
    [...typical]
      .filter(([k]) => k.startsWith(prefix))
      .sort()
      .map(([k, n]) => `${k.slice(prefix.length)} ${n}`)
      .join(', ');
  const verdict = (ok) => (ok ? 'ok' : 'OVER TARGET');
  console.log(`fsyncs/iteration    : ${fsyncs} (target <= ${TARGET.fsyncs}) ${verdict(fsyncs <= TARGET.fsyncs)}`);
  console.log(`                      ${line('fsync ')}`);
  console.log(`processes/iteration : ${spawns} (target <= ${TARGET.processes}) ${verdict(spawns <= TARGET.processes)}`);
  console.log(`                      ${line('spawn ')}`);
  if (shapes.size > 1) {
    const range = (prefix) => `${Math.min(...steady.map((c) => total(c, prefix)))}..${Math.max(...steady.map((c) => total(c, prefix)))}`;
    console.log(`                      (iterations differ: fsyncs ${range('fsync ')}, processes ${range('spawn ')} over ${steady.length})`);
  }
  if (flag('--strace')) {
    let hasStrace = true;
    try {
      execFileSync('strace', ['-V'], { stdio: 'ignore' });
    } catch {
      hasStrace = false;
    }
    if (!hasStrace) console.log('strace cross-check : SKIPPED, strace is not installed');
    else {
      const traced = await straceCrossCheck(tmpRoot);
      console.log(`strace cross-check : ${traced.fsync.toFixed(1)} fsync+fdatasync and ${traced.execve.toFixed(1)} execve per iteration in the whole process tree (git's own fsyncs, and the programs the agent and evaluation shells exec, included)`);
    }
  }
  if (flag('--strict') && !(fsyncs <= TARGET.fsyncs && spawns <= TARGET.processes)) exitCode = 2;
} catch (err) {
  console.error(`bench: FAILED: ${err instanceof RunFailed ? err.message : err instanceof Error ? err.stack : err}`);
  exitCode = 1;
} finally {
  if (flag('--keep')) console.log(`bench: temp dirs kept in ${tmpRoot}`);
  else {
    for (const name of fs.readdirSync(tmpRoot)) {
      const dir = path.join(tmpRoot, name);
      if (fs.statSync(dir).isDirectory()) await cleanup(dir);
    }
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
}
process.exit(exitCode);
