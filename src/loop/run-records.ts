/**
 * What a unit of work (an iteration, a revalidation) leaves so that a restart after kill -9
 * can find it: its run directory, its intent in state.json, the identity of its child.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import type { ChildRecord, Intent } from '../experiment/state.js';
import type { MeasureContext } from '../measure/evaluation.js';
import type { Executor, InfrastructureFailure } from '../measure/executor.js';
import { appendInfrastructureFailure } from '../experiment/infrastructure-log.js';
import { writeChildRecord } from './child-record.js';
import { bootId } from '../process/process-identity.js';
import type { SpawnedChild } from '../process/types.js';
import type { Phase } from './events.js';

/**
 * A leftover directory of an interrupted attempt is kept aside for inspection. `from`: a
 * directory that becomes this one (pipeline's draft, loop/draft.ts).
 */
export function prepareRunDir(dir: string, now: number, from?: string): void {
  try {
    fs.renameSync(dir, `${dir}.interrupted-${now}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (from !== undefined) fs.renameSync(from, dir);
  else fs.mkdirSync(dir, { recursive: true });
}

export async function setIntent(session: Session, deps: LoopDeps, intent: Intent): Promise<void> {
  // startedAt: the dashboard shows how long the phase has run (state.json is all a static page can read).
  await session.store.update({ intent: { ...intent, startedAt: new Date(deps.clock.now()).toISOString() } });
}

/**
 * Remember the child's identity so a later incarnation can kill it after kill -9: in memory
 * (written with the next state update) and at once in state.json.child, without fsync
 * (loop/child-record.ts: it only matters within this boot). A failure to write it leaves
 * recovery the environment-tag scan, which finds the child too.
 */
export function recordChild(session: Session, child: SpawnedChild): Promise<void> {
  const record: ChildRecord = { pid: child.pid, pgid: child.pgid, startTime: child.startTime, bootId: bootId() };
  session.store.stage((s) => (s.intent === null ? s : { ...s, intent: { ...s.intent, child: record } }));
  const { intent } = session.store.current;
  try {
    if (intent !== null) writeChildRecord(session.paths.state, intent, record);
  } catch {
    // the tag scan (recovery.ts) is what finds it then
  }
  return Promise.resolve();
}

export function reportPhase(deps: LoopDeps, iteration: number, phase: Phase, detail?: string): void {
  deps.report({ kind: 'phase', iteration, phase, ...(detail === undefined ? {} : { detail }) });
}

/** A fresh attempt at an iteration: part of its jobs' names, so a retry never finds an old attempt's job. */
export function newAttempt(): string {
  return crypto.randomBytes(4).toString('hex');
}

/**
 * The cluster job name of one evaluation (`ar-<domain>/<name>@<where>:<n>-<attempt>-eval.2`): unique
 * to the experiment, the iteration, its attempt and the log, and the same when a restart
 * resumes the attempt (recovery.ts).
 */
export function jobName(session: Session, iteration: number, attempt: string, log: string): string {
  return `${jobPrefix(session, iteration)}${attempt}-${path.basename(log, '.log')}`;
}

/**
 * What every job of the experiment's names start with (of one iteration, when given):
 * `ar-<domain>/<name>@<8 hex>:`. The hex is of the experiment directory, so the same id in
 * another checkout is another experiment; `:` ends the prefix and no id holds one
 * (config/experiment-id.ts), so `d/lr`'s prefix never matches the jobs of `d/lr-2`, nor
 * iteration 1's those of 10. A start cancels the jobs its prefix matches: only its own.
 */
export function jobPrefix(session: Session, iteration?: number): string {
  const where = crypto.createHash('sha256').update(session.config.dir).digest('hex').slice(0, 8);
  return `ar-${session.config.id.key}@${where}:${iteration === undefined ? '' : `${iteration}-`}`;
}

/** The attempt a job of `iteration` belongs to (jobName's inverse), or null for another name. */
export function attemptOfJob(session: Session, iteration: number, name: string): string | null {
  const prefix = jobPrefix(session, iteration);
  if (!name.startsWith(prefix)) return null;
  const attempt = /^([0-9a-f]+)-/.exec(name.slice(prefix.length))?.[1];
  return attempt ?? null;
}

/** The context evaluations of `commit` run in: each records an eval intent naming it first. */
export function measureContext(
  work: { session: Session; deps: LoopDeps; signal: AbortSignal; executor: Executor },
  iteration: MeasureContext['iteration'],
  intent: { base: string; candidate: string; attempt: string; agent?: string | null },
  /** A resumed attempt: checkouts wait until a job is submitted (MeasureContext.checkOut). */
  deferCheckout = false,
): MeasureContext {
  const { session, deps } = work;
  const restore = (commit: string) => session.worktree.restore(commit, session.store.current.branch);
  return {
    ...work,
    iteration,
    evalIntent: () => ({
      phase: 'eval',
      iteration: iteration.number,
      base: intent.base,
      candidate: intent.candidate,
      child: null,
      ...(intent.agent === undefined ? {} : { agent: intent.agent }),
      commands: evaluationCommands(session),
    }),
    setIntent: (next) => setIntent(session, deps, next),
    recordChild: (child) => void recordChild(session, child),
    phase: (phase, detail) => reportPhase(deps, iteration.number, phase, detail),
    jobName: (log) => jobName(session, iteration.number, intent.attempt, log),
    infrastructureFailure: (failure) => reportInfrastructureFailure(session, deps, iteration.number, failure),
    checkOut: deferCheckout ? async () => undefined : restore,
    beforeSubmit: deferCheckout ? restore : async () => undefined,
  };
}

/** What an evaluation's jobs run (recorded in its intent: a restart resumes only the same). */
export function evaluationCommands(session: Session): { evaluate: string; check: string | null } {
  return { evaluate: session.config.evaluateCmd, check: session.config.checkCmd };
}

/** Recorded for `report` (infrastructure.jsonl) and said as a warning; never a row. */
export function reportInfrastructureFailure(session: Session, deps: LoopDeps, iteration: number, failure: InfrastructureFailure): void {
  const { job } = failure;
  const what = `slurm job ${job.id} (${job.name}) ${job.state}${job.node === null ? '' : ` on ${job.node}`}`;
  const next = failure.action === 'rerun' ? 'the evaluation is submitted again' : 'giving up on this iteration (no row)';
  deps.report({ kind: 'warning', message: `iteration ${iteration}: ${what}: not the candidate's fault, ${next} (partial output: ${failure.log})` });
  try {
    appendInfrastructureFailure(session.paths.infrastructure, { at: new Date(deps.clock.now()).toISOString(), iteration, ...failure });
  } catch (error) {
    deps.report({ kind: 'warning', message: `could not record the failure in ${session.paths.infrastructure}: ${(error as Error).message}` });
  }
}
