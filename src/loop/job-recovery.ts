/**
 * A cluster evaluation cut by kill -9 of the loop (issue 12). Unlike a local child, its job
 * outlives us on the cluster, so a restart decides its fate instead of only killing it:
 *
 *   eval intent with a job ─► resumable? ──yes─► resume the attempt: the iteration runs again
 *                              │                  from its measurement with the same job names,
 *                              │                  so the executor reads a finished job's exit
 *                              │                  file or re-attaches to a running one (no second
 *                              │                  submission); the job's result becomes the row
 *                              └─no──► cancel every job of the iteration (say why), roll back
 *
 * Either way every other active job of the experiment is cancelled: nothing of ours is left
 * queued that no one waits for. Jobs are found by our own name (job ids are not unique
 * across a controller crash).
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import type { Intent, JobRecord } from '../experiment/state.js';
import type { ClusterJobs } from '../measure/slurm/cluster-jobs.js';
import { isActiveState } from '../measure/slurm/job-states.js';
import { attemptOfJob, jobPrefix } from './run-records.js';

/** An interrupted attempt to carry on: its measurement runs again, re-attaching to its jobs. */
export interface Resume {
  iteration: number;
  attempt: string;
  base: string;
  candidate: string;
}

export type EvalIntentWithJob = Extract<Intent, { phase: 'eval' }> & { job: JobRecord };

export type JobSettlement = { kind: 'resume'; resume: Resume; note: string } | { kind: 'cancelled'; note: string };

/**
 * `allowResume`: only the loop resumes (run, the daemon); other commands that recover
 * (rerun, steer, a re-created worktree) cancel.
 */
export async function settleJob(session: Session, deps: LoopDeps, jobs: ClusterJobs, intent: EvalIntentWithJob, allowResume: boolean): Promise<JobSettlement> {
  const { job } = intent;
  const attempt = attemptOfJob(session, intent.iteration, job.name);
  const refusal = await whyNotResume(session, intent, attempt, allowResume);
  if (refusal === null && attempt !== null) {
    const keep = `${jobPrefix(session, intent.iteration)}${attempt}-`;
    const swept = await jobs.cancelActive(jobPrefix(session), [keep]);
    const state = await jobs.state(job.name);
    const how =
      state === null
        ? 'squeue no longer lists it: its exit file is read, or the evaluation is submitted again if it left none'
        : isActiveState(state)
          ? `it is ${state}: re-attached, its result will be used`
          : `it ended (${state}) while nothing watched: its result is read`;
    return { kind: 'resume', resume: { iteration: intent.iteration, attempt, base: intent.base, candidate: intent.candidate }, note: `job ${job.name}${job.id === null ? '' : ` (${job.id})`}: ${how}${sweptNote(swept)}` };
  }
  // The intent's own job too, by its exact name (and its re-runs'): it is ours even when the
  // prefix changed since (the experiment directory moved).
  const cancelled = [...new Set([...(await jobs.cancelActive(job.name, [])), ...(await jobs.cancelActive(jobPrefix(session), []))])];
  const mine = cancelled.filter((name) => name.startsWith(jobPrefix(session, intent.iteration)) || name.startsWith(job.name));
  const what = mine.length === 0 ? `job ${job.name} had already ended` : `cancelled job ${mine.join(', ')}`;
  deps.report({ kind: 'warning', message: `iteration ${intent.iteration}: ${what}: ${refusal ?? 'its attempt cannot be named'}; the iteration runs again` });
  return { kind: 'cancelled', note: `${what} (${refusal ?? 'unnamed attempt'})${sweptNote(cancelled.filter((name) => !mine.includes(name)))}` };
}

/** Jobs of the experiment nobody waits for (no intent names them): cancelled at every start. */
export async function cancelOrphanJobs(session: Session, deps: LoopDeps, jobs: ClusterJobs): Promise<void> {
  const cancelled = await jobs.cancelActive(jobPrefix(session), []);
  if (cancelled.length > 0) deps.report({ kind: 'warning', message: `cancelled ${cancelled.length} job${cancelled.length === 1 ? '' : 's'} of this experiment nothing waited for: ${cancelled.join(', ')}` });
}

/**
 * After a resumed attempt ended (a row, no row, or a stop): its jobs nobody waits for any more
 * are cancelled. The resumed measurement may take a shorter path than the one cut by kill -9
 * (`repeats` lowered, a decision reached sooner), leaving a later sample's job running.
 */
export async function cancelResumedAttemptJobs(session: Session, deps: LoopDeps, jobs: ClusterJobs, resume: Resume): Promise<void> {
  const cancelled = await jobs.cancelActive(`${jobPrefix(session, resume.iteration)}${resume.attempt}-`, []);
  if (cancelled.length > 0) {
    deps.report({ kind: 'warning', message: `iteration ${resume.iteration}: cancelled ${cancelled.length} job${cancelled.length === 1 ? '' : 's'} of the resumed attempt its measurement no longer needed: ${cancelled.join(', ')}` });
  }
}

async function whyNotResume(session: Session, intent: EvalIntentWithJob, attempt: string | null, allowResume: boolean): Promise<string | null> {
  const state = session.store.current;
  if (!allowResume) return 'this command does not resume evaluations';
  if (attempt === null) return `the job name ${intent.job.name} is not one of this iteration's`;
  if (state.halt !== null) return `the experiment is ${state.halt.state}`;
  if (session.config.executor !== 'slurm') return `config.cfg now says executor: ${session.config.executor}`;
  // The jobs run the commands of their submission: results of an old evaluate_cmd are no row under a new one.
  const { commands } = intent;
  if (commands !== undefined && commands.evaluate !== session.config.evaluateCmd) return 'config.cfg changed evaluate_cmd since the job was submitted';
  if (commands !== undefined && commands.check !== session.config.checkCmd) return 'config.cfg changed check_cmd since the job was submitted';
  // Rows appended meanwhile (the seed skill's) took the iteration's number: its row could not be written as this iteration.
  if (session.ledger.nextIteration() !== intent.iteration) return `results.tsv's next row is ${session.ledger.nextIteration()}, not ${intent.iteration}`;
  // A revalidation (best and baseline, re-measured) starts over; so does rebase's re-measure.
  const baseline = state.lastKept.metric === null || state.lastKept.metric === undefined;
  if (intent.candidate === intent.base && !baseline) return 'a re-measurement of kept commits is run again from its start';
  if (intent.candidate !== intent.base && intent.base !== state.lastKept.commit) return 'the best moved since the job was submitted';
  if ((await session.worktree.resolveCommit(intent.candidate)) === null) return `its commit ${intent.candidate.slice(0, 7)} is gone`;
  return null;
}

function sweptNote(names: readonly string[]): string {
  return names.length === 0 ? '' : `; cancelled ${names.length} other job${names.length === 1 ? '' : 's'} of this experiment: ${names.join(', ')}`;
}
