/**
 * The SLURM executor (issue 12): one evaluation = one batch job running `evaluate_cmd` in the
 * worktree (a filesystem the nodes share), its output appended straight to the evaluation's
 * log (read by offset, never fs.watch), its end read from an exit file the job writes.
 *
 *   slot ─► resume? ─┬─ exit file there ───────────────────────────────► outcome (no sbatch)
 *                    ├─ a job of this name in squeue ─► attach ─┐
 *                    └─ onSubmit(id null) ─► sbatch ─► onSubmit(id) ─┤
 *                                                                    ▼
 *     poll squeue (one call per tick for every job of the process): PENDING = queued,
 *     RUNNING = onStart and the timeout clock starts (queue wait is not counted)
 *                                                                    ▼
 *     ended ─► exit file + SLURM's state ─► outcome with the job's end
 *           └► PREEMPTED / NODE_FAIL / BOOT_FAIL: log set aside, onInfrastructureFailure,
 *              again as `<name>.r1`, `.r2` (bounded), then `infrastructure`
 *
 * An abort (SIGTERM of the loop, pause, iteration abort) cancels the job and waits until
 * squeue no longer shows it active: no job of ours outlives a stop. `eval_timeout` is
 * enforced inside the job (job-script.ts); a job still running past it and the grace is
 * cancelled (outcome `timeout`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { SlotPool } from '../../core/slot-pool.js';
import type { EvaluationRequest, Executor, ExecutorOutcome, InfrastructureFailure, JobEnd } from '../executor.js';
import { readExitFile, type ExitRecord } from './exit-file.js';
import { DEFAULT_MAX_ATTEMPTS, attemptJobName, jobNames } from './job-names.js';
import { isSchedulerVariable, jobFiles, writeJobScript, type JobFiles } from './job-script.js';
import { classifyState, isActiveState, isInfrastructureState, judgeEndedJob } from './job-states.js';
import { createJobWatcher, type JobWatcher } from './job-watcher.js';
import { createSlurmCli, SlurmCommandError, type SlurmCli, type SlurmJob, type SubmitSpec } from './slurm-cli.js';

export interface SlurmExecutorOptions {
  /** The extra sbatch arguments of the experiment's `slurm_args`. */
  slurmArgs: readonly string[];
  /** The daemon's `--slots`: bounds the jobs in flight (absent: no limit). Never sets CUDA_VISIBLE_DEVICES. */
  slots: SlotPool<string> | undefined;
  clock: Clock;
  /** The environment sbatch/squeue/scancel run with (PATH finds them). */
  env: NodeJS.ProcessEnv;
  /** How often squeue is asked (default 200 ms; one call per tick for every job of the process). */
  pollMs?: number;
  /** The in-job timeout's grace between TERM and KILL (default 2 s, as locally). */
  killGraceMs?: number;
  /** Submissions of one evaluation in all, counting re-runs after preemption or node failure (default 3). */
  maxAttempts?: number;
  /** How long a cancelled job may take to leave the active states (default 40 s: KillWait is often 30 s). */
  cancelWaitMs?: number;
  /** How long squeue may keep failing before the evaluation gives up (default 5 min: a controller restart takes less). */
  unreachableMs?: number;
  /** How long an ended job's exit file may take to appear (network filesystem lag; default 5 s). */
  exitFilePatienceMs?: number;
  /** The cluster port (tests); default: the tools on `env`'s PATH. */
  cli?: SlurmCli;
  /** The poller (tests); default: one per process for this environment. */
  watcher?: JobWatcher;
}

