/**
 * git started by a long-lived `/bin/sh` instead of by our own process. Node forks itself for
 * every child (no vfork): with ~100 MB mapped, our thread is blocked about 1 ms per git
 * process until the child has exec'd, and then pays copy-on-write faults on its heap. A
 * 1 MB shell forks in a fraction of that, on the other core. A worktree runs 4–5 git commands
 * per iteration, so this is ~4 ms of a ~25 ms loop (bench/loop-overhead.mjs).
 *
 * One command at a time. The shell is sent, per command, one brace group (parsed whole
 * before any of it runs: a script cut short by our death runs nothing):
 *
 *   { cd -P -- '<dir>' || exit 97
 *   printf '\036%s git\n' <token>
 *   command git -c … '<arg>' … </dev/null >'<tmp>/<token>.out' 2>'<tmp>/<token>.err'
 *   printf '\036%s %s\n' <token> "$?"
 *   }
 *
 * git's output goes to files of its own (in a private 0700 directory, read and deleted once
 * git has exited), never to the shell's pipes: a process git leaves behind (a clean filter's
 * or a merge driver's background child, which the repository's config can name) writes
 * only into the files of the command that started it, deleted by then, and can neither
 * hang nor add to a later command's answer. The shell's stdout carries only our two lines:
 * git starts, git exited with this status. `command git`: a shell function named `git` is
 * never run.
 *
 * The shell leads a process group of its own (setsid): a Ctrl-C, or a signal to our process
 * group, reaches our process and not the git step under way, which finishes; the loop then
 * stops and rolls back cleanly instead of failing on a git killed half-way (a git given
 * SIGINT removes its lock files first, and one that ignores it goes on without them).
 *
 *   idle ──run()──► busy (ref'd) ──status line──► idle (unref'd) ──idleMs──► ended (stdin closed)
 *                     │ the shell died                                          ▲
 *                     └──► command failed, or sent again if git never started ──┘ next run() starts a new one
 *
 * Lifetime: started on first use and ended after `idleMs` without a command (a daemon with
 * 200 waiting experiments holds no shells); never keeps our process alive while idle; and a
 * shell whose parent died reads the end of its stdin (or fails to write to it: SIGPIPE) and
 * exits, removing its directory. SIGINT, SIGTERM and SIGHUP are caught by the shell (a service
 * stop signals every process of the service): the shell lives on to report git's status and
 * run the rollback's commands; git gets them with their default action. A shell killed all
 * the same (SIGKILL) is replaced by the next command; a command whose git had not started is
 * sent again, one whose git had started fails once no git of the shell's group runs any
 * more: the next command never runs beside it.
 * Directories a killed shell left are removed by the next process that starts a shell.
 *
 * Without a usable temp directory (TMPDIR gone, read-only, full) `start` throws
 * GitShellUnavailable and the caller starts git itself (git-client.ts): slower, never worse.
 */
import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { shellQuote } from '../core/shell-quote.js';
import { bootId, processStartTime, readProcStat } from '../process/process-identity.js';

/** What one git command did. */
export interface ShellGitResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Every command sent, for the benchmark's process count (bench/io-count-hook.mjs). */
const commandsSent = channel('autoresearch:git-shell');

/** How long an idle shell is kept for the next command. */
const DEFAULT_IDLE_MS = 1000;

/** The shell's exit status when the command's directory is gone. */
const CD_FAILED = 97;

/**
 * Variables only bash reads (when /bin/sh is bash): exported functions would replace
 * `command`, `cd` or `printf`, and `SHELLOPTS=errexit` would end the shell at git's first
 * non-zero exit. Never passed to the shell, so not to our git either.
 */
const isBashOnly = (name: string) => name.startsWith('BASH_FUNC_') || name === 'SHELLOPTS' || name === 'BASHOPTS';

/** No shell could be started (no usable temp directory): nothing ran; start git some other way. */
export class GitShellUnavailable extends Error {}

/** Our temp directories: `autoresearch-git-<pid ns>.<time ns>.<pid>.<start time>-XXXXXX` (whose they are, for the sweep). */
const DIR_PREFIX = 'autoresearch-git-';

/** The output directories of this process's live shells: removed at its exit whatever the shells do. */
const liveOutputDirs = new Set<string>();
let exitHookInstalled = false;
let swept = false;

interface Pending {
  token: string;
  args: readonly string[];
  resolve: (result: ShellGitResult) => void;
  reject: (error: Error) => void;
  /** The shell it was sent to. */
  shell?: Shell;
  /** The shell said it starts git. */
  started: boolean;
  /** Sent once more already (its first shell died before starting git). */
  resent: boolean;
  /** Why it fails, when the shell broke the protocol (it is killed, and the failure reported from its exit). */
  failure?: string;
}

