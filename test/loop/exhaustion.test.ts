/**
 * Usage exhaustion through the real CLI (SPEC §6): the agent here is a shell command that
 * prints what an exhausted LLM CLI prints (command agents are classified on a non-zero
 * exit). Exhaustion writes no row and is not a crash; the same iteration runs again.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject, type TestProject } from '../helpers/project.js';

async function stateOf(project: TestProject): Promise<Record<string, unknown> & { exhausted: Record<string, { until: string; reason: string; attempt: number }>; consecutiveCrashes: number; halt: { state: string } | null }> {
  return JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
}

/** A shell snippet that fails with `message` the first `times` calls, then runs `then`. */
async function failingFirst(times: number, message: string, then: string): Promise<string> {
  const counter = path.join(await makeTempDir('ar-count-'), 'calls');
  return `n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n+1)) > ${counter}; if [ "$n" -lt ${times} ]; then echo 9 > value.txt; echo "${message}"; exit 1; fi; ${then}`;
}

describe('usage exhaustion', () => {
  it('on_exhaustion: stop exits 2 with the reset time and the resume command, writes no row, and a run during the wait exits 2 without calling the agent', async () => {
    const calls = path.join(await makeTempDir('ar-calls-'), 'agent-calls');
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const project = await makeProject({
      config: { on_exhaustion: 'stop' },
      plan: [`echo call >> ${calls}; echo 4 > value.txt; echo "Claude AI usage limit reached|${reset}"; exit 1`],
    });
    const r = await runCli(['--path', project.root, 'run', project.id], { env: { ...project.env, TZ: 'UTC' } });
    expect(r.exitCode).toBe(2);
    const until = new Date((reset + 120) * 1000).toISOString();
    expect(r.stderr).toContain(`usage exhausted for command: Claude AI usage limit reached|${reset}`);
    // Local time with the zone named (UTC here), then the exact instant.
    expect(r.stderr).toContain(`can run again at ${until.slice(0, 10)} ${until.slice(11, 16)} UTC (${until})`);
    expect(r.stderr).toContain(`then resume with: autoresearch --path ${project.root} run test/exp`);
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline']); // no row for iteration 1
    const state = await stateOf(project);
    expect(state.exhausted.primary?.until).toBe(until);
    expect(state.consecutiveCrashes).toBe(0);
    expect(await fs.readFile(path.join(await project.worktree(), 'value.txt'), 'utf8')).toBe('10\n'); // rolled back
    expect((await fs.readFile(calls, 'utf8')).trim().split('\n').length).toBe(1);

    const again = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('run test/exp --single');
    expect((await fs.readFile(calls, 'utf8')).trim().split('\n').length).toBe(1); // the agent was not called

    // resume cuts the wait short: the same iteration number runs again.
    expect((await runCli(['--path', project.root, 'resume', project.id], { env: project.env })).exitCode).toBe(0);
    await fs.writeFile(project.planFile, 'echo 4 > value.txt\n');
    const resumed = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(resumed.exitCode).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '4.000000'],
    ]);
  });

  it('waits (backoff, no reset time known) and resumes the same iteration by itself', async () => {
    const project = await makeProject({
      config: { backoff_initial: '1s', backoff_max: '2s' },
      plan: [await failingFirst(2, "You've hit your usage limit. Try again later.", 'echo 5 > value.txt')],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(r.exitCode).toBe(0);
    // Each quota hit (two here) is said once, on stdout, with its wait: no separate waiting
    // line, no warning on stderr.
    expect(r.stdout).toMatch(/#1 command usage exhausted: You've hit your usage limit\. Try again later\.; rolled back, no row; waiting until .* for command/);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.includes('usage exhausted'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('waiting until') && !l.includes('usage exhausted'))).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/wait over \(reset time reached\)/);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric, row.agent])).toEqual([
      ['0', 'keep', '10.000000', ''],
      ['1', 'keep', '5.000000', 'command'],
    ]);
    const state = await stateOf(project);
    expect(state.exhausted).toEqual({}); // cleared once the agent worked again
    expect(state.consecutiveCrashes).toBe(0);
  });

  it('retries a transient failure a few times, then goes on', async () => {
    const project = await makeProject({
      config: { transient_backoff: '100ms', transient_retries: '3' },
      plan: [await failingFirst(2, 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', 'echo 6 > value.txt')],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/transient failure \(attempt 1, 3 retries left\)/);
    expect(r.stderr).toMatch(/\(next try in 0\.1s\)/); // transient_backoff: nothing stated a delay
    expect((await project.rows()).map((row) => [row.status, row.metric])).toEqual([
      ['keep', '10.000000'],
      ['keep', '6.000000'],
    ]);
    expect(await fs.readdir(path.join(project.expDir, 'runs', '00001'))).toEqual(expect.arrayContaining(['agent.stdout.log', 'agent.1.stdout.log', 'agent.2.stdout.log']));
  });

  it('blocks on a billing problem (exit 3) and when the reset is further away than max_exhaustion_wait', async () => {
    const billing = await makeProject({ plan: ['echo "Credit balance is too low · Add funds: https://console.anthropic.com/settings/billing"; exit 1'] });
    const r = await runCli(['--path', billing.root, 'run', billing.id], { env: billing.env });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/is blocked: command: billing problem/);
    expect((await billing.rows()).length).toBe(1);
    expect((await stateOf(billing)).halt?.state).toBe('blocked');

    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const far = await makeProject({ config: { max_exhaustion_wait: '1h' }, plan: [`echo "Claude AI usage limit reached|${reset}"; exit 1`] });
    const f = await runCli(['--path', far.root, 'run', far.id], { env: far.env });
    expect(f.exitCode).toBe(3);
    expect(f.stderr).toMatch(/longer than max_exhaustion_wait/);
  });

  it('continues with agent_fallback while the main agent is exhausted; rows name the agent', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3 * 3600;
    const project = await makeProject({
      config: { agent: `echo "Claude AI usage limit reached|${reset}"; exit 1`, agent_fallback: `sh -c 'echo $((10 - AUTORESEARCH_ITERATION)) > value.txt'` },
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/continuing with fallback-command/);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric, row.agent])).toEqual([
      ['0', 'keep', '10.000000', ''],
      ['1', 'keep', '9.000000', 'fallback-command'],
      ['2', 'keep', '8.000000', 'fallback-command'],
    ]);
  });

  it('a restart during a wait keeps waiting, and resume from another process ends the wait', async () => {
    const project = await makeProject({
      config: { backoff_initial: '1h', backoff_max: '1h' },
      plan: [await failingFirst(1, "You've hit your usage limit. Try again later.", 'echo 3 > value.txt')],
    });
    const first = startCli(['--path', project.root, 'run', project.id], { env: project.env });
    await first.waitFor(/waiting until/);
    process.kill(first.pid, 'SIGTERM');
    expect((await first.result()).exitCode).toBe(0);
    const until = (await stateOf(project)).exhausted.primary?.until;
    expect(until).toBeDefined();

    const second = startCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: { ...project.env, TZ: 'UTC' } });
    await second.waitFor(new RegExp(`waiting until (${until?.slice(0, 10)} )?${until?.slice(11, 19)} UTC for command`));
    expect((await runCli(['--path', project.root, 'resume', project.id], { env: project.env })).exitCode).toBe(0);
    const r = await second.result();
    expect(r.exitCode).toBe(0);
    expect(second.output()).toMatch(/wait over \(resumed\)/);
    expect((await project.rows()).map((row) => [row.iteration, row.metric])).toEqual([
      ['0', '10.000000'],
      ['1', '3.000000'],
    ]);
  });
});
