/**
 * Helpers for the daemon tests: a project with several experiments whose agent and
 * evaluation are the shell scripts in test/fixtures/daemon, the detached daemon started
 * through the real CLI, and the checks that need /proc (process liveness, listening
 * sockets). Every daemon started here is remembered and killed by pid in `killDaemons`,
 * and every evaluation carries a unique tag in its command line, so leftovers are found
 * (and killed, by pid) even when a test fails half-way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { runCli } from '../helpers/cli.js';
import { makeRepo, makeTempDir } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';
import { isRunning } from '../process/helpers.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/daemon');
export const EVAL_SH = path.join(FIXTURES, 'eval.sh');
export const AGENT_SH = path.join(FIXTURES, 'agent.sh');

export const HEADER = ['commit', 'metric', 'status', 'description', 'iteration', 'timestamp', 'duration_s', 'reason', 'agent', 'cost_usd', 'tokens_in', 'tokens_out', 'detail', 'samples', 'mean', 'spread', 'p_value'];

export interface DaemonProject {
  root: string;
  /** Unique in every evaluation's command line: `pgrep -f tag` finds this project's evaluations. */
  tag: string;
  /** $AUTORESEARCH_HOME of the daemon (user scope): does not exist until a test creates it. */
  home: string;
  /** Evaluations append `<slot> <cuda> <start ms> <end ms> <id>` here. */
  slotLog: string;
  env: Record<string, string>;
  dir(id: string): string;
  /** `evaluate_cmd: sh eval.sh <sleep> <tag> [metric]`, with the rest of the standard config. */
  writeConfig(id: string, opts?: { sleep?: string; metric?: string; extra?: Record<string, string>; prefix?: string; scope?: 'project' | 'user' }): void;
  rows(id: string): LedgerRow[];
}

export interface LedgerRow {
  metric: string;
  status: string;
  iteration: number;
  reason: string;
}

let tagCounter = 0;

export async function makeDaemonProject(ids: string[], opts: { sleep?: string } = {}): Promise<DaemonProject> {
  const root = await makeRepo({ 'value.txt': '1000\n', '.gitignore': 'ignored/\n' });
  const scratch = await makeTempDir('ar-daemon-');
  const tag = `artag${process.pid}x${++tagCounter}x${path.basename(root).replace(/[^A-Za-z0-9]/g, '')}`;
  const home = path.join(scratch, 'home');
  const slotLog = path.join(scratch, 'slots.log');
  const env = cliEnv({ AUTORESEARCH_HOME: home, SLOT_LOG: slotLog });
  const dir = (id: string, scope: 'project' | 'user' = 'project') => path.join(scope === 'project' ? path.join(root, '.autoresearch') : home, ...id.split('/'));
  const project: DaemonProject = {
    root,
    tag,
    home,
    slotLog,
    env,
    dir: (id) => (fs.existsSync(dir(id, 'project')) ? dir(id, 'project') : dir(id, 'user')),
    writeConfig(id, o = {}) {
      const config: Record<string, string> = {
        target: 'value.txt',
        evaluate_cmd: `${o.prefix ?? ''}sh ${EVAL_SH} ${o.sleep ?? opts.sleep ?? '0.1'} ${tag}${o.metric === undefined ? '' : ` ${o.metric}`}`,
        metric: 'score',
        metric_direction: 'lower',
        agent: `sh ${AGENT_SH}`,
        ...o.extra,
      };
      const file = path.join(dir(id, o.scope ?? 'project'), 'config.cfg');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, Object.entries(config).map(([k, v]) => `${k}: ${v}\n`).join(''));
    },
    rows: (id) => readLedger(path.join(project.dir(id), 'results.tsv')),
  };
  // Untracked configs, like a user's new experiments.
  for (const id of ids) project.writeConfig(id);
  return project;
}

/**
 * results.tsv, strictly: the full header, every line complete (12 fields, newline-terminated),
 * iterations 0, 1, 2… with neither gap nor duplicate. Throws with the file and line otherwise.
 * A missing file is an empty ledger.
 */
