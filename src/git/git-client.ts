/**
 * The one place that starts git. Every git process the daemon runs is started here, by a
 * simple-git instance or, for a `hot` client, by its long-lived shell (git-shell.ts), and
 * every one of them gets the same machine settings:
 * one process at a time per instance, no user hooks, no signing prompts, no background
 * gc, English messages, and no inherited variable that points git at another repository.
 */
import { GitError, simpleGit, type SimpleGit, type SimpleGitOptions } from 'simple-git';
import fs from 'node:fs';
import { AutoresearchError } from '../core/errors.js';
import { GitShell, GitShellUnavailable } from './git-shell.js';

/** Who the daemon's commits are by when the repository has no identity configured. */
export const FALLBACK_IDENTITY = { name: 'autoresearch', email: 'autoresearch@localhost' } as const;

/** `-c` settings for every git process we start (never for the agent's own git commands). */
const MACHINE_CONFIG = [
  'core.quotepath=false',
  'color.ui=false',
  'log.showSignature=false', // would print gpg output into the `git log` output we parse
  'core.hooksPath=/dev/null', // the user's hooks never run for machine commits, checkouts and ref updates
  'commit.gpgSign=false', // an unattended loop cannot answer a pinentry prompt
  'maintenance.auto=false', // no background gc competing with a timed evaluation (git >= 2.29)
  'gc.auto=0', // the same for older git
  'core.fsmonitor=false', // a hook command an agent could set in the repository's config: never run by our steps
];

/**
 * simple-git refuses some settings and environment variables unless allowed, to protect
 * callers that pass untrusted input. Ours are fixed arguments plus the user's own
 * environment (EDITOR, PAGER, GIT_CONFIG_GLOBAL...), which must pass through unchanged.
 */
const TRUSTED_ARGUMENTS: SimpleGitOptions['unsafe'] = {
  allowUnsafeAlias: true,
  allowUnsafeAskPass: true,
  allowUnsafeConfigPaths: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeCredentialHelper: true,
  allowUnsafeEditor: true,
  allowUnsafeMergeDriver: true,
  allowUnsafePager: true,
  allowUnsafeProtocolOverride: true,
  allowUnsafePack: true, // a commit message may contain `--upload-pack`; git reads it as a value
  allowUnsafeSshCommand: true,
  allowUnsafeGitProxy: true,
  allowUnsafeHooksPath: true, // our own core.hooksPath=/dev/null
  allowUnsafeDiffExternal: true,
  allowUnsafeDiffTextConv: true,
  allowUnsafeFilter: true,
  allowUnsafeFsMonitor: true,
  allowUnsafeGpgProgram: true,
  allowUnsafeTemplateDir: true,
};

/** Variables that would make git work on another repository, index or object store than the one in baseDir. */
const REPOSITORY_LOCATION_VARS = new Set([
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
]);

/**
 * `env` without the variables that point git at a repository, index or object store: an
 * agent or evaluation started from a git hook (git exports GIT_DIR, GIT_INDEX_FILE there)
 * would otherwise `git add` into the user's index from the experiment's worktree.
 */
export function withoutRepositoryLocation<T extends Record<string, string | undefined>>(env: T): T {
  const out = { ...env };
  for (const key of REPOSITORY_LOCATION_VARS) delete out[key];
  return out;
}

/** A git process that exited non-zero; keeps the exit code, which simple-git's own errors drop. */
class GitExitError extends GitError {
  constructor(
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(undefined, stderr.trim() || stdout.trim() || `exit code ${exitCode}`);
  }
}

/**
 * A git command failed. `lockFile` is set when git found a `*.lock` file in its way (a
 * concurrent git process, or one killed mid-operation); it is never removed here.
 */
export class GitCommandError extends AutoresearchError {
  constructor(
    message: string,
    readonly cwd: string,
    readonly args: readonly string[],
    readonly gitExitCode: number | null,
    readonly stderr: string,
    readonly lockFile: string | undefined,
    options?: { cause?: unknown },
  ) {
    super('GIT_FAILED', message, options);
  }
}

