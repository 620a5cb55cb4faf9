/**
 * Recovery on start, before the loop's first git command: the previous incarnation may
 * have died at any instant (kill -9, power loss). In this order:
 *  1. Its processes are killed (TERM, grace, KILL):
 *     - the child recorded in the intent, as a group, only if the boot id matches and the
 *       leader (pid + start time) or, after the leader's death, its group still runs: a
 *       reused pid or another boot never gets a signal;
 *     - any process group whose processes carry this experiment's AUTORESEARCH_WORKTREE in
 *       their environment: children spawned in the instant before their record was
 *       written, setup_cmd (never recorded), escapees that left their group.
 *  2. Stale `*.lock` files the experiment owns are removed (git/stale-locks.ts), and so
 *     are temp files of a durable write the kill cut short.
 *  3. The intent, if any, is settled:
 *     - the ledger has the iteration's row: the decision was made; finish it (state update,
 *       then git), never write a second row;
 *     - otherwise the iteration never finished: roll back, no row, not a crash (with
 *       `agent: none`, back to the external agent's candidate, to be evaluated again).
 * Every step is idempotent, so a kill during recovery is recovered by the next start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AutoresearchError } from '../core/errors.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { ledgerDigest } from '../experiment/ledger-digest.js';
import { readSavedResult, savedSamples } from '../experiment/saved-result.js';
import { candidateRef, interruptedCandidateRef, iterationPaths } from '../experiment/paths.js';
import type { ChildRecord, ExperimentState, Intent, MeasuredCommit } from '../experiment/state.js';
import { summarizeRows } from '../ledger/summary.js';
import { removeStaleGitLocks, type ExperimentGitScope } from '../git/stale-locks.js';
import type { LedgerRow } from '../ledger/types.js';
import { terminateGroup } from '../process/live-groups.js';
import { describeKilled, killTaggedGroups } from '../process/escapees.js';
import { bootId, isSameGroupAlive, readProcStat } from '../process/process-identity.js';
import { clusterJobsFor } from '../measure/slurm/cluster-jobs.js';
import { adoptNewerLedgerKeep } from './adopt-ledger-keep.js';
import { cancelOrphanJobs, settleJob, type Resume } from './job-recovery.js';
import { draftWorktreePath } from './draft.js';
import { worktreeTag } from './child-env.js';
import { readChildRecord } from './child-record.js';
import { measuredState } from './measured-state.js';
import { nextNoChangeCount } from './no-change.js';
import { restoredState } from './revalidation.js';

// Temp files of fs/durable.ts (`<file>.<pid>-<ms>-<n>.tmp`, state.json.child's too) and of run-lock.ts (`run.lock.<pid>-<ms>-<base36>.tmp`).
const TEMP_FILE = /^(?:state\.json(?:\.child)?|results\.tsv|run\.lock)\.(\d+)-\d+-[0-9a-z]+\.tmp$/;
/** Between TERM and KILL for a leftover group: as long as run-process gives its own children. */
const KILL_GRACE_MS = 2000;

/**
 * `resume`: the caller (the loop) can carry on an interrupted cluster evaluation: returned
 * when it should (job-recovery.ts), and the intent stays until that iteration ends.
 */
export async function recoverInterruptedIteration(session: Session, deps: LoopDeps, opts: { resume?: boolean; keepDraft?: boolean } = {}): Promise<Resume | null> {
  await forgetInterruptedDraft(session, deps, opts.keepDraft === true);
  const resume = await settleInterruptedIteration(session, deps, opts.resume === true);
  if (resume !== null) return resume;
  // Then the ledger's word on the last keep (a keep the seed skill recorded after our last run).
  await adoptNewerLedgerKeep(session, deps);
  return null;
}