/** The shell's pipes, raw bytes, nothing buffered by execa. */
const SHELL_OPTIONS = {
  extendEnv: false,
  stdin: 'pipe',
  stdout: 'pipe',
  stderr: 'pipe',
  buffer: false,
  encoding: 'buffer',
  reject: false,
  cleanup: false, // it exits by itself when our process dies: its stdin ends
  detached: true, // a group of its own: signals to ours (a Ctrl-C) never cut a git step short
} as const;

interface Shell {
  process: ResultPromise<typeof SHELL_OPTIONS & { cwd: string; env: Record<string, string> }>;
  /** Where git's output files go: private to this shell, removed with it. */
  outputDir: string;
  /** Our lines from the shell's stdout, until a newline completes one. */
  partialLine: string;
  /** What the shell itself printed on stderr for the current command (why `cd` failed…). */
  stderr: Buffer[];
  /** close() came with a command in flight: stdin is ended once it is answered (the shell's exit removes outputDir). */
  endAfterCommand?: boolean;
  /** Its exit, once seen. */
  exit?: { code: number | undefined; signal: string | undefined; failure: string | undefined };
}

export class GitShell {
  readonly dir: string;
  private readonly env: Record<string, string>;
  private shell: Shell | undefined;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * `env`: the whole environment of every git process (nothing else is inherited).
   * `config`: `key=value` settings passed as `-c` before every command's arguments.
   */
  constructor(
    dir: string,
    env: Record<string, string>,
    private readonly config: readonly string[],
    private readonly idleMs: number = DEFAULT_IDLE_MS,
  ) {
    this.dir = path.resolve(dir); // the shell's `cd` is relative to wherever it is
    this.env = Object.fromEntries(Object.entries(env).filter(([name]) => !isBashOnly(name)));
  }

