/**
 * An independent look at /proc for the fault tests (written apart from the code under test
 * on purpose): which processes still run, what their environment and command line say,
 * and bounded polls that wait on a condition instead of sleeping.
 */
import fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  pgrp: number;
  state: string;
  startTime: number;
  cmdline: string;
}

export function procInfo(pid: number): ProcInfo | undefined {
  let stat: string;
  let cmdline = '';
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, state: fields[0] ?? '?', pgrp: Number(fields[2]), startTime: Number(fields[19]), cmdline };
}

/** Every process we can see that is running (zombies excluded). */
export function runningProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = procInfo(Number(entry));
    if (info !== undefined && info.state !== 'Z' && info.state !== 'X') out.push(info);
  }
  return out;
}

/** The environment a process started with, or undefined if it is gone or not ours. */
export function environOf(pid: number): Map<string, string> | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const env = new Map<string, string>();
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** Running processes whose environment has FAULT_TAG=tag, with their FAULT_INCARNATION. */
export function taggedProcesses(tag: string): (ProcInfo & { incarnation: number })[] {
  const out: (ProcInfo & { incarnation: number })[] = [];
  for (const info of runningProcesses()) {
    if (info.pid === process.pid) continue;
    const env = environOf(info.pid);
    if (env?.get('FAULT_TAG') !== tag) continue;
    out.push({ ...info, incarnation: Number(env.get('FAULT_INCARNATION') ?? -1) });
  }
  return out;
}

/** Running processes whose command line carries the marker fault-linger-<tag>-<incarnation>-… (the fixtures' grandchildren). */
export function markedProcesses(tag: string): (ProcInfo & { incarnation: number })[] {
  const marker = new RegExp(`fault-linger-${tag}-(\\d+)-`);
  return runningProcesses().flatMap((info) => {
    const match = marker.exec(info.cmdline);
    return match === null ? [] : [{ ...info, incarnation: Number(match[1]) }];
  });
}

/** Whether the process with this pid AND start time still runs (a reused pid does not count). */
export function isSameAlive(pid: number, startTime: number | null): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X' && (startTime === null || info.startTime === startTime);
}

/** Polls `probe` every `everyMs` until it returns something other than undefined; fails after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