async function settleInterruptedIteration(session: Session, deps: LoopDeps, allowResume: boolean): Promise<Resume | null> {
  const { intent } = session.store.current;
  const childNote = await clearLeftovers(
    { state: session.store.current, gitCommonDir: session.project.gitCommonDir, projectRoot: session.project.root, idKey: session.config.id.key, stateFile: session.paths.state },
    deps,
  );
  removeDeadWritersTempFiles(session, deps);
  // Only a row of ours (rows the seed skill appends have no timestamp) can be the intent's.
  const row = intent === null ? undefined : session.ledger.rows().find((r) => r.iteration === intent.iteration && r.timestamp !== null);
  let jobNote: string | null = null;
  if (intent?.phase === 'eval' && intent.job !== undefined && row === undefined) {
    const settled = await settleJob(session, deps, clusterJobsFor(deps), { ...intent, job: intent.job }, allowResume).catch((error: unknown) => ({
      kind: 'cancelled' as const,
      note: `could not reach the cluster about job ${intent.job?.name}: ${(error as Error).message}`,
    }));
    if (settled.kind === 'resume') {
      // The intent stays: the resumed iteration ends it, or the next recovery sees it again. The
      // worktree is left as it is: the job may still run there (a checkout would change its files
      // and clean its untracked output); the resumed attempt checks out only what it submits.
      deps.report({ kind: 'recovered', iteration: intent.iteration, action: 'resumed', detail: `interrupted during eval; ${settled.note}${childNote === null ? '' : `; ${childNote}`}` });
      return settled.resume;
    }
    jobNote = settled.note;
  } else if (session.config.executor === 'slurm') {
    await cancelOrphanJobs(session, deps, clusterJobsFor(deps)).catch((error: unknown) => {
      deps.report({ kind: 'warning', message: `could not check the cluster for jobs of this experiment left running: ${(error as Error).message}` });
    });
  }
  if (intent === null) return null;

  const note = [childNote, jobNote].filter((n) => n !== null).map((n) => `; ${n}`).join('');
  // record() writes a rejected candidate's ref while it appends the row and restores: a kill
  // (or a failed ref update) may fall before it is there.
  if (row !== undefined) await keepRejectedReachable(session, intent, row);
  if (row !== undefined && intent.decided === true) {
    // Row and state were written; only the restore was cut short.
    await session.worktree.restore(session.store.current.lastKept.commit, session.store.current.branch);
    await session.store.update({ intent: null });
    deps.report({ kind: 'recovered', iteration: intent.iteration, action: 'completed', detail: `row ${row.status} and state were written; finished its git step${note}` });
    return null;
  }
  if (row === undefined && session.config.agent.kind === 'none' && intent.phase === 'agent') {
    // Killed while capturing an external agent's change: it stays as it is, to be judged next run.
    await session.store.update({ intent: null });
    deps.report({ kind: 'recovered', iteration: intent.iteration, action: 'rolled-back', detail: `interrupted before the external agent's change was judged; it is judged next run${note}` });
    return null;
  }
  if (row === undefined) {
    if (intent.phase === 'eval' && intent.candidate !== intent.base) {
      // The interrupted candidate stays reachable (its iteration number will be reused).
      await session.worktree.saveRef(interruptedCandidateRef(session.config.id.key, intent.iteration, deps.clock.now()), intent.candidate);
    }
    // With `agent: none` the candidate is an external agent's work, not ours to redo: the
    // worktree goes back to it, so the next run evaluates the same change again.
    const external = session.config.agent.kind === 'none' && intent.phase === 'eval';
    await session.worktree.restore(external ? intent.candidate : session.store.current.lastKept.commit, session.store.current.branch);
    await session.store.update({ intent: null });
    deps.report({ kind: 'recovered', iteration: intent.iteration, action: 'rolled-back', detail: `interrupted during ${intent.phase}; no row written${note}` });
    return null;
  }
  if (row.reason === 'revalidation_failed') {
    await finishRevalidationRow(session, row);
    deps.report({ kind: 'recovered', iteration: intent.iteration, action: 'completed', detail: `row ${row.status} ${row.reason} was written; moved back to keep ${session.store.current.lastKept.commit.slice(0, 7)}${note}` });
    return null;
  }
  const candidate = candidateOf(intent, row, session);
  const metric = row.status === 'keep' ? keptMetric(row, candidate, session) : null;
  const samples = savedSamples(session.paths, row, candidate, 'samples');
  const bestSamples = savedSamples(session.paths, row, candidate, 'bestSamples');
  await session.store.update((s) => {
    // What the measurement changes (the baseline's record, the revalidation window, noise), as record() does.
    const measured = candidate === null ? {} : measuredState(s, { status: row.status, reason: row.reason, commit: candidate, metric, samples: samples ?? [], bestSamples: bestSamples ?? [] }, row.iteration);
    return {
      ...s,
      ...measured,
      lastKept: row.status === 'keep' && candidate !== null ? { commit: candidate, metric, iteration: row.iteration, ...(samples === null ? {} : { samples }) } : (measured.lastKept ?? s.lastKept),
      consecutiveCrashes: row.status === 'crash' ? s.consecutiveCrashes + 1 : 0,
      consecutiveNoChange: nextNoChangeCount(s.consecutiveNoChange ?? 0, row),
      intent: null,
      digest: ledgerDigest(session.ledger.rows(), session.config.direction, session.paths.results),
    };
  });
  await session.worktree.restore(session.store.current.lastKept.commit, session.store.current.branch);
  deps.report({ kind: 'recovered', iteration: intent.iteration, action: 'completed', detail: `row ${row.status} was written; finished its git step${note}` });
  return null;
}

