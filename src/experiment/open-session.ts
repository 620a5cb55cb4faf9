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
import { backUpBranchWork, describeBackup } from '../git/branch-backup.js';
import { openProject, type ProjectRepo } from '../git/project-repo.js';
import type { Worktree } from '../git/worktree.js';
import { Ledger } from '../ledger/results-tsv.js';
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
      onRepair: (info) => deps.report({ kind: 'ledger-repaired', ...info }),
      onUpgrade: (info) => deps.report({ kind: 'ledger-upgraded', ...info }),
    });
    const loaded = await loadState(paths.state);
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
    if (created && store.current.setupDone) await store.update({ setupDone: false }); // a fresh worktree needs its setup again
    const openedLedger = ledger;
    return {
      config,
      paths,
      project,
      worktree: project.worktree(wantedWorktree),
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
 * First run of an experiment. A ledger written by the seed skill is continued: its best
 * keep becomes the starting point when that commit still exists, so no baseline is re-run.
 */
async function initialState(config: ExperimentConfig, project: ProjectRepo, worktree: string, rows: readonly LedgerRow[], deps: LoopDeps): Promise<ExperimentState> {
  const now = new Date(deps.clock.now()).toISOString();
  let lastKept: KeptCommit = { commit: await project.head(), metric: null, iteration: null };
  const lastKeep = [...rows].reverse().find((r) => r.status === 'keep' && r.metric !== null);
  if (lastKeep !== undefined) {
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