/** The whole environment of our git processes: process.env without repository locations, English messages, `extraEnv` on top. */
function gitEnv(extraEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !REPOSITORY_LOCATION_VARS.has(key)) env[key] = value;
  }
  // English messages, so that errors read the same in every log and lock files can be recognised.
  env.LC_ALL = 'C';
  Object.assign(env, extraEnv);
  return env;
}

/** A configured simple-git for `baseDir`: serialised, with the machine settings and `extraEnv` on top of process.env. */
export function createGit(baseDir: string, extraEnv: Record<string, string> = {}): SimpleGit {
  const env = gitEnv(extraEnv);
  return (
    simpleGit({
      baseDir,
      // Concurrent index writers race on index.lock (git-js #493); one process at a time.
      maxConcurrentProcesses: 1,
      // Done when stdout and stderr are closed, never 50 ms after 'exit' (simple-git's
      // default race): on a loaded machine 'exit' can be handled well before the last
      // output is read, and the command then "succeeds" with empty stdout (an empty
      // `rev-parse HEAD`, a `commit` without its hash). No git we start leaves a
      // grandchild holding the pipes: gc and maintenance are off (MACHINE_CONFIG).
      completion: { onExit: false },
      config: MACHINE_CONFIG,
      trimmed: false,
      unsafe: TRUSTED_ARGUMENTS,
      errors: (error, result) => {
        if (result.exitCode === 0 && error === undefined) return undefined;
        const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
        return new GitExitError(result.exitCode, text(result.stdOut), text(result.stdErr) || (error instanceof Error ? error.message : ''));
      },
    })
      .env(env)
      // simple-git waits 50 ms more after a process that printed nothing (its completion
      // plugin), which is most of our commands. An empty chunk, once its listeners are
      // attached, marks the output as seen without adding a byte: 3 ms instead of 53 ms.
      .outputHandler((_command, stdout) => {
        queueMicrotask(() => stdout.emit('data', Buffer.alloc(0)));
      })
  );
}

export interface GitResult {
  stdout: string;
  /** 0, or one of the exit codes the caller listed as an answer rather than a failure. */
  exitCode: number;
  /** Only for an accepted non-zero exit. */
  stderr: string;
}

/**
 * Runs git commands in one directory and turns failures into GIT_FAILED errors that say what, where and why.
 *
 * `hot`: many commands, on a loop's path: they are started by a long-lived shell (git-shell.ts),
 * which forks far cheaper than our process. Other clients start each through simple-git.
 */
export class GitClient {
  private git: SimpleGit | undefined;
  private shell: GitShell | undefined;

  constructor(
    readonly dir: string,
    private readonly env: Record<string, string> = {},
    private readonly opts: { hot?: boolean } = {},
  ) {}

  /** `git <args>` in `dir`. Exit codes in `answers` (e.g. 1 for "no") are returned, any other failure throws. */
  async run(args: readonly string[], answers: readonly number[] = []): Promise<GitResult> {
    return this.opts.hot === true ? this.runInShell(args, answers) : this.runDirect(args, answers);
  }

  private async runDirect(args: readonly string[], answers: readonly number[]): Promise<GitResult> {
    // Created on first use: simple-git refuses a directory that does not exist yet.
    this.git ??= createGit(this.dir, this.env);
    try {
      return { stdout: await this.git.raw([...args]), exitCode: 0, stderr: '' };
    } catch (error) {
      if (error instanceof GitExitError && answers.includes(error.exitCode)) {
        return { stdout: error.stdout, exitCode: error.exitCode, stderr: error.stderr };
      }
      throw gitFailed(this.dir, args, error);
    }
  }

