/**
 * The batch script of one evaluation job, written next to its log (`<run>/eval.job.sh`).
 * POSIX sh, so any node runs it:
 *
 *   environment ─► cd worktree ─► timeout -k grace T sh -c evaluate_cmd ─► `<log>.exit` (tmp + mv)
 *
 * - The environment is the request's, exactly: sbatch hands the job the submitter's
 *   environment (`--export=ALL`, no comma splitting of values), the script unsets what the
 *   request left out (e.g. GIT_DIR) and exports what it holds. SLURM's own variables and
 *   CUDA_VISIBLE_DEVICES are never touched: SLURM sets them (`--gres` in slurm_args).
 * - `eval_timeout` is enforced INSIDE the job (SLURM's `--time` is in minutes and lags):
 *   coreutils `timeout` leads its own process group and signals all of it, TERM then KILL
 *   after the grace.
 * - The exit file says how the command ended (`exit 3`, `signal 11`, `timeout`, or
 *   `spawn-error <why>`) and how long it ran; it is written only when the command ended by
 *   itself or by the in-job timeout, never when the job is cancelled or preempted (the shell
 *   dies with the job), so SLURM's state decides those.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface JobFiles {
  log: string;
  /** The batch script (holds the environment: mode 0600). */
  script: string;
  /** Written atomically by the job when the command ended. */
  exit: string;
}

/** The files of the job writing `logFile`: next to it, named after it (`eval.log` → `eval.job.sh`, `eval.log.exit`). */
export function jobFiles(logFile: string): JobFiles {
  const dir = path.dirname(logFile);
  const base = path.basename(logFile, '.log');
  return { log: logFile, script: path.join(dir, `${base}.job.sh`), exit: `${logFile}.exit` };
}

export interface JobScriptSpec {
  jobName: string;
  command: string;
  cwd: string;
  /** The evaluation's environment (already without secrets and repository pointers). */
  env: Record<string, string | undefined>;
  /** The environment sbatch runs with: what the job inherits before the script adjusts it. */
  submitEnv: Record<string, string | undefined>;
  exitFile: string;
  timeoutMs: number;
  killGraceMs: number;
}

/** Variables SLURM sets in the job (and GPUs it assigns): the script never overrides or unsets them. */
export function isSchedulerVariable(name: string): boolean {
  return name.startsWith('SLURM_') || name === 'CUDA_VISIBLE_DEVICES' || name === 'GPU_DEVICE_ORDINAL' || name === 'ROCR_VISIBLE_DEVICES';
}

import { CLUSTER_JOB_VARIABLE } from '../../process/live-groups.js';

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function renderJobScript(spec: JobScriptSpec): string {
  const env = { ...spec.env };
  // Python buffers a file's output: the log would stay empty until the end.
  if (env.PYTHONUNBUFFERED === undefined) env.PYTHONUNBUFFERED = '1';
  // Marks the job's processes as the cluster's to end (scancel), never a local leftover to kill
  // by its AUTORESEARCH_WORKTREE tag when a node is also this host (process/live-groups.ts).
  env[CLUSTER_JOB_VARIABLE] = spec.jobName;
  const unsets = Object.keys(spec.submitEnv)
    .filter((name) => spec.submitEnv[name] !== undefined && env[name] === undefined && SHELL_NAME.test(name) && !isSchedulerVariable(name))
    .sort();
  const exports = Object.entries(env)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && SHELL_NAME.test(entry[0]) && !isSchedulerVariable(entry[0]))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const seconds = (ms: number): string => `${Math.max(0.001, ms / 1000)}s`;
  return [
    '#!/bin/sh',
    `# autoresearch evaluation job ${spec.jobName} (written by autoresearch; see ${path.basename(spec.exitFile)} for how it ended)`,
    ...unsets.map((name) => `unset ${name}`),
    ...exports.map(([name, value]) => `export ${name}=${shQuote(value)}`),
    `__ar_exit=${shQuote(spec.exitFile)}`,
    `__ar_cmd=${shQuote(spec.command)}`,
    '__ar_write() {',
    '  printf \'%s\\nelapsed_ms %s\\nnode %s\\n\' "$1" "${2:-0}" "$(hostname 2>/dev/null)" > "$__ar_exit.tmp.$$" && mv -f "$__ar_exit.tmp.$$" "$__ar_exit"',
    '}',
    '__ar_now() {',
    '  __ar_t=$(date +%s%N 2>/dev/null)',
    '  case $__ar_t in ""|*[!0-9]*) __ar_t=$(( $(date +%s) * 1000000000 ));; esac',
    '  echo "$__ar_t"',
    '}',
    `cd ${shQuote(spec.cwd)} || { __ar_write "spawn-error cannot cd to ${shEscapeInDouble(spec.cwd)} on $(hostname): is the worktree on a filesystem this node shares?"; exit 1; }`,
    '__ar_start=$(__ar_now)',
    `timeout -k ${seconds(spec.killGraceMs)} ${seconds(spec.timeoutMs)} /bin/sh -c "$__ar_cmd" < /dev/null`,
    '__ar_status=$?',
    '__ar_ms=$(( ($(__ar_now) - __ar_start) / 1000000 ))',
    // 124: timeout's TERM ended it; 137: its KILL after the grace. Only a timeout if the time was up.
    `if { [ "$__ar_status" -eq 124 ] || [ "$__ar_status" -eq 137 ]; } && [ "$__ar_ms" -ge ${Math.max(0, Math.floor(spec.timeoutMs) - 50)} ]; then`,
    '  __ar_write timeout "$__ar_ms"',
    'elif [ "$__ar_status" -gt 128 ] && [ "$__ar_status" -le 192 ]; then',
    '  __ar_write "signal $((__ar_status - 128))" "$__ar_ms"',
    'else',
    '  __ar_write "exit $__ar_status" "$__ar_ms"',
    'fi',
    'exit "$__ar_status"',
    '',
  ].join('\n');
}

/** Writes the script (0600: it holds the evaluation's environment). */
export async function writeJobScript(file: string, spec: JobScriptSpec): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, renderJobScript(spec), { mode: 0o600 });
  await fs.rename(tmp, file);
}

/** A single-quoted sh word: nothing inside is expanded. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Text inside a double-quoted sh string, taken literally. */
function shEscapeInDouble(value: string): string {
  return value.replace(/[\\"$`]/g, (c) => `\\${c}`);
}
