import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { resolveExperiment } from '../src/config/discover.js';
import { parseExperimentId } from '../src/config/experiment-id.js';
import { loadExperimentConfig } from '../src/config/parse-config.js';
import { AutoresearchError } from '../src/core/errors.js';
import { EVALUATOR_COMMAND, initExperiment, listEvaluators, scopeEntriesInCommand, type InitExperimentOptions } from '../src/experiment/init-experiment.js';
import { importCandidates } from '../src/experiment/evaluated-imports.js';
import { LEDGER_COLUMNS } from '../src/ledger/types.js';
import { git, makeRepo, makeTempDir, snapshotTree, writeFiles } from './helpers/git-repo.js';

const EVALUATORS = fileURLToPath(new URL('../examples/evaluators/', import.meta.url));
const id = parseExperimentId('engineering/search');
const NOW = new Date(2026, 2, 8, 14, 12, 30); // local time, as the seed writes `created`

async function project(): Promise<{ root: string; env: NodeJS.ProcessEnv }> {
  const root = await makeRepo({ 'src/api/search.py': 'def search(): pass\n', 'src/a.py': 'a = 1\n', 'src/b/c.py': 'c = 1\n', 'bench.py': 'print("p50_ms: 3")\n' });
  return { root, env: { AUTORESEARCH_HOME: path.join(await makeTempDir('ar-home-'), 'home') } };
}

function options(root: string, env: NodeJS.ProcessEnv, extra: Partial<InitExperimentOptions> = {}): InitExperimentOptions {
  return { projectRoot: root, id, location: 'project', target: 'src/api/search.py', evaluateCmd: 'pytest bench.py', metric: 'p50_ms', env, now: NOW, ...extra };
}

async function rejection(promise: Promise<unknown>): Promise<AutoresearchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AutoresearchError);
    return error as AutoresearchError;
  }
  throw new Error('expected a rejection');
}

/** `git status` as the user would see it, listing untracked files one by one. */
async function status(root: string): Promise<string[]> {
  const out = await git(root, 'status', '--porcelain', '--untracked-files=all');
  return out === '' ? [] : out.split('\n').sort();
}