/**
 * pipeline: a draft (draft.ts) never outlives its process. Its agent's group and whatever
 * carries the draft worktree's tag are killed, its stale git locks removed, and it is
 * forgotten: no row (the draft worktree is reset when the next draft starts). `keepReady`: the
 * daemon's loop was handed this very draft by the experiment's previous turn (carriedDraftStands).
 */
async function forgetInterruptedDraft(session: Session, deps: LoopDeps, keepReady: boolean): Promise<void> {
  const { draft, worktree } = session.store.current;
  const draftWorktree = draftWorktreePath(worktree);
  if (draft == null && !fs.existsSync(draftWorktree)) return;
  const note = await clearLeftovers(
    { state: { worktree: draftWorktree, intent: draft ?? null }, gitCommonDir: session.project.gitCommonDir, projectRoot: session.project.root, idKey: session.config.id.key },
    deps,
  );
  // The daemon hands a ready draft (no process) from one turn to the next (pipeline.ts handOver).
  if (draft == null || (keepReady && draft.ready !== undefined)) return;
  let kept = '';
  if (draft.ready !== undefined) {
    // A captured change nobody took: reachable, as an interrupted candidate's.
    const ref = interruptedCandidateRef(session.config.id.key, draft.iteration, deps.clock.now());
    await session.worktree.saveRef(ref, draft.ready);
    kept = `; its change kept as ${ref}`;
  }
  await session.store.update({ draft: null });
  const when = draft.ready === undefined ? "during the agent's turn" : 'before its iteration took it';
  deps.report({ kind: 'recovered', iteration: draft.iteration, action: 'rolled-back', detail: `its draft (pipeline) was interrupted ${when}; no row${kept}${note === null ? '' : `; ${note}`}` });
}

/** What steps 1 and 2 need: the recorded state (its worktree path and intent) and the repository. */
export interface LeftoverScope {
  state: Pick<ExperimentState, 'worktree' | 'intent'>;
  gitCommonDir: string;
  projectRoot: string;
  idKey: string;
  /** state.json: the intent's child may be recorded next to it only (loop/child-record.ts). */
  stateFile?: string;
}

/**
 * Steps 1 and 2 (processes, then stale git locks) for the worktree path the state records.
 * Also run before that worktree is moved (experiment/migrate-worktree.ts), with its old path:
 * leftovers carry the old path in their environment and may still be working in it.
 * Returns what happened to the recorded child, or null when there was none.
 */
