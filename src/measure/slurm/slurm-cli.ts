/**
 * The port to the cluster: SLURM's own command-line tools (`sbatch`, `squeue`, `scancel`) run
 * with execa, no shell. There is no maintained npm client and `slurmrestd` is often absent on
 * real clusters (shared/research/slurm.md), so the tools every cluster has are the interface.
 *
 * A controller that does not answer ("Unable to contact slurm controller", a socket timeout)
 * is retried a few times with a bounded backoff; any other failure is an error naming the
 * command, its exit and its stderr. A missing binary says which tools must be on PATH.
 */
import { execa } from 'execa';
import pRetry, { AbortError } from 'p-retry';
import { errorMessage } from '../../core/errors.js';

/** One row of `squeue -t all` for a job of ours. */
export interface SlurmJob {
  id: string;
  name: string;
  /** SLURM's state: PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, PREEMPTED… */
  state: string;
  /** The node(s) it runs or ran on; null while pending. */
  node: string | null;
  /** Why it is pending or ended (`Resources`, `NonZeroExitCode`, `None`). */
  reason: string;
}

export interface SubmitSpec {
  /** Our unique token: what the job is found by after a restart (ids are not unique across a controller crash). */
  name: string;
  /** Human words shown by `squeue -o %k` (`autoresearch <name> <commit>`). */
  comment: string;
  cwd: string;
  /** stdout and stderr of the job, appended. */
  logFile: string;
  /** SLURM's own limit, a last resort (it is in minutes and enforced late). */
  timeMinutes: number;
  /** The experiment's `slurm_args` (partition, account, `--gres=gpu:1`…). */
  slurmArgs: readonly string[];
  script: string;
  /** The environment sbatch runs with; `--export=ALL` hands it to the job (the script adjusts it). */
  env: Record<string, string | undefined>;
  /**
   * Ids of older jobs of this name (an attempt run again under its name after a restart found it
   * cancelled): never taken for this submission when a retry looks for what a failed try queued.
   */
  staleIds?: readonly string[];
}

export interface SlurmCli {
  /** Submits and returns the job id. A failure leaves no job of this name (checked when unsure). */
  submit(spec: SubmitSpec): Promise<string>;
  /** Our jobs with these exact names, any state SLURM still remembers (MinJobAge). */
  jobsNamed(names: readonly string[]): Promise<SlurmJob[]>;
  /** Every job of ours SLURM still remembers. */
  allJobs(): Promise<SlurmJob[]>;
  /** Cancels the job named `name` (and with this id, when given: both must match). */
  cancel(name: string, id?: string): Promise<void>;
  /** Cancels jobs by id. */
  cancelIds(ids: readonly string[]): Promise<void>;
}

export interface SlurmCliOptions {
  /** The environment the tools run with (PATH finds them; SLURM_CONF may point at the cluster). */
  env: NodeJS.ProcessEnv;
  /** Retries of a command the controller did not answer (default 4: about 10 s in all). */
  retries?: number;
  /** First wait before a retry (default 500 ms; doubles, at most maxRetryWaitMs). */
  retryWaitMs?: number;
  maxRetryWaitMs?: number;
  /** One command's limit (default 60 s): a controller that hangs must not hang the loop. */
  commandTimeoutMs?: number;
}

/** A command of SLURM's that failed: the command line, its exit and what it said. */
export class SlurmCommandError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'SlurmCommandError';
  }
}

/** `squeue` output: fields separated by `|`, the name last (our names never hold a `|`). */
export const SQUEUE_FORMAT = '%i|%T|%N|%r|%j';

/** What an unreachable or overloaded controller says: worth another try. */
const TRANSIENT =
  /Unable to contact slurm controller|Socket timed out|slurm_receive_msg|Connection refused|Connection timed out|Transport endpoint|temporarily unavailable|try again|Resource temporarily|Zero Bytes were transmitted|Communication connection failure|Slurm backup controller in standby|Controller is busy|Too many pending jobs/i;

/** scancel of a job that has just ended: not an error (the job is gone, which is what was asked). */
const ALREADY_DONE = /Invalid job id specified|already completing or completed|Job\/step already completing/i;

/** Characters a job name must not hold: our separator, squeue's list separator, whitespace. */
const UNSAFE_NAME = /[|,\s]/;