export function readLedger(file: string): LedgerRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${file}: the last line is incomplete: ${JSON.stringify(text.slice(text.lastIndexOf('\n') + 1))}`);
  const [header, ...lines] = text.slice(0, -1).split('\n');
  if (header !== HEADER.join('\t')) throw new Error(`${file}:1: unexpected header ${JSON.stringify(header)}`);
  return lines.map((line, i) => {
    const fields = line.split('\t');
    if (fields.length !== HEADER.length) throw new Error(`${file}:${i + 2}: expected ${HEADER.length} fields, found ${fields.length}: ${JSON.stringify(line)}`);
    const iteration = Number(fields[4]);
    if (iteration !== i) throw new Error(`${file}:${i + 2}: expected iteration ${i}, found ${fields[4]}`);
    return { metric: fields[1] ?? '', status: fields[2] ?? '', iteration, reason: fields[7] ?? '' };
  });
}

export interface DaemonInfo {
  pid: number;
  port: number;
  token: string;
  root: string;
}

const started = new Set<number>();

export function readDaemonInfo(root: string): DaemonInfo | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, '.autoresearch', 'daemon.json'), 'utf8')) as DaemonInfo;
  } catch {
    return null;
  }
}

/** `daemon start` (detached) through the CLI; returns daemon.json once it is up. */
export async function startDaemon(project: DaemonProject, args: string[] = []): Promise<DaemonInfo> {
  const r = await runCli(['--path', project.root, 'daemon', 'start', ...args], { env: project.env });
  const info = readDaemonInfo(project.root);
  if (info !== null) started.add(info.pid);
  if (r.exitCode !== 0 || info === null) throw new Error(`daemon start failed (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}\n${daemonLog(project)}`);
  if (!r.stdout.includes(`pid ${info.pid}`)) throw new Error(`daemon start printed another pid than daemon.json (${info.pid}):\n${r.stdout}`);
  return info;
}

/** Remember a daemon started another way (--foreground) so that cleanup kills it. */
export function rememberDaemon(pid: number): void {
  started.add(pid);
}

export function daemonLog(project: DaemonProject): string {
  try {
    return fs.readFileSync(path.join(project.root, '.autoresearch', 'daemon.log'), 'utf8');
  } catch {
    return '';
  }
}

/** Running: the process exists and is not a zombie (PID 1 here may never reap it). */
export { isRunning };

/** pids of running (non-zombie) processes whose command line contains `pattern`. */
export async function processesMatching(pattern: string): Promise<number[]> {
  const r = await execa('pgrep', ['-f', pattern], { reject: false });
  return String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== process.pid && isRunning(pid));
}

/** Polls `check` (state on disk, processes, the API) until it holds; never a blind sleep. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GET /api/status on the daemon's loopback port. */
export async function apiStatus(info: DaemonInfo): Promise<{ daemon: { pid: number }; experiments: Array<{ id: string; state: string; config_error: string | null; iterations: number }> }> {
  const response = await fetch(`http://127.0.0.1:${info.port}/api/status`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET /api/status: ${response.status}`);
  return (await response.json()) as never;
}

/**
 * Every TCP socket the process holds, from /proc/<pid>/fd (socket inodes) and
 * /proc/net/tcp{,6}: local address and port in the kernel's hex, and the state (0A = LISTEN).
 */
export function tcpSocketsOf(pid: number): Array<{ table: 'tcp' | 'tcp6'; local: string; port: number; state: string }> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const out: Array<{ table: 'tcp' | 'tcp6'; local: string; port: number; state: string }> = [];
  for (const table of ['tcp', 'tcp6'] as const) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue; // no IPv6
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [local, portHex] = (f[1] ?? '').split(':');
      if (f[9] !== undefined && inodes.has(f[9])) out.push({ table, local: local ?? '', port: parseInt(portHex ?? '0', 16), state: f[3] ?? '' });
    }
  }
  return out;
}

/** Evaluation slot records: `<slot> <cuda> <start> <end> <id>` per line. */
export function readSlotLog(file: string): Array<{ slot: string; cuda: string; start: number; end: number; id: string }> {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [slot = '', cuda = '', start = '', end = '', id = ''] = line.split(' ');
      return { slot, cuda, start: Number(start), end: Number(end), id };
    });
}

/** The largest number of intervals open at one instant (touching ends do not overlap). */
export function maxOverlap(intervals: Array<{ start: number; end: number }>): number {
  const events = intervals.flatMap((i) => [
    { t: i.start, d: 1 },
    { t: i.end, d: -1 },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d); // an end before a start at the same ms
  let open = 0;
  let max = 0;
  for (const e of events) {
    open += e.d;
    max = Math.max(max, open);
  }
  return max;
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Cleanup, also after a failed test: every daemon this file started gets SIGTERM, then
 * SIGKILL if it lingers; then whatever still runs with one of `tags` in its command line
 * is killed by pid.
 */
export async function killDaemons(tags: string[]): Promise<void> {
  for (const pid of started) {
    if (isRunning(pid)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
      if (!(await waitGone(pid, 15_000))) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    started.delete(pid);
  }
  for (const tag of tags) {
    for (const pid of await processesMatching(tag)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
