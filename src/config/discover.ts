/**
 * Where experiments live and which ones exist: `<project>/.autoresearch/<domain>/<name>/`
 * (project scope) and `$AUTORESEARCH_HOME/<domain>/<name>/` (user scope, default
 * ~/.autoresearch). An experiment exists when its directory holds a config.cfg.
 */
import type { Stats } from 'node:fs';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { AutoresearchError } from '../core/errors.js';
import { experimentPaths } from '../experiment/paths.js';
import { parseExperimentId, tryParseExperimentId } from './experiment-id.js';
import type { ExperimentId, Scope } from './types.js';
import { canonicalPath } from '../fs/canonical-path.js';

export interface DiscoveredExperiment {
  id: ExperimentId;
  scope: Scope;
  /** Absolute path of the experiment directory. */
  dir: string;
}

export const PROJECT_DIR_NAME = '.autoresearch';

export function autoresearchHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.AUTORESEARCH_HOME;
  if (home !== undefined && home !== '') return path.resolve(home);
  return path.join(env.HOME || os.homedir(), PROJECT_DIR_NAME);
}

/**
 * The project root for a command run in `start` (the current directory), found the way git
 * finds its repository: the nearest directory at or above `start` that holds `.autoresearch/`,
 * not looking past the git toplevel (the nearest directory with a `.git`), which is the root
 * when none does (so `init` in a subdirectory writes at the top of the repository). Outside a
 * repository: the nearest `.autoresearch/` above, else `start`. The user-scope directory
 * (~/.autoresearch) never makes its parent a project.
 */