  /** `git <args>` in `dir`, after every command sent before it. Rejects only when git could not be run to its end. */
  run(args: readonly string[]): Promise<ShellGitResult> {
    for (const arg of args) {
      // What spawn refuses too: an argv entry cannot hold a NUL byte.
      if (arg.includes('\0')) return Promise.reject(new TypeError(`git argument ${JSON.stringify(arg)} contains a NUL byte`));
    }
    const turn = this.queue.then(
      () => new Promise<ShellGitResult>((resolve, reject) => this.send({ token: '', args, resolve, reject, started: false, resent: false })),
    );
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Ends the shell now (an idle one ends by itself after `idleMs`); a command in flight still gets its answer. */
  close(): void {
    clearTimeout(this.idleTimer);
    const shell = this.shell;
    this.shell = undefined;
    if (shell === undefined) return;
    if (this.pending?.shell === shell) shell.endAfterCommand = true;
    else shell.process.stdin?.end();
  }

  /** The running shell's pid, if one runs (tests watch it end). */
  get pid(): number | undefined {
    return this.shell?.process.pid;
  }

  /** The running shell's directory for git's output files (tests remove it). */
  get outputDir(): string | undefined {
    return this.shell?.outputDir;
  }

  private send(command: Pending): void {
    clearTimeout(this.idleTimer);
    // Its directory removed under it (a tmp cleaner): a new shell, with a new directory.
    if (this.shell !== undefined && !fs.existsSync(this.shell.outputDir)) this.close();
    let shell: Shell;
    try {
      shell = this.shell ?? this.start();
    } catch (error) {
      command.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    command.token = randomBytes(12).toString('hex');
    command.shell = shell;
    command.started = false;
    this.pending = command;
    shell.stderr = [];
    setRef(shell, true); // a command in flight keeps our process alive until it is answered
    if (commandsSent.hasSubscribers) commandsSent.publish({ dir: this.dir, args: command.args });
    const [out, err] = outputFiles(shell, command);
    const git = ['command', 'git', ...this.config.flatMap((c) => ['-c', c]), ...command.args].map(shellQuote).join(' ');
    shell.process.stdin?.write(
      [
        `{ cd -P -- ${shellQuote(this.dir)} || exit ${CD_FAILED}`,
        `printf '\\036%s git\\n' ${command.token}`,
        `${git} </dev/null >${shellQuote(out)} 2>${shellQuote(err)}`,
        `printf '\\036%s %s\\n' ${command.token} "$?"`,
        '}',
        '',
      ].join('\n'),
    );
  }

  private start(): Shell {
    // spawn would name /bin/sh as missing; the directory is what is.
    if (!fs.existsSync(this.dir)) throw new Error(`cannot run git in ${this.dir}: ENOENT (the directory does not exist)`);
    sweepLeftDirectories();
    let outputDir: string;
    try {
      // Absolute: the shell opens the files after `cd` into the worktree (TMPDIR may be relative).
      outputDir = fs.mkdtempSync(path.join(path.resolve(os.tmpdir()), `${DIR_PREFIX}${ownerTag(process.pid) ?? 'unknown'}-`)); // mode 0700
    } catch (error) {
      throw new GitShellUnavailable(`no directory for git's output in ${os.tmpdir()} (TMPDIR): ${error instanceof Error ? error.message : String(error)}`);
    }
    rememberOutputDir(outputDir);
    let child: Shell['process'];
    try {
      child = execa('/bin/sh', [], { ...SHELL_OPTIONS, cwd: this.dir, env: this.env });
    } catch (error) {
      forgetOutputDir(outputDir);
      throw error;
    }
    const shell: Shell = { process: child, outputDir, partialLine: '', stderr: [] };
    this.shell = shell;
    child.stdout?.on('data', (chunk: Buffer) => this.onLines(shell, chunk));
    child.stderr?.on('data', (chunk: Buffer) => shell.stderr.push(chunk));
    child.stdin?.on('error', () => undefined); // EPIPE, a shell that died: its exit says what happened
    // Settles once the shell has exited and its pipes are closed.
    void child.then((result) => {
      shell.exit = { code: result.exitCode, signal: result.signal, failure: result.exitCode === undefined && result.signal === undefined ? result.message : undefined };
      forgetOutputDir(outputDir);
      if (this.shell === shell) this.shell = undefined;
      if (this.pending?.shell === shell) this.afterExit(shell, this.pending);
    });
    // Signals to every process (a service stop) are caught, so the shell outlives them; git gets
    // them with their default action. Our process gone: the end of stdin (EXIT) or a failed
    // status line (PIPE) ends the shell, its directory removed. git gets none of the traps.
    const removeDir = `rm -rf -- ${shellQuote(outputDir)}`;
    child.stdin?.write(`trap : INT TERM HUP\ntrap ${shellQuote(removeDir)} EXIT\ntrap ${shellQuote(`${removeDir}; exit 141`)} PIPE\n`);
    return shell;
  }

  private onLines(shell: Shell, chunk: Buffer): void {
    const lines = (shell.partialLine + chunk.toString('latin1')).split('\n');
    shell.partialLine = lines.pop() ?? '';
    for (const line of lines) {
      const command = this.pending;
      const match = command?.shell === shell ? /^\x1e([0-9a-f]+) (git|\d{1,3})$/.exec(line) : null;
      if (command === undefined || match === null || match[1] !== command.token) {
        // Only our own printf writes there: anything else is a broken shell. Never trusted, never
        // sent again; the command fails as for a killed shell, once no git of its group runs.
        if (command !== undefined) {
          command.started = true;
          command.failure = `the shell running \`git ${command.args.join(' ')}\` printed ${JSON.stringify(line.slice(0, 200))} where its status line was expected`;
        }
        shell.process.kill('SIGKILL');
        return;
      }
      if (match[2] === 'git') command.started = true;
      else this.finish(shell, command, Number(match[2]));
    }
  }

  /** git exited with `exitCode`: its output is complete in its files. */
  private finish(shell: Shell, command: Pending, exitCode: number): void {
    this.pending = undefined;
    setRef(shell, false);
    if (this.shell === shell) this.idleTimer = setTimeout(() => this.close(), this.idleMs).unref();
    const files = outputFiles(shell, command);
    let result: ShellGitResult;
    try {
      result = { exitCode, stdout: fs.readFileSync(files[0]), stderr: fs.readFileSync(files[1]) };
    } catch (error) {
      // The shell could not create them (its directory removed meanwhile: git did not run), or too large to read.
      const said = Buffer.concat(shell.stderr).toString('utf8').trim();
      command.reject(new Error(`git ${command.args.join(' ')}: its output could not be read (${error instanceof Error ? error.message : String(error)})${said !== '' ? `: ${said}` : ''}`));
      return;
    } finally {
      for (const file of files) removeQuietly(file);
      if (shell.endAfterCommand === true) shell.process.stdin?.end();
    }
    command.resolve(result);
  }

  /** The shell died with `command` unanswered; everything it printed has been read. */
  private afterExit(shell: Shell, command: Pending): void {
    const group = shell.process.pid;
    if (command.started && group !== undefined && gitRunsInGroup(group)) {
      // Orphaned, and maybe still writing the worktree: the command fails once it has ended.
      setTimeout(() => this.afterExit(shell, command), 20);
      return;
    }
    this.pending = undefined; // its files went with the shell's directory
    if (command.failure !== undefined) {
      command.reject(new Error(command.failure));
      return;
    }
    const exit = shell.exit ?? { code: undefined, signal: undefined, failure: undefined };
    if (!command.started && exit.code !== CD_FAILED && !command.resent) {
      // Killed before it started git (before it read the command, usually): nothing of it ran.
      this.send({ ...command, resent: true });
      return;
    }
    const said = Buffer.concat(shell.stderr).toString('utf8').trim();
    const how =
      exit.failure ??
      (exit.signal !== undefined
        ? `was killed (${exit.signal})`
        : exit.code === CD_FAILED
          ? `could not enter ${this.dir}${fs.existsSync(this.dir) ? '' : ' (ENOENT: it does not exist)'}`
          : `exited (code ${exit.code ?? 'none'})`);
    command.reject(new Error(`the shell running \`git ${command.args.join(' ')}\` ${how} before git's exit status was read${said !== '' ? `: ${said}` : ''}`));
  }
}

/**
 * Whether a git process still runs in the group a dead shell led (a zombie has ended: PID 1
 * may never reap it). Only git: what a filter left running there must not hold us forever.
 * Without /proc, nothing can be seen, and nothing is waited for.
 */
function gitRunsInGroup(pgid: number): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat === null || stat.pgrp !== pgid || stat.state === 'Z' || stat.state === 'X') continue;
    try {
      if (/^git(-|$)/.test(fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

function rememberOutputDir(dir: string): void {
  liveOutputDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const left of liveOutputDirs) removeQuietly(left);
  });
}

function forgetOutputDir(dir: string): void {
  liveOutputDirs.delete(dir);
  removeQuietly(dir);
}

/** Cleanup that must never fail a command or our process (a read-only TMPDIR, a file made unremovable): the sweep retries. */
function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { recursive: true, force: true });
  } catch {
    // left for the sweep
  }
}

