/**
 * `init` checks the target and runs the evaluation once for the baseline metric (unless
 * --no-baseline), in a throwaway worktree of HEAD: the user's checkout is never written.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo, makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { cliEnv } from '../helpers/project.js';
import { isRunning } from '../process/helpers.js';

async function project(files: Record<string, string> = {}): Promise<{ root: string; env: Record<string, string> }> {
  const root = await makeRepo({ 'value.txt': '10\n', 'evaluate.sh': 'echo "running" > made-by-eval.txt\necho "score: $(cat value.txt)"\n', ...files });
  return { root, env: cliEnv({ AUTORESEARCH_WORKTREES: await makeTempDir('ar-wt-') }) };
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

async function worktrees(root: string): Promise<string[]> {
  return (await git(root, 'worktree', 'list', '--porcelain')).split('\n').filter((l) => l.startsWith('worktree '));
}

describe('init: the baseline', () => {
  it('runs the evaluation once in a throwaway worktree of HEAD and prints the baseline metric', async () => {
    const { root, env } = await project();
    // An uncommitted edit in the user's checkout: the baseline measures HEAD, as the loop will.
    await fs.writeFile(path.join(root, 'value.txt'), '999\n');
    const r = await runCli(['--path', root, 'init', 'eng/a', '--target', 'value.txt', '--eval', 'sh evaluate.sh', '--metric', 'score'], { env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('running the evaluation once for the baseline');
    expect(r.stdout).toMatch(/\nbaseline score: 10 \(\d+\.\ds\)\n/);
    // What the evaluation wrote went away with its worktree; the checkout shows only the experiment.
    expect(await exists(path.join(root, 'made-by-eval.txt'))).toBe(false);
    const status = await git(root, 'status', '--porcelain');
    expect(status.split('\n').map((l) => l.trim()).sort()).toEqual(['?? .autoresearch/', 'M value.txt']);
    expect(await fs.readFile(path.join(root, 'value.txt'), 'utf8')).toBe('999\n');
    expect(await worktrees(root)).toHaveLength(1);
  });

  it('takes the metric from --evaluator and runs it: test_pass_rate over real `node --test` output', async () => {
    const { root, env } = await project({
      'tests/a.test.mjs': "import test from 'node:test';\nimport assert from 'node:assert';\ntest('a', () => {});\ntest('b', () => {});\ntest('c', () => {});\ntest('d', () => assert.equal(1, 2));\n",
    });
    const r = await runCli(['--path', root, 'init', 'eng/tests', '--target', 'value.txt', '--evaluator', 'test_pass_rate', '--eval', 'node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs" -- node --test tests/'], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('baseline pass_rate: 0.75 (');
    const config = await fs.readFile(path.join(root, '.autoresearch/eng/tests/config.cfg'), 'utf8');
    expect(config).toContain('\nmetric: pass_rate\nmetric_direction: higher\n');
  });

  it("finds the experiment directory's own files where a seed-style command expects them, and reads a literal metric_grep", async () => {
    const { root, env } = await project();
    // As the seed skill leaves it: an untracked evaluator in the experiment directory, run by a relative path.
    await writeFiles(root, { '.autoresearch/eng/seedstyle/evaluate.sh': 'echo "score(%): $(cat value.txt)"\n' });
    const r = await runCli(
      ['--path', root, 'init', 'eng/seedstyle', '--target', 'value.txt', '--eval', 'sh .autoresearch/eng/seedstyle/evaluate.sh', '--metric', 'score(%)'],
      { env },
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/\nbaseline score\(%\): 10 \(\d+\.\ds\)\n/);
    expect(await worktrees(root)).toHaveLength(1);
  });

  it('a failing baseline exits 1 with the log tail and a hint, and keeps the files it wrote', async () => {
    const { root, env } = await project();
    const r = await runCli(['--path', root, 'init', 'eng/b', '--target', 'value.txt', '--eval', 'echo "Traceback: no module named torch" >&2; exit 3', '--metric', 'score'], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('baseline: the evaluation exited with code 3; the experiment is written, but its evaluation does not work yet');
    expect(r.stderr).toContain('  | Traceback: no module named torch');
    expect(r.stderr).toContain('hint: it ran in a fresh worktree of HEAD, as every iteration will: commit what it needs, add `setup_cmd:`');
    expect(await exists(path.join(root, '.autoresearch/eng/b/config.cfg'))).toBe(true);
    expect(await worktrees(root)).toHaveLength(1);

    const noMetric = await runCli(['--path', root, 'init', 'eng/c', '--target', 'value.txt', '--eval', 'echo "val_loss: 3"', '--metric', 'score'], { env });
    expect(noMetric.exitCode).toBe(1);
    expect(noMetric.stderr).toContain('baseline: the evaluation printed no lines starting with `score:` (metric_grep)');
    expect(noMetric.stderr).toContain('  | val_loss: 3');
  });

  it('kills the whole evaluation tree at eval_timeout', async () => {
    const { root, env } = await project();
    const pidFile = path.join(await makeTempDir('ar-pid-'), 'grandchild.pid');
    const started = Date.now();
    const r = await runCli(
      ['--path', root, 'init', 'eng/slow', '--target', 'value.txt', '--time-budget', '1s', '--metric', 'score', '--eval', `sh -c 'sleep 60 & echo $! > ${pidFile}; wait'`],
      { env },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('baseline: the evaluation was killed after 3s (eval_timeout)');
    expect(Date.now() - started).toBeLessThan(30_000);
    const pid = Number(await fs.readFile(pidFile, 'utf8'));
    expect(isRunning(pid)).toBe(false); // the grandchild is gone too
  });

  it('says when the LLM of the evaluation is out of quota', async () => {
    const { root, env } = await project({ 'titles.md': '# How I cut p99 latency by 80%\n' });
    const bin = await makeTempDir('ar-bin-');
    const reset = Math.floor(Date.now() / 1000) + 3600;
    await writeFiles(bin, { claude: `#!/bin/sh\ncat > /dev/null\necho "Claude AI usage limit reached|${reset}"\nexit 1\n` });
    await fs.chmod(path.join(bin, 'claude'), 0o755);
    const r = await runCli(['--path', root, 'init', 'content/titles', '--target', 'titles.md', '--evaluator', 'llm_judge_content'], { env: { ...env, PATH: `${bin}:${env.PATH}` } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`hint: the evaluation's LLM is out of quota (Claude AI usage limit reached|${reset})`);
  });

  it('--no-baseline writes the experiment without running the evaluation', async () => {
    const { root, env } = await project();
    const marker = path.join(await makeTempDir('ar-marker-'), 'ran');
    const r = await runCli(['--path', root, 'init', 'eng/d', '--target', 'value.txt', '--eval', `touch ${marker}; exit 1`, '--metric', 'score', '--no-baseline'], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain('baseline');
    expect(await exists(marker)).toBe(false);
  });
});

describe('init --list-evaluators', () => {
  it('lists every evaluator with its description, what one evaluation costs and its metric', async () => {
    const r = await runCli(['init', '--list-evaluators'], { env: cliEnv() });
    expect(r.exitCode).toBe(0);
    for (const name of ['benchmark_speed', 'benchmark_size', 'test_pass_rate', 'build_speed', 'memory_usage', 'llm_judge_content', 'llm_judge_prompt', 'llm_judge_copy']) {
      expect(r.stdout).toMatch(new RegExp(`^${name} +\\S.*\\n +cost: \\S`, 'm'));
    }
    expect(r.stdout).toMatch(/^llm_judge_content .*\n +cost: one LLM call per evaluation: uses your quota; metric: ctr_score \(higher is better\)$/m);
    expect(r.stdout).toMatch(/^benchmark_speed .*\n +cost: runs the command WARMUP \+ RUNS times per evaluation \(default 1 \+ 5\); metric: p50_ms \(lower is better\)$/m);
  });
});

describe('init: the target', () => {
  it('refuses a target that matches no committed file, naming it, and writes nothing', async () => {
    const { root, env } = await project();
    const r = await runCli(['--path', root, 'init', 'eng/e', '--target', 'value.txt, src/**/*.py', '--eval', 'sh evaluate.sh', '--metric', 'score'], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('--target: expected each comma-separated path or glob to match at least one committed file, found one that does not; nothing was written:');
    expect(r.stderr).toContain(`  src/**/*.py: matches no file in ${root}`);
    expect(await exists(path.join(root, '.autoresearch'))).toBe(false);
  });
});