export function findProjectRoot(start: string, env: NodeJS.ProcessEnv = process.env): string {
  const userScope = canonicalPath(autoresearchHome(env));
  let dir = path.resolve(start);
  for (;;) {
    const marker = path.join(dir, PROJECT_DIR_NAME);
    if (isDirectorySync(marker) && canonicalPath(marker) !== userScope) return dir;
    if (fsSync.existsSync(path.join(dir, '.git'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

/** `--path DIR` as given: it must be an existing directory (a typo is an error, never "no experiments"). */
export function checkProjectPath(given: string): string {
  const resolved = path.resolve(given);
  let stats: Stats;
  try {
    stats = fsSync.statSync(resolved);
  } catch {
    throw new AutoresearchError('BAD_INPUT', `--path ${given}: no such directory`);
  }
  if (!stats.isDirectory()) throw new AutoresearchError('BAD_INPUT', `--path ${given}: expected a directory, found a file`);
  return resolved;
}

function isDirectorySync(dir: string): boolean {
  try {
    return fsSync.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** The root that holds `<domain>/<name>/` directories for a scope. */
export function scopeRoot(projectRoot: string, scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  return scope === 'project' ? path.resolve(projectRoot, PROJECT_DIR_NAME) : autoresearchHome(env);
}

export function experimentDir(projectRoot: string, id: ExperimentId, scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(scopeRoot(projectRoot, scope, env), id.domain, id.name);
}

/** Every experiment in both scopes, sorted by id (project scope first for equal ids). */
export async function discoverExperiments(projectRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<DiscoveredExperiment[]> {
  const found: DiscoveredExperiment[] = [];
  for (const scope of await distinctScopes(projectRoot, env)) {
    const root = scopeRoot(projectRoot, scope, env);
    // Root-level files such as the seed skill's config.yaml and .gitignore are not
    // directories with valid domain names, so they are skipped like any other stray entry.
    for (const domain of await listDirectories(root)) {
      for (const name of await listDirectories(path.join(root, domain))) {
        const id = tryParseExperimentId(`${domain}/${name}`);
        if (id === null) continue;
        const dir = path.join(root, domain, name);
        if (await isFile(experimentPaths(dir).config)) found.push({ id, scope, dir });
      }
    }
  }
  return found.sort((a, b) => compare(a.id.key, b.id.key) || compare(a.scope, b.scope));
}

/**
 * The experiment named `idText`: project scope, else user scope. The same id in both is
 * refused rather than guessed, since the two may have different configs and ledgers.
 */
export async function resolveExperiment(projectRoot: string, idText: string, env: NodeJS.ProcessEnv = process.env): Promise<DiscoveredExperiment> {
  const id = parseExperimentId(idText);
  const scopes = await distinctScopes(projectRoot, env);
  const candidates: DiscoveredExperiment[] = [];
  for (const scope of scopes) {
    const dir = experimentDir(projectRoot, id, scope, env);
    if (await isFile(experimentPaths(dir).config)) candidates.push({ id, scope, dir });
  }
  const [first, second] = candidates;
  if (first !== undefined && second !== undefined) {
    throw new AutoresearchError(
      'BAD_INPUT',
      `experiment ${id.key}: expected it in one scope, found it in both: ${experimentPaths(first.dir).config} (project) and ${experimentPaths(second.dir).config} (user); rename or remove one of them`,
    );
  }
  if (first !== undefined) return first;

  const searched = scopes.map((scope) => experimentPaths(experimentDir(projectRoot, id, scope, env)).config);
  const existing = [...new Set((await discoverExperiments(projectRoot, env)).map((e) => e.id.key))];
  let detail: string;
  if (existing.length === 0) {
    detail = `no experiments exist yet; create one with \`autoresearch init ${id.key} --target FILE --eval CMD --metric NAME\``;
  } else {
    const best = closest(id.key, existing);
    const suggestion = distance(id.key, best) <= Math.max(2, Math.floor(best.length / 3)) ? ` (did you mean \`${best}\`?)` : '';
    detail = `existing experiments: ${existing.join(', ')}${suggestion}`;
  }
  throw new AutoresearchError('EXPERIMENT_NOT_FOUND', `experiment ${id.key}: expected a config file at ${searched.join(' or ')}, found none; ${detail}`);
}

/** The experiment whose state.json, results.tsv or config.cfg changed last (for `run --resume`). */
export async function mostRecentlyActive(experiments: readonly DiscoveredExperiment[]): Promise<DiscoveredExperiment | null> {
  let best: DiscoveredExperiment | null = null;
  let bestTime = -Infinity;
  for (const experiment of experiments) {
    const paths = experimentPaths(experiment.dir);
    const times = await Promise.all([paths.state, paths.results, paths.config].map(mtime));
    const latest = Math.max(...times);
    if (latest > bestTime) {
      best = experiment;
      bestTime = latest;
    }
  }
  return best;
}

/**
 * The scopes to look in. When the project's .autoresearch is the user-scope directory
 * itself (a project at ~), scanning both would report every experiment twice.
 */
async function distinctScopes(projectRoot: string, env: NodeJS.ProcessEnv): Promise<Scope[]> {
  const [project, user] = await Promise.all([realpathOrSelf(scopeRoot(projectRoot, 'project', env)), realpathOrSelf(scopeRoot(projectRoot, 'user', env))]);
  return project === user ? ['project'] : ['project', 'user'];
}

async function realpathOrSelf(dir: string): Promise<string> {
  try {
    return await fs.realpath(dir);
  } catch {
    return dir; // does not exist (yet): compare the paths as given
  }
}

/** Names of the subdirectories of `dir` (following symlinks); none if `dir` does not exist. */
async function listDirectories(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
  const checks = await Promise.all(names.map(async (name) => ((await statOrNull(path.join(dir, name)))?.isDirectory() ? name : null)));
  return checks.filter((name): name is string => name !== null);
}

async function isFile(file: string): Promise<boolean> {
  return (await statOrNull(file))?.isFile() ?? false;
}

async function mtime(file: string): Promise<number> {
  return (await statOrNull(file))?.mtimeMs ?? -Infinity;
}

async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await fs.stat(file);
  } catch {
    return null; // missing, a dangling symlink or unreadable: not an experiment entry
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