/**
 * Whose temp directories these are: the pid namespace and time namespace (a pid and a start
 * time mean something only inside them: a container sharing /tmp has its own), then pid and
 * start time. Null where /proc cannot tell: then no directory is ever swept.
 */
function ownerTag(pid: number): string | null {
  const startTime = processStartTime(pid);
  if (startTime === null || bootId() === null) return null;
  return `${namespaces()}.${pid}.${startTime}`;
}

let namespacesOfOurs: string | undefined;
function namespaces(): string {
  namespacesOfOurs ??= ['pid', 'time']
    .map((kind) => {
      try {
        return String(fs.statSync(`/proc/self/ns/${kind}`).ino);
      } catch {
        return '0'; // a kernel without that namespace: every process shares the one there is
      }
    })
    .join('.');
  return namespacesOfOurs;
}

/**
 * Once per process: remove the temp directories of processes that are gone (a shell killed
 * with SIGKILL, or with its whole group, cannot remove its own). Linux only: elsewhere there
 * is no start time to tell a live owner from a reused pid, and nothing is removed.
 */
function sweepLeftDirectories(): void {
  if (swept) return;
  swept = true;
  if (ownerTag(process.pid) === null) return;
  const tmp = path.resolve(os.tmpdir());
  let entries: string[];
  try {
    entries = fs.readdirSync(tmp);
  } catch {
    return;
  }
  for (const entry of entries) {
    const owner = /^autoresearch-git-(\d+\.\d+)\.(\d+)\.(\d+)-[A-Za-z0-9]{6}$/.exec(entry);
    // Only directories made in our namespaces: another container's pids are not ours to judge.
    if (owner === null || owner[1] !== namespaces()) continue;
    const stat = readProcStat(Number(owner[2]));
    const alive = stat !== null && stat.state !== 'Z' && stat.state !== 'X' && String(stat.startTime) === owner[3];
    // Another user's directory (sticky /tmp) is not ours to remove: the attempt fails, quietly.
    if (!alive) removeQuietly(path.join(tmp, entry));
  }
}

/** The files a command's git writes its stdout and stderr to. */
function outputFiles(shell: Shell, command: Pending): [string, string] {
  return [path.join(shell.outputDir, `${command.token}.out`), path.join(shell.outputDir, `${command.token}.err`)];
}

/** Keeps our process alive for the shell (a command in flight) or not (idle). */
function setRef(shell: Shell, on: boolean): void {
  const handles = [shell.process, shell.process.stdin, shell.process.stdout, shell.process.stderr];
  for (const handle of handles) {
    const h = handle as unknown as { ref?: () => void; unref?: () => void } | null;
    if (on) h?.ref?.();
    else h?.unref?.();
  }
}
