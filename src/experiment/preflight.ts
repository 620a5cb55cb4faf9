/**
 * What must hold before an experiment's first row, checked at start (`run`, `run --dry-run`,
 * each daemon turn) so a night is not spent writing rows that cannot mean anything:
 *
 *   - every `target` and `scope` entry matches a file of the commit the worktree starts from
 *     (the last keep, or the project's HEAD for a new experiment); otherwise every change
 *     is a scope_violation;
 *   - the agent (and agent_fallback) can be started: a built-in CLI is on PATH, a command
 *     whose first word is a plain program name finds it on PATH (an absolute path must be an
 *     executable file). Shell builtins, assignments, relative paths (resolved in the worktree)
 *     and anything with shell syntax are left to the shell;
 *   - with `executor: slurm`, the cluster answers and its nodes see the worktree and the
 *     experiment directory (slurm-preflight.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AgentSpec, ExperimentConfig } from '../config/types.js';
import { AutoresearchError } from '../core/errors.js';
import { findOnPath, isExecutableFile } from '../process/find-on-path.js';
import { experimentPaths } from './paths.js';
import { loadState } from './state.js';
import { openProject } from '../git/project-repo.js';
import { slurmPreflightProblems } from './slurm-preflight.js';
import { worktreePath } from './worktree-location.js';
import { filesAtCommit, unmatchedEntries } from './target-check.js';

const INSTALL_HINT: Record<string, string> = {
  claude: 'npm install -g @anthropic-ai/claude-code',
  codex: 'npm install -g @openai/codex',
  gemini: 'npm install -g @google/gemini-cli',
};

/** Words the shell runs itself (or that start shell syntax): never looked up on PATH. */
const SHELL_WORDS = new Set([
  '.', ':', '[', '[[', '!', '{', '(', 'alias', 'bg', 'break', 'builtin', 'case', 'cd', 'command', 'continue', 'declare', 'echo', 'eval',
  'exec', 'exit', 'export', 'false', 'fg', 'for', 'function', 'getopts', 'hash', 'if', 'jobs', 'kill', 'let', 'local', 'printf', 'pwd',
  'read', 'readonly', 'return', 'select', 'set', 'shift', 'source', 'test', 'time', 'times', 'trap', 'true', 'type', 'typeset', 'ulimit',
  'umask', 'unalias', 'unset', 'until', 'wait', 'while',
]);

export interface PreflightOptions {
  /**
   * Check the cluster of executor: slurm (default true). The daemon checks it when it starts an
   * experiment and after a config edit, not at every turn: a controller restarting for a minute
   * between two iterations must not block an experiment for the night.
   */
  cluster?: boolean;
}

/** Every problem found, one located line each (empty: the experiment may start). */
export async function preflightProblems(config: ExperimentConfig, projectRoot: string, env: NodeJS.ProcessEnv, opts: PreflightOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  const where = (key: string) => `${config.file}${lineOf(config.file, key)}: ${key}`;

  const start = await startCommit(config, projectRoot);
  const files = await filesAtCommit(projectRoot, start.rev);
  if (files !== null) {
    const entries: Array<[string, readonly string[]]> = [['target', config.target]];
    // scope defaults to the target: checked once.
    if (config.allowedPaths.join(',') !== config.target.join(',')) entries.push(['scope', config.allowedPaths]);
    for (const [key, list] of entries) {
      for (const entry of unmatchedEntries(files, list)) {
        problems.push(
          `${where(key)}: expected \`${entry}\` to match at least one file committed at ${start.what}, found none ` +
            `(every change would be discarded as scope_violation); fix the path or glob, or commit the file first`,
        );
      }
    }
  }

  for (const [key, spec] of [['agent', config.agent], ['agent_fallback', config.agentFallback]] as const) {
    const missing = spec === null ? null : missingAgentProgram(spec, env);
    if (missing !== null) problems.push(`${where(key)}: ${missing}`);
  }

  if (config.executor === 'slurm' && opts.cluster !== false) {
    const paths = [{ what: 'the experiment directory', path: config.dir }];
    // Where openSession puts the worktree (it moves one recorded elsewhere there); a project or
    // AUTORESEARCH_WORKTREES it refuses is reported by openSession itself.
    const worktree = await openProject(projectRoot).then((project) => worktreePath(project, config.id.key, env)).catch(() => null);
    if (worktree !== null) paths.unshift({ what: 'the worktree', path: worktree });
    for (const problem of await slurmPreflightProblems({ slurmArgs: config.slurmArgs, paths, env })) problems.push(`${where(problem.key)}: ${problem.message}`);
  }
  return problems;
}

/** Throws one error listing every problem (exit 1), before anything is written. */
export async function assertPreflight(config: ExperimentConfig, projectRoot: string, env: NodeJS.ProcessEnv, opts: PreflightOptions = {}): Promise<void> {
  const problems = await preflightProblems(config, projectRoot, env, opts);
  if (problems.length === 0) return;
  throw new AutoresearchError('BAD_INPUT', [`experiment ${config.id.key} cannot start (nothing was run):`, ...problems.map((p) => `  ${p}`)].join('\n'));
}

/** The commit the worktree starts from: the recorded last keep, else HEAD. */
async function startCommit(config: ExperimentConfig, projectRoot: string): Promise<{ rev: string; what: string }> {
  const state = await loadState(experimentPaths(config.dir).state).catch(() => null); // a bad state.json is reported by openSession
  if (state !== null) return { rev: state.lastKept.commit, what: `the last kept commit ${state.lastKept.commit.slice(0, 7)}` };
  return { rev: 'HEAD', what: 'HEAD' };
}

/** Why the agent's program cannot start, or null when it can (or the shell must decide). */
export function missingAgentProgram(spec: AgentSpec, env: NodeJS.ProcessEnv): string | null {
  if (spec.kind === 'none') return null;
  if (spec.kind === 'builtin') {
    if (findOnPath(spec.name, env) !== null) return null;
    return `expected the \`${spec.name}\` CLI on PATH, found none (PATH=${env.PATH ?? ''}); install it (${INSTALL_HINT[spec.name]}) or set another agent`;
  }
  const word = plainFirstWord(spec.command);
  if (word === null) return null;
  if (word.includes('/')) {
    if (!path.isAbsolute(word) || isExecutableFile(word)) return null; // relative: resolved in the worktree
    return `expected \`${word}\` (the program of \`${spec.command}\`) to be an executable file, found ${fs.existsSync(word) ? 'a file that is not executable' : 'nothing there'}`;
  }
  if (findOnPath(word, env) !== null) return null;
  return `expected the program \`${word}\` (the first word of \`${spec.command}\`) on PATH, found none (PATH=${env.PATH ?? ''}); install it or fix the command`;
}

/** The command's first word when it is a plain program name or path; null when the shell must decide. */
export function plainFirstWord(command: string): string | null {
  const match = /^\s*([^\s;&|<>()'"`$\\*?[\]{}~#!=]+)(?=\s|$)/.exec(command);
  const word = match?.[1];
  if (word === undefined || SHELL_WORDS.has(word)) return null;
  return word;
}

/** ":<line>" of `key:` in the config file, or "" when it cannot be read. */
function lineOf(file: string, key: string): string {
  try {
    const index = fs.readFileSync(file, 'utf8').split('\n').findIndex((line) => line.trimStart().startsWith(`${key}:`));
    return index < 0 ? '' : `:${index + 1}`;
  } catch {
    return '';
  }
}
