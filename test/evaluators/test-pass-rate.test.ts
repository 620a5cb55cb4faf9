/**
 * test_pass_rate against the real runners' output (node --test, vitest, unittest, pytest when
 * installed), and its summary parser against each format, jest's included.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';

const EVALUATORS = fileURLToPath(new URL('../../examples/evaluators/', import.meta.url));
const SCRIPT = path.join(EVALUATORS, 'test_pass_rate.mjs');
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

// The evaluator is a self-contained script; its parser is exported for these tests.
const { parseTestSummary } = (await import(SCRIPT)) as { parseTestSummary(text: string): { format: string; passed: number; failed: number; errors: number; total: number } | null };

function evaluate(cwd: string, args: string[], env: Record<string, string> = {}) {
  return execa('node', [SCRIPT, ...args], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, extendEnv: false, reject: false });
}

const hasPytest = (await execa('python3', ['-c', 'import pytest'], { reject: false })).exitCode === 0;

describe('test_pass_rate with real runners', () => {
  it('node --test: 3 of 4 pass (a skipped test counts neither way); the runner output goes to stderr', async () => {
    const work = await makeTempDir();
    await writeFiles(work, {
      'tests/a.test.mjs':
        "import test from 'node:test';\nimport assert from 'node:assert';\ntest('a', () => {});\ntest('b', () => {});\ntest('c', () => {});\ntest('d', () => assert.equal(1, 2));\ntest.skip('e', () => {});\n",
    });
    const r = await evaluate(work, ['--', 'node --test tests/']);
    expect(r.exitCode).toBe(0); // failing tests lower the rate; they are no crash
    expect(r.stdout).toBe('pass_rate: 0.7500\npassed: 3\nfailed: 1\ntotal: 4');
    expect(r.stderr).toContain('test_pass_rate: node --test summary: 3 passed, 1 failed');
  });

  it('vitest', async () => {
    const work = await makeTempDir();
    await writeFiles(work, { 'a.test.js': "test('a', () => {});\ntest('b', () => { expect(1).toBe(2); });\n" });
    const r = await evaluate(work, [], { TEST_CMD: `node ${VITEST} run --globals --root .` });
    expect(r.stdout).toBe('pass_rate: 0.5000\npassed: 1\nfailed: 1\ntotal: 2');
  });

  it('python unittest: failures and errors', async () => {
    const work = await makeTempDir();
    await writeFiles(work, {
      'test_x.py':
        'import unittest\nclass T(unittest.TestCase):\n    def test_a(self): pass\n    def test_b(self): pass\n    def test_c(self): self.assertEqual(1, 2)\n    def test_d(self): raise RuntimeError("boom")\n    @unittest.skip("later")\n    def test_e(self): pass\n',
    });
    const r = await evaluate(work, ['--', 'python3', '-m', 'unittest', 'test_x']);
    expect(r.stdout).toBe('pass_rate: 0.5000\npassed: 2\nfailed: 1\ntotal: 4');
  });

  it.skipIf(!hasPytest)('pytest (skipped when python3 has no pytest)', async () => {
    const work = await makeTempDir();
    await writeFiles(work, { 'tests/test_y.py': 'import pytest\ndef test_a(): pass\ndef test_b(): assert 1 == 2\n@pytest.mark.skip\ndef test_c(): pass\n' });
    const r = await evaluate(work, [], { TEST_CMD: 'python3 -m pytest tests/ --tb=no -q -p no:cacheprovider' });
    expect(r.stdout).toBe('pass_rate: 0.5000\npassed: 1\nfailed: 1\ntotal: 2');
  });

  it('fails when the output holds no test summary, or zero tests', async () => {
    const work = await makeTempDir();
    const none = await evaluate(work, ['--', 'echo "make: *** No rule to make target"; exit 2']);
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('exited with code 2 and printed no test summary this evaluator knows');
    const zero = await evaluate(work, ['--', 'node --test does-not-exist/']);
    expect(zero.exitCode).toBe(1);
  });
});

describe('parseTestSummary', () => {
  it.each([
    ['jest', 'Tests:       1 failed, 2 skipped, 5 passed, 8 total\nSnapshots:   0 total\nTime:        1.2 s', { passed: 5, failed: 1, errors: 0 }],
    ['vitest', ' Test Files  1 failed (1)\n      Tests  3 failed | 5 passed | 1 skipped (9)\n   Start at  10:00:00', { passed: 5, failed: 3, errors: 0 }],
    ['node --test', '# tests 5\n# suites 0\n# pass 3\n# fail 1\n# cancelled 1\n# skipped 0', { passed: 3, failed: 2, errors: 0 }],
    ['node --test', 'ℹ tests 4\nℹ suites 0\nℹ pass 4\nℹ fail 0\nℹ cancelled 0', { passed: 4, failed: 0, errors: 0 }],
    ['pytest', '..F.E\n=== 1 failed, 3 passed, 1 error in 0.12s ===', { passed: 3, failed: 1, errors: 1 }],
    ['pytest', '5 passed, 2 warnings in 1.01s', { passed: 5, failed: 0, errors: 0 }],
    ['unittest', '----\nRan 6 tests in 0.004s\n\nFAILED (failures=2, errors=1, skipped=1)', { passed: 2, failed: 2, errors: 1 }],
    ['unittest', 'Ran 3 tests in 0.001s\n\nOK', { passed: 3, failed: 0, errors: 0 }],
  ])('%s', (format, output, counts) => {
    expect(parseTestSummary(output)).toEqual({ format, ...counts, total: counts.passed + counts.failed + counts.errors });
  });

  it('reads the last summary, without colours, and nothing from plain output', () => {
    expect(parseTestSummary('\u001b[32m5 passed\u001b[0m in 0.10s\nrerun:\n\u001b[31m1 failed\u001b[0m, 4 passed in 0.20s')).toMatchObject({ passed: 4, failed: 1 });
    expect(parseTestSummary('compiling...\ndone')).toBeNull();
  });
});
