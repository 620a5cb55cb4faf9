/**
 * Helpers for the process tests: where the fixture scripts are, bounded polls (never a
 * bare sleep), and an independent look at /proc to tell whether a process or group still
 * runs (written separately from the code under test on purpose).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/process/', import.meta.url));

/** Runs a fixture script with /bin/sh (fixtures need no execute bit). */
export function fixture(name: string, ...args: string[]): string {
  return ['sh', path.join(FIXTURES, name), ...args].map(shellQuote).join(' ');
}

export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A minimal environment: enough PATH for sh to find sleep, mv, cat… and nothing else. */
export const TEST_ENV = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };

/** Polls `probe` every 20 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `file` holds a pid written by a fixture. */
export function waitForPidFile(file: string): Promise<number> {
  return waitUntil(`a pid in ${file}`, () => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    return /^\d+\n$/.test(text) ? Number(text.trim()) : undefined;
  });
}

interface Stat {
  state: string;
  pgrp: number;
}

function statOf(pid: number): Stat | undefined {
  let line: string;
  try {
    line = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const [state, , pgrp] = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return { state: state ?? '?', pgrp: Number(pgrp) };
}

/** True if `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Pids of the processes of group `pgid` that are still running (zombies excluded). */
export function runningMembers(pgid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const stat = statOf(pid);
      return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X';
    });
}

/** The group as kill(2) sees it, zombies included. */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Zombies of a dead group linger until PID 1 reaps them; in some sandboxes that takes
 * seconds. Waits (bounded) until kill(-pgid, 0) itself reports ESRCH.
 */
export function waitForGroupReaped(pgid: number): Promise<true> {
  return waitUntil(`process group ${pgid} to disappear (kill -0 → ESRCH)`, () => (groupExists(pgid) ? undefined : true));
}

/** Best-effort cleanup so a failing test does not leave sleeps behind. */
export function killGroupQuietly(pgid: number | undefined): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function pidGroupOf(pid: number): number | undefined {
  return statOf(pid)?.pgrp;
}
