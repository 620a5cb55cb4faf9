/**
 * An evaluation that calls an LLM (eval_uses_llm) and runs out of quota is not a crash: it is
 * classified like the agent's output. Exhausted → no row, wait, the same iteration again;
 * billing → blocked; without eval_uses_llm the same failure is an ordinary crash row.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { makeProject, type TestProject } from '../helpers/project.js';

const EVALUATORS = fileURLToPath(new URL('../../examples/evaluators/', import.meta.url));

interface State {
  exhausted: Record<string, { until: string; reason: string; attempt: number }>;
  consecutiveCrashes: number;
  halt: { state: string; reason: string } | null;
}

const worktreeDirs = new Map<string, string>();
/** The CLI's environment, with the experiments' worktrees in a temp dir of their own. */
async function envOf(project: TestProject): Promise<Record<string, string>> {
  let dir = worktreeDirs.get(project.root);
  if (dir === undefined) worktreeDirs.set(project.root, (dir = await makeTempDir('ar-wt-')));
  return { ...project.env, AUTORESEARCH_WORKTREES: dir };
}

async function stateOf(project: TestProject): Promise<State> {
  return JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as State;
}

/** evaluate.sh: prints the score, except when value.txt holds `trigger`: then `message` and exit 1. */
function evaluationFailingOn(trigger: string, message: string): Record<string, string> {
  return { 'evaluate.sh': `v=$(cat value.txt)\nif [ "$v" = "${trigger}" ]; then echo "judging..."; echo "${message}" >&2; exit 1; fi\necho "score: $v"\n` };
}

async function statusOf(project: TestProject): Promise<{ state: string; wait_until: string | null; reason: string | null; crashes: number }> {
  const r = await runCli(['--path', project.root, 'status', project.id, '--json'], { env: await envOf(project) });
  expect(r.exitCode).toBe(0);
  const parsed = JSON.parse(r.stdout) as unknown;
  return (Array.isArray(parsed) ? parsed[0] : parsed) as { state: string; wait_until: string | null; reason: string | null; crashes: number };
}