describe('initExperiment', () => {
  it('writes config.cfg with the seed keys first, program.md, the ledger header and .gitignore', async () => {
    const { root, env } = await project();
    const dir = path.join(root, '.autoresearch', 'engineering', 'search');
    const result = await initExperiment(options(root, env));

    expect(result.dir).toBe(dir);
    expect(result.files).toEqual(['config.cfg', 'program.md', 'results.tsv', '.gitignore'].map((f) => path.join(dir, f)));
    const config = await fs.readFile(path.join(dir, 'config.cfg'), 'utf8');
    expect(config.split('\n').slice(0, 10)).toEqual([
      'target: src/api/search.py',
      'evaluate_cmd: pytest bench.py',
      'metric: p50_ms',
      'metric_direction: lower',
      'metric_grep: ^p50_ms:',
      'time_budget_minutes: 5',
      'created: 2026-03-08 14:12',
      '',
      expect.stringMatching(/^# Who edits the code/),
      'agent: none',
    ]);
    // Every optional key appears as a commented example.
    for (const key of ['agent_args', 'program', 'eval_timeout', 'agent_timeout', 'max_consecutive_crashes', 'max_experiments', 'max_runtime', 'min_improvement', 'scope', 'on_exhaustion', 'backoff_initial', 'backoff_max', 'max_exhaustion_wait', 'setup_cmd', 'repeats', 'aggregate', 'noise', 'confidence', 'check_cmd', 'guard', 'revalidate_every']) {
      expect(config).toMatch(new RegExp(`^# ${key}: `, 'm'));
    }
    expect(await loadExperimentConfig(dir, id, 'project')).toMatchObject({
      target: ['src/api/search.py'],
      evaluateCmd: 'pytest bench.py',
      metric: 'p50_ms',
      direction: 'lower',
      metricGrep: '^p50_ms:',
      timeBudgetMs: 300_000,
      agent: { kind: 'none' },
      created: '2026-03-08 14:12',
    });
    expect(await fs.readFile(path.join(dir, 'results.tsv'), 'utf8')).toBe(`${LEDGER_COLUMNS.join('\t')}\n`);
    const program = await fs.readFile(path.join(dir, 'program.md'), 'utf8');
    expect(program).toContain('`p50_ms`, where **lower is better**');
    expect(program).toContain('   - `src/api/search.py`');
    expect(program).toContain('(`pytest bench.py`)');
    expect(program).toContain('one-line message');
  });

  it('leaves only config.cfg, program.md and .gitignore in git status, even once the daemon has written its files', async () => {
    const { root, env } = await project();
    const { dir } = await initExperiment(options(root, env, { evaluator: 'file-size', evaluateCmd: undefined }));
    const expected = ['.gitignore', 'config.cfg', 'evaluate.mjs', 'program.md'].map((f) => `?? .autoresearch/engineering/search/${f}`);
    expect(await status(root)).toEqual(expected);

    await writeFiles(dir, {
      'results.tsv': `${LEDGER_COLUMNS.join('\t')}\nabc1234\t3.000000\tkeep\tbaseline\t0\t2026-03-08T14:13:00Z\t12.5\tbaseline\tnone\n`,
      'results.tsv.bak': 'x',
      'state.json': '{}',
      'state.json.1234-abcd.tmp': '{}',
      'run.lock': '123',
      'autoresearch.log': '{}\n',
      'setup.log': 'ok\n',
      'runs/00001/eval.log': 'p50_ms: 2\n',
      'runs/00001/result.json': '{}',
      'config.cfg.999-ff.tmp': 'half',
    });
    expect(await status(root)).toEqual(expected);
  });

  it('writes a user-scope experiment under $AUTORESEARCH_HOME and nothing in the project', async () => {
    const { root, env } = await project();
    const { dir } = await initExperiment(options(root, env, { location: 'user' }));
    expect(dir).toBe(path.join(env.AUTORESEARCH_HOME as string, 'engineering', 'search'));
    expect(await status(root)).toEqual([]);
    expect(await resolveExperiment(root, 'engineering/search', env)).toEqual({ id, scope: 'user', dir });
    expect((await loadExperimentConfig(dir, id, 'user')).metric).toBe('p50_ms');
  });

  it('refuses an experiment that exists, in either scope, and changes nothing', async () => {
    const { root, env } = await project();
    const { dir } = await initExperiment(options(root, env));
    await fs.appendFile(path.join(dir, 'config.cfg'), 'max_experiments: 10\n');
    const before = await snapshotTree(root);

    const again = await rejection(initExperiment(options(root, env, { metric: 'other' })));
    expect(again.code).toBe('EXPERIMENT_EXISTS');
    expect(again.message).toContain(dir);
    expect(await snapshotTree(root)).toEqual(before);

    const inUser = await rejection(initExperiment(options(root, env, { location: 'user' })));
    expect(inUser.code).toBe('EXPERIMENT_EXISTS');
    expect(inUser.message).toContain(`${dir} (project location)`);
    await expect(fs.stat(path.join(env.AUTORESEARCH_HOME as string, 'engineering'))).rejects.toThrow();
  });

  it("program.md for karpathy's case (the evaluation runs the target): edit train.py, never the rest, no rule against train.py", async () => {
    const root = await makeRepo({
      'train.py': 'import os, math\nfrom prepare import MAX_SEQ_LEN, evaluate_bpb\nprint("val_bpb: 1.0")\n',
      'prepare.py': 'def evaluate_bpb(): pass\n',
      'pyproject.toml': '[project]\n',
    });
    const env = { AUTORESEARCH_HOME: path.join(await makeTempDir('ar-home-'), 'home') };
    const { dir } = await initExperiment({ projectRoot: root, id, location: 'project', target: 'train.py', evaluateCmd: 'uv run train.py', metric: 'val_bpb', env, now: NOW });
    const program = await fs.readFile(path.join(dir, 'program.md'), 'utf8');
    expect(program).toContain('**Change only these files:**\n   - `train.py`\n');
    expect(program).toContain('The evaluation (`uv run train.py`) runs\n   `train.py`, which you edit');
    expect(program).toContain('Keep it computing\n   `val_bpb` the way it does now');
    // No sentence that forbids something may name the file the agent is told to change.
    const sentences = program.replace(/\s+/g, ' ').split(/(?<=[.!?]\**)\s/);
    const forbidding = sentences.filter((text) => /never|off limits|don't|do not/i.test(text));
    expect(forbidding.length).toBeGreaterThan(0);
    for (const text of forbidding) expect(text, text).not.toMatch(/train\.py/);
    // What is off limits still is: the files outside the list (prepare.py among them) and the experiment dir.
    expect(program.replace(/\s+/g, ' ')).toContain(
      'Everything else the evaluation uses (`prepare.py`, which it imports; any other file not in the list above; benchmarks, tests, data) and anything under `.autoresearch/` are off limits',
    );
  });

  it('program.md for an evaluation that is not in scope: the evaluation itself is off limits', async () => {
    const { root, env } = await project();
    const { dir } = await initExperiment(options(root, env));
    const program = (await fs.readFile(path.join(dir, 'program.md'), 'utf8')).replace(/\s+/g, ' ');
    expect(program).toContain('The evaluation (`pytest bench.py`), everything it uses that is not in the list above (scripts, benchmarks, tests, data) and anything under `.autoresearch/` are off limits');
    expect(program).not.toContain('which you edit');
  });

  it.each([
    ['train.py', 'import os\nfrom prepare import x\nimport lib.util as u, json\n', ['prepare.py', 'lib/util.py', 'json.py']],
    ['nn/train.py', 'from model import Net\n', ['nn/model.py', 'model.py']],
    ['src/bench.ts', "import { a } from './lib/a.js';\nconst b = require('../b');\nimport fs from 'node:fs';\n", ['src/lib/a.js', 'src/lib/a.ts', 'b', 'b.js', 'b.ts']],
  ])('importCandidates(%s) includes %j', (file, source, expected) => {
    expect(importCandidates(file, source)).toEqual(expect.arrayContaining(expected));
  });

  it.each([
    ['uv run train.py', ['train.py'], ['train.py']],
    ['python3 ./train.py --steps 10', ['train.py'], ['train.py']],
    ['node bench.js --input=src/data.json', ['src/**'], ['src/data.json']],
    ['sh -c "pytest tests/"', ['src/**'], []],
    ['node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs"', ['src/**'], []],
  ])('scopeEntriesInCommand(%s, %j) = %j', (command, allowed, expected) => {
    expect(scopeEntriesInCommand(command, allowed)).toEqual(expected);
  });

  it('--force replaces the program.md and evaluator too, keeping the old ones in the archive', async () => {
    const { root, env: base } = await project();
    const env = { ...base, AUTORESEARCH_WORKTREES: process.env.AUTORESEARCH_WORKTREES };
    const { dir } = await initExperiment(options(root, env, { evaluator: 'file-size', evaluateCmd: undefined }));
    await fs.writeFile(path.join(dir, 'program.md'), '# my edited instructions\n');
    const oldEvaluator = await fs.readFile(path.join(dir, 'evaluate.mjs'), 'utf8');
    const later = new Date(NOW.getTime() + 60_000);
    const result = await initExperiment(options(root, env, { evaluator: 'command-time', evaluateCmd: undefined, metric: 'seconds', force: true, now: later }));
    const archive = path.join(dir, 'archive', String(later.getTime()));
    expect(result.replaced?.archive).toBe(archive);
    expect(result.replaced?.archived).toEqual(['config.cfg', 'program.md', 'evaluate.mjs', 'results.tsv']);
    expect(await fs.readFile(path.join(archive, 'program.md'), 'utf8')).toBe('# my edited instructions\n');
    expect(await fs.readFile(path.join(archive, 'evaluate.mjs'), 'utf8')).toBe(oldEvaluator);
    expect(await fs.readFile(path.join(dir, 'evaluate.mjs'), 'utf8')).not.toBe(oldEvaluator);
    expect(await fs.readFile(path.join(dir, 'program.md'), 'utf8')).toContain('`seconds`');
  });

  it('refuses a project that is not a git repository, writing nothing', async () => {
    const root = await makeTempDir('ar-nogit-');
    const error = await rejection(initExperiment(options(root, { AUTORESEARCH_HOME: path.join(root, 'home') })));
    expect(error.code).toBe('NOT_A_GIT_REPO');
    expect(error.message).toContain(root);
    expect(error.message).toContain('git init && git add -A && git commit -m initial');
    expect(await fs.readdir(root)).toEqual([]);
  });

  it('keeps a program.md written beforehand', async () => {
    const { root, env } = await project();
    const dir = path.join(root, '.autoresearch', 'engineering', 'search');
    await writeFiles(dir, { 'program.md': '# my own instructions\n' });
    const result = await initExperiment(options(root, env));
    expect(result.kept).toEqual([path.join(dir, 'program.md')]);
    expect(result.files).not.toContain(path.join(dir, 'program.md'));
    expect(await fs.readFile(path.join(dir, 'program.md'), 'utf8')).toBe('# my own instructions\n');
  });

  it('completes the files of an interrupted init: keeps the ledger, adds what .gitignore lacks', async () => {
    const { root, env } = await project();
    const dir = path.join(root, '.autoresearch', 'engineering', 'search');
    const ledger = `${LEDGER_COLUMNS.join('\t')}\nabc1234\t3.000000\tkeep\tbaseline\t0\t\t\t\t\n`;
    await writeFiles(dir, { 'results.tsv': ledger, '.gitignore': 'notes.txt\nstate.json' });
    const result = await initExperiment(options(root, env));
    expect(result.kept).toEqual([path.join(dir, 'results.tsv')]);
    expect(await fs.readFile(path.join(dir, 'results.tsv'), 'utf8')).toBe(ledger);
    const ignore = (await fs.readFile(path.join(dir, '.gitignore'), 'utf8')).split('\n');
    expect(ignore.slice(0, 2)).toEqual(['notes.txt', 'state.json']);
    expect(ignore.filter((line) => line === 'state.json')).toHaveLength(1);
    expect(ignore).toEqual(expect.arrayContaining(['results.tsv', 'runs/', '*.tmp', 'run.lock']));
  });

  it('writes direction, agent and time budget as given', async () => {
    const { root, env } = await project();
    const { dir } = await initExperiment(options(root, env, { direction: 'higher', agent: 'claude', timeBudget: '90s', target: 'src/a.py, src/b/**' }));
    const text = await fs.readFile(path.join(dir, 'config.cfg'), 'utf8');
    // The seed skill reads time_budget_minutes with int(): a whole number, and ours wins.
    expect(text).toContain('\ntime_budget_minutes: 2\ntime_budget: 90s\n');
    expect(await loadExperimentConfig(dir, id, 'project')).toMatchObject({
      direction: 'higher',
      agent: { kind: 'builtin', name: 'claude', args: [] },
      timeBudgetMs: 90_000,
      target: ['src/a.py', 'src/b/**'],
    });
    const program = await fs.readFile(path.join(dir, 'program.md'), 'utf8');
    expect(program).toContain('**higher is better**');
    expect(program).toContain('   - `src/a.py`\n   - `src/b/**`');
  });

  it('writes a budget that is no whole number of minutes as time_budget, with whole minutes for the seed skill', async () => {
    const { root, env } = await project();
    const { dir } = await initExperiment(options(root, env, { timeBudget: '7s' }));
    const text = await fs.readFile(path.join(dir, 'config.cfg'), 'utf8');
    expect(text).toContain('\ntime_budget_minutes: 1\ntime_budget: 7s\n');
    expect((await loadExperimentConfig(dir, id, 'project')).timeBudgetMs).toBe(7000);
  });

  it('writes metric_grep unescaped, as the seed skill does (it is a literal prefix)', async () => {
    const { root, env } = await project();
    const { dir } = await initExperiment(options(root, env, { metric: 'val.bpb' }));
    expect(await fs.readFile(path.join(dir, 'config.cfg'), 'utf8')).toContain('\nmetric_grep: ^val.bpb:\n');
  });

  it.each([
    [{ timeBudget: '5' }, '--time-budget: expected a duration like 90s, 5m, 2h or 7d, found `5`'],
    [{ evaluateCmd: undefined }, 'expected --eval CMD or --evaluator NAME, found neither'],
    [{ target: '../outside.py' }, '--target: expected comma-separated paths or globs relative to the project root, found `../outside.py`'],
    [{ metric: '' }, '--metric: expected a metric name, found an empty value'],
    [{ evaluateCmd: 'make\nrm -rf /' }, '--eval: expected one line, found a line break'],
    [{ evaluator: 'nope' }, '--evaluator: expected one of benchmark_size, benchmark_speed, build_speed, command-time, file-size, llm_judge_content, llm_judge_copy, llm_judge_prompt, memory_usage, test_pass_rate, found `nope`'],
    [{ target: 'src/gone.py, src/a.py, lib/**' }, '--target: expected each comma-separated path or glob to match at least one committed file, found 2 that do not; nothing was written:\n  src/gone.py: matches no file in'],
    [{ evaluator: '../../package' }, '--evaluator: expected one of'],
  ])('refuses bad options %j with BAD_INPUT, writing nothing', async (extra, message) => {
    const { root, env } = await project();
    const error = await rejection(initExperiment(options(root, env, extra)));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain(message);
    expect(await status(root)).toEqual([]);
  });
});

describe('evaluators', () => {
  it('lists each bundled evaluator with the description, cost and metric of its header', async () => {
    const list = await listEvaluators();
    expect(list.map((e) => e.name)).toEqual([
      'benchmark_size',
      'benchmark_speed',
      'build_speed',
      'command-time',
      'file-size',
      'llm_judge_content',
      'llm_judge_copy',
      'llm_judge_prompt',
      'memory_usage',
      'test_pass_rate',
    ]);
    for (const { name, description, cost } of list) {
      const [firstLine, secondLine] = (await fs.readFile(path.join(EVALUATORS, `${name}.mjs`), 'utf8')).split('\n');
      expect(firstLine).toBe(`// ${description}`);
      expect(secondLine).toBe(`// cost: ${cost}`);
      expect(description.length).toBeGreaterThan(20);
    }
    // The seed's metric names, so the skill's configs keep working.
    expect(Object.fromEntries(list.filter((e) => e.metric !== null).map((e) => [e.name, `${e.metric?.name} ${e.metric?.direction}`]))).toEqual({
      benchmark_size: 'size_bytes lower',
      benchmark_speed: 'p50_ms lower',
      build_speed: 'build_seconds lower',
      llm_judge_content: 'ctr_score higher',
      llm_judge_copy: 'engagement_score higher',
      llm_judge_prompt: 'quality_score higher',
      memory_usage: 'peak_mb lower',
      test_pass_rate: 'pass_rate higher',
    });
    expect(list.filter((e) => e.usesLlm).map((e) => e.name)).toEqual(['llm_judge_content', 'llm_judge_copy', 'llm_judge_prompt']);
    for (const judge of list.filter((e) => e.usesLlm)) expect(judge.cost).toContain('uses your quota');
  });

  it("takes the evaluator's metric and direction when --metric is left out", async () => {
    const { root, env } = await project();
    const { dir, config } = await initExperiment(options(root, env, { evaluator: 'test_pass_rate', evaluateCmd: undefined, metric: undefined }));
    expect(config).toMatchObject({ metric: 'pass_rate', direction: 'higher', metricGrep: '^pass_rate:' });
    expect(await loadExperimentConfig(dir, id, 'project')).toMatchObject({ metric: 'pass_rate', direction: 'higher' });
    // Another metric of the same evaluator: the direction is the user's (default lower).
    const other = await project();
    expect((await initExperiment(options(other.root, other.env, { evaluator: 'test_pass_rate', evaluateCmd: undefined, metric: 'failed' }))).config.direction).toBe('lower');
  });

  it('says which target is committed nowhere but present in the checkout', async () => {
    const { root, env } = await project();
    await writeFiles(root, { 'src/new.py': 'x = 1\n' });
    const error = await rejection(initExperiment(options(root, env, { target: 'src/new.py' })));
    expect(error.message).toContain('src/new.py: matches files in your checkout that are not committed; experiments start from HEAD: commit them first');
    expect(await status(root)).toEqual(['?? src/new.py']);
  });

  it('accepts a directory and a glob that match committed files', async () => {
    const { root, env } = await project();
    const { config } = await initExperiment(options(root, env, { target: 'src/b, src/**/*.py, ./bench.py' }));
    expect(config.target).toEqual(['src/b', 'src/**/*.py', './bench.py']);
  });

  it('--evaluator copies the script and points evaluate_cmd at it; the evaluation then prints the metric', async () => {
    const { root, env } = await project();
    const { dir, files } = await initExperiment(options(root, env, { evaluator: 'file-size', evaluateCmd: undefined, metric: 'bytes_total' }));
    expect(files).toContain(path.join(dir, 'evaluate.mjs'));
    expect(await fs.readFile(path.join(dir, 'evaluate.mjs'), 'utf8')).toBe(await fs.readFile(path.join(EVALUATORS, 'file-size.mjs'), 'utf8'));
    const config = await loadExperimentConfig(dir, id, 'project');
    expect(config.evaluateCmd).toBe(EVALUATOR_COMMAND);

    // As the loop will run it: a shell in the checkout, the experiment dir in the environment.
    const { stdout } = await execa('/bin/sh', ['-c', config.evaluateCmd], { cwd: root, env: { AUTORESEARCH_EXPERIMENT_DIR: dir } });
    const size = (await fs.stat(path.join(root, 'src/api/search.py'))).size;
    expect(stdout).toBe(`bytes_total: ${size}`);
    expect(new RegExp(config.metricGrep).test(stdout)).toBe(true);
  });

  it('keeps an explicit --eval when an evaluator is also given', async () => {
    const { root, env } = await project();
    const evaluateCmd = `${EVALUATOR_COMMAND} -- make bench`;
    const { dir } = await initExperiment(options(root, env, { evaluator: 'command-time', evaluateCmd }));
    expect((await loadExperimentConfig(dir, id, 'project')).evaluateCmd).toBe(evaluateCmd);
  });
});

describe('evaluators/command-time.mjs', () => {
  const script = path.join(EVALUATORS, 'command-time.mjs');

  it('runs the command warmup + runs times and prints the median seconds under the config metric', async () => {
    const work = await makeTempDir();
    await writeFiles(work, { 'exp/config.cfg': 'target: a\nevaluate_cmd: x\nmetric: wall_s\n' });
    const result = await execa('node', [script, '--runs', '3', '--warmup', '1', '--', 'echo run >> count.txt'], {
      cwd: work,
      env: { AUTORESEARCH_EXPERIMENT_DIR: path.join(work, 'exp') },
    });
    expect(result.stdout).toMatch(/^wall_s: \d+\.\d{6}$/);
    expect((await fs.readFile(path.join(work, 'count.txt'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(4);
  });

  it('runs several words directly, without a shell, and keeps the command output off stdout', async () => {
    const work = await makeTempDir();
    const result = await execa('node', [script, '--runs', '1', '--warmup', '0', '--metric', 't', '--', 'node', '-e', 'console.log("t: 999")'], { cwd: work });
    expect(result.stdout).toMatch(/^t: \d+\.\d{6}$/);
    expect(result.stderr).toContain('t: 999');
  });

  it('fails when the command fails, and when there is no command', async () => {
    const work = await makeTempDir();
    const failed = await execa('node', [script, '--', 'exit 3'], { cwd: work, reject: false });
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('`exit 3` exited with code 3');

    const none = await execa('node', [script], { cwd: work, reject: false, env: { AUTORESEARCH_EXPERIMENT_DIR: work } });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('expected a command to time, found none');
  });
});

describe('evaluators/file-size.mjs', () => {
  const script = path.join(EVALUATORS, 'file-size.mjs');
  const run = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) => execa('node', [script, ...args], { cwd, env, reject: false });

  async function tree(): Promise<string> {
    const work = await makeTempDir();
    await writeFiles(work, {
      'src/a.js': 'a'.repeat(100),
      'src/lib/b.js': 'b'.repeat(30),
      'src/lib/c.css': 'c'.repeat(7),
      'node_modules/x/index.js': 'x'.repeat(1000),
      'README.md': 'r'.repeat(5),
    });
    return work;
  }

  it('sums files, directories and globs, counting each file once', async () => {
    const work = await tree();
    expect((await run(work, ['--metric', 'bytes', 'src/a.js', 'README.md'])).stdout).toBe('bytes: 105');
    expect((await run(work, ['--metric', 'bytes', 'src'])).stdout).toBe('bytes: 137');
    expect((await run(work, ['--metric', 'bytes', '**/*.js'])).stdout).toBe('bytes: 130');
    expect((await run(work, ['--metric', 'bytes', 'src/**/*.{js,css}', 'src/a.js'])).stdout).toBe('bytes: 137');
    expect((await run(work, ['--metric', 'bytes', 'src/*.js'])).stdout).toBe('bytes: 100');
  });

  it('reads target and metric from the experiment config when given no arguments', async () => {
    const work = await tree();
    await writeFiles(work, { 'exp/config.cfg': '# c\ntarget: src/a.js, src/lib/*.css\nevaluate_cmd: x\nmetric: size\n' });
    expect((await run(work, [], { AUTORESEARCH_EXPERIMENT_DIR: path.join(work, 'exp') })).stdout).toBe('size: 107');
  });

  it('measures gzipped bytes with --gzip', async () => {
    const work = await tree();
    const expected = gzipSync(Buffer.from('a'.repeat(100)), { level: 9 }).length;
    expect((await run(work, ['--gzip', '--metric', 'gz', 'src/a.js'])).stdout).toBe(`gz: ${expected}`);
  });

  it('fails when a path or glob matches nothing (a deleted target must not score 0)', async () => {
    const work = await tree();
    const missing = await run(work, ['src/gone.js']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('expected `src/gone.js` to match at least one file, found none');
    expect((await run(work, ['**/*.ts'])).exitCode).toBe(1);
  });
});
