/**
 * The built-in agents end to end, with fake `claude`, `codex` and `gemini` executables on
 * PATH that print what the real CLIs print (test/fixtures/fake-cli): how each is invoked,
 * what reaches its environment, what the rows record, and how each kind of exhaustion or
 * billing failure stops the loop without a row.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';

const FAKES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/fake-cli');

/** A project whose metric is the number of lines in value.txt (each fake edit appends one). */
async function projectFor(agent: string, config: Record<string, string> = {}) {
  const project = await makeProject({
    config: { agent, evaluate_cmd: 'echo "score: $(( $(wc -l < value.txt) + 10 ))"', metric_direction: 'higher', on_exhaustion: 'stop', ...config },
  });
  const record = path.join(await makeTempDir('ar-record-'), 'calls.jsonl');
  const env = (scenario: string, extra: Record<string, string> = {}) => ({
    ...project.env,
    PATH: `${FAKES}:${project.env.PATH}`,
    FAKE_CLI_SCENARIO: scenario,
    FAKE_CLI_RECORD: record,
    ...extra,
  });
  const calls = async (): Promise<Array<{ argv: string[]; stdin: string; env: Record<string, string>; cwd: string; geminiSettings: string | null }>> =>
    (await fs.readFile(record, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { project, env, calls };
}

describe('built-in agents', () => {
  it('claude: runs non-interactively with stream-json, keeps billing keys out, records cost and tokens', async () => {
    const { project, env, calls } = await projectFor('claude', { agent_args: '--model sonnet' });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], {
      env: env('success', { ANTHROPIC_API_KEY: 'sk-would-switch-billing', SOME_OTHER: 'kept' }),
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const [call] = await calls();
    expect(call?.argv).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'acceptEdits', '--allowedTools', 'Bash,Read,Edit,Write,Glob,Grep', '--model', 'sonnet']);
    expect(call?.stdin).toContain('## Context for iteration 1');
    expect(call?.env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(call?.env.SOME_OTHER).toBe('kept');
    const rows = await project.rows();
    expect(rows[1]).toMatchObject({ status: 'keep', agent: 'claude' });
    expect(Number(rows[1]?.cost_usd)).toBeGreaterThan(0);
    expect(Number(rows[1]?.tokens_in)).toBeGreaterThan(0);
    expect(Number(rows[1]?.tokens_out)).toBeGreaterThan(0);
    const result = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', '00001', 'result.json'), 'utf8'));
    expect(result.agentReport).toMatchObject({ sessionId: expect.any(String), model: expect.stringContaining('claude') });
  });

  it('claude: agent_pass_env lets a listed billing key through', async () => {
    const { project, env, calls } = await projectFor('claude', { agent_pass_env: 'ANTHROPIC_API_KEY' });
    expect((await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: env('success', { ANTHROPIC_API_KEY: 'sk-wanted' }) })).exitCode).toBe(0);
    expect((await calls())[0]?.env.ANTHROPIC_API_KEY).toBe('sk-wanted');
  });

  const exhausted: Array<[string, string, RegExp, Record<string, string>?]> = [
    ['claude', 'stream-spliced', /usage exhausted for claude/],
    ['claude', 'session-limit-json-exit0', /usage exhausted for claude: .*session limit/],
    ['claude', 'text-epoch', /usage exhausted for claude: Claude AI usage limit reached/],
    ['codex', 'usage-limit-plus', /usage exhausted for codex: You've hit your usage limit/],
    ['codex', 'usage-limit-pro-relative', /usage exhausted for codex: .*try again in 2 days/, { max_exhaustion_wait: '7d' }],
    ['codex', 'usage-limit-later', /usage exhausted for codex/],
    ['gemini', 'terminal-quota', /usage exhausted for gemini/],
    ['gemini', 'usage-limit', /usage exhausted for gemini: .*Usage limit reached/],
  ];
  for (const [agent, scenario, message, config] of exhausted) {
    it(`${agent} ${scenario}: exit 2 with the reset time, no row, not a crash`, async () => {
      const { project, env } = await projectFor(agent, config);
      const r = await runCli(['--path', project.root, 'run', project.id], { env: env(scenario) });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/can run again at \d{4}-\d\d-\d\d \d\d:\d\d \S+ \(\d{4}-\d\d-\d\dT/);
      expect(r.exitCode).toBe(2);
      expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline']);
      const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
      expect(state.consecutiveCrashes).toBe(0);
      expect(state.exhausted.primary.until).toMatch(/^\d{4}-/);
    });
  }

  for (const [agent, scenario] of [
    ['claude', 'credit-low'],
    ['codex', 'quota-exceeded'],
    ['gemini', 'insufficient-credits'],
  ] as const) {
    it(`${agent} ${scenario}: billing blocks the experiment (exit 3) until resume`, async () => {
      const { project, env } = await projectFor(agent);
      const r = await runCli(['--path', project.root, 'run', project.id], { env: env(scenario) });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`is blocked: ${agent}: billing problem`));
      expect((await project.rows()).length).toBe(1);
    });
  }

  it('a reset further away than max_exhaustion_wait blocks (exit 3)', async () => {
    const { project, env } = await projectFor('codex');
    const r = await runCli(['--path', project.root, 'run', project.id], { env: env('usage-limit-pro-relative') });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/is blocked: codex: usage exhausted until .*longer than max_exhaustion_wait \(1440 min\)/);
  });

  it("claude: a successful turn whose stream-json is longer than the classified tail is a keep, whatever the cut line quotes", async () => {
    const { project, env } = await projectFor('claude');
    // A Read of a file that quotes CLI errors, longer than the 256 KiB tail: the tail starts mid-line.
    const fileText = `${'a'.repeat(100 * 1024)} Credit balance too low · Claude usage limit reached ${'b'.repeat(200 * 1024)}`;
    const scenario = {
      description: 'a long tool result, then success',
      stdout: [
        { json: { type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: fileText }] } } },
        { json: { type: 'result', subtype: 'success', is_error: false, num_turns: 2, result: 'Done.', session_id: 's', total_cost_usd: 0.01, permission_denials: [] } },
      ],
      stderr: [],
      exit: 0,
      edit: true,
    };
    const scenarioFile = path.join(await makeTempDir('ar-scenario-'), 'long-read.json');
    await fs.writeFile(scenarioFile, JSON.stringify(scenario));
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: env(scenarioFile) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.status, row.reason])).toEqual([
      ['keep', 'baseline'],
      ['keep', 'improved'],
    ]);
  });

  it('a plain crash of the CLI is a crash row, logged verbatim', async () => {
    const { project, env } = await projectFor('codex');
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: env('crash') });
    expect(r.exitCode).toBe(0);
    expect((await project.rows()).map((row) => [row.status, row.reason, row.agent])).toEqual([
      ['keep', 'baseline', ''],
      ['crash', 'agent_exit', 'codex'],
    ]);
    const result = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', '00001', 'result.json'), 'utf8'));
    expect(result.technicalDetail.length).toBeGreaterThan(0);
    expect(r.stderr).toContain(`no known quota signature; its output, verbatim: ${result.technicalDetail}`);
    // The row's why: the first meaningful line of that output.
    expect(result.detail).toBe('agent_exit: sandbox error: command was killed by a signal');
  });

  for (const [agent, scenario, said] of [
    ['claude', 'permission-denied', /claude refused 2 tool calls \(Edit \/p\/\.git\/autoresearch\/wt\/value\.txt, Bash sed -i/],
    ['codex', 'declined', /codex declined 1 tool call \(command bash -lc/],
    ['gemini', 'untrusted', /not running in a trusted directory.*GEMINI_CLI_TRUST_WORKSPACE/],
  ] as const) {
    it(`${agent} ${scenario}: refused tool calls are a crash row with the reason, never discard no_change`, async () => {
      const { project, env } = await projectFor(agent);
      const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: env(scenario) });
      expect(r.exitCode).toBe(0);
      expect((await project.rows()).map((row) => [row.status, row.reason, row.agent])).toEqual([
        ['keep', 'baseline', ''],
        ['crash', 'agent_exit', agent],
      ]);
      const result = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', '00001', 'result.json'), 'utf8'));
      expect(result.technicalDetail).toMatch(said);
      // The row's why: the message we wrote for it, from its start (one line, cut at 160 characters).
      const row = (await project.rows())[1];
      expect(row?.detail).toBe(result.detail);
      expect(result.detail.length).toBeLessThanOrEqual(160);
      expect(result.technicalDetail.replace(/\s*\n\s*/g, ' ').startsWith(result.detail.replace(/^agent_exit: /, '').replace(/…$/, ''))).toBe(true);
      expect(r.stderr).toMatch(new RegExp(`agent ${agent} failed: `));
      expect(r.stderr).not.toMatch(/no known quota signature/);
    });
  }

  for (const [agent, scenario, variable] of [
    ['claude', 'not-logged-in', 'ANTHROPIC_API_KEY'],
    ['codex', 'not-logged-in', 'OPENAI_API_KEY'],
    ['gemini', 'no-api-key', 'GEMINI_API_KEY'],
  ] as const) {
    it(`${agent} ${scenario}: blocked (exit 3), no row, and one line naming ${variable}`, async () => {
      const { project, env } = await projectFor(agent);
      const r = await runCli(['--path', project.root, 'run', project.id], { env: env(scenario) });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`is blocked: ${agent} is not logged in: .*agent_pass_env: ${variable}`));
      expect((await project.rows()).length).toBe(1);
      const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
      expect(state.halt?.state).toBe('blocked');
      expect(state.consecutiveCrashes).toBe(0);
    });
  }

  it('each CLI gets its unattended settings: gemini trust and a retry bound that exists only during its turn, claude retry bound', async () => {
    const gemini = await projectFor('gemini');
    const home = await makeTempDir('ar-home-'); // no ~/.gemini/settings.json of the user's
    expect((await runCli(['--path', gemini.project.root, 'run', gemini.project.id, '--max-experiments', '1'], { env: gemini.env('success', { HOME: home }) })).exitCode).toBe(0);
    const [call] = await gemini.calls();
    expect(call?.env.GEMINI_CLI_TRUST_WORKSPACE).toBe('true');
    expect(JSON.parse(call?.geminiSettings ?? 'null')).toEqual({ general: { maxAttempts: 3 } });
    expect((await gemini.project.rows()).map((row) => row.status)).toEqual(['keep', 'keep']);
    // Never part of a candidate, never left in the worktree.
    const everFiled = await execa('git', ['-C', gemini.project.root, 'log', '--all', '--name-only', '--format='], { env: gemini.project.env });
    expect(everFiled.stdout).not.toContain('.gemini');
    await expect(fs.access(path.join(String(call?.cwd), '.gemini'))).rejects.toThrow(/ENOENT/);

    // An agent that commits everything it finds (`git add -A && git commit`) commits our
    // settings file too: the candidate is still only its own change, never a scope violation.
    const committing = await projectFor('gemini');
    const run = await runCli(['--path', committing.project.root, 'run', committing.project.id, '--max-experiments', '1'], {
      env: committing.env('success', { HOME: home, FAKE_CLI_COMMIT_ALL: 'gemini: one more line' }),
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse((await committing.calls())[0]?.geminiSettings ?? 'null')).toEqual({ general: { maxAttempts: 3 } });
    expect((await committing.project.rows()).map((row) => [row.status, row.description])).toEqual([
      ['keep', expect.stringMatching(/^baseline/)],
      ['keep', 'gemini: one more line'],
    ]);
    const kept = await execa('git', ['-C', committing.project.root, 'show', '--name-only', '--format=', `autoresearch/${committing.project.id}`], { env: committing.project.env });
    expect(kept.stdout.trim()).toBe('value.txt');

    const claude = await projectFor('claude');
    expect((await runCli(['--path', claude.project.root, 'run', claude.project.id, '--max-experiments', '1'], { env: claude.env('success', { CLAUDE_CODE_MAX_RETRIES: '5' }) })).exitCode).toBe(0);
    expect((await claude.calls())[0]?.env.CLAUDE_CODE_MAX_RETRIES).toBe('5'); // the user's value wins
  });
});