const DEFAULT_POLL_MS = 200;
const DEFAULT_KILL_GRACE_MS = 2000;
const DEFAULT_CANCEL_WAIT_MS = 40_000;
const DEFAULT_UNREACHABLE_MS = 5 * 60_000;
const DEFAULT_EXIT_FILE_PATIENCE_MS = 30_000; // NFS may hide a new file for its attribute cache time (acdirmax, 30 s by default)
/** Past eval_timeout + grace, how long the in-job timeout may take to end the job before we cancel it. */
const BACKSTOP_SLACK_MS = 30_000; // a slow prolog or launch on a real cluster must not turn a candidate using its whole budget into a timeout
/** Pending reasons SLURM never clears by itself: the job would wait forever. */
const NEVER_STARTS = /^(PartitionTimeLimit|PartitionNodeLimit|BadConstraints|InvalidAccount|InvalidQOS|QOSMaxWallDurationPerJobLimit|AssocMaxWallDurationPerJobLimit|AccountNotAllowed|QOSNotAllowed|PartitionConfig|DependencyNeverSatisfied)$/;
/** A job squeue does not list right after sbatch: how long before it counts as lost. */
const MISSING_PATIENCE_MS = 3000;
/** Between tries of sbatch/squeue while the controller does not answer (the cli's own retries come first). */
const UNREACHABLE_RETRY_MS = 2000;

export function slurmExecutor(options: SlurmExecutorOptions): Executor {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const cli = options.cli ?? sharedCli(options.env);
  const watcher = options.watcher ?? watcherFor(cli, options.clock, pollMs);
  const settings: Settings = {
    slurmArgs: options.slurmArgs,
    clock: options.clock,
    submitEnv: submitEnvironment(options.env),
    killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
    cancelWaitMs: options.cancelWaitMs ?? DEFAULT_CANCEL_WAIT_MS,
    unreachableMs: options.unreachableMs ?? DEFAULT_UNREACHABLE_MS,
    exitFilePatienceMs: options.exitFilePatienceMs ?? DEFAULT_EXIT_FILE_PATIENCE_MS,
    cli,
    watcher,
  };
  return {
    async evaluate(request) {
      const started = options.clock.monotonic();
      if (request.signal.aborted) return { kind: 'aborted', durationMs: 0 };
      // The lease spans queue time too: `--slots` bounds the jobs in flight, queued or running.
      const lease = options.slots === undefined ? undefined : await options.slots.acquire(request.signal);
      if (lease === null) return { kind: 'aborted', durationMs: 0 };
      try {
        const env = lease === undefined ? request.env : { ...request.env, AUTORESEARCH_SLOT: lease.slot };
        const outcome = await new Evaluation(settings, { ...request, env }, started).run();
        // Every spawn-error here is the cluster's (sbatch refused, unreachable past the limit, a job
        // that can never start, no exit file, a worktree the node cannot see): never the
        // candidate's, so never a row: the iteration ends without one and the experiment is blocked.
        return outcome.kind === 'spawn-error' ? { kind: 'infrastructure', failures: [], durationMs: outcome.durationMs, message: outcome.message } : outcome;
      } finally {
        lease?.release();
      }
    },
  };
}

interface Settings {
  slurmArgs: readonly string[];
  clock: Clock;
  submitEnv: Record<string, string | undefined>;
  killGraceMs: number;
  maxAttempts: number;
  cancelWaitMs: number;
  unreachableMs: number;
  exitFilePatienceMs: number;
  cli: SlurmCli;
  watcher: JobWatcher;
}

/** How following one job ended. */
type Followed =
  /** `started`: squeue showed it on a node (a job cancelled while pending never ran the command). */
  | { kind: 'ended'; job: SlurmJob; ranMs: number; started: boolean }
  /** squeue no longer lists it (aged out, or lost by a controller crash). */
  | { kind: 'vanished'; job: SlurmJob | null; ranMs: number }
  | { kind: 'aborted' }
  | { kind: 'timeout'; job: JobEnd; ranMs: number }
  /** squeue kept failing (the controller is down): the cluster's fault, not the candidate's. */
  | { kind: 'unreachable'; job: SlurmJob; message: string }
  /** Pending for a reason that never clears (a time limit above the partition's, a bad account). */
  | { kind: 'never-starts'; job: JobEnd; reason: string };

/** One evaluation: its attempts (`<name>`, `<name>.r1`…) until an outcome. */
class Evaluation {
  private readonly files: JobFiles;
  private readonly failures: InfrastructureFailure[] = [];
  private startCalled = false;
  /** Jobs of the name resume() runs again (found cancelled): not the new submission's. */
  private staleIds: string[] = [];

