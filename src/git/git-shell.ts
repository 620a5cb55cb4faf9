/**
 * git started by a long-lived `/bin/sh` instead of by our own process. Node forks itself for
 * every child (no vfork): with ~100 MB mapped, our thread is blocked about 1 ms per git
 * process until the child has exec'd, and then pays copy-on-write faults on its heap. A
 * 1 MB shell forks in a fraction of that, on the other core. A worktree runs 4–5 git commands
 * per iteration, so this is ~4 ms of a ~25 ms loop (bench/loop-overhead.mjs).
 *
 * One command at a time. The shell is sent, per command:
 *
 *   cd -P -- '<dir>' || exit 97
 *   printf '\036<token> git\n'
 *   command git -c … '<arg>' … </dev/null
 *   printf '\036<token> %s\n' "$?"; printf '\036<token>\n' >&2
 *
 * and the command is done when stdout ends with the exit-status marker and stderr with its
 * marker; git's stdout is what lies between the first line and the last.
 * The token is random and new per command and never appears in an argv: no output of git
 * (a file name an agent chose) can end a command early or pass for its exit code.
 * `command git`: a shell function called `git` in the environment is never run.
 *
 *   idle ──run()──► busy (ref'd) ──markers──► idle (unref'd) ──idleMs──► ended (stdin closed)
 *                     │ the shell died                                     ▲
 *                     └──► command failed (or sent again, if never read) ──┘ next run() starts a new one
 *
 * Lifetime: started on first use and ended after `idleMs` without a command (a daemon with
 * 200 waiting experiments holds no shells); never keeps our process alive while idle; and a
 * shell whose parent died reads the end of its stdin and exits. A shell killed from outside
 * (a Ctrl-C or a service stop signals our whole process group, as it would signal git) is
 * replaced by the next command. A command whose git never started (no first line) is sent
 * to the new shell; one it may have started fails, like a killed git, once that git has ended
 * too (it holds the shell's pipes until then): the next command never runs beside it.
 */
import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import fs from 'node:fs';
import { execa, type ResultPromise } from 'execa';

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

interface Pending {
  token: string;
  args: readonly string[];
  resolve: (result: ShellGitResult) => void;
  reject: (error: Error) => void;
  /** The shell it was sent to. */
  shell?: Shell;
  /** Sent once more already (its first shell died before starting git). */
  resent: boolean;
}

interface Shell {
  process: ResultPromise<{ buffer: false; encoding: 'buffer'; reject: false; cleanup: false; extendEnv: false }>;
  stdout: Buffer[];
  stderr: Buffer[];
  /** Its exit, once seen. */
  exit?: { code: number | undefined; signal: string | undefined; failure: string | undefined };
}

export class GitShell {
  private shell: Shell | undefined;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * `env`: the whole environment of every git process (nothing else is inherited).
   * `config`: `key=value` settings passed as `-c` before every command's arguments.
   */
  constructor(
    readonly dir: string,
    private readonly env: Record<string, string>,
    private readonly config: readonly string[],
    private readonly idleMs: number = DEFAULT_IDLE_MS,
  ) {}

