/**
 * `autoresearch init`: writes a new experiment directory — config.cfg (seed keys first, in
 * the seed skill's order), a program.md template, the results.tsv header, a .gitignore for
 * the daemon-owned files and, with an evaluator, evaluate.mjs.
 *
 * Nothing is half-written: every input is checked (and the config text parsed back) before
 * the first write, each file is written to a temp file and renamed, and config.cfg — the
 * file that makes the experiment exist — is written last, so an interrupted init can simply
 * be run again. An id that exists is refused with what it has (existing-experiment.ts);
 * `force` sets the old experiment aside first, under its run lock.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { experimentDir } from '../config/discover.js';
import { DURATION_EXPECTED, parseDuration } from '../config/durations.js';
import { CONFIG_KEYS, KEYS, SEED_KEYS, type ConfigKey } from '../config/keys.js';
import { defaultMetricGrep, parseConfigText, seedBudgetMinutes } from '../config/parse-config.js';
import type { Direction, ExperimentConfig, ExperimentId, Scope } from '../config/types.js';
import { AutoresearchError, ConfigError, type ConfigIssue } from '../core/errors.js';
import { readFileIfExists, writeFileDurable } from '../fs/durable.js';
import { LEDGER_COLUMNS } from '../ledger/types.js';
import { EVALUATOR_FILE, findEvaluator, listEvaluators, type EvaluatorInfo } from './evaluators.js';
import { ensureExperimentGitignore } from './gitignore.js';
import { backUpBranchWork, describeBackup } from '../git/branch-backup.js';
import { describeExisting, existingMessage, lockForReplace, setAsideExperiment, type SetAside } from './existing-experiment.js';
import { branchName, experimentPaths } from './paths.js';
import { assertTargetsExist, filesAtCommit } from './target-check.js';
import { worktreePath } from './worktree-location.js';
import { openProject } from '../git/project-repo.js';
import { scopeMatcher } from '../loop/scope.js';

export { listEvaluators, type EvaluatorInfo };

export interface InitExperimentOptions {
  projectRoot: string;
  id: ExperimentId;
  /** Where the experiment lives: the project's .autoresearch/ or $AUTORESEARCH_HOME (`init --location`). */
  location: Scope;
  /** Comma-separated paths or globs, as in config.cfg. */
  target: string;
  /** The config key `scope` (`init --allow`): paths or globs the agent may change; default the target. */
  allow?: string;
  /** Replace an existing experiment of this id, setting its files and branch aside (existing-experiment.ts). */
  force?: boolean;
  /** Required unless `evaluator` is given. */
  evaluateCmd?: string;
  /** Required unless `evaluator` is given and names its metric. */
  metric?: string;
  direction?: Direction;
  /** A duration such as `90s` or `5m`. */
  timeBudget?: string;
  agent?: string;
  /** Name of a bundled evaluator (examples/evaluators/<name>.mjs). */
  evaluator?: string;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

export interface InitExperimentResult {
  dir: string;
  /** Absolute paths of the files written. */
  files: string[];
  /** Files that already existed and were left as they were (a program.md written beforehand, an old ledger). */
  kept: string[];
  /** The config as written, parsed back. */
  config: ExperimentConfig;
  /** The evaluator copied, if any. */
  evaluator: EvaluatorInfo | null;
  /** The experiment branch already held work HEAD does not have: where its tip was saved (git/branch-backup.ts). */
  branchBackup: { branch: string; ref: string; message: string } | null;
  /** `force`: what the experiment it replaced left, and where. */
  replaced: SetAside | null;
}

/** The evaluation runs in a git worktree, so it reaches the experiment dir through this variable. */
export const EVALUATOR_COMMAND = `node "$AUTORESEARCH_EXPERIMENT_DIR/${EVALUATOR_FILE}"`;

const FLAGS: Partial<Record<string, string>> = {
  target: '--target',
  evaluate_cmd: '--eval',
  metric: '--metric',
  metric_direction: '--direction',
  time_budget: '--time-budget',
  time_budget_minutes: '--time-budget',
  agent: '--agent',
  scope: '--allow',
};

