/**
 * The fake claude / codex / gemini executables, run as real processes: each scenario's real
 * output goes through classifyAgentRun and parseAgentReport for a fixed `now`.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAgentReport } from '../../src/agents/agent-report.js';
import { classifyAgentRun, type AgentVerdict } from '../../src/agents/classify.js';
import type { BuiltinAgent } from '../../src/agents/signatures.js';

const FAKES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/fake-cli');
const NOW = Date.parse('2026-06-15T12:00:00Z'); // 14:00 in Berlin, 08:00 in New York
const CTX = { now: NOW, localZone: 'Europe/Berlin' };
const PROMPT = 'Improve val_bpb. Best so far: 1.234.\n';

let workdir: string;
beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), 'fake-cli-'));
});
afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

async function runFake(cli: BuiltinAgent, scenario: string, env: Record<string, string> = {}, args: string[] = []) {
  const cwd = await mkdtemp(path.join(workdir, `${cli}-${scenario}-`));
  const result = await execa(path.join(FAKES, cli), args, {
    cwd,
    input: PROMPT,
    reject: false,
    env: { FAKE_CLI_SCENARIO: scenario, ...env },
  });
  const run = {
    agent: cli,
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stdout: result.stdout,
    stderr: result.stderr,
  };
  return { cwd, run, verdict: classifyAgentRun(run, CTX), report: parseAgentReport(cli, result.stdout) };
}

function summary(v: AgentVerdict): Record<string, unknown> {
  switch (v.kind) {
    case 'exhausted':
      return { kind: v.kind, signature: v.signature, resetAt: v.resetAt === null ? null : new Date(v.resetAt).toISOString() };
    case 'transient':
      return { kind: v.kind, signature: v.signature, retryAfterMs: v.retryAfterMs };
    case 'billing':
    case 'auth':
      return { kind: v.kind, signature: v.signature };
    case 'failure':
      return v.signature === undefined ? { kind: v.kind } : { kind: v.kind, signature: v.signature };
    case 'ok':
      return { kind: v.kind };
  }
}

const exhausted = (signature: string, resetAt: string | null) => ({ kind: 'exhausted', signature, resetAt });
const transient = (signature: string, retryAfterMs: number | null) => ({ kind: 'transient', signature, retryAfterMs });
const billing = (signature: string) => ({ kind: 'billing', signature });
const auth = (signature: string) => ({ kind: 'auth', signature });
const refused = (signature: string) => ({ kind: 'failure', signature }); // a failed turn we can explain
const OK = { kind: 'ok' };
const FAILURE = { kind: 'failure' };

const EXPECTED: Record<BuiltinAgent, Record<string, Record<string, unknown>>> = {
  claude: {
    success: OK,
    'success-json': OK,
    'session-limit-json': exhausted('claude.result.api-429', '2026-06-16T07:30:00.000Z'),
    'session-limit-json-exit0': exhausted('claude.result.api-429', '2026-06-16T07:30:00.000Z'),
    'blocking-limit': exhausted('claude.result.blocking-limit', '2027-04-23T19:00:00.000Z'),
    'stream-rejected': exhausted('claude.rate-limit-event.rejected', '2026-06-15T16:00:00.000Z'),
    'stream-overage-rejected': exhausted('claude.rate-limit-event.rejected', '2026-06-15T17:00:00.000Z'),
    'stream-spliced': exhausted('claude.rate-limit-event.rejected', '2026-06-15T16:00:00.000Z'),
    'stream-synthetic': exhausted('claude.usage-limit-epoch', '2026-06-15T16:00:00.000Z'),
    'text-epoch': exhausted('claude.usage-limit-epoch', '2025-06-23T20:00:00.000Z'),
    'text-hit-limit': exhausted('claude.hit-limit', '2026-06-15T16:00:00.000Z'),
    'text-limits-will-reset': exhausted('claude.hit-limit', '2026-06-16T07:30:00.000Z'),
    'text-tui': exhausted('claude.usage-limit-reached', '2026-06-15T20:00:00.000Z'),
    'out-of-extra-usage': exhausted('claude.out-of-extra-usage', '2026-06-15T15:00:00.000Z'),
    'credit-low': billing('claude.credit-balance'),
    'credit-low-json': billing('claude.credit-balance'),
    'rate-limit-error': transient('claude.rate-limited', null), // the body says "exceed your account's rate limit",
    overloaded: transient('claude.api-5xx', null),
    'result-529': transient('claude.result.api-5xx', null),
    'error-max-turns': FAILURE,
    'permission-denied': refused('claude.permission-denials'),
    'not-logged-in': auth('auth.not-logged-in'),
    crash: FAILURE,
  },
  codex: {
    success: OK,
    'usage-limit-plus': exhausted('codex.usage-limit', '2026-06-15T13:28:00.000Z'),
    'usage-limit-team': exhausted('codex.usage-limit', '2026-08-08T10:30:00.000Z'),
    'usage-limit-pro-relative': exhausted('codex.usage-limit', '2026-06-18T05:14:00.000Z'),
    'usage-limit-free': exhausted('codex.usage-limit', null),
    'usage-limit-later': exhausted('codex.usage-limit', null),
    'usage-limit-exit0': exhausted('codex.usage-limit', '2026-06-15T13:28:00.000Z'),
    'usage-limit-body': exhausted('codex.usage-limit-reached', '2026-06-15T15:51:12.000Z'),
    'quota-exceeded': billing('codex.quota-exceeded'),
    'usage-not-included': billing('codex.usage-not-included'),
    'high-demand': transient('codex.high-demand', null),
    'retry-limit': transient('codex.retry-limit', null),
    declined: refused('codex.declined'),
    'not-logged-in': auth('auth.http-401'),
    crash: FAILURE,
  },
  gemini: {
    success: OK,
    'success-stream': OK,
    'terminal-quota': exhausted('gemini.terminal-quota', null),
    'terminal-quota-json': exhausted('gemini.terminal-quota', '2026-06-15T13:49:08.000Z'),
    capacity: exhausted('gemini.capacity', '2026-06-15T12:00:01.000Z'),
    'usage-limit': exhausted('gemini.usage-limit-reached', '2026-06-16T01:57:00.000Z'),
    'daily-quota-429': exhausted('gemini.daily-quota-id', null),
    'retry-delay': transient('gemini.retry-delay', 30_000),
    'retry-delay-long': exhausted('gemini.retry-delay', '2026-06-15T13:00:00.000Z'),
    retryable: transient('gemini.retryable-quota', 90_500),
    'insufficient-credits': billing('gemini.insufficient-credits'),
    fallback: exhausted('gemini.daily-quota', null), // its first line; the switch notice alone is gemini.model-fallback
    'stream-error': exhausted('gemini.terminal-quota', null),
    unavailable: transient('gemini.http-5xx', null), // `Attempt 3 failed with status 503`
    untrusted: refused('gemini.untrusted-folder'),
    'no-api-key': auth('gemini.no-api-key'),
    'prepayment-depleted': billing('gemini.prepayment-depleted'),
    'internal-500': transient('gemini.http-5xx', null),
    crash: FAILURE,
  },
};

describe.each(Object.keys(EXPECTED) as BuiltinAgent[])('fake %s', (cli) => {
  it('has an expectation for every scenario file, and a file for every expectation', async () => {
    const files = (await readdir(path.join(FAKES, 'scenarios', cli))).map((f) => f.replace(/\.json$/, '')).sort();
    expect(files).toEqual(Object.keys(EXPECTED[cli]).sort());
  });

  it.concurrent.each(Object.entries(EXPECTED[cli]))('%s', async (scenario, expected) => {
    const { run, verdict } = await runFake(cli, scenario);
    expect(summary(verdict), `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toEqual(expected);
  });
});

describe('fake CLI processes', () => {
  it('claude success: edits value.txt and reports cost, tokens, session and model', async () => {
    const { cwd, run, report } = await runFake('claude', 'success');
    expect(run.exitCode).toBe(0);
    expect(await readFile(path.join(cwd, 'value.txt'), 'utf8')).toBe('edited by fake claude\n');
    expect(report).toEqual({
      costUsd: 0.0421,
      inputTokens: 12 + 3100 + 18200 + 820,
      outputTokens: 410 + 45,
      sessionId: '4f1c2b9e-7d3a-4c1e-9b7f-2a6d8e0c5f13',
      model: 'claude-sonnet-4-5-20250929',
      isError: false,
      resultText: expect.stringContaining('Lowered the learning rate') as unknown as string,
    });
  });

  it('claude --output-format json success: the single result object', async () => {
    const { report } = await runFake('claude', 'success-json');
    expect(report).toMatchObject({ costUsd: 0.0187, inputTokens: 9 + 2000 + 11000, outputTokens: 250, isError: false, model: null });
  });

  it('codex success: thread id and tokens, no cost', async () => {
    const { cwd, report } = await runFake('codex', 'success');
    expect(await readFile(path.join(cwd, 'value.txt'), 'utf8')).toBe('edited by fake codex\n');
    expect(report).toMatchObject({ costUsd: null, inputTokens: 24763, outputTokens: 122, sessionId: '0199a213-81c0-7800-8aa1-bbab2a035a53', isError: false });
  });

  it('gemini success (pretty JSON) and stream-json: tokens over models, the main model', async () => {
    const json = await runFake('gemini', 'success');
    expect(json.report).toMatchObject({ costUsd: null, inputTokens: 24401 + 1203, outputTokens: 215 + 12, model: 'gemini-2.5-pro', isError: false });
    const stream = await runFake('gemini', 'success-stream');
    expect(stream.report).toMatchObject({ inputTokens: 25604, outputTokens: 227, model: 'gemini-2.5-pro', resultText: 'I lowered the learning rate.' });
  });

  it('reports the failed turn of an exhausted run', async () => {
    const { report } = await runFake('claude', 'session-limit-json');
    expect(report).toMatchObject({ isError: true, costUsd: 0, resultText: "You've hit your session limit · resets 3:30am (America/New_York)" });
  });

  it('gives an unknown failure its stderr verbatim', async () => {
    const { verdict } = await runFake('claude', 'crash');
    expect(verdict).toMatchObject({ kind: 'failure', message: expect.stringContaining("Error: ENOENT: no such file or directory, open '/home/user/.claude/settings.json'") as unknown });
  });

  it('records argv, stdin and environment, and edits the file named by FAKE_CLI_EDIT', async () => {
    const record = path.join(workdir, 'record.jsonl');
    const { cwd } = await runFake(
      'claude',
      'success',
      { FAKE_CLI_RECORD: record, FAKE_CLI_EDIT: 'notes.md', FAKE_CLI_EDIT_LINE: 'x = 2\n', ANTHROPIC_API_KEY: 'sk-test' },
      ['-p', '--output-format', 'stream-json', '--verbose'],
    );
    const seen = JSON.parse((await readFile(record, 'utf8')).trim()) as { cli: string; argv: string[]; stdin: string; cwd: string; env: Record<string, string> };
    expect(seen.cli).toBe('claude');
    expect(seen.argv).toEqual(['-p', '--output-format', 'stream-json', '--verbose']);
    expect(seen.stdin).toBe(PROMPT);
    expect(seen.cwd).toBe(cwd);
    expect(seen.env['ANTHROPIC_API_KEY']).toBe('sk-test');
    expect(await readFile(path.join(cwd, 'notes.md'), 'utf8')).toBe('x = 2\n');
  });

  it('runs an inline scenario from FAKE_CLI_SCENARIO_JSON', async () => {
    const inline = JSON.stringify({ stdout: [{ json: { type: 'turn.failed', error: { message: "You've hit your usage limit. Try again later." } } }], exit: 1 });
    const { run, verdict } = await runFake('codex', 'ignored', { FAKE_CLI_SCENARIO_JSON: inline });
    expect(run.exitCode).toBe(1);
    expect(verdict).toMatchObject({ kind: 'exhausted', resetAt: null });
  });

  it('can end by a signal, for the loop\'s kill tests', async () => {
    const inline = JSON.stringify({ stderr: ['Please retry in 12s'], signal: 'SIGTERM' });
    const { run, verdict } = await runFake('gemini', 'ignored', { FAKE_CLI_SCENARIO_JSON: inline });
    expect(run.signal).toBe('SIGTERM');
    expect(verdict).toEqual({ kind: 'transient', signature: 'gemini.retry-delay', retryAfterMs: 12_000, message: 'Please retry in 12s' });
  });

  it('says which scenario it could not load', async () => {
    const { run } = await runFake('gemini', 'no-such-scenario');
    expect(run.exitCode).toBe(97);
    expect(run.stderr).toContain('scenarios/gemini/no-such-scenario.json');
  });
});