  constructor(
    private readonly s: Settings,
    private readonly request: EvaluationRequest,
    private readonly started: number,
  ) {
    this.files = jobFiles(request.logFile);
  }

  private took(): number {
    return Math.max(0, Math.round(this.s.clock.monotonic() - this.started));
  }

  private nameOf(attempt: number): string {
    return attemptJobName(this.request.jobName, attempt);
  }

  async run(): Promise<ExecutorOutcome> {
    const resumed = await this.resume();
    if ('kind' in resumed) return resumed;
    let { attempt, job } = resumed;
    for (;;) {
      const name = this.nameOf(attempt);
      if (job === null) {
        const submitted = await this.submit(name);
        if (typeof submitted !== 'string') return submitted;
        job = { id: submitted, name, state: 'PENDING', node: null, reason: '' };
      } else {
        // Attached (a restart re-entered this attempt): the intent learns the id again.
        await this.guard(job, () => this.request.onSubmit({ name, id: job!.id, commit: this.request.commit }));
      }
      const followed = await this.follow(job);
      const outcome = await this.conclude(followed, attempt);
      if (outcome !== null) return outcome;
      attempt += 1;
      job = null;
    }
  }

  /**
   * A restart after kill -9 re-enters the same attempt with the same job names. The exit file
   * already there is the answer; a job of one of our names in squeue is attached to (the
   * newest re-run); otherwise nothing was submitted yet.
   */
  private async resume(): Promise<{ attempt: number; job: SlurmJob | null } | ExecutorOutcome> {
    const names = jobNames(this.request.jobName, this.s.maxAttempts);
    let jobs: SlurmJob[];
    try {
      jobs = await this.patiently(() => this.s.cli.jobsNamed(names));
    } catch (error) {
      if (this.request.signal.aborted) return { kind: 'aborted', durationMs: this.took() };
      const exit = await readExitFile(this.files.exit, this.s.clock, 0);
      // The controller does not answer, but the job had already said how it ended.
      if (exit !== null) return this.fromExitFile(exit, null);
      if (isUnreachable(error)) return this.unreachable(this.nameOf(0), null, `squeue did not answer for ${Math.round(this.s.unreachableMs / 1000)} s: ${errorMessage(error)}`);
      return { kind: 'spawn-error', message: errorMessage(error), durationMs: this.took() };
    }
    const newestOf = (name: string): SlurmJob | null =>
      jobs.filter((job) => job.name === name).reduce<SlurmJob | null>((a, b) => (a === null || Number(b.id) > Number(a.id) ? b : a), null);
    let latest = -1;
    names.forEach((name, attempt) => {
      if (newestOf(name) !== null) latest = attempt;
    });
    // Earlier attempts the cluster failed were told before the restart; they still count.
    for (let attempt = 0; attempt < latest; attempt++) {
      const job = newestOf(this.nameOf(attempt));
      if (job !== null && isInfrastructureState(job.state)) {
        this.failures.push({ job: { id: job.id, state: job.state, node: job.node, name: job.name }, log: this.asideLog(job.state, attempt), action: 'rerun' });
      }
    }
    const job = latest < 0 ? null : newestOf(this.nameOf(latest));
    const exit = await readExitFile(this.files.exit, this.s.clock, 0);
    if (job !== null) {
      // Cancelled while no daemon watched (our own stop, or someone's scancel) before the command
      // ended: it says nothing about the candidate, so this attempt runs again.
      if (job.state === 'CANCELLED' && exit === null) {
        // Its partial output goes aside: the re-run appends to the log, whose last metric line counts.
        await moveIfPresent(this.files.log, this.asideLog(job.state, latest));
        this.staleIds = jobs.filter((j) => j.name === job.name).map((j) => j.id);
        return { attempt: latest, job: null };
      }
      return { attempt: latest, job };
    }
    if (exit !== null) return this.fromExitFile(exit, null);
    return { attempt: 0, job: null };
  }