  private async runInShell(args: readonly string[], answers: readonly number[]): Promise<GitResult> {
    // The environment is taken once, on first use, as createGit does.
    this.shell ??= new GitShell(this.dir, gitEnv(this.env), MACHINE_CONFIG);
    let result;
    try {
      result = await this.shell.run(args);
    } catch (error) {
      // No shell could start (no usable temp directory): nothing ran, so git is started by us.
      if (error instanceof GitShellUnavailable) return this.runDirect(args, answers);
      throw gitFailed(this.dir, args, error);
    }
    const stdout = result.stdout.toString('utf8');
    if (result.exitCode === 0) return { stdout, exitCode: 0, stderr: '' };
    const stderr = result.stderr.toString('utf8');
    if (answers.includes(result.exitCode)) return { stdout, exitCode: result.exitCode, stderr };
    throw gitFailed(this.dir, args, new GitExitError(result.exitCode, stdout, stderr));
  }

  /** Ends a `hot` client's shell now rather than after its idle time. */
  close(): void {
    this.shell?.close();
  }

  /** `run` for commands that must succeed; returns stdout. */
  async out(args: readonly string[]): Promise<string> {
    return (await this.run(args)).stdout;
  }
}

function gitFailed(dir: string, args: readonly string[], error: unknown): GitCommandError {
  const exitCode = error instanceof GitExitError ? error.exitCode : null;
  const stderr = error instanceof GitExitError ? error.stderr : error instanceof Error ? error.message : String(error);
  const lockFile = /Unable to create '([^']+\.lock)': File exists/.exec(stderr)?.[1];
  const command = ['git', ...args].map((a) => (/[\s"'\\]/.test(a) || a === '' ? JSON.stringify(a) : a)).join(' ');
  // git cannot start in a directory that is gone: spawn says ENOENT, which reads as "git not installed".
  const dirGone = /\bENOENT\b/.test(stderr) && !fs.existsSync(dir);
  const lines = [
    dirGone
      ? `${command} failed: its directory ${dir} does not exist (deleted?)`
      : `${command} failed in ${dir} (exit code ${exitCode ?? 'none'}): ${stderr.trim() || 'no error output'}`,
  ];
  if (lockFile !== undefined) {
    lines.push(
      `The lock file ${lockFile} exists: another git process is working on this repository, or one was killed ` +
        `mid-operation. It is not removed automatically; delete it once no git process is running.`,
    );
  }
  return new GitCommandError(lines.join('\n'), dir, args, exitCode, stderr, lockFile, { cause: error });
}

/**
 * Identity variables for commits in `repoDir`: none when its effective config (or the
 * environment) names the author, else the fallback for what is missing. A fresh machine has
 * no identity and `git commit` would fail; the loop also passes this to the agent's process.
 */
export async function identityEnv(repoDir: string): Promise<Record<string, string>> {
  // One process for both keys; exit code 1 means neither is set.
  const { stdout } = await new GitClient(repoDir).run(['config', '--get-regexp', '^user\\.(name|email)$'], [1]);
  return missingIdentity(stdout, process.env);
}

/** Pure part of identityEnv: `git config --get-regexp` output + environment → variables to add. */
export function missingIdentity(configOutput: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const configured = new Set<string>();
  for (const line of configOutput.split('\n')) {
    const space = line.indexOf(' ');
    // "user.name" without a value is a boolean, and an empty name is refused by git: both are missing.
    if (space > 0 && line.slice(space + 1).trim() !== '') configured.add(line.slice(0, space).toLowerCase());
  }
  const result: Record<string, string> = {};
  const add = (key: string, value: string, alsoSetBy: string[] = []) => {
    if (!env[key] && !alsoSetBy.some((k) => env[k])) result[key] = value;
  };
  if (!configured.has('user.name')) {
    add('GIT_AUTHOR_NAME', FALLBACK_IDENTITY.name);
    add('GIT_COMMITTER_NAME', FALLBACK_IDENTITY.name);
  }
  if (!configured.has('user.email')) {
    // git itself falls back to $EMAIL before guessing from the host name.
    add('GIT_AUTHOR_EMAIL', FALLBACK_IDENTITY.email, ['EMAIL']);
    add('GIT_COMMITTER_EMAIL', FALLBACK_IDENTITY.email, ['EMAIL']);
  }
  return result;
}
