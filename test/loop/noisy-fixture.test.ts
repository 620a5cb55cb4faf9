/**
 * The noisy fixture itself (test/fixtures/noisy), outside the loop: its evaluation draws the
 * number the table holds for (iteration, sample), counts samples in the run dir when the loop
 * does not say, and fails clearly past the table; its agent does what the table says and
 * commits it under a `real:` / `noop:` description. noise-aware.test.ts relies on all of it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { git, makeRepo, makeTempDir } from '../helpers/git-repo.js';
import { initialModel, isRealIteration, standardNormal, TABLE_SAMPLES, trueScore, writeNightTable } from '../fixtures/noisy/model.mjs';

const NOISY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/noisy');
const SEED = 7;

async function setup(model = initialModel()) {
  const dir = await makeTempDir('ar-noisy-fixture-');
  const table = path.join(dir, 'table.txt');
  writeNightTable(table, SEED, 12);
  const runDir = path.join(dir, 'run');
  await fs.mkdir(runDir);
  const repo = await makeRepo({ 'model.txt': model });
  return { table, runDir, repo };
}

async function evaluate(cwd: string, env: Record<string, string>) {
  const r = await execa('sh', [path.join(NOISY, 'evaluate.sh')], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, extendEnv: false, reject: false });
  const score = /^score: (\S+)$/m.exec(String(r.stdout))?.[1];
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), score: score === undefined ? NaN : Number(score) };
}

const expected = (k: number, iteration: number, sample: number) => trueScore(k) + 0.1 * Number(standardNormal(SEED, iteration, sample).toFixed(6));

describe('noisy fixture', () => {
  it('evaluation: true value plus the noise of (seed, iteration, sample); samples counted in the run dir when not given', async () => {
    const { table, runDir, repo } = await setup(initialModel().replace('improvements: 0', 'improvements: 3') + 'memory_gb: 41.5\n');
    const base = { NOISY_TABLE: table, AUTORESEARCH_ITERATION: '5', AUTORESEARCH_RUN_DIR: runDir };

    const third = await evaluate(repo, { ...base, AUTORESEARCH_SAMPLE: '3' });
    expect(third.exitCode).toBe(0);
    expect(third.score).toBeCloseTo(expected(3, 5, 3), 6);
    expect(third.stdout).toMatch(/^memory_gb: 41.5$/m);
    // Counted: 1, then 2, the same draws as AUTORESEARCH_SAMPLE=1 and 2.
    const first = await evaluate(repo, base);
    const second = await evaluate(repo, base);
    expect([first.score, second.score]).toEqual([(await evaluate(repo, { ...base, AUTORESEARCH_SAMPLE: '1' })).score, (await evaluate(repo, { ...base, AUTORESEARCH_SAMPLE: '2' })).score]);
    expect(first.score).toBeCloseTo(expected(3, 5, 1), 6);
    expect(second.score).not.toBe(first.score);
    // Another iteration, another draw; NOISY_SIGMA scales the noise and the step.
    expect((await evaluate(repo, { ...base, AUTORESEARCH_ITERATION: '6', AUTORESEARCH_SAMPLE: '3' })).score).toBeCloseTo(expected(3, 6, 3), 6);
    const wide = await evaluate(repo, { ...base, AUTORESEARCH_SAMPLE: '3', NOISY_SIGMA: '1' });
    expect(wide.score).toBeCloseTo(10 - 9 + Number(standardNormal(SEED, 5, 3).toFixed(6)), 6);
  });

  it('evaluation: a sample or iteration beyond the table, or no table, fails saying what was expected', async () => {
    const { table, runDir, repo } = await setup();
    const base = { NOISY_TABLE: table, AUTORESEARCH_ITERATION: '5', AUTORESEARCH_RUN_DIR: runDir };
    const past = await evaluate(repo, { ...base, AUTORESEARCH_SAMPLE: String(TABLE_SAMPLES + 1) });
    expect(past.exitCode).toBe(2);
    expect(past.stderr).toContain(`iteration 5 has ${TABLE_SAMPLES} samples, sample ${TABLE_SAMPLES + 1} asked`);
    expect(past.stdout).not.toMatch(/^score:/m);
    const late = await evaluate(repo, { ...base, AUTORESEARCH_ITERATION: '13', AUTORESEARCH_SAMPLE: '1' });
    expect(late.exitCode).toBe(2);
    expect(late.stderr).toContain('no line for iteration 13');
    const none = await evaluate(repo, { AUTORESEARCH_ITERATION: '1', AUTORESEARCH_SAMPLE: '1' });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('NOISY_TABLE: expected a readable noise table');
  });

  it('agent: one real improvement per block of four, committed as real:, the rest no-ops on the comment, committed as noop:', async () => {
    const { table, repo } = await setup();
    const kinds: string[] = [];
    for (let iteration = 1; iteration <= 8; iteration++) {
      const r = await execa('sh', [path.join(NOISY, 'agent.sh')], {
        cwd: repo,
        input: 'the prompt',
        env: { NOISY_TABLE: table, AUTORESEARCH_ITERATION: String(iteration), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' },
        reject: false,
      });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      kinds.push(isRealIteration(SEED, iteration) ? 'real' : 'noop');
    }
    expect(kinds.filter((k) => k === 'real')).toHaveLength(2);
    const subjects = (await git(repo, 'log', '--reverse', '--format=%s')).split('\n').slice(1);
    expect(subjects.map((s) => s.split(':')[0])).toEqual(kinds);
    expect(subjects[0]).toMatch(/^(real: improvement 1|noop: reword the note) \(iteration 1\)$/);
    // Only the real ones moved k; each commit touched model.txt and nothing else.
    expect(await fs.readFile(path.join(repo, 'model.txt'), 'utf8')).toMatch(/^improvements: 2$/m);
    expect(await git(repo, 'status', '--porcelain')).toBe('');
    const touched = await git(repo, 'log', '--format=', '--name-only', 'HEAD~8..HEAD');
    expect(new Set(touched.split('\n').filter(Boolean))).toEqual(new Set(['model.txt']));
  });
});
