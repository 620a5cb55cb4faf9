import path from 'node:path';

/**
 * Where every file of one experiment lives. The experiment directory is in the user's
 * checkout (project scope) or in $AUTORESEARCH_HOME (user scope); everything in it except
 * config.cfg, program.md and .gitignore is daemon-owned and ignored by git.
 */
export interface ExperimentPaths {
  dir: string;
  config: string;
  gitignore: string;
  results: string;
  state: string;
  lock: string;
  log: string;
  setupLog: string;
  runs: string;
  /** Cluster failures that were not the candidate's fault (preemption, node failure): one JSON line each (issue 12). */
  infrastructure: string;
  /** The hooks the agent's git runs with (the reference-transaction guard of git/ref-guard.ts). */
  gitHooks: string;
}

/** Files the daemon owns inside an experiment directory; written to its .gitignore. */
export const DAEMON_OWNED = ['results.tsv', 'results.tsv.*', 'state.json', 'state.json.*', 'run.lock', 'autoresearch.log', 'setup.log', 'pause.request', 'resume.request', 'runs/', 'infrastructure.jsonl', 'report/', 'git-hooks/', 'archive/', '*.tmp'] as const;

export function experimentPaths(dir: string): ExperimentPaths {
  return {
    dir,
    config: path.join(dir, 'config.cfg'),
    gitignore: path.join(dir, '.gitignore'),
    results: path.join(dir, 'results.tsv'),
    state: path.join(dir, 'state.json'),
    lock: path.join(dir, 'run.lock'),
    log: path.join(dir, 'autoresearch.log'),
    setupLog: path.join(dir, 'setup.log'),
    runs: path.join(dir, 'runs'),
    infrastructure: path.join(dir, 'infrastructure.jsonl'),
    gitHooks: path.join(dir, 'git-hooks'),
  };
}

/** Per-iteration artifacts: prompt, agent output, evaluation log, result record. */
export interface IterationPaths {
  dir: string;
  prompt: string;
  agentStdout: string;
  agentStderr: string;
  evalLog: string;
  result: string;
}

export function iterationPaths(paths: ExperimentPaths, iteration: number): IterationPaths {
  return runPaths(path.join(paths.runs, String(iteration).padStart(5, '0')));
}

/**
 * Where pipeline's draft of `iteration` writes its prompt and agent output (loop/draft.ts):
 * beside the iteration's directory until the iteration takes it (nothing else that uses
 * runs/<n>/ meanwhile, a revalidation, touches it).
 */
export function draftPaths(paths: ExperimentPaths, iteration: number): IterationPaths {
  return runPaths(`${iterationPaths(paths, iteration).dir}.draft`);
}

function runPaths(dir: string): IterationPaths {
  return {
    dir,
    prompt: path.join(dir, 'prompt.md'),
    agentStdout: path.join(dir, 'agent.stdout.log'),
    agentStderr: path.join(dir, 'agent.stderr.log'),
    evalLog: path.join(dir, 'eval.log'),
    result: path.join(dir, 'result.json'),
  };
}

/** The experiment's branch, and the ref namespace that keeps rejected candidates reachable. */
export function branchName(idKey: string): string {
  return `autoresearch/${idKey}`;
}

export function candidateRef(idKey: string, iteration: number): string {
  return `refs/autoresearch/${idKey}/${iteration}`;
}

/** A candidate whose iteration was interrupted (its number is used again by the retry). */
export function interruptedCandidateRef(idKey: string, iteration: number, at: number): string {
  return `refs/autoresearch/${idKey}/interrupted/${iteration}-${at}`;
}

/** The experiment branch's tip before it was moved to a keep that is not its descendant (adopted from the ledger). */
export function replacedBranchRef(idKey: string, iteration: number, at: number): string {
  return `refs/autoresearch/${idKey}/replaced/${iteration}-${at}`;
}

/** The branch's tip before `autoresearch reset --to <iteration>` moved it back (the undone keeps). */
export function resetBackupRef(idKey: string, iteration: number, at: number): string {
  return `refs/autoresearch/${idKey}/reset/${iteration}-${at}`;
}

/** Where `init --force` moves the old run's candidate refs (its iteration numbers are given out again). */
export function archivedCandidatesPrefix(idKey: string, at: number): string {
  return `refs/autoresearch/${idKey}/archive/${at}/`;
}

/** The branch's tip before `autoresearch rebase` moved the experiment onto the project's HEAD. */
export function rebaseBackupRef(idKey: string, at: number): string {
  return `refs/autoresearch/${idKey}/rebase/${at}`;
}

// The worktree's path: experiment/worktree-location.ts (it depends on the environment and the filesystem).
