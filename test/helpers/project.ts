/**
 * A user project for loop tests: a git repo whose "model" is value.txt; the evaluation prints
 * `score: <value>`, so a plan of shell edits decides each iteration's metric exactly.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { git, makeRepo, makeTempDir, writeFiles } from './git-repo.js';

export const PLAN_AGENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/agents/plan-agent.sh');

/** Env for the CLI child: PATH and HOME only, plus what the test adds (no global git identity). */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL ?? '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    AUTORESEARCH_HOME: process.env.AUTORESEARCH_HOME ?? '/nonexistent',
    // Set by the vitest setup file; a child never falls back to ~/.local/state.
    AUTORESEARCH_WORKTREES: requiredEnv('AUTORESEARCH_WORKTREES'),
    ...extra,
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: test/helpers/isolate-git-config.ts (vitest setupFiles) sets it`);
  return value;
}

export interface TestProject {
  root: string;
  expDir: string;
  id: string;
  planFile: string;
  env: Record<string, string>;
  /** Read results.tsv. */
  results(): Promise<string>;
  /** results.tsv rows as objects (header → value). */
  rows(): Promise<Record<string, string>[]>;
  worktree(): Promise<string>;
}

export async function makeProject(opts: {
  config?: Record<string, string>;
  plan?: string[];
  files?: Record<string, string>;
  id?: string;
} = {}): Promise<TestProject> {
  const root = await makeRepo({
    'value.txt': '10\n',
    'evaluate.sh': 'v=$(cat value.txt)\necho "running"\necho "score: $v"\n',
    'other.txt': 'not in scope\n',
    '.gitignore': 'ignored/\n',
    ...opts.files,
  });
  const id = opts.id ?? 'test/exp';
  const expDir = path.join(root, '.autoresearch', ...id.split('/'));
  const planDir = await makeTempDir('ar-plan-');
  const planFile = path.join(planDir, 'plan.txt');
  await fs.writeFile(planFile, (opts.plan ?? []).join('\n') + '\n');
  const config: Record<string, string> = {
    target: 'value.txt',
    evaluate_cmd: 'sh evaluate.sh',
    metric: 'score',
    metric_direction: 'lower',
    time_budget: '10s',
    agent: `sh ${PLAN_AGENT}`,
    // Plans that run out change nothing: keep the no-change pause (5s, doubling) out of the way.
    no_change_backoff: '20ms',
    ...opts.config,
  };
  await writeFiles(expDir, {
    'config.cfg': Object.entries(config)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n') + '\n',
  });
  const env = cliEnv({ PLAN_FILE: planFile });
  const results = () => fs.readFile(path.join(expDir, 'results.tsv'), 'utf8');
  return {
    root,
    expDir,
    id,
    planFile,
    env,
    results,
    async rows() {
      const [header, ...lines] = (await results()).trimEnd().split('\n');
      const cols = (header ?? '').split('\t');
      return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i] ?? `col${i}`, v])));
    },
    async worktree() {
      const state = JSON.parse(await fs.readFile(path.join(expDir, 'state.json'), 'utf8')) as { worktree: string };
      return state.worktree;
    },
  };
}

export { git };
