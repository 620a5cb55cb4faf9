/**
 * The only module that spawns children (STYLE §1–2). A run is `/bin/sh -c <command>` in
 * its own process group (pgid = pid), so the whole tree the command starts can be killed
 * with one signal to -pgid:
 *
 *   spawn ──► child exits ─────────────► kill stragglers (TERM, grace, KILL) ─┬► {exit|signal}
 *     └─────► timeout / abort ─────────► kill group     (TERM, grace, KILL) ─┴► {timeout|aborted}
 *                                          then kill escapees (by env tag, process/escapees.ts)
 *
 * The timeout measures the child's time: a supervisor frozen by SIGSTOP / Ctrl-Z (the
 * child, in its own session, keeps running) does not count its frozen time, and a child
 * that has already exited when the timer fires (its exit not yet collected) is never a
 * timeout.
 *
 * execa's own `timeout`/`cancelSignal` signal only the direct child and then wait for
 * stdout EOF, which a grandchild can hold for as long as it lives (library-pitfalls.md),
 * hence our own timer and group kill. Output goes from the child straight to the log
 * files through inherited file descriptors: no pipe through Node, so no output size can
 * grow our memory and no grandchild can hold a pipe open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa, type Result } from 'execa';
import { systemClock, type Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { describeKilled, killTaggedGroups } from './escapees.js';
import { LiveGroups, isGroupAlive, signalGroup } from './live-groups.js';
import { processStartTime, readProcStat, totalForks } from './process-identity.js';
import type { ProcessOutcome, ProcessRunner, RunSpec, SpawnedChild } from './types.js';

const DEFAULT_KILL_GRACE_MS = 2000;
/** How often a dying group is checked: short, so a kill settles soon after the last death. */
const POLL_MS = 25;
/** After SIGKILL the kernel removes a group within ms, unless a process is stuck in D state. */
const AFTER_KILL_WAIT_MS = 1000;
/** How often a group that outlived SIGKILL is checked before it leaves the registry. */
const LINGER_POLL_MS = 1000;
/** The run limit is counted in ticks this long, so a freeze of the supervisor is seen as one long tick. */
const TIMEOUT_TICK_MS = 250;
/** A tick that took this much longer than asked is a freeze (SIGSTOP, Ctrl-Z): it counts as one tick. */
const FREEZE_SLACK_MS = 1500;
/** A child seen exited when the timer fires: how long its exit may take to be collected before it counts as a timeout. */
const EXIT_COLLECT_MS = 5000;
/** Why the timeout's timer is stopped: a reason of our own (abort() without one builds a DOMException with a stack, twice per process). */
const TIMER_STOPPED = new Error('the process ended; its timeout no longer applies');

export interface ProcessRunnerDeps {
  /** Registry of running groups, shared with the CLI so it can kill everything on exit. */
  liveGroups?: LiveGroups;
  clock?: Clock;
}

export function createProcessRunner(deps: ProcessRunnerDeps = {}): ProcessRunner {
  const liveGroups = deps.liveGroups ?? new LiveGroups();
  const clock = deps.clock ?? systemClock;
  return { run: (spec) => runProcess(spec, liveGroups, clock) };
}

type Ending = 'timeout' | 'aborted';
type Stdio = { stdin: number; stdout: number; stderr: number; close: () => void };

/**
 * Runs `spec.command` to completion and reports how it ended; never leaves a process of
 * its group running. `durationMs` spans the whole call, including the group kill.
 * Rejects only on a bad spec or when `onSpawn` throws (after killing the group).
 */