  /** onSubmit (the intent holds the name) before sbatch, then again with the id. */
  private async submit(name: string): Promise<string | ExecutorOutcome> {
    const { request } = this;
    // A re-run is queued again, then started again: its start is told too.
    this.startCalled = false;
    await request.onSubmit({ name, id: null, commit: request.commit });
    if (request.signal.aborted) return { kind: 'aborted', durationMs: this.took() };
    await fs.rm(this.files.exit, { force: true });
    await writeJobScript(this.files.script, {
      jobName: name,
      command: request.command,
      cwd: request.cwd,
      env: request.env,
      submitEnv: this.s.submitEnv,
      exitFile: this.files.exit,
      timeoutMs: request.timeoutMs,
      killGraceMs: this.s.killGraceMs,
    });
    let id: string;
    try {
      id = await this.sbatch({
        name,
        comment: `autoresearch ${name} ${request.commit.slice(0, 12)}`,
        cwd: request.cwd,
        logFile: this.files.log,
        timeMinutes: Math.ceil((request.timeoutMs + this.s.killGraceMs + BACKSTOP_SLACK_MS) / 60_000) + 1,
        slurmArgs: this.s.slurmArgs,
        script: this.files.script,
        env: this.s.submitEnv,
        staleIds: this.staleIds,
      });
    } catch (error) {
      // sbatch said no (bad slurm_args, no such partition, tools missing): nothing of ours may be queued.
      await this.s.cli.cancel(name).catch(() => undefined);
      if (request.signal.aborted) return { kind: 'aborted', durationMs: this.took() };
      if (isUnreachable(error)) return this.unreachable(name, null, `sbatch did not reach the controller for ${Math.round(this.s.unreachableMs / 1000)} s: ${errorMessage(error)}`);
      if (error instanceof SlurmCommandError) return { kind: 'spawn-error', message: error.message, durationMs: this.took() };
      throw error;
    }
    const job: SlurmJob = { id, name, state: 'PENDING', node: null, reason: '' };
    await this.guard(job, () => request.onSubmit({ name, id, commit: request.commit }));
    return id;
  }

  /**
   * sbatch, waiting out a controller that does not answer (a slurmctld restart) for as long as
   * following a job would (unreachableMs), not only the few seconds the cli retries. Before
   * each new try, squeue says whether the failed one reached the controller: never two jobs.
   */
  private async sbatch(spec: SubmitSpec): Promise<string> {
    let retrying = false;
    return this.patiently(async () => {
      if (retrying) {
        const stale = new Set(spec.staleIds ?? []);
        const found = (await this.s.cli.jobsNamed([spec.name])).filter((job) => !stale.has(job.id));
        const last = found.reduce<SlurmJob | null>((a, b) => (a === null || Number(b.id) > Number(a.id) ? b : a), null);
        if (last !== null) return last.id;
      }
      retrying = true;
      return this.s.cli.submit(spec);
    });
  }

