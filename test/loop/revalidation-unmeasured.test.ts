/**
 * A revalidation that cannot measure: a failed evaluation warns and is tried again after the
 * next keep (SPEC §5 item 10), not before every iteration; an evaluation out of LLM quota
 * (eval_uses_llm) is waited for like the iteration's own, before any agent turn is spent.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

describe('a revalidation that cannot measure', () => {
  it('a failed evaluation of the baseline: warned once, tried again after the next keep only', async () => {
    const flag = path.join(await makeTempDir('ar-flag-'), 'broken');
    const project = await makeProject({
      config: { revalidate_every: '1' },
      // The baseline (value 10) cannot be evaluated any more once the flag exists.
      files: { 'evaluate.sh': 'v=$(cat value.txt)\nif [ "$v" = 10 ] && [ -e "$BASELINE_BROKEN" ]; then echo "baseline broken" >&2; exit 1; fi\necho "score: $v"\n' },
      plan: [`echo 9 > value.txt && git commit -qam nine`, `echo 12 > value.txt && git commit -qam twelve`, `echo 11 > value.txt && git commit -qam eleven`, `echo 8 > value.txt && git commit -qam eight`, ''],
    });
    const env = { ...project.env, BASELINE_BROKEN: flag };
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env, timeoutMs: 120_000 })).exitCode).toBe(0); // baseline, keep 9
    await fs.writeFile(flag, '');
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env, timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '9.000000'],
      ['2', 'discard', '12.000000'],
      ['3', 'discard', '11.000000'],
      ['4', 'keep', '8.000000'],
    ]);
    // Before iteration 2 (after keep 1), not before 3 or 4 (no keep since).
    const warnings = (r.stdout + r.stderr).match(/revalidation could not measure/g) ?? [];
    expect(warnings).toHaveLength(1);
  });

  it('an evaluation out of quota (eval_uses_llm): no agent turn is spent, the run waits for the evaluation', async () => {
    const dir = await makeTempDir('ar-quota-');
    const quota = path.join(dir, 'quota');
    const called = path.join(dir, 'agent-called');
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const project = await makeProject({
      config: { revalidate_every: '1', eval_uses_llm: 'true', on_exhaustion: 'stop' },
      files: { 'evaluate.sh': `if [ -e "$QUOTA_GONE" ]; then echo "Claude AI usage limit reached|${reset}" >&2; exit 1; fi\necho "score: $(cat value.txt)"\n` },
      plan: [`echo 9 > value.txt && git commit -qam nine`, `touch ${called}; echo 8 > value.txt && git commit -qam eight`],
    });
    const env = { ...project.env, QUOTA_GONE: quota };
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env, timeoutMs: 120_000 })).exitCode).toBe(0);
    await fs.writeFile(quota, '');
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`usage exhausted for evaluation: Claude AI usage limit reached|${reset}`);
    await expect(fs.access(called)).rejects.toThrow(); // the agent was not called for a candidate nobody can judge
    expect((await project.rows()).map((row) => row.iteration)).toEqual(['0', '1']);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as { exhausted: Record<string, unknown> };
    expect(state.exhausted).toEqual({ evaluation: expect.objectContaining({ attempt: 1 }) });
  });
});