async function runProcess(spec: RunSpec, liveGroups: LiveGroups, clock: Clock): Promise<ProcessOutcome> {
  const graceMs = spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  checkSpec(spec, graceMs);
  const started = clock.monotonic();
  const took = (): number => Math.max(0, Math.round(clock.monotonic() - started));
  const spawnError = (message: string): ProcessOutcome => ({ kind: 'spawn-error', message, durationMs: took() });

  if (spec.signal?.aborted) return { kind: 'aborted', durationMs: took() };
  const cwdProblem = checkCwd(spec.cwd);
  if (cwdProblem !== null) return spawnError(`cannot run \`${spec.command}\`: ${cwdProblem}`);
  const stdio = openStdio(spec);
  if (typeof stdio === 'string') return spawnError(`cannot run \`${spec.command}\`: ${stdio}`);
  if (spec.signal?.aborted) {
    stdio.close();
    return { kind: 'aborted', durationMs: took() };
  }

  // Every fork on this machine is counted: if the only one between here and the group's end is
  // the child's own, nothing it started can have escaped its group (no scan needed then).
  const forksBefore = spec.escapeTag === undefined ? null : totalForks();
  let subprocess;
  try {
    subprocess = execa('/bin/sh', ['-c', spec.command], {
      cwd: spec.cwd,
      env: definedEntries(spec.env),
      extendEnv: false,
      detached: true, // setsid: the child leads its own group (and session)
      cleanup: false, // our LiveGroups does this, for the whole group
      reject: false,
      stdin: asFdOption(stdio.stdin),
      stdout: asFdOption(stdio.stdout),
      stderr: asFdOption(stdio.stderr),
    });
  } finally {
    // The child holds its own copies now (or never will).
    stdio.close();
  }
  // Never rejects: with `reject: false` execa resolves failures too; this is belt and braces.
  const exited: Promise<ExitReport> = subprocess.then(
    (result) => exitReport(result),
    (error: unknown) => ({ code: undefined, signal: undefined, failure: errorMessage(error) }),
  );

  const pid = subprocess.pid;
  if (pid === undefined) {
    const report = await exited;
    return spawnError(`cannot run \`${spec.command}\` in ${spec.cwd}: ${report.failure ?? 'the child did not start'}`);
  }

  const child: SpawnedChild = { pid, pgid: pid, startTime: processStartTime(pid) };
  liveGroups.add(child, spec.escapeTag);
  // Once the group is gone: processes that left it (setsid, double fork) must not outlive the run either.
  const killEscapees = async (): Promise<void> => {
    if (spec.escapeTag === undefined) return;
    if (forksBefore !== null && totalForks() === forksBefore + 1) return; // the child was the only process made
    // Only processes started since the child can have come from it (its start time, when read).
    const killed = await killTaggedGroups(spec.escapeTag, { graceMs, sleep: (ms) => clock.sleep(ms), startedSince: child.startTime });
    for (const message of describeKilled(killed, `{group}, which left the group of \`${spec.command}\``, spec.escapeTag)) spec.onEscapee?.(message);
  };
  try {
    spec.onSpawn?.(child);
  } catch (error) {
    // The caller could not record the child (e.g. its intent record): don't leave it running.
    await settleGroup(child.pgid, graceMs, exited, liveGroups, clock);
    await killEscapees();
    throw error;
  }

  // Timeout and abort both end the run; abort wins if it comes while a timeout kill is under way.
  let ending: Ending | undefined;
  let wake: () => void = () => {};
  const interrupted = new Promise<void>((resolve) => (wake = resolve));
  const onAbort = (): void => {
    ending = 'aborted';
    wake();
  };
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  if (spec.signal?.aborted) onAbort();
  const stopTimer = new AbortController();
  void waitForChildTime(clock, spec.timeoutMs, stopTimer.signal).then(async () => {
    // A child that has exited (its status is pending, e.g. after a SIGCONT) is never a timeout.
    const start = clock.monotonic();
    while (!stopTimer.signal.aborted && childHasExited(pid) && clock.monotonic() - start < EXIT_COLLECT_MS) await clock.sleep(POLL_MS, stopTimer.signal);
    if (stopTimer.signal.aborted) return;
    ending ??= 'timeout';
    wake();
  });

  try {
    const first = await Promise.race([exited, interrupted.then(() => null)]);
    stopTimer.abort(TIMER_STOPPED);
    // Either way the group is killed: after a normal exit only background stragglers remain.
    await settleGroup(child.pgid, graceMs, first === null ? exited : null, liveGroups, clock);
    await killEscapees();
    if (first !== null) return directChildOutcome(first, spec, took());
    return { kind: ending ?? 'timeout', durationMs: took() };
  } finally {
    stopTimer.abort(TIMER_STOPPED);
    spec.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * TERM the group, wait up to the grace for it to die, then KILL. Removes it from the
 * registry once gone; a group that outlives SIGKILL (a process in uninterruptible sleep)
 * stays registered until it is seen gone, so `killAll` still covers it.
 */
async function settleGroup(pgid: number, graceMs: number, exited: Promise<ExitReport> | null, liveGroups: LiveGroups, clock: Clock): Promise<void> {
  const gone = await killGroup(pgid, graceMs, clock);
  if (!gone) {
    forgetWhenGone(pgid, liveGroups);
    return;
  }
  liveGroups.delete(pgid);
  // The group is gone, so the direct child is dead and about to be reaped: let execa finish.
  if (exited !== null) await exited;
}

/** Returns true once no process of the group runs. */
async function killGroup(pgid: number, graceMs: number, clock: Clock): Promise<boolean> {
  if (!isGroupAlive(pgid)) return true;
  if (!signalGroup(pgid, 'SIGTERM')) return true;
  if (await waitUntilGone(pgid, graceMs, clock)) return true;
  if (!signalGroup(pgid, 'SIGKILL')) return true;
  return waitUntilGone(pgid, AFTER_KILL_WAIT_MS, clock);
}

async function waitUntilGone(pgid: number, limitMs: number, clock: Clock): Promise<boolean> {
  const start = clock.monotonic();
  for (;;) {
    if (!isGroupAlive(pgid)) return true;
    const left = limitMs - (clock.monotonic() - start);
    if (left <= 0) return false;
    await clock.sleep(Math.min(POLL_MS, left));
  }
}

function forgetWhenGone(pgid: number, liveGroups: LiveGroups): void {
  const timer = setInterval(() => {
    if (isGroupAlive(pgid)) return;
    liveGroups.delete(pgid);
    clearInterval(timer);
  }, LINGER_POLL_MS);
  timer.unref(); // must not keep the daemon alive on its own
}

/**
 * Resolves after `ms` of the child's time, or as soon as `signal` aborts. Monotonic time
 * is sampled every tick; a tick that took far longer than asked means this process was
 * frozen (SIGSTOP, Ctrl-Z) while the child ran on, so it counts as one tick, not as the gap.
 * (A suspended machine stops the child too; CLOCK_MONOTONIC does not advance then anyway.)
 */
async function waitForChildTime(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  let counted = 0;
  let last = clock.monotonic();
  for (;;) {
    const left = ms - counted;
    if (left <= 0 || signal.aborted) return;
    const step = Math.min(left, TIMEOUT_TICK_MS);
    await clock.sleep(step, signal);
    const now = clock.monotonic();
    const gap = now - last;
    last = now;
    counted += gap > step + FREEZE_SLACK_MS ? step : gap;
  }
}

/**
 * Whether our direct child has exited though Node has not collected its status yet: it is
 * a zombie (or already reaped). Without /proc we cannot tell: false.
 */
function childHasExited(pid: number): boolean {
  const stat = readProcStat(pid);
  if (stat !== null) return stat.state === 'Z' || stat.state === 'X';
  return fs.existsSync('/proc/self/stat');
}

interface ExitReport {
  code: number | undefined;
  signal: string | undefined;
  /** Why execa could not start or observe the child, when it could not. */
  failure: string | undefined;
}

function exitReport(result: Result): ExitReport {
  const failure = result.failed ? ((result as { originalMessage?: string }).originalMessage ?? result.message) : undefined;
  return { code: result.exitCode, signal: result.signal, failure };
}

function directChildOutcome(report: ExitReport, spec: RunSpec, durationMs: number): ProcessOutcome {
  if (report.code !== undefined) return { kind: 'exit', code: report.code, durationMs };
  if (report.signal !== undefined) return { kind: 'signal', signal: report.signal, durationMs };
  // Node always reports a code or a signal for a child that ran; execa lost track of it.
  return { kind: 'spawn-error', message: `lost track of \`${spec.command}\` in ${spec.cwd}: ${report.failure ?? 'no exit code and no signal'}`, durationMs };
}

function checkSpec(spec: RunSpec, graceMs: number): void {
  if (typeof spec.command !== 'string' || spec.command.trim() === '') {
    throw new TypeError(`run-process: expected a non-empty command, found ${JSON.stringify(spec.command)}`);
  }
  if (typeof spec.timeoutMs !== 'number' || Number.isNaN(spec.timeoutMs) || spec.timeoutMs <= 0) {
    throw new RangeError(`run-process: expected timeoutMs > 0, found ${String(spec.timeoutMs)} (command \`${spec.command}\`)`);
  }
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
    throw new RangeError(`run-process: expected killGraceMs ≥ 0, found ${String(graceMs)} (command \`${spec.command}\`)`);
  }
}

/** Node reports a missing cwd as "spawn /bin/sh ENOENT", which names the wrong thing. */
function checkCwd(cwd: string): string | null {
  try {
    return fs.statSync(cwd).isDirectory() ? null : `working directory ${cwd} is not a directory`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `working directory ${cwd} does not exist` : `working directory ${cwd}: ${errorMessage(error)}`;
  }
}

/**
 * Opens the files the child's stdio is bound to: stdout (and stderr, the same fd unless a
 * separate file is given) for appending, stdin for reading. Relative paths are taken from
 * `spec.cwd`, as a shell redirection would. Returns a message on failure, having closed
 * whatever it opened. Synchronous: a few local opens cost less than thread-pool round trips.
 */
function openStdio(spec: RunSpec): Stdio | string {
  const fds: number[] = [];
  const close = (): void => {
    for (const fd of fds.splice(0)) {
      try {
        fs.closeSync(fd);
      } catch {
        // closing our copy cannot lose the child's output
      }
    }
  };
  const open = (role: string, file: string, flags: 'a' | 'r'): number => {
    const absolute = path.resolve(spec.cwd, file);
    try {
      if (flags === 'a') fs.mkdirSync(path.dirname(absolute), { recursive: true });
      const fd = fs.openSync(absolute, flags);
      fds.push(fd);
      return fd;
    } catch (error) {
      throw new Error(`cannot open ${role} file ${absolute}: ${errorMessage(error)}`);
    }
  };
  try {
    const stdout = open('stdout', spec.stdoutFile, 'a');
    const sameFile = spec.stderrFile === undefined || path.resolve(spec.cwd, spec.stderrFile) === path.resolve(spec.cwd, spec.stdoutFile);
    const stderr = sameFile ? stdout : open('stderr', spec.stderrFile ?? spec.stdoutFile, 'a');
    // /dev/null is what stdio 'ignore' would give; an fd keeps execa's option types simple.
    const stdin = open('stdin', spec.stdinFile ?? '/dev/null', 'r');
    return { stdin, stdout, stderr, close };
  } catch (error) {
    close();
    return errorMessage(error);
  }
}

/**
 * execa's types admit only the fd literals 0–9, but at runtime it hands any number to
 * Node's spawn unchanged, and the fds we open are usually above 9.
 */
function asFdOption(fd: number): 3 {
  return fd as 3;
}

function definedEntries(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}