export async function clearLeftovers(scope: LeftoverScope, deps: LoopDeps): Promise<string | null> {
  const { intent, worktree } = scope.state;
  const child = intent == null ? null : (intent.child ?? (scope.stateFile === undefined ? null : readChildRecord(scope.stateFile, intent)));
  const childNote = intent != null && child !== null ? await killRecordedGroup(child, intent, deps) : null;
  await killUnrecordedLeftovers(worktree, deps);
  await removeStaleLocks({ gitCommonDir: scope.gitCommonDir, projectRoot: scope.projectRoot, worktree, idKey: scope.idKey }, deps);
  return childNote;
}

/**
 * The commit an eval-phase row is about: the intent's candidate. A row whose commit is not
 * that candidate means the state and the ledger disagree: stop rather than guess.
 */
function candidateOf(intent: Intent, row: LedgerRow, session: Session): string | null {
  if (intent.phase !== 'eval') return null;
  if (!intent.candidate.startsWith(row.commit)) {
    throw new AutoresearchError(
      'STATE_CORRUPT',
      `${session.paths.state}: the intent of iteration ${intent.iteration} evaluates ${intent.candidate}, but ${session.paths.results} ` +
        `has a row for that iteration about commit ${row.commit}. Refusing to guess which is right: inspect both files ` +
        `(runs/${String(intent.iteration).padStart(5, '0')}/ holds the iteration's logs).`,
    );
  }
  return intent.candidate;
}

/** The kept metric at full precision from the iteration's result.json when it was written (the row has %.6f). */
function keptMetric(row: LedgerRow, candidate: string | null, session: Session): number | null {
  try {
    const saved = JSON.parse(fs.readFileSync(iterationPaths(session.paths, row.iteration).result, 'utf8')) as { metric?: unknown; commitFull?: unknown };
    if (typeof saved.metric === 'number' && saved.commitFull === candidate && Math.abs(saved.metric - (row.metric ?? NaN)) < 5e-7) return saved.metric;
  } catch {
    // not written yet (killed between the row and the artifact), or unreadable: the row is the truth
  }
  return row.metric;
}

/**
 * A revalidation row written, its state step cut short: the state moves to the keep it
 * restored (result.json's restoreTo; if that was not written yet, the ledger's best after
 * the undo, its commit resolved from the short hash).
 */
/** The ref under which the row's rejected candidate stays reachable (a keep is on the branch). */
async function keepRejectedReachable(session: Session, intent: Intent, row: LedgerRow): Promise<void> {
  if (row.reason === 'revalidation_failed' || row.status === 'keep' || intent.base.startsWith(row.commit)) return;
  const ref = candidateRef(session.config.id.key, row.iteration);
  if (intent.phase === 'eval') {
    // Only the row's own candidate (a mismatch is refused below, by candidateOf).
    if (intent.candidate.startsWith(row.commit)) await session.worktree.saveRef(ref, intent.candidate);
    return;
  }
  // Decided in the agent's turn (scope violation, agent crash): record() writes this ref before
  // the row; should it be missing, the branch, not yet restored, still holds the candidate.
  const tip = await session.worktree.resolveCommit(`refs/heads/${session.store.current.branch}`);
  if (tip !== null && tip.startsWith(row.commit)) await session.worktree.saveRef(ref, tip);
}

async function finishRevalidationRow(session: Session, row: LedgerRow): Promise<void> {
  const saved = readSavedResult(session.paths, row);
  let restoreTo = isMeasuredCommit(saved?.['restoreTo']) ? saved['restoreTo'] : null;
  if (restoreTo === null) {
    const best = summarizeRows(session.ledger.rows(), session.config.direction).bestRow;
    const commit = best === null ? null : await session.project.resolveCommit(best.commit);
    if (best === null || best.metric === null || commit === null) {
      throw new AutoresearchError('STATE_CORRUPT', `${session.paths.results}: revalidation row ${row.iteration} undoes keeps, but no earlier keep with a commit in this repository remains to go back to`);
    }
    restoreTo = { commit, iteration: best.iteration, metric: best.metric, samples: [best.metric] };
  }
  const target = restoreTo;
  await session.store.update((s) => ({ ...s, ...restoredState(target, s.noise), intent: null, digest: ledgerDigest(session.ledger.rows(), session.config.direction, session.paths.results) }));
  await session.worktree.restore(target.commit, session.store.current.branch);
}