describe('an evaluation out of LLM quota (eval_uses_llm)', () => {
  it('writes no row, is no crash, and waits until the parsed reset: status says waiting', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const project = await makeProject({
      config: { eval_uses_llm: 'true', on_exhaustion: 'stop' },
      files: evaluationFailingOn('4', `Claude AI usage limit reached|${reset}`),
      plan: ['echo 4 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: await envOf(project) });
    expect(r.exitCode).toBe(2);
    const until = new Date((reset + 120) * 1000).toISOString();
    expect(r.stderr).toContain(`usage exhausted for evaluation: Claude AI usage limit reached|${reset}`);
    expect(r.stderr).toContain(`(${until})`);
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline']); // no row for iteration 1
    const state = await stateOf(project);
    expect(state.exhausted).toEqual({ evaluation: expect.objectContaining({ until, attempt: 1 }) });
    expect(state.consecutiveCrashes).toBe(0);
    expect(await fs.readFile(path.join(await project.worktree(), 'value.txt'), 'utf8')).toBe('10\n'); // rolled back

    const status = await statusOf(project);
    expect(status).toMatchObject({ state: 'waiting', wait_until: until, crashes: 0 });
    expect(status.reason).toContain('evaluation: Claude AI usage limit reached');

    // The wait holds for every agent: a run now exits 2 at once, without calling the agent.
    await fs.writeFile(project.planFile, `echo called > ${path.join(project.root, 'agent-called')}\n`);
    const again = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: await envOf(project) });
    expect(again.exitCode).toBe(2);
    await expect(fs.access(path.join(project.root, 'agent-called'))).rejects.toThrow();
  });

  it('waits (backoff, no reset known) and runs the same iteration again by itself', async () => {
    const counter = path.join(await makeTempDir('ar-count-'), 'calls');
    const project = await makeProject({
      config: { eval_uses_llm: 'true', backoff_initial: '1s', backoff_max: '2s' },
      // The first judgement of iteration 1 hits the limit; the next one works.
      files: {
        'evaluate.sh': `v=$(cat value.txt)\nn=$(cat ${counter} 2>/dev/null || echo 0); echo $((n+1)) > ${counter}\nif [ "$n" = 1 ]; then echo "You've hit your usage limit. Try again later." >&2; exit 1; fi\necho "score: $v"\n`,
      },
      plan: ['echo 5 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: await envOf(project) });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/evaluation usage exhausted: You've hit your usage limit/);
    expect(r.stdout).toMatch(/waiting until .* for evaluation/);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '5.000000'],
    ]);
    expect((await fs.readFile(counter, 'utf8')).trim()).toBe('3'); // baseline, exhausted, again
    const state = await stateOf(project);
    expect(state.exhausted).toEqual({}); // cleared once the evaluation printed a metric again
    expect(state.consecutiveCrashes).toBe(0);
  });

  it('blocks on a billing message (exit 3), with no row', async () => {
    const project = await makeProject({
      config: { eval_uses_llm: 'true' },
      files: evaluationFailingOn('4', 'Credit balance is too low · Add funds: https://console.anthropic.com/settings/billing'),
      plan: ['echo 4 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: await envOf(project) });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/is blocked: evaluation: billing problem/);
    expect((await project.rows()).length).toBe(1);
    expect((await stateOf(project)).halt?.state).toBe('blocked');
    expect((await statusOf(project)).state).toBe('blocked');
  });

  it('blocks when the LLM CLI the evaluation calls is not logged in (exit 3), with no row and a hint', async () => {
    const project = await makeProject({
      config: { eval_uses_llm: 'true' },
      files: evaluationFailingOn('4', 'Invalid API key · Please run /login'),
      plan: ['echo 4 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: await envOf(project) });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/is blocked: .*the evaluation calls an LLM CLI that is not logged in: log that CLI in/);
    expect((await project.rows()).length).toBe(1);
    expect((await stateOf(project)).consecutiveCrashes).toBe(0);
    expect((await statusOf(project)).state).toBe('blocked');
  });

  it('waits when the baseline evaluation itself is out of quota', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const project = await makeProject({
      config: { eval_uses_llm: 'true' },
      files: evaluationFailingOn('10', `Claude AI usage limit reached|${reset}`),
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: await envOf(project) });
    expect(r.exitCode).toBe(2);
    expect(await project.results()).toBe((await project.results()).split('\n')[0] + '\n'); // the header only
    expect((await stateOf(project)).exhausted.evaluation?.until).toBe(new Date((reset + 120) * 1000).toISOString());
  });

  it('without eval_uses_llm the same failure is a crash row, as before', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const project = await makeProject({ files: evaluationFailingOn('4', `Claude AI usage limit reached|${reset}`), plan: ['echo 4 > value.txt'] });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: await envOf(project) });
    expect(r.exitCode).toBe(0);
    expect((await project.rows()).map((row) => [row.status, row.reason])).toEqual([
      ['keep', 'baseline'],
      ['crash', 'eval_exit'],
    ]);
    expect((await stateOf(project)).exhausted).toEqual({});
  });

  it('never reclassifies an evaluation that printed its metric, whatever else it printed', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const project = await makeProject({
      config: { eval_uses_llm: 'true' },
      files: { 'evaluate.sh': `echo "Claude AI usage limit reached|${reset}" >&2\necho "score: $(cat value.txt)"\n` },
      plan: ['echo 4 > value.txt'],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: await envOf(project) });
    expect(r.exitCode).toBe(0);
    expect((await project.rows()).map((row) => [row.status, row.metric])).toEqual([
      ['keep', '10.000000'],
      ['keep', '4.000000'],
    ]);
  });

  it('is on by default for an LLM judge copied by init: its CLI out of quota makes the loop wait', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const bin = await makeTempDir('ar-bin-');
    // A fake `claude`: scores the content, except when it reads `limit`, then says what Claude Code says.
    await writeFiles(bin, {
      claude: `#!/bin/sh\nprompt=$(cat)\ncase "$prompt" in *limit*) echo "Claude AI usage limit reached|${reset}"; exit 1;; esac\nprintf 'curiosity: 6\\nspecificity: 6\\nemotional: 6\\nscroll_stop: 6\\nseo: 6\\nctr_score: 6\\n'\n`,
    });
    await fs.chmod(path.join(bin, 'claude'), 0o755);
    const project = await makeProject({
      config: { evaluate_cmd: 'node "$AUTORESEARCH_EXPERIMENT_DIR/evaluate.mjs"', metric: 'ctr_score', metric_direction: 'higher', on_exhaustion: 'stop' },
      plan: ['echo limit > value.txt'],
    });
    await fs.copyFile(path.join(EVALUATORS, 'llm_judge_content.mjs'), path.join(project.expDir, 'evaluate.mjs'));
    const env = { ...(await envOf(project)), PATH: `${bin}:${project.env.PATH}` };
    const r = await runCli(['--path', project.root, 'run', project.id], { env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('usage exhausted for evaluation: Claude AI usage limit reached');
    expect((await project.rows()).map((row) => [row.status, row.metric])).toEqual([['keep', '6.000000']]);
    expect((await stateOf(project)).exhausted.evaluation?.until).toBe(new Date((reset + 120) * 1000).toISOString());
  });
});