  /** `attempt` again while it fails as an unreachable controller does (transient), up to unreachableMs or an abort. */
  private async patiently<T>(attempt: () => Promise<T>): Promise<T> {
    const { clock } = this.s;
    let failingSince: number | null = null;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof SlurmCommandError) || !error.transient) throw error;
        failingSince ??= clock.monotonic();
        if (this.request.signal.aborted || clock.monotonic() - failingSince >= this.s.unreachableMs) throw error;
        await clock.sleep(UNREACHABLE_RETRY_MS);
      }
    }
  }

  /** Runs a callback of the caller's; if it throws (e.g. the intent could not be written), the job is cancelled first. */
  private async guard(job: SlurmJob, callback: () => Promise<void>): Promise<void> {
    try {
      await callback();
    } catch (error) {
      await this.cancelAndWait(job);
      throw error;
    }
  }

  /** Polls the job until it ends, the request aborts, or it outlives eval_timeout and the grace. */
  private async follow(first: SlurmJob): Promise<Followed> {
    const { clock } = this.s;
    const { request } = this;
    let job = first;
    let seen = false;
    let startedAt: number | null = null;
    let failingSince: number | null = null;
    const firstPoll = clock.monotonic();
    const ranMs = (): number => (startedAt === null ? 0 : clock.monotonic() - startedAt);
    const limitMs = request.timeoutMs + this.s.killGraceMs + BACKSTOP_SLACK_MS;
    for (;;) {
      const sighting = await this.s.watcher.next(job.name, request.signal);
      if (request.signal.aborted) {
        await this.cancelAndWait(job);
        return { kind: 'aborted' };
      }
      if (sighting.kind === 'error') {
        failingSince ??= clock.monotonic();
        if (clock.monotonic() - failingSince >= this.s.unreachableMs) {
          await this.s.cli.cancel(job.name, job.id).catch(() => undefined);
          return { kind: 'unreachable', job, message: `squeue has failed for ${Math.round((clock.monotonic() - failingSince) / 1000)} s while following slurm job ${job.id} (${job.name}): ${sighting.message}` };
        }
        continue;
      }
      failingSince = null;
      if (sighting.kind === 'missing') {
        if (seen || clock.monotonic() - firstPoll >= MISSING_PATIENCE_MS) return { kind: 'vanished', job: seen ? job : null, ranMs: ranMs() };
        continue;
      }
      seen = true;
      job = sighting.job;
      const stateClass = classifyState(job.state);
      if (stateClass === 'queued') {
        if (!NEVER_STARTS.test(job.reason)) continue;
        // SLURM keeps such a job pending forever: say why instead of waiting.
        const end = await this.cancelAndWait(job);
        return { kind: 'never-starts', job: end, reason: job.reason };
      }
      if (startedAt === null && (stateClass === 'started' || job.node !== null)) {
        startedAt = clock.monotonic();
        await this.guard(job, () => this.announceStart(job));
      }
      if (stateClass === 'ended') return { kind: 'ended', job, ranMs: ranMs(), started: startedAt !== null };
      if (startedAt !== null && clock.monotonic() - startedAt > limitMs) {
        if ((await readExitFile(this.files.exit, clock, 0)) !== null) {
          // The command ended in time and said how; the job lingers (a slow epilog keeps it
          // COMPLETING): no timeout of the candidate's. Wait for its end (bounded), then judge it.
          const end = await this.cancelAndWait(job);
          return { kind: 'ended', job: { ...job, state: end.state, node: end.node }, ranMs: ranMs(), started: true };
        }
        // The in-job timeout should have ended it (a node too loaded, a stuck filesystem): cancel.
        const end = await this.cancelAndWait(job);
        return { kind: 'timeout', job: end, ranMs: ranMs() };
      }
    }
  }

  private async announceStart(job: SlurmJob): Promise<void> {
    if (this.startCalled) return;
    this.startCalled = true;
    await this.request.onStart(`slurm job ${job.id} on ${job.node ?? 'a node'}`);
  }

  /** What an attempt came to: an outcome, or null to run it again (the cluster failed it). */
  private async conclude(followed: Followed, attempt: number): Promise<ExecutorOutcome | null> {
    switch (followed.kind) {
      case 'aborted':
        return { kind: 'aborted', durationMs: this.took() };
      case 'unreachable':
        return this.unreachable(followed.job.name, followed.job, followed.message);
      case 'timeout':
        return { kind: 'timeout', durationMs: Math.round(followed.ranMs), job: followed.job };
      case 'never-starts':
        return {
          kind: 'spawn-error',
          message: `slurm job ${followed.job.id} can never start: pending with reason ${followed.reason} (check slurm_args: partition, account, qos, --time; eval_timeout asks for ${Math.ceil(this.request.timeoutMs / 60_000)} min)`,
          durationMs: this.took(),
          job: followed.job,
        };
      case 'vanished': {
        const exit = await readExitFile(this.files.exit, this.s.clock, this.s.exitFilePatienceMs);
        if (exit !== null) return this.fromExitFile(exit, followed.job);
        const job = followed.job ?? { id: '?', name: this.nameOf(attempt), state: 'LOST', node: null, reason: '' };
        return this.infrastructureFailure({ ...job, state: 'LOST' }, attempt);
      }
      case 'ended': {
        const { job } = followed;
        if (isInfrastructureState(job.state)) return this.infrastructureFailure(job, attempt);
        const exit = await readExitFile(this.files.exit, this.s.clock, needsExitFile(job.state) ? this.s.exitFilePatienceMs : 0);
        // Cancelled by someone else (an admin, a cleanup) before it ever ran: the candidate never
        // ran, so no row of its own; the evaluation runs again, as after a preemption.
        if (job.state === 'CANCELLED' && exit === null && !followed.started) return this.infrastructureFailure(job, attempt);
        const end: JobEnd = { id: job.id, state: job.state, node: job.node };
        const verdict = judgeEndedJob(end, exit, followed.ranMs);
        if (verdict.kind === 'outcome') return verdict.outcome;
        if (verdict.kind === 'infrastructure') return this.infrastructureFailure(job, attempt);
        return { kind: 'spawn-error', message: await this.unseenMessage(job), durationMs: this.took(), job: end };
      }
      default: {
        const unreachable: never = followed;
        return unreachable;
      }
    }
  }

  /** The exit file's outcome when squeue no longer says (aged out) or never said: SLURM's state as it would be. */
  private async fromExitFile(exit: ExitRecord, job: SlurmJob | null): Promise<ExecutorOutcome> {
    if (job !== null) await this.announceStart(job).catch(() => undefined);
    const state = exit.kind === 'exit' && exit.code === 0 ? 'COMPLETED' : 'FAILED';
    const end: JobEnd = { id: job?.id ?? '?', state, node: job?.node ?? exit.node };
    const verdict = judgeEndedJob(end, exit, exit.elapsedMs ?? 0);
    if (verdict.kind === 'outcome') return verdict.outcome;
    return { kind: 'spawn-error', message: `unreadable exit file ${this.files.exit}`, durationMs: this.took() };
  }

  /**
   * The cluster ended the job (preempted, node failure): the partial log goes aside (so the
   * metric grep never sees it), the failure is told, and the evaluation runs again, up to the bound.
   */
  private async infrastructureFailure(job: SlurmJob, attempt: number): Promise<ExecutorOutcome | null> {
    const aside = this.asideLog(job.state, attempt);
    await moveIfPresent(this.files.log, aside);
    await moveIfPresent(this.files.exit, `${aside}.exit`);
    const last = attempt + 1 >= this.s.maxAttempts;
    const failure: InfrastructureFailure = { job: { id: job.id, state: job.state, node: job.node, name: job.name }, log: aside, action: last ? 'gave-up' : 'rerun' };
    this.failures.push(failure);
    this.request.onInfrastructureFailure(failure);
    if (this.request.signal.aborted) return { kind: 'aborted', durationMs: this.took() };
    if (last) return { kind: 'infrastructure', failures: [...this.failures], durationMs: this.took() };
    return null;
  }

  /**
   * SLURM's controller has not answered for `unreachableMs`: no re-run (it would not answer
   * either), an infrastructure outcome (no row) whose failure says what the tools said.
   */
  private unreachable(name: string, job: SlurmJob | null, message: string): ExecutorOutcome {
    this.request.onEscapee(`slurm: ${message}`);
    const failure: InfrastructureFailure = { job: { id: job?.id ?? '?', state: 'UNREACHABLE', node: job?.node ?? null, name }, log: this.files.log, action: 'gave-up' };
    this.failures.push(failure);
    this.request.onInfrastructureFailure(failure);
    return { kind: 'infrastructure', failures: [...this.failures], durationMs: this.took() };
  }

  /** `eval.log` → `eval.preempted-1.log` (the attempt, 1-based). */
  private asideLog(state: string, attempt: number): string {
    const dir = path.dirname(this.files.log);
    const base = path.basename(this.files.log, '.log');
    return path.join(dir, `${base}.${state.toLowerCase().replace(/_/g, '-')}-${attempt + 1}.log`);
  }

  /** A job that ended COMPLETED/FAILED with no exit file. */
  private async unseenMessage(job: SlurmJob): Promise<string> {
    const size = await fs.stat(this.files.log).then((stat) => stat.size, () => -1);
    const where = `node ${job.node ?? '?'}`;
    if (size <= 0) {
      return (
        `slurm job ${job.id} ended ${job.state} on ${where} without any output: the job could not write ${this.files.log} ` +
        `nor ${this.files.exit}. The run directory (${path.dirname(this.files.log)}) and the worktree (${this.request.cwd}) ` +
        `must be on a filesystem ${where} shares with this machine.`
      );
    }
    return `slurm job ${job.id} ended ${job.state} on ${where} without writing its exit file ${this.files.exit} (the job script did not finish: see the log)`;
  }

  /**
   * scancel (name and id must both match: ids are reused after a controller crash), then wait
   * until squeue shows the job in no active state, bounded. Returns the job's last known end.
   */
  private async cancelAndWait(job: SlurmJob): Promise<JobEnd> {
    const { clock, cli, watcher } = this.s;
    try {
      await cli.cancel(job.name, job.id);
    } catch (error) {
      this.request.onEscapee(`could not cancel slurm job ${job.id} (${job.name}): ${errorMessage(error)}`);
    }
    const start = clock.monotonic();
    let last: SlurmJob = job;
    // The bound holds even while one squeue hangs (a controller that accepts and never answers):
    // a stop must not wait for the cli's own timeouts and retries (minutes).
    const expired = new AbortController();
    const timer = new AbortController();
    void clock.sleep(this.s.cancelWaitMs, timer.signal).then(() => expired.abort());
    try {
      while (clock.monotonic() - start < this.s.cancelWaitMs && !expired.signal.aborted) {
        const sighting = await watcher.next(job.name, expired.signal);
        if (sighting.kind === 'missing') return { id: last.id, state: 'CANCELLED', node: last.node };
        if (sighting.kind === 'found') {
          last = sighting.job;
          if (!isActiveState(last.state)) return { id: last.id, state: last.state, node: last.node };
        }
      }
    } finally {
      timer.abort();
    }
    this.request.onEscapee(`slurm job ${last.id} (${last.name}) is still ${last.state} ${Math.round(this.s.cancelWaitMs / 1000)} s after scancel`);
    return { id: last.id, state: last.state, node: last.node };
  }
}

