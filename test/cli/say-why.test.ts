/**
 * Issue 10, "say why": every crash and discard row carries its reason in words (the `detail`
 * column), `results <id>` shows it, result.json keeps it (so `results --rebuild` restores it),
 * and a tripped experiment's `status` quotes the last crash's why. A real git repo whose
 * evaluation is a real Python script.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

const PYTHON_PROJECT = {
  files: { 'train.py': 'lr = 0.5\nprint("step 1/1")\nprint(f"score: {lr * 10}")\n' },
  config: { target: 'train.py', evaluate_cmd: 'python3 train.py' },
};

describe('say why', () => {
  it('each crash and discard says why in results.tsv, result.json and `results <id>`; --rebuild restores it', async () => {
    const project = await makeProject({
      ...PYTHON_PROJECT,
      plan: [
        'printf "def f(x)\\n    return x\\nprint(1)\\n" > train.py', // 1: the evaluation cannot parse train.py
        'echo y >> other.txt', // 2: outside scope
        'printf "print(\\"done\\")\\n" > train.py', // 3: no metric line
        'printf "print(\\"score: 7\\")\\n" > train.py', // 4: worse than the baseline's 5
        'echo "ValueError: the plan says fail" >&2; exit 1', // 5: the agent fails
        // 6: no line: the agent changes nothing
      ],
    });
    const run = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '6'], { env: project.env, timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    // The terminal line itself says why, from the real Python error.
    expect(run.stdout).toMatch(/#1 CRASH +eval_exit 1: SyntaxError: .+ \(train\.py:1\)/);
    expect(run.stdout).toMatch(/#2 DISCARD scope_violation: other\.txt is outside scope/);

    const rows = await project.rows();
    expect(rows.map((r) => [r.iteration, r.status, r.reason])).toEqual([
      ['0', 'keep', 'baseline'],
      ['1', 'crash', 'eval_exit'],
      ['2', 'discard', 'scope_violation'],
      ['3', 'crash', 'metric_missing'],
      ['4', 'discard', 'no_improvement'],
      ['5', 'crash', 'agent_exit'],
      ['6', 'discard', 'no_change'],
    ]);
    const detail = rows.map((r) => r.detail);
    expect(detail[0]).toBe(''); // a keep has nothing to add
    // Python's wording differs across versions ("expected ':'", "invalid syntax"): the class and place do not.
    expect(detail[1]).toMatch(/^eval_exit 1: SyntaxError: .+ \(train\.py:1\)$/);
    expect(detail[2]).toBe('scope_violation: other.txt is outside scope (train.py)');
    expect(detail[3]).toBe('metric_missing: no line starting with `score:` in the output; last line: done');
    expect(detail[4]).toBe('no_improvement: 7 is not better than best 5 (lower is better)');
    expect(detail[5]).toBe('agent_exit: ValueError: the plan says fail');
    expect(detail[6]).toBe('no_change: the agent changed nothing');

    // The next agent is told the last failure's why, above the log it came from.
    const prompt2 = await fs.readFile(path.join(project.expDir, 'runs', '00002', 'prompt.md'), 'utf8');
    expect(prompt2).toContain(`## Last failure: iteration 1 (eval_exit)`);
    expect(prompt2).toContain(`Why: ${detail[1]}\n`);

    // result.json: the row's why, and the technical outcome next to it.
    const result1 = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', '00001', 'result.json'), 'utf8')) as Record<string, unknown>;
    expect(result1).toMatchObject({ detail: detail[1], technicalDetail: 'exit code 1' });

    const shown = await runCli(['--path', project.root, 'results', project.id], { env: project.env });
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toMatch(/eval_exit 1: SyntaxError: .+ \(train\.py:1\)/);
    // In 80 columns (stdout is not a terminal) the why is not cut away: on its own line under its row.
    for (const line of shown.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(shown.stdout).toMatch(/^1 +\w+ +N\/A +crash +eval_exit .*\n +↳ eval_exit 1: SyntaxError: .+ \(train\.py:1\)$/m);
    expect(shown.stdout).toContain('scope_violation: other.txt is outside scope (train.py)');
    expect(shown.stdout).toContain('metric_missing: no line starting with `score:`');
    const json = JSON.parse((await runCli(['--path', project.root, 'results', project.id, '--format', 'json'], { env: project.env })).stdout) as Array<Record<string, unknown>>;
    expect(json.map((o) => o.detail)).toEqual(detail.map((d) => (d === '' ? null : d)));

    // The ledger lost: rebuilt from runs/*/result.json, the detail column included, byte for byte.
    const original = await project.results();
    await fs.rm(path.join(project.expDir, 'results.tsv'));
    const rebuilt = await runCli(['--path', project.root, 'results', project.id, '--rebuild'], { env: project.env });
    expect(rebuilt.exitCode, rebuilt.stdout + rebuilt.stderr).toBe(0);
    expect(await project.results()).toBe(original);
  });

  it('timeouts: how long, and the last line the process printed', async () => {
    const project = await makeProject({
      files: { 'slow.sh': 'if grep -q slow value.txt; then echo "epoch 3/10 loss 2.1"; sleep 30; fi\nsh evaluate.sh\n' },
      plan: [
        'echo "reading train.py" >&2; sleep 30', // 1: the agent runs past agent_timeout
        'echo slow > value.txt', // 2: the evaluation runs past eval_timeout
      ],
      // 3s: what must finish in time (the baseline, the second agent turn) has room on a loaded machine.
      config: { evaluate_cmd: 'sh slow.sh', agent_timeout: '3s', eval_timeout: '3s' },
    });
    const run = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env, timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((r) => [r.reason, r.detail])).toEqual([
      ['baseline', ''],
      ['agent_timeout', 'agent_timeout: killed after 3s; last line: reading train.py'],
      ['eval_timeout', 'eval_timeout: killed after 3s; last line: epoch 3/10 loss 2.1'],
    ]);
  });

  it('a tripped experiment: the breaker reason in `status` quotes the last crash', async () => {
    const project = await makeProject({
      files: { 'train.py': 'import nonexistent_module_for_the_test\n' },
      config: { target: 'train.py', evaluate_cmd: 'python3 train.py', max_consecutive_crashes: '1' },
    });
    const run = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(run.exitCode).toBe(3);
    const [row] = await project.rows();
    expect(row?.detail).toBe("eval_exit 1: ModuleNotFoundError: No module named 'nonexistent_module_for_the_test' (train.py:1)");

    const status = await runCli(['--path', project.root, 'status', '--json'], { env: project.env });
    const [entry] = JSON.parse(status.stdout) as Array<{ state: string; reason: string }>;
    expect(entry?.state).toBe('tripped');
    expect(entry?.reason).toBe(
      "1 consecutive crashes; last: eval_exit 1: ModuleNotFoundError: No module named 'nonexistent_module_for_the_test' (train.py:1) (max_consecutive_crashes: 1)",
    );
    const table = await runCli(['--path', project.root, 'status'], { env: project.env });
    expect(table.stdout).toContain('ModuleNotFoundError');
  });
});
