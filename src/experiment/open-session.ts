/**
 * Opening an experiment for a run: everything that must hold before the first iteration.
 * Order matters: lock first (one runner), then the ledger (repairs a torn tail), then
 * state.json (never silently recreated), then the worktree (moved first when state.json
 * records another place, see migrate-worktree.ts).
 */
import type { Clock } from '../core/clock.js';
import type { SlotPool } from '../core/slot-pool.js';
import { AutoresearchError } from '../core/errors.js';
import type { ExperimentConfig } from '../config/types.js';
import { checkProgramFile } from '../config/program-file.js';
import { backUpBranchWork, describeBackup } from '../git/branch-backup.js';
import { openProject, type ProjectRepo } from '../git/project-repo.js';
import type { Worktree } from '../git/worktree.js';
import fs from 'node:fs';
import path from 'node:path';
import { keepChainOf } from '../ledger/keep-chain.js';
import { Ledger, type ReplacedInfo } from '../ledger/results-tsv.js';
import type { LedgerRow } from '../ledger/types.js';
import type { Reporter } from '../loop/events.js';
import type { ProcessRunner } from '../process/types.js';
import { ensureExperimentGitignore } from './gitignore.js';
import { ledgerDigest } from './ledger-digest.js';
import { migrateWorktree } from './migrate-worktree.js';
import { branchName, experimentPaths, type ExperimentPaths } from './paths.js';
import { acquireLock } from './run-lock.js';
import { loadState, STATE_VERSION, type ExperimentState, type KeptCommit } from './state.js';
import { StateStore } from './state-store.js';
import { prepareWorktreeParent, worktreePath } from './worktree-location.js';

export interface LoopDeps {
  runner: ProcessRunner;
  clock: Clock;
  report: Reporter;
  /** The environment children start from (secrets policy is applied on top). */
  env: NodeJS.ProcessEnv;
  /** Evaluation slots shared by every experiment of a daemon (absent: no limit). */
  evalSlots?: SlotPool<string>;
}

export interface Session {
  config: ExperimentConfig;
  paths: ExperimentPaths;
  project: ProjectRepo;
  worktree: Worktree;
  ledger: Ledger;
  store: StateStore;
  /** Git identity for commits on a machine that has none configured. */
  gitIdentity: Record<string, string>;
  worktreeCreated: boolean;
  close(): Promise<void>;
}

export async function openSession(config: ExperimentConfig, projectRoot: string, deps: LoopDeps, command: string): Promise<Session> {
  const paths = experimentPaths(config.dir);
  checkProgramFile(config); // before any write: a bad `program:` would fail every iteration
  const project = await openProject(projectRoot);
  // Before anything is written: a badly set AUTORESEARCH_WORKTREES is refused here.
  const wantedWorktree = worktreePath(project, config.id.key, deps.env);
  // Before any write (gitignore, lock, ledger upgrade, state): the branch must not be
  // checked out elsewhere, e.g. in the user's checkout by the seed skill's setup. Our own
  // worktree may be at its recorded place or already moved to the wanted one.
  const saved = await loadState(paths.state);
  await project.assertBranchFree(saved?.branch ?? branchName(config.id.key), [wantedWorktree, ...(saved === null ? [] : [saved.worktree])]);
  await ensureExperimentGitignore(paths);
  const lock = await acquireLock(paths.lock, {
    what: `experiment ${config.id.key}`,
    command,
    onStale: (owner) => deps.report({ kind: 'stale-lock-recovered', file: paths.lock, pid: owner.pid }),
  });
  let ledger: Ledger | null = null;
  try {
    ledger = await Ledger.open(paths.results, {
      guards: config.guards.map((guard) => guard.metric),
      onRepair: (info) => deps.report({ kind: 'ledger-repaired', ...info }),
      onUpgrade: (info) => deps.report({ kind: 'ledger-upgraded', ...info }),
      onReplaced: (info) => deps.report({ kind: 'warning', message: describeReplacement(info) }),
    });
    const loaded = await loadState(paths.state);
    reserveUsedIterations(ledger, loaded, paths, deps);
    const initial = loaded ?? (await initialState(config, project, wantedWorktree, ledger.rows(), deps));
    if (loaded === null) {
      // A fresh start on a branch that holds an earlier run's work: save it before it moves.
      const backup = await backUpBranchWork(project.root, config.id.key, initial.branch, initial.lastKept.commit, deps.clock.now());
      if (backup !== null) deps.report({ kind: 'warning', message: describeBackup(initial.branch, backup) });
    }
    if (initial.projectRoot !== project.root) {
      throw new AutoresearchError(
        'BAD_INPUT',
        `${paths.state}: experiment ${config.id.key} belongs to the project ${initial.projectRoot}, but --path is ${project.root}`,
      );
    }
    const store = new StateStore(paths.state, initial, deps.clock);
    // The digest describes the ledger as it is now (recovery and rebuilds included).
    await store.update({ digest: ledgerDigest(ledger.rows(), config.direction, paths.results) });
    await migrateWorktree(store, project, config.id.key, wantedWorktree, deps); // a worktree of an older layout moves first
    prepareWorktreeParent(wantedWorktree, deps.env);
    const { created } = await project.ensureWorktree({ path: wantedWorktree, branch: initial.branch, startPoint: initial.lastKept.commit });
    if (created && store.current.setupDone) await store.update({ setupDone: false, setupOutput: [] }); // a fresh worktree needs its setup again
    const worktree = project.worktree(wantedWorktree);
    worktree.keepSetupOutput(store.current.setupOutput ?? []); // before any restore (recovery's included)
    const openedLedger = ledger;
    return {
      config,
      paths,
      project,
      worktree,
      ledger,
      store,
      gitIdentity: project.identityEnv,
      worktreeCreated: created,
      async close() {
        await store.flush().catch(() => undefined); // already reported by whoever awaited it
        await openedLedger.close();
        await lock.release();
      },
    };
  } catch (error) {
    await ledger?.close();
    await lock.release();
    throw error;
  }
}