/** A controller that did not answer (after waiting it out), not a refusal. */
function isUnreachable(error: unknown): boolean {
  return error instanceof SlurmCommandError && error.transient;
}

/** States whose job normally wrote an exit file: wait for it a moment (network filesystem lag). */
function needsExitFile(state: string): boolean {
  return state === 'COMPLETED' || state === 'FAILED';
}

async function moveIfPresent(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * The environment sbatch runs with (the job inherits it through `--export=ALL`, then the script
 * sets the request's): SLURM's variables of an enclosing allocation and GPU assignments do not
 * pass on; SLURM_CONF (which cluster) does.
 */
export function submitEnvironment(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (isSchedulerVariable(name) && name !== 'SLURM_CONF') continue;
    out[name] = value;
  }
  return out;
}

/** One cli per environment and one poller per cli for the whole process: one squeue per tick for every job. */
const clis = new Map<string, SlurmCli>();
const watchers = new WeakMap<SlurmCli, Map<number, JobWatcher>>();

function sharedCli(env: NodeJS.ProcessEnv): SlurmCli {
  const key = `${env.PATH ?? ''}\0${env.SLURM_CONF ?? ''}\0${env.USER ?? ''}`;
  let cli = clis.get(key);
  if (cli === undefined) {
    cli = createSlurmCli({ env });
    clis.set(key, cli);
  }
  return cli;
}

function watcherFor(cli: SlurmCli, clock: Clock, pollMs: number): JobWatcher {
  let byPoll = watchers.get(cli);
  if (byPoll === undefined) {
    byPoll = new Map();
    watchers.set(cli, byPoll);
  }
  let watcher = byPoll.get(pollMs);
  if (watcher === undefined) {
    watcher = createJobWatcher(cli, clock, pollMs);
    byPoll.set(pollMs, watcher);
  }
  return watcher;
}