function isMeasuredCommit(value: unknown): value is MeasuredCommit {
  const v = value as Partial<MeasuredCommit> | null;
  return typeof v === 'object' && v !== null && typeof v.commit === 'string' && typeof v.metric === 'number' && Array.isArray(v.samples) && v.samples.every((x) => typeof x === 'number');
}

/** Kills the recorded child's group if it is really still ours; says what happened, for the report. */
async function killRecordedGroup(child: ChildRecord, intent: Intent, deps: LoopDeps): Promise<string> {
  const what = `${intent.phase} process group ${child.pgid} (pid ${child.pid})`;
  if (!isSameGroupAlive(child)) return `${what} not signalled: ${whyNotOurs(child)}`;
  const gone = await terminateGroup(child.pgid, { graceMs: KILL_GRACE_MS, stillOurs: () => isSameGroupAlive(child), sleep: (ms) => deps.clock.sleep(ms) });
  const message = gone ? `killed the leftover ${what} of iteration ${intent.iteration}` : `the leftover ${what} of iteration ${intent.iteration} survived SIGKILL`;
  deps.report({ kind: 'warning', message });
  return message;
}

function whyNotOurs(child: ChildRecord): string {
  if (child.bootId !== bootId()) return 'recorded in another boot';
  const stat = readProcStat(child.pid);
  if (stat !== null && stat.startTime !== child.startTime) return 'its pid now belongs to another process';
  return 'it is gone';
}

/** Groups of processes that inherited this experiment's worktree variable and are not ours. */
async function killUnrecordedLeftovers(worktree: string, deps: LoopDeps): Promise<void> {
  const tag = worktreeTag(worktree);
  const killed = await killTaggedGroups(tag, { graceMs: KILL_GRACE_MS, sleep: (ms) => deps.clock.sleep(ms) });
  for (const message of describeKilled(killed, 'leftover {group} of an earlier run', tag)) deps.report({ kind: 'warning', message });
}

async function removeStaleLocks(scope: ExperimentGitScope, deps: LoopDeps): Promise<void> {
  const { stillRunning } = await removeStaleGitLocks(
    scope,
    {
      onRemoved: (file) => deps.report({ kind: 'warning', message: `removed stale git lock ${file} (left by a killed git process; no live process holds it)` }),
      onKept: (file, reason) => deps.report({ kind: 'warning', message: `kept git lock ${file}: ${reason}` }),
    },
  );
  if (stillRunning !== null) deps.report({ kind: 'warning', message: `${stillRunning} is still running after the wait; continuing` });
}

/** Temp files of durable writes whose writer is dead: a kill between write and rename leaves them. */
function removeDeadWritersTempFiles(session: Session, deps: LoopDeps): void {
  let names: string[];
  try {
    names = fs.readdirSync(session.paths.dir);
  } catch {
    return;
  }
  const removed: string[] = [];
  for (const name of names) {
    const writer = Number(TEMP_FILE.exec(name)?.[1] ?? NaN);
    // A live writer (e.g. `autoresearch resume` saving state.json right now) keeps its file.
    if (!Number.isInteger(writer) || writer <= 0 || writer === process.pid || pidExists(writer)) continue;
    try {
      fs.rmSync(path.join(session.paths.dir, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove: harmless, it is git-ignored
    }
  }
  if (removed.length > 0) deps.report({ kind: 'warning', message: `removed ${removed.length} temp file(s) of writes cut short by a kill in ${session.paths.dir}: ${removed.join(', ')}` });
}

function pidExists(pid: number): boolean {
  // A zombie (PID 1 here may never reap it) writes nothing more: dead.
  const stat = readProcStat(pid);
  if (stat !== null && (stat.state === 'Z' || stat.state === 'X')) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: someone else's, alive
  }
}