/**
 * Rows removed from results.tsv (by hand, or a ledger replaced while no run held it) must not
 * free their iteration numbers: numbering goes on past every iteration state.json or a
 * runs/<n>/result.json records, and the user is told how to get the rows back.
 */
function reserveUsedIterations(ledger: Ledger, state: ExperimentState | null, paths: ExperimentPaths, deps: LoopDeps): void {
  const fromRows = ledger.nextIteration();
  const recorded = recordedIterations(paths.runs);
  const missing = recorded.filter((n) => !ledger.rows().some((r) => r.iteration === n));
  // An intent's iteration wrote no row yet: it is numbered again (its run directory is set aside).
  const next = Math.max(fromRows, (state?.lastKept.iteration ?? -1) + 1, state?.intent?.iteration ?? 0, (recorded.at(-1) ?? -1) + 1);
  ledger.reserveBelow(next);
  if (missing.length > 0) {
    deps.report({
      kind: 'warning',
      message:
        `${paths.results} has no row for iteration${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (recorded in ${paths.runs}/): ` +
        `rows were removed; numbering continues at ${next}, and \`autoresearch results <id> --rebuild\` restores them`,
    });
  }
}

/** Iterations with a runs/<n>/result.json (finished ones), ascending. */
function recordedIterations(runs: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(runs);
  } catch {
    return []; // no runs/ yet
  }
  return names
    .filter((name) => /^\d+$/.test(name) && fs.existsSync(path.join(runs, name, 'result.json')))
    .map(Number)
    .sort((a, b) => a - b);
}

function describeReplacement(info: ReplacedInfo): string {
  const what = info.how === 'deleted' ? 'was deleted during the run; written again from the rows this run holds' : `was ${info.how} during the run; appending to the file now at that path`;
  const removed = info.removed.length === 0 ? '' : `; rows of iteration${info.removed.length === 1 ? '' : 's'} ${info.removed.join(', ')} were removed from it (their numbers are not reused; \`results <id> --rebuild\` restores them)`;
  const added = info.added === 0 ? '' : `; ${info.added} row${info.added === 1 ? '' : 's'} written by someone else read`;
  return `${info.file} ${what}${removed}${added}`;
}

/**
 * First run of an experiment. A ledger written by the seed skill is continued: its best
 * keep becomes the starting point when that commit still exists, so no baseline is re-run.
 */
async function initialState(config: ExperimentConfig, project: ProjectRepo, worktree: string, rows: readonly LedgerRow[], deps: LoopDeps): Promise<ExperimentState> {
  const now = new Date(deps.clock.now()).toISOString();
  let lastKept: KeptCommit = { commit: await project.head(), metric: null, iteration: null };
  const lastKeep = keepChainOf(rows).best; // a keep a revalidation undid is not the best
  if (lastKeep !== null) {
    const commit = await project.resolveCommit(lastKeep.commit);
    if (commit !== null) lastKept = { commit, metric: lastKeep.metric, iteration: lastKeep.iteration };
    else
      deps.report({
        kind: 'warning',
        message: `results.tsv's last keep (${lastKeep.commit}) is not in this repository; starting from HEAD with a new baseline`,
      });
  }
  let trailingCrashes = 0;
  for (let i = rows.length - 1; i >= 0 && rows[i]?.status === 'crash'; i--) trailingCrashes++;
  return {
    version: STATE_VERSION,
    id: config.id.key,
    projectRoot: project.root,
    worktree,
    branch: branchName(config.id.key),
    lastKept,
    consecutiveCrashes: trailingCrashes,
    setupDone: false,
    halt: null,
    exhausted: {},
    intent: null,
    firstStartedAt: now,
    updatedAt: now,
  };
}