export function createSlurmCli(options: SlurmCliOptions): SlurmCli {
  const retries = options.retries ?? 4;
  const minTimeout = options.retryWaitMs ?? 500;
  const maxTimeout = options.maxRetryWaitMs ?? 4000;
  const timeout = options.commandTimeoutMs ?? 60_000;
  const env = options.env;

  /** Runs one tool; resolves with its stdout, rejects with a SlurmCommandError. */
  const once = async (tool: string, args: readonly string[], runEnv: Record<string, string | undefined> = env): Promise<string> => {
    const line = [tool, ...args].map(shellWord).join(' ');
    let result;
    try {
      result = await execa(tool, args, { env: definedEntries(runEnv), extendEnv: false, reject: false, timeout, stdin: 'ignore' });
    } catch (error) {
      throw new SlurmCommandError(`\`${line}\` could not run: ${errorMessage(error)}`, false, '');
    }
    const code = (result as { code?: string }).code;
    if (code === 'ENOENT' || (result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message)))) {
      throw new SlurmCommandError(
        `executor: slurm needs sbatch, squeue and scancel on PATH: \`${tool}\` was not found (PATH=${runEnv.PATH ?? '(unset)'})`,
        false,
        '',
      );
    }
    if (result.timedOut) throw new SlurmCommandError(`\`${line}\` did not answer within ${Math.round(timeout / 1000)} s`, true, String(result.stderr ?? ''));
    if (result.exitCode === 0) return String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '').trim();
    const how = result.exitCode === undefined ? `ended by ${result.signal ?? 'an unknown cause'}` : `exited ${result.exitCode}`;
    throw new SlurmCommandError(`\`${line}\` ${how}: ${stderr === '' ? '(no stderr)' : stderr}`, TRANSIENT.test(stderr), stderr);
  };

  /** `once`, retried while the controller does not answer. `beforeRetry` may settle the question another way. */
  const run = <T>(attempt: (attemptNumber: number) => Promise<T>): Promise<T> =>
    pRetry(
      async (attemptNumber) => {
        try {
          return await attempt(attemptNumber);
        } catch (error) {
          if (error instanceof SlurmCommandError && !error.transient) throw new AbortError(error);
          throw error;
        }
      },
      { retries, minTimeout, maxTimeout, factor: 2, randomize: true },
    );

  const list = async (args: readonly string[]): Promise<SlurmJob[]> => parseSqueue(await run(() => once('squeue', ['-h', '-t', 'all', '--me', '-o', SQUEUE_FORMAT, ...args])));

  const jobsNamed = async (names: readonly string[]): Promise<SlurmJob[]> => {
    if (names.length === 0) return [];
    for (const name of names) checkName(name);
    const wanted = new Set(names);
    // squeue matches --name exactly, but filter again: a row is only ours if its name is one we asked for.
    return (await list([`--name=${names.join(',')}`])).filter((job) => wanted.has(job.name));
  };

  return {
    async submit(spec) {
      checkName(spec.name);
      const args = sbatchArgs(spec);
      return run(async (attemptNumber) => {
        if (attemptNumber > 1) {
          // The failed try may have reached the controller (a timeout after it accepted the job): never submit twice.
          const stale = new Set(spec.staleIds ?? []);
          const existing = (await jobsNamed([spec.name]).catch(() => [])).filter((job) => !stale.has(job.id));
          const found = existing.at(-1);
          if (found !== undefined) return found.id;
        }
        return parseSbatchId(await once('sbatch', args, spec.env), args);
      });
    },
    jobsNamed,
    allJobs: () => list([]),
    async cancel(name, id) {
      checkName(name);
      await run(() => once('scancel', [`--name=${name}`, ...(id === undefined ? [] : [id])]).catch(ignoreAlreadyDone));
    },
    async cancelIds(ids) {
      if (ids.length === 0) return;
      await run(() => once('scancel', [...ids]).catch(ignoreAlreadyDone));
    },
  };
}

/** The sbatch command line: the user's `slurm_args` may override the time limit, never our name, log or directory. */
export function sbatchArgs(spec: SubmitSpec): string[] {
  return [
    `--time=${spec.timeMinutes}`,
    ...spec.slurmArgs,
    '--parsable',
    `--job-name=${spec.name}`,
    `--comment=${spec.comment}`,
    `--chdir=${spec.cwd}`,
    '--export=ALL',
    `--output=${outputPattern(spec.logFile)}`,
    `--error=${outputPattern(spec.logFile)}`,
    '--open-mode=append',
    '--no-requeue',
    spec.script,
  ];
}

/**
 * sbatch reads `--output` as a pattern: `%j`, `%x`… are replaced (a run directory `100%j`
 * became `100<id>` and the job failed to start) and `%%` is a `%`. A backslash turns the
 * replacements off and is dropped, so a path holding one cannot be named: say so.
 */
export function outputPattern(file: string): string {
  if (file.includes('\\')) {
    throw new SlurmCommandError(`executor: slurm cannot write the evaluation's log ${JSON.stringify(file)}: sbatch drops the backslash of an --output path (rename the directory)`, false, '');
  }
  return file.replace(/%/g, '%%');
}

/** `--parsable` prints `<id>` or `<id>;<cluster>`. */
export function parseSbatchId(stdout: string, args: readonly string[]): string {
  const first = stdout.trim().split('\n').at(-1)?.split(';')[0]?.trim() ?? '';
  if (!/^\d+$/.test(first)) throw new SlurmCommandError(`\`sbatch ${args.map(shellWord).join(' ')}\` printed no job id: expected a number, found ${JSON.stringify(stdout.trim().slice(0, 200))}`, false, '');
  return first;
}

/** Rows of `squeue -h -o '%i|%T|%N|%r|%j'`; lines that do not fit are skipped (a header, a warning). */
export function parseSqueue(stdout: string): SlurmJob[] {
  const jobs: SlurmJob[] = [];
  for (const line of stdout.split('\n')) {
    const parts = line.trim().split('|');
    if (parts.length < 5) continue;
    const [id, state, node, reason] = parts as [string, string, string, string];
    const name = parts.slice(4).join('|');
    if (!/^\d+/.test(id) || state === '' || name === '') continue;
    jobs.push({ id, name, state, node: node === '' || node === '(null)' ? null : node, reason });
  }
  return jobs;
}

function checkName(name: string): void {
  if (name === '' || UNSAFE_NAME.test(name)) throw new TypeError(`slurm: expected a job name without spaces, commas or '|', found ${JSON.stringify(name)}`);
}

function ignoreAlreadyDone(error: unknown): void {
  if (error instanceof SlurmCommandError && ALREADY_DONE.test(error.stderr)) return;
  throw error;
}

/** For messages: a word as a shell would need it written. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function definedEntries(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}
