/**
 * The exit file a job writes when its command ended (job-script.ts): the first line says how,
 * then `elapsed_ms N` and `node X`. Read after the job ended, retried for a moment because a
 * network filesystem may show the file to us later than the node wrote it.
 */
import { constants } from 'node:os';
import fs from 'node:fs/promises';
import type { Clock } from '../../core/clock.js';

export type ExitRecord =
  | { kind: 'exit'; code: number; elapsedMs: number | null; node: string | null }
  | { kind: 'signal'; signal: string; elapsedMs: number | null; node: string | null }
  | { kind: 'timeout'; elapsedMs: number | null; node: string | null }
  | { kind: 'spawn-error'; message: string; elapsedMs: number | null; node: string | null };

/** Parses an exit file's text; null when it does not say how the command ended (torn, foreign). */
export function parseExitFile(text: string): ExitRecord | null {
  const lines = text.split('\n').map((line) => line.trim());
  const first = lines[0] ?? '';
  const field = (key: string): string | null => {
    const line = lines.find((l) => l.startsWith(`${key} `));
    return line === undefined ? null : line.slice(key.length + 1).trim() || null;
  };
  const elapsed = Number(field('elapsed_ms'));
  const elapsedMs = field('elapsed_ms') !== null && Number.isFinite(elapsed) && elapsed >= 0 ? elapsed : null;
  const node = field('node');
  let match: RegExpExecArray | null;
  if ((match = /^exit (\d+)$/.exec(first)) !== null) return { kind: 'exit', code: Number(match[1]), elapsedMs, node };
  if ((match = /^signal (\S+)$/.exec(first)) !== null) return { kind: 'signal', signal: signalName(match[1] as string), elapsedMs, node };
  if (first === 'timeout') return { kind: 'timeout', elapsedMs, node };
  if (first.startsWith('spawn-error ')) return { kind: 'spawn-error', message: first.slice('spawn-error '.length), elapsedMs, node };
  return null;
}

/** `11` → `SIGSEGV` (the names the local executor reports); a name stays a name. */
export function signalName(signal: string): string {
  if (/^\d+$/.test(signal)) {
    const number = Number(signal);
    const name = Object.entries(constants.signals).find(([, n]) => n === number)?.[0];
    return name ?? `signal ${signal}`;
  }
  return signal.startsWith('SIG') ? signal : `SIG${signal}`;
}

/** Reads and parses the exit file; null when absent (or unreadable) for `patienceMs`. */
export async function readExitFile(file: string, clock: Clock, patienceMs: number, stepMs = 100): Promise<ExitRecord | null> {
  const start = clock.monotonic();
  for (;;) {
    const record = await readOnce(file);
    if (record !== null || clock.monotonic() - start >= patienceMs) return record;
    await clock.sleep(stepMs);
  }
}

async function readOnce(file: string): Promise<ExitRecord | null> {
  try {
    return parseExitFile(await fs.readFile(file, 'utf8'));
  } catch {
    return null;
  }
}