  /** `git <args>` in `dir`, after every command sent before it. Rejects only when git could not be run to its end. */
  run(args: readonly string[]): Promise<ShellGitResult> {
    for (const arg of args) {
      // What spawn refuses too: an argv entry cannot hold a NUL byte.
      if (arg.includes('\0')) return Promise.reject(new TypeError(`git argument ${JSON.stringify(arg)} contains a NUL byte`));
    }
    const turn = this.queue.then(
      () => new Promise<ShellGitResult>((resolve, reject) => this.send({ token: '', args, resolve, reject, resent: false })),
    );
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Ends the shell now (an idle one ends by itself after `idleMs`); a command in flight still gets its answer. */
  close(): void {
    clearTimeout(this.idleTimer);
    const shell = this.shell;
    this.shell = undefined;
    shell?.process.stdin?.end();
  }

  /** The running shell's pid, if one runs (tests watch it end). */
  get pid(): number | undefined {
    return this.shell?.process.pid;
  }

  private send(command: Pending): void {
    clearTimeout(this.idleTimer);
    let shell: Shell;
    try {
      shell = this.shell ?? this.start();
    } catch (error) {
      command.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    command.token = randomBytes(12).toString('hex');
    command.shell = shell;
    this.pending = command;
    shell.stdout = [];
    shell.stderr = [];
    setRef(shell, true); // a command in flight keeps our process alive until it is answered
    if (commandsSent.hasSubscribers) commandsSent.publish({ dir: this.dir, args: command.args });
    const script = [
      `cd -P -- ${quote(this.dir)} || exit ${CD_FAILED}`,
      `printf '\\036${command.token} git\\n'`,
      `${['command', 'git', ...this.config.flatMap((c) => ['-c', c]), ...command.args].map(quote).join(' ')} </dev/null`,
      `printf '\\036${command.token} %s\\n' "$?"; printf '\\036${command.token}\\n' >&2`,
      '',
    ].join('\n');
    shell.process.stdin?.write(script);
  }

  private start(): Shell {
    // spawn would name /bin/sh as missing; the directory is what is.
    if (!fs.existsSync(this.dir)) throw new Error(`cannot run git in ${this.dir}: ENOENT (the directory does not exist)`);
    const process = execa('/bin/sh', [], {
      cwd: this.dir,
      env: this.env,
      extendEnv: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      encoding: 'buffer',
      reject: false,
      cleanup: false, // it exits by itself when our process dies: its stdin ends
    });
    const shell: Shell = { process, stdout: [], stderr: [] };
    this.shell = shell;
    process.stdout?.on('data', (chunk: Buffer) => {
      shell.stdout.push(chunk);
      this.answerIfDone(shell);
    });
    process.stderr?.on('data', (chunk: Buffer) => {
      shell.stderr.push(chunk);
      this.answerIfDone(shell);
    });
    process.stdin?.on('error', () => undefined); // EPIPE, a shell that died: its exit says what happened
    // Settles once the shell has exited and its output pipes are closed, so after any git it started.
    void process.then((result) => {
      shell.exit = { code: result.exitCode, signal: result.signal, failure: result.exitCode === undefined && result.signal === undefined ? result.message : undefined };
      if (this.shell === shell) this.shell = undefined;
      if (this.pending?.shell === shell) this.afterExit(shell, this.pending);
    });
    return shell;
  }

  private answerIfDone(shell: Shell): void {
    const command = this.pending;
    if (command?.shell !== shell) return;
    const out = endMarker(shell.stdout, `\x1e${command.token} `, true);
    if (out === null) return;
    const err = endMarker(shell.stderr, `\x1e${command.token}`, false);
    if (err === null) return;
    this.pending = undefined;
    setRef(shell, false);
    if (this.shell === shell) this.idleTimer = setTimeout(() => this.close(), this.idleMs).unref();
    const start = startLine(command);
    if (!out.text.subarray(0, start.length).equals(start)) {
      // Output from something else than this command's git (a straggler of an earlier one): never passed off as git's.
      command.reject(new Error(`git ${command.args.join(' ')}: its output did not start where the shell started git (found ${JSON.stringify(out.text.subarray(0, 80).toString('utf8'))})`));
      return;
    }
    command.resolve({ exitCode: out.code, stdout: out.text.subarray(start.length), stderr: err.text });
  }

  /** The shell died with `command` unanswered; its output is all read (the pipes are closed). */
  private afterExit(shell: Shell, command: Pending): void {
    if (this.pending !== command) return;
    this.pending = undefined;
    const exit = shell.exit ?? { code: undefined, signal: undefined, failure: undefined };
    const gitStarted = Buffer.concat(shell.stdout).subarray(0, startLine(command).length).equals(startLine(command));
    if (!gitStarted && exit.code !== CD_FAILED && !command.resent) {
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

/** The line the shell prints right before it starts git. */
function startLine(command: Pending): Buffer {
  return Buffer.from(`\x1e${command.token} git\n`, 'latin1');
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

/**
 * When `chunks` end with `<marker>` (+ ` <code>` when `withCode`) and a newline: the output
 * before it, and the code. Only the tail is joined until then: outputs can be megabytes.
 */
function endMarker(chunks: Buffer[], marker: string, withCode: boolean): { text: Buffer; code: number } | null {
  const last = chunks.at(-1);
  if (last === undefined || last.at(-1) !== 0x0a) return null;
  const longest = Buffer.byteLength(marker) + (withCode ? 4 : 0) + 1;
  let tailLength = 0;
  let first = chunks.length;
  while (first > 0 && tailLength < longest) tailLength += (chunks[--first] as Buffer).length;
  const tail = Buffer.concat(chunks.slice(first)).toString('latin1');
  const at = tail.lastIndexOf(marker);
  if (at < 0) return null;
  const rest = tail.slice(at + marker.length);
  const code = withCode ? /^(\d{1,3})\n$/.exec(rest)?.[1] : rest === '\n' ? '0' : undefined;
  if (code === undefined) return null;
  const all = Buffer.concat(chunks);
  return { text: all.subarray(0, all.length - (tail.length - at)), code: Number(code) };
}

/** A word for sh: single-quoted, so nothing in it is expanded. */
function quote(word: string): string {
  return /^[A-Za-z0-9_\-.,:/=@%+]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