export async function initExperiment(opts: InitExperimentOptions): Promise<InitExperimentResult> {
  const env = opts.env ?? process.env;
  for (const [flag, value] of [
    ['--target', opts.target],
    ['--allow', opts.allow],
    ['--eval', opts.evaluateCmd],
    ['--metric', opts.metric],
    ['--agent', opts.agent],
  ] as const) {
    // config.cfg is line-based: a line break would silently become a second, bogus line.
    if (value !== undefined && /[\r\n]/.test(value)) throw new AutoresearchError('BAD_INPUT', `${flag}: expected one line, found a line break in \`${value}\``);
  }
  let timeBudgetMs: number | undefined;
  if (opts.timeBudget !== undefined) {
    timeBudgetMs = parseDuration(opts.timeBudget);
    if (timeBudgetMs === undefined) throw new AutoresearchError('BAD_INPUT', `--time-budget: expected ${DURATION_EXPECTED}, found \`${opts.timeBudget}\``);
  }

  await assertGitRepo(opts.projectRoot);

  const dir = experimentDir(opts.projectRoot, opts.id, opts.location, env);
  let replacing = false;
  for (const location of ['project', 'user'] as const) {
    const existingDir = experimentDir(opts.projectRoot, opts.id, location, env);
    if ((await readFileIfExists(experimentPaths(existingDir).config)) === null) continue;
    const existing = await describeExisting(opts.projectRoot, opts.id, existingDir, location);
    if (opts.force !== true) throw new AutoresearchError('EXPERIMENT_EXISTS', existingMessage(existing));
    if (location !== opts.location) {
      throw new AutoresearchError(
        'EXPERIMENT_EXISTS',
        `init --force: expected experiment ${opts.id.key} in the ${opts.location} location, found it in ${existingDir} (${location} location); --force replaces it only where it is: add --location ${location}; nothing was written`,
      );
    }
    replacing = true;
  }

  const paths = experimentPaths(dir);
  const evaluatorFile = path.join(dir, EVALUATOR_FILE);
  let evaluatorSource: string | undefined;
  let evaluator: EvaluatorInfo | null = null;
  if (opts.evaluator !== undefined) {
    const found = findEvaluator(opts.evaluator);
    evaluator = found.info;
    evaluatorSource = await fs.readFile(found.file, 'utf8');
    const current = await readFileIfExists(evaluatorFile);
    // (--force copies the old one into the archive before it is replaced.)
    if (current !== null && current !== evaluatorSource && !replacing) {
      throw new AutoresearchError('BAD_INPUT', `--evaluator ${opts.evaluator}: expected no ${EVALUATOR_FILE} in ${dir}, found one with other content; remove it or omit --evaluator`);
    }
  }
  const evaluateCmd = opts.evaluateCmd ?? (evaluatorSource === undefined ? undefined : EVALUATOR_COMMAND);
  if (evaluateCmd === undefined) throw new AutoresearchError('BAD_INPUT', 'init: expected --eval CMD or --evaluator NAME, found neither');
  // An evaluator names the metric it prints: --metric and --direction may be left out.
  const metric = opts.metric ?? evaluator?.metric?.name;
  if (metric === undefined) {
    throw new AutoresearchError('BAD_INPUT', `init: expected --metric NAME, found none${evaluator === null ? '' : ` (the evaluator ${evaluator.name} names no default metric)`}`);
  }
  const direction = opts.direction ?? (opts.metric === undefined || opts.metric === evaluator?.metric?.name ? evaluator?.metric?.direction : undefined);

  const input = { ...opts, metric, evaluateCmd, timeBudgetMs, ...(direction === undefined ? {} : { direction }) };
  const configText = renderConfig({ ...input, created: opts.now ?? new Date() });
  const config = selfCheck(configText, { file: paths.config, dir, id: opts.id, scope: opts.location });
  await assertTargetsExist(opts.projectRoot, config.target);
  if (opts.allow !== undefined) await assertTargetsExist(opts.projectRoot, config.allowedPaths, '--allow');
  if (opts.allow !== undefined) await assertAllowCoversTarget(opts.projectRoot, config.allowedPaths, config.target);

  let replaced: SetAside | null = null;
  // Computed before any write: a badly set AUTORESEARCH_WORKTREES is refused with nothing changed.
  const ownWorktree = replacing ? worktreePath(await openProject(opts.projectRoot), opts.id.key, env) : '';
  const lock = replacing ? await lockForReplace(dir, opts.id) : null;
  const files: string[] = [];
  const kept: string[] = [];
  try {
    if (replacing) replaced = await setAsideExperiment(opts.projectRoot, opts.id, dir, ownWorktree, (opts.now ?? new Date()).getTime());
    await fs.mkdir(dir, { recursive: true });
    const programFile = path.join(dir, 'program.md');
    if (evaluatorSource !== undefined) {
      await writeFileDurable(evaluatorFile, evaluatorSource);
      files.push(evaluatorFile);
    }
    for (const [file, content] of [
      [programFile, renderProgram(input)],
      [paths.results, `${LEDGER_COLUMNS.join('\t')}\n`],
    ] as const) {
      // Never overwrite: a program.md may have been written first, a results.tsv holds history.
      // (--force copied the old program.md into the archive first, and moved results.tsv there.)
      if (!replacing && (await readFileIfExists(file)) !== null) {
        kept.push(file);
      } else {
        await writeFileDurable(file, content);
        files.push(file);
      }
    }
    if (await ensureExperimentGitignore(paths)) files.push(paths.gitignore);
    else kept.push(paths.gitignore);
    await writeFileDurable(paths.config, configText);
    files.unshift(paths.config);
  } finally {
    await lock?.release();
  }
  // Nothing moves the branch here; the first run would. Its work is saved now, and said.
  const branch = branchName(opts.id.key);
  const head = (await execa('git', ['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: opts.projectRoot, reject: false })).stdout.trim();
  const backup = head === '' ? null : await backUpBranchWork(opts.projectRoot, opts.id.key, branch, head, (opts.now ?? new Date()).getTime());
  const branchBackup = backup === null ? null : { branch, ref: backup.ref, message: describeBackup(branch, backup) };
  return { dir, files, kept, config, evaluator, branchBackup, replaced };
}

/** `--allow` must cover every committed file the target names: the agent is told to change them. */
async function assertAllowCoversTarget(projectRoot: string, allowed: readonly string[], target: readonly string[]): Promise<void> {
  const inTarget = scopeMatcher(target);
  const inAllow = scopeMatcher(allowed);
  const outside = ((await filesAtCommit(projectRoot, 'HEAD')) ?? []).filter((file) => inTarget(file) && !inAllow(file));
  if (outside.length === 0) return;
  const shown = outside.slice(0, 5).join(', ') + (outside.length > 5 ? ` and ${outside.length - 5} more` : '');
  throw new AutoresearchError(
    'BAD_INPUT',
    `--allow: expected paths that include the target (${target.join(', ')}), found ${allowed.join(', ')}, which leaves out ${shown}; add the target to --allow; nothing was written`,
  );
}

async function assertGitRepo(projectRoot: string): Promise<void> {
  const stat = await fs.stat(projectRoot).catch(() => null);
  if (stat === null || !stat.isDirectory()) {
    throw new AutoresearchError('BAD_INPUT', `project root: expected a directory, found ${stat === null ? 'nothing' : 'a file'} at ${projectRoot}`);
  }
  const result = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd: projectRoot, reject: false });
  if (result.exitCode === undefined) {
    throw new AutoresearchError('GIT_FAILED', `could not run git in ${projectRoot}: ${result.shortMessage}`);
  }
  if (result.exitCode !== 0 || result.stdout.trim() !== 'true') {
    throw new AutoresearchError(
      'NOT_A_GIT_REPO',
      `${projectRoot}: expected a git repository (experiments run in git worktrees of the project), found none; create one with \`git init && git add -A && git commit -m initial\``,
    );
  }
}

/** Parse the config we are about to write; a problem is reported against the option that caused it. */
function selfCheck(text: string, ctx: Parameters<typeof parseConfigText>[1]): ExperimentConfig {
  try {
    return parseConfigText(text, ctx);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const describe = (i: ConfigIssue): string =>
      `  ${(i.key !== undefined && FLAGS[i.key]) || i.key || 'config'}: expected ${i.expected}, found ${i.found}${i.hint === undefined ? '' : ` (${i.hint})`}`;
    throw new AutoresearchError('BAD_INPUT', [`init: these options would write an invalid ${ctx.file}; nothing was written:`, ...error.issues.map(describe)].join('\n'));
  }
}

interface RenderInput {
  id: ExperimentId;
  target: string;
  allow?: string;
  evaluateCmd: string;
  metric: string;
  direction?: Direction;
  timeBudgetMs: number | undefined;
  agent?: string;
}

function renderConfig(input: RenderInput & { created: Date }): string {
  const budgetMs = input.timeBudgetMs ?? (KEYS.time_budget.default as number);
  // The seed skill reads time_budget_minutes with int(): it always gets a whole number. A
  // budget that is no whole number of minutes is also written as our time_budget, which wins.
  const minutes = seedBudgetMinutes(budgetMs);
  const budgetLine = minutes * 60_000 === budgetMs ? `time_budget_minutes: ${minutes}` : `time_budget_minutes: ${minutes}\ntime_budget: ${formatDuration(budgetMs)}`;
  const seedLines: Partial<Record<ConfigKey, string>> = {
    target: `target: ${input.target}`,
    evaluate_cmd: `evaluate_cmd: ${input.evaluateCmd}`,
    metric: `metric: ${input.metric}`,
    metric_direction: `metric_direction: ${input.direction ?? 'lower'}`,
    metric_grep: `metric_grep: ${defaultMetricGrep(input.metric)}`,
    time_budget_minutes: budgetLine,
    created: `created: ${formatCreated(input.created)}`,
  };
  const lines = SEED_KEYS.map((key) => {
    const line = seedLines[key];
    if (line === undefined) throw new Error(`bug: init writes no line for seed key ${key}`);
    return line;
  });
  lines.push('', `# ${KEYS.agent.doc}`, `agent: ${input.agent ?? 'none'}`);
  if (input.allow !== undefined) lines.push('', `# ${KEYS.scope.doc}`, `scope: ${input.allow}`);
  lines.push('', '# Optional keys: uncomment a line to set it (each comment gives the default).', '# A `#` starts a comment only at the start of a line.');
  for (const key of CONFIG_KEYS) {
    const spec = KEYS[key];
    // time_budget is left out: the budget is already set above, and the two must agree.
    if (spec.seed === true || key === 'agent' || key === 'time_budget' || (key === 'scope' && input.allow !== undefined)) continue;
    lines.push(`# ${spec.doc}${spec.defaultText === undefined ? '' : ` Default: ${spec.defaultText}.`}`, `# ${key}: ${spec.example}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderProgram(input: RenderInput): string {
  const entries = (text: string) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const target = entries(input.target);
  const allowed = input.allow === undefined ? target : entries(input.allow);
  const better = (input.direction ?? 'lower') === 'lower' ? 'lower' : 'higher';
  const budget = formatDuration(input.timeBudgetMs ?? (KEYS.time_budget.default as number));
  const metric = `\`${input.metric}\``;
  const list = (items: readonly string[]) => items.map((item) => `\`${item}\``).join(', ');
  // The evaluation may run a file the agent edits (karpathy's `uv run train.py`): then "never
  // touch the evaluation" would forbid the very file to change. Say what is fixed instead.
  const evaluated = scopeEntriesInCommand(input.evaluateCmd, allowed);
  const focus = allowed.join(',') === target.join(',') ? '' : `\n   Focus on ${list(target)}; the other files may change when the idea needs it.`;
  const measurement =
    evaluated.length === 0
      ? `4. **Never change the measurement.** The evaluation (\`${input.evaluateCmd}\`), everything it
   uses that is not in the list above (scripts, benchmarks, tests, data) and anything under
   \`.autoresearch/\` are off limits: read them, never edit them. Improve the code, not the score.`
      : `4. **Never change the measurement.** The evaluation (\`${input.evaluateCmd}\`) runs
   ${list(evaluated)}, which you edit: that is how your change gets measured. Keep it computing
   ${metric} the way it does now and printing it from a real run: no hard-coded, skipped or
   rescaled metric, no smaller evaluation. Everything else the evaluation uses (the files it
   imports or reads that are not in the list above, benchmarks, tests, data) and anything under
   \`.autoresearch/\` are off limits: read them, never edit them. Improve the result, not the score.`;
  return `# Experiment ${input.id.key}

You are one iteration of an unattended experiment loop. The goal: improve the metric
${metric}, where **${better} is better**. After your turn the loop runs the evaluation
(\`${input.evaluateCmd}\`) on your commit; it keeps the change if the metric beats the best so
far and rolls it back otherwise.

## Rules

1. **One idea per iteration.** Make one focused change, then stop. The next iteration starts
   from the best code so far.
2. **Commit** your change with a one-line message that describes the idea (for example
   \`cache compiled regexes\`). That line becomes the description in results.tsv.
3. **Change only these files:**
${allowed.map((item) => `   - \`${item}\``).join('\n')}
${focus}
   A change to any other file discards the whole iteration.
${measurement}
5. **Keep it working.** If the evaluation fails, takes much longer than ${budget}, or prints
   no ${metric} line, the iteration is recorded as a crash.

## What to try

<!-- Notes for the agent: where the time goes, promising directions, ideas that are off-limits. -->

## Context

Below these instructions the loop appends, every iteration: the best ${metric} so far,
the most recent results (status, metric, description) and the log tail of the last failure.
Read them first: build on what was kept, and don't retry what was discarded.
`;
}

/**
 * The words of an evaluation command that name a file in the agent's scope (`train.py` in
 * `uv run train.py`, `src/x.py` in `python -m pytest ./src/x.py`, `--file=x` too).
 */
export function scopeEntriesInCommand(command: string, allowed: readonly string[]): string[] {
  const inScope = scopeMatcher(allowed);
  const words = command
    .split(/[\s;&|()<>]+/)
    .map((word) => word.replace(/^['"]+|['"]+$/g, ''))
    .map((word) => (word.startsWith('-') && word.includes('=') ? word.slice(word.indexOf('=') + 1) : word))
    .map((word) => word.replace(/^\.\//, ''))
    .filter((word) => word !== '' && !word.startsWith('-') && !word.startsWith('$'));
  return [...new Set(words.filter((word) => inScope(word)))];
}

/** `2h`, `5m`, `90s` or `1500ms`: the largest unit that divides exactly. */
function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** `YYYY-MM-DD HH:MM` in local time, as the seed skill writes it. */
function formatCreated(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
