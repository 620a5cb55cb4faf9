import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyAgentRun, LONG_WAIT_MS, type AgentRun, type AgentVerdict } from '../../src/agents/classify.js';
import { SIGNATURES } from '../../src/agents/signatures.js';

const NOW = Date.parse('2026-06-15T12:00:00Z'); // 14:00 in Berlin
const CTX = { now: NOW, localZone: 'Europe/Berlin' };
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const lines = (...events: unknown[]): string => events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n');

function run(agent: AgentRun['agent'], exitCode: number | null, streams: { stdout?: string; stderr?: string }, signal: string | null = null): AgentVerdict {
  return classifyAgentRun({ agent, exitCode, signal, stdout: streams.stdout ?? '', stderr: streams.stderr ?? '' }, CTX);
}

/** The verdict minus its message, with times as ISO strings: what a row of the table below expects. */
function summary(v: AgentVerdict): Record<string, unknown> {
  switch (v.kind) {
    case 'exhausted':
      return { kind: v.kind, signature: v.signature, resetAt: iso(v.resetAt) };
    case 'transient':
      return { kind: v.kind, signature: v.signature, retryAfterMs: v.retryAfterMs };
    case 'billing':
    case 'auth':
      return { kind: v.kind, signature: v.signature };
    case 'failure':
      return v.signature === undefined ? { kind: v.kind } : { kind: v.kind, signature: v.signature };
    default:
      return { kind: v.kind };
  }
}

const rateLimitEvent = (info: Record<string, unknown>): Record<string, unknown> => ({ type: 'rate_limit_event', rate_limit_info: info });
const claudeResult = (fields: Record<string, unknown>): Record<string, unknown> => ({ type: 'result', subtype: 'success', session_id: 's', ...fields });
const googleError = (details: unknown[], status = 'RESOURCE_EXHAUSTED'): string =>
  JSON.stringify({ error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status, details } }, null, 2);

interface Example {
  name: string;
  agent: AgentRun['agent'];
  exit: number;
  stdout?: string;
  stderr?: string;
  expected: Record<string, unknown>;
}

/** One example (at least) for every row of the signature table. */
const EXAMPLES: Example[] = [
  // ---- Claude
  {
    name: 'rate_limit_event rejected, then an empty "successful" result at exit 0',
    agent: 'claude',
    exit: 0,
    stdout: lines(rateLimitEvent({ status: 'rejected', resetsAt: 1781539200, rateLimitType: 'five_hour' }), claudeResult({ is_error: false, result: '' })),
    expected: { kind: 'exhausted', signature: 'claude.rate-limit-event.rejected', resetAt: '2026-06-15T16:00:00.000Z' },
  },
  {
    name: 'result is_error with api_error_status 429 and subtype success',
    agent: 'claude',
    exit: 1,
    stdout: JSON.stringify(claudeResult({ is_error: true, api_error_status: 429, result: "You've hit your session limit · resets 3:30am (America/New_York)" })),
    expected: { kind: 'exhausted', signature: 'claude.result.api-429', resetAt: '2026-06-16T07:30:00.000Z' },
  },
  {
    name: 'terminal_reason blocking_limit',
    agent: 'claude',
    exit: 1,
    stdout: JSON.stringify(claudeResult({ is_error: true, terminal_reason: 'blocking_limit', result: '' })),
    expected: { kind: 'exhausted', signature: 'claude.result.blocking-limit', resetAt: null },
  },
  {
    name: 'result with api_error_status 529',
    agent: 'claude',
    exit: 1,
    stdout: JSON.stringify(claudeResult({ is_error: true, api_error_status: '529', result: 'API Error: Repeated 529 Overloaded errors' })),
    expected: { kind: 'transient', signature: 'claude.result.api-5xx', retryAfterMs: null },
  },
  {
    name: 'v1.0.x pipe and epoch on stdout, empty stderr',
    agent: 'claude',
    exit: 1,
    stdout: 'Claude AI usage limit reached|1750708800',
    expected: { kind: 'exhausted', signature: 'claude.usage-limit-epoch', resetAt: '2025-06-23T20:00:00.000Z' },
  },
  {
    name: 'hit your limit, plain text',
    agent: 'claude',
    exit: 1,
    stdout: "You've hit your limit · resets 1pm (Europe/Lisbon)",
    expected: { kind: 'exhausted', signature: 'claude.hit-limit', resetAt: '2026-06-15T12:00:00.000Z' },
  },
  {
    name: 'TUI usage limit reached',
    agent: 'claude',
    exit: 1,
    stderr: 'Claude usage limit reached. Your limit will reset at 3pm (America/Bogota).',
    expected: { kind: 'exhausted', signature: 'claude.usage-limit-reached', resetAt: '2026-06-15T20:00:00.000Z' },
  },
  {
    name: 'out of extra usage',
    agent: 'claude',
    exit: 1,
    stdout: "You're out of extra usage",
    expected: { kind: 'exhausted', signature: 'claude.out-of-extra-usage', resetAt: null },
  },
  {
    name: 'credit balance too low',
    agent: 'claude',
    exit: 1,
    stdout: 'Credit balance too low · Add funds: https://console.anthropic.com/settings/billing',
    expected: { kind: 'billing', signature: 'claude.credit-balance' },
  },
  {
    name: 'per-minute rate limit: "not your usage limit", a bare rate_limit_event rejected, result 429 (2.1.x)',
    agent: 'claude',
    exit: 1,
    stdout: lines(
      rateLimitEvent({ status: 'rejected', isUsingOverage: false }),
      claudeResult({
        is_error: true,
        api_error_status: 429,
        result: 'API Error: Server is temporarily limiting requests (not your usage limit) · Number of request tokens has exceeded your per-minute rate limit. Please try again in 3.5s.',
      }),
    ),
    expected: { kind: 'transient', signature: 'claude.rate-limited', retryAfterMs: 3500 },
  },
  {
    name: 'raw rate_limit_error body',
    agent: 'claude',
    exit: 1,
    stderr: 'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your per-minute rate limit."}}',
    expected: { kind: 'transient', signature: 'claude.rate-limit-error', retryAfterMs: null },
  },
  {
    name: 'API Error: 500 api_error',
    agent: 'claude',
    exit: 1,
    stderr: 'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
    expected: { kind: 'transient', signature: 'claude.api-5xx', retryAfterMs: null },
  },
  // ---- Codex
  {
    name: 'usage limit with a time today',
    agent: 'codex',
    exit: 1,
    stdout: lines({ type: 'turn.failed', error: { message: "You've hit your usage limit. Try again at 3:28 PM." } }),
    expected: { kind: 'exhausted', signature: 'codex.usage-limit', resetAt: '2026-06-15T13:28:00.000Z' },
  },
  {
    name: 'usage_limit_reached body',
    agent: 'codex',
    exit: 1,
    stderr: 'unexpected status 429 Too Many Requests: {"error":{"type":"usage_limit_reached","plan_type":"plus","resets_in_seconds":13872},"status_code":429}',
    expected: { kind: 'exhausted', signature: 'codex.usage-limit-reached', resetAt: '2026-06-15T15:51:12.000Z' },
  },
  {
    name: 'Quota exceeded (API key)',
    agent: 'codex',
    exit: 1,
    stdout: lines({ type: 'error', message: 'Quota exceeded. Check your plan and billing details.' }),
    expected: { kind: 'billing', signature: 'codex.quota-exceeded' },
  },
  {
    name: 'usage not included',
    agent: 'codex',
    exit: 1,
    stderr: 'To use Codex with your ChatGPT plan, upgrade to Plus: https://openai.com/chatgpt/pricing.',
    expected: { kind: 'billing', signature: 'codex.usage-not-included' },
  },
  {
    name: 'high demand',
    agent: 'codex',
    exit: 1,
    stderr: "We're currently experiencing high demand, which may cause temporary errors.",
    expected: { kind: 'transient', signature: 'codex.high-demand', retryAfterMs: null },
  },
  {
    name: 'retry limit',
    agent: 'codex',
    exit: 1,
    stderr: 'exceeded retry limit, last status: 429 Too Many Requests',
    expected: { kind: 'transient', signature: 'codex.retry-limit', retryAfterMs: null },
  },
  // ---- Gemini
  {
    name: 'INSUFFICIENT_G1_CREDITS_BALANCE beats TerminalQuotaError',
    agent: 'gemini',
    exit: 1,
    stderr: `TerminalQuotaError: Insufficient credits.\n${googleError([{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'INSUFFICIENT_G1_CREDITS_BALANCE' }])}`,
    expected: { kind: 'billing', signature: 'gemini.insufficient-credits' },
  },
  {
    name: 'TerminalQuotaError in the JSON error document',
    agent: 'gemini',
    exit: 1,
    stderr: JSON.stringify({ error: { type: 'TerminalQuotaError', message: 'You have exhausted your daily quota on this model.', code: 1 } }, null, 2),
    expected: { kind: 'exhausted', signature: 'gemini.terminal-quota', resetAt: null },
  },
  {
    name: 'daily quota wording alone',
    agent: 'gemini',
    exit: 1,
    stderr: 'You have exhausted your daily quota on this model.',
    expected: { kind: 'exhausted', signature: 'gemini.daily-quota', resetAt: null },
  },
  {
    name: 'capacity with a reset after',
    agent: 'gemini',
    exit: 1,
    stderr: 'You have exhausted your capacity on this model. Your quota will reset after 21h53m56s.',
    expected: { kind: 'exhausted', signature: 'gemini.capacity', resetAt: '2026-06-16T09:53:56.000Z' },
  },
  {
    name: 'usage limit reached, reset time on the next line',
    agent: 'gemini',
    exit: 1,
    stderr: 'Usage limit reached for all Pro models.\nAccess resets at 11:00 AM GMT+2.',
    expected: { kind: 'exhausted', signature: 'gemini.usage-limit-reached', resetAt: '2026-06-16T09:00:00.000Z' },
  },
  {
    name: 'PerDay quotaId: its RetryInfo is not the daily reset',
    agent: 'gemini',
    exit: 1,
    stderr: googleError([
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '44s' },
    ]),
    expected: { kind: 'exhausted', signature: 'gemini.daily-quota-id', resetAt: null },
  },
  {
    name: 'QUOTA_EXHAUSTED reason',
    agent: 'gemini',
    exit: 1,
    stderr: googleError([{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'QUOTA_EXHAUSTED', domain: 'cloudcode-pa.googleapis.com' }]),
    expected: { kind: 'exhausted', signature: 'gemini.quota-exhausted', resetAt: null },
  },
  {
    name: 'model fallback notice at exit 0',
    agent: 'gemini',
    exit: 0,
    stdout: JSON.stringify({ response: 'done', stats: { models: {} } }),
    stderr: 'Your configured model (gemini-2.5-pro) was temporarily unavailable. Switched to gemini-2.5-flash for this session.',
    expected: { kind: 'exhausted', signature: 'gemini.model-fallback', resetAt: null },
  },
  {
    name: 'RetryableQuotaError',
    agent: 'gemini',
    exit: 1,
    stderr: 'RetryableQuotaError: Resource has been exhausted (e.g. check quota).',
    expected: { kind: 'transient', signature: 'gemini.retryable-quota', retryAfterMs: null },
  },
  {
    name: 'Please retry in 30s',
    agent: 'gemini',
    exit: 1,
    stderr: 'ApiError: Please retry in 30s.',
    expected: { kind: 'transient', signature: 'gemini.retry-delay', retryAfterMs: 30_000 },
  },
  {
    name: 'RetryInfo over 300 s: exhausted',
    agent: 'gemini',
    exit: 1,
    stderr: googleError([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '301s' }]),
    expected: { kind: 'exhausted', signature: 'gemini.retry-delay', resetAt: '2026-06-15T12:05:01.000Z' },
  },
  {
    name: 'PerMinute quotaId without a delay: Gemini CLI waits 60 s',
    agent: 'gemini',
    exit: 1,
    stderr: googleError([{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }] }]),
    expected: { kind: 'transient', signature: 'gemini.per-minute', retryAfterMs: 60_000 },
  },
  {
    name: 'RATE_LIMIT_EXCEEDED without a delay: Gemini CLI waits 10 s',
    agent: 'gemini',
    exit: 1,
    stderr: googleError([{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RATE_LIMIT_EXCEEDED' }]),
    expected: { kind: 'transient', signature: 'gemini.rate-limit-exceeded', retryAfterMs: 10_000 },
  },
  {
    name: 'RESOURCE_EXHAUSTED with nothing else',
    agent: 'gemini',
    exit: 1,
    stderr: googleError([]),
    expected: { kind: 'transient', signature: 'gemini.resource-exhausted', retryAfterMs: null },
  },
  // ---- any CLI
  {
    name: 'overloaded',
    agent: 'gemini',
    exit: 1,
    stderr: 'The model is overloaded. Please try again later.',
    expected: { kind: 'transient', signature: 'http.overloaded', retryAfterMs: null },
  },
  {
    name: '503 Service Unavailable',
    agent: 'codex',
    exit: 1,
    stderr: 'unexpected status 503 Service Unavailable: upstream connect error',
    expected: { kind: 'transient', signature: 'http.5xx', retryAfterMs: null },
  },
  // ---- Not logged in (auth): blocks, names the variable to pass
  {
    name: 'claude not logged in (result text)',
    agent: 'claude',
    exit: 1,
    stdout: JSON.stringify(claudeResult({ is_error: true, result: 'Not logged in · Please run /login' })),
    expected: { kind: 'auth', signature: 'auth.not-logged-in' },
  },
  {
    name: 'codex 401 Unauthorized',
    agent: 'codex',
    exit: 1,
    stdout: lines({ type: 'error', message: 'unexpected status 401 Unauthorized: Missing bearer or basic authentication in header' }),
    expected: { kind: 'auth', signature: 'auth.http-401' },
  },
  {
    name: "a command agent whose own tests print 401 Unauthorized: a crash, not a block",
    agent: 'command',
    exit: 1,
    stdout: 'FAIL test/api.test.ts > returns 401 Unauthorized without a token\nTests: 1 failed\n',
    expected: { kind: 'failure' },
  },
  {
    name: 'a command agent wrapping claude that is not logged in: blocks',
    agent: 'command',
    exit: 1,
    stdout: 'Not logged in · Please run /login\n',
    expected: { kind: 'auth', signature: 'auth.not-logged-in' },
  },
  {
    name: 'codex custom provider without its key',
    agent: 'codex',
    exit: 1,
    stderr: 'Error: Missing environment variable: `OPENAI_API_KEY`.',
    expected: { kind: 'auth', signature: 'codex.missing-key' },
  },
  {
    name: 'gemini without GEMINI_API_KEY (exit 41)',
    agent: 'gemini',
    exit: 41,
    stderr: 'When using Gemini API, you must specify the GEMINI_API_KEY environment variable.\nUpdate your environment and try again (no reload needed if using .env)!',
    expected: { kind: 'auth', signature: 'gemini.no-api-key' },
  },
  {
    name: 'gemini exit 41 with no text',
    agent: 'gemini',
    exit: 41,
    expected: { kind: 'auth', signature: 'gemini.exit-41' },
  },
  // ---- Refused tool calls: a failed turn, never `no change`
  {
    name: 'claude permission_denials at exit 0 with is_error false',
    agent: 'claude',
    exit: 0,
    stdout: JSON.stringify(
      claudeResult({
        is_error: false,
        result: 'I updated value.txt to 2.',
        permission_denials: [
          { tool_name: 'Edit', tool_use_id: 'toolu_01', tool_input: { file_path: '/p/.git/autoresearch/wt/value.txt', old_string: '1', new_string: '2' } },
          { tool_name: 'Bash', tool_use_id: 'toolu_02', tool_input: { command: "sed -i 's/1/2/' value.txt", description: 'Set value' } },
        ],
      }),
    ),
    expected: { kind: 'failure', signature: 'claude.permission-denials' },
  },
  {
    name: 'codex declined command',
    agent: 'codex',
    exit: 0,
    stdout: lines(
      { type: 'item.completed', item: { id: 'item_1', type: 'command_execution', command: "bash -lc 'sed -i s/1/2/ value.txt'", aggregated_output: '', exit_code: null, status: 'declined' } },
      { type: 'turn.completed', usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 5 } },
    ),
    expected: { kind: 'failure', signature: 'codex.declined' },
  },
  {
    name: 'gemini rejected tool calls in its JSON stats',
    agent: 'gemini',
    exit: 0,
    stdout: JSON.stringify({
      response: 'Done.',
      stats: {
        models: {},
        tools: { totalCalls: 1, totalSuccess: 0, totalFail: 1, totalDecisions: { accept: 0, reject: 1, modify: 0, auto_accept: 0 }, byName: { replace: { count: 1, decisions: { accept: 0, reject: 1, modify: 0, auto_accept: 0 } } } },
      },
    }),
    expected: { kind: 'failure', signature: 'gemini.tool-rejected' },
  },
  {
    name: 'gemini in an untrusted folder (exit 55)',
    agent: 'gemini',
    exit: 55,
    stderr: 'Gemini CLI is not running in a trusted directory. To proceed, either use `--skip-trust`, set the `GEMINI_CLI_TRUST_WORKSPACE=true` environment variable, or trust this directory in interactive mode.',
    expected: { kind: 'failure', signature: 'gemini.untrusted-folder' },
  },
  {
    name: 'gemini exit 55 with no text',
    agent: 'gemini',
    exit: 55,
    expected: { kind: 'failure', signature: 'gemini.exit-55' },
  },
  // ---- Gemini: billing, 5xx, and its exit codes (HTTP status mod 256)
  {
    name: 'gemini prepayment credits depleted (429 RESOURCE_EXHAUSTED, exit 173)',
    agent: 'gemini',
    exit: 173,
    stderr: JSON.stringify({ error: { code: 429, message: 'Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.', status: 'RESOURCE_EXHAUSTED' } }, null, 2),
    expected: { kind: 'billing', signature: 'gemini.prepayment-depleted' },
  },
  {
    name: 'gemini HTTP 500 INTERNAL after its attempts (exit 244)',
    agent: 'gemini',
    exit: 244,
    stderr: 'Attempt 1 failed with status 500. Retrying with backoff... ApiError: {"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}',
    expected: { kind: 'transient', signature: 'gemini.http-5xx', retryAfterMs: null },
  },
  {
    name: 'gemini exit 247 (503) with nothing else',
    agent: 'gemini',
    exit: 247,
    stderr: 'An unexpected critical error occurred:',
    expected: { kind: 'transient', signature: 'gemini.exit-5xx', retryAfterMs: null },
  },
  {
    name: 'gemini exit 173 (429) with nothing else',
    agent: 'gemini',
    exit: 173,
    expected: { kind: 'transient', signature: 'gemini.exit-429', retryAfterMs: null },
  },
  {
    name: 'a stated wait in any CLI: retry after 12 seconds',
    agent: 'codex',
    exit: 1,
    stderr: 'stream error: rate limited; retry after 12 seconds',
    expected: { kind: 'transient', signature: 'any.retry-in', retryAfterMs: 12_000 },
  },
  {
    name: '429 Too Many Requests',
    agent: 'claude',
    exit: 1,
    stderr: 'HTTP 429 Too Many Requests',
    expected: { kind: 'transient', signature: 'http.429', retryAfterMs: null },
  },
];

describe('classifyAgentRun: one example per signature', () => {
  it.each(EXAMPLES)('$agent: $name', (example) => {
    expect(summary(run(example.agent, example.exit, example))).toEqual(example.expected);
  });

  it('has an example for every signature in the table', () => {
    const exemplified = new Set(EXAMPLES.map((e) => e.expected['signature']));
    expect(SIGNATURES.map((s) => s.id).filter((id) => !exemplified.has(id))).toEqual([]);
  });

  it('has unique signature ids and a description for each', () => {
    expect(new Set(SIGNATURES.map((s) => s.id)).size).toBe(SIGNATURES.length);
    for (const s of SIGNATURES) expect(s.describe.length, s.id).toBeGreaterThan(10);
  });
});

/** What the real CLIs printed against the scripted model server (test/real-agents/fixtures). */
function recorded(cli: 'claude' | 'codex' | 'gemini', name: string): AgentVerdict {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'real-agents', 'fixtures', cli);
  const read = (ext: string): string => fs.readFileSync(path.join(dir, `${name}.${ext}`), 'utf8');
  const meta = JSON.parse(read('json')) as { exitCode: number };
  return run(cli, meta.exitCode, { stdout: read('stdout'), stderr: read('stderr') });
}

describe('classifyAgentRun: recorded output of the real CLIs', () => {
  it('claude 2.1: a per-minute rate limit is transient, retried after the 3.5 s it states', () => {
    const v = recorded('claude', 'ratelimit');
    expect(summary(v)).toEqual({ kind: 'transient', signature: 'claude.rate-limited', retryAfterMs: 3500 });
    expect(v.kind === 'transient' && v.message).toMatch(/^API Error: Server is temporarily limiting requests \(not your usage limit\)/);
  });

  it("claude 2.1 with an API key: the account's rate limit (a 429 without a window or reset) is transient, not a quota window", () => {
    const v = recorded('claude', 'quota-api-key');
    expect(v.kind).toBe('transient');
    expect(v.kind === 'transient' && v.message).toMatch(/exceed your account's rate limit/);
  });

  it('claude 2.1: a session limit (rate_limit_event with its window and reset) stays exhausted until the reset', () => {
    const v = recorded('claude', 'quota');
    expect(summary(v)).toEqual({ kind: 'exhausted', signature: 'claude.rate-limit-event.rejected', resetAt: new Date(1795936620_000).toISOString() });
  });
});

describe('classifyAgentRun: recorded gemini 0.61 errors, with the message from its JSON, not its stderr preamble', () => {
  it.each([
    ['quota', 'exhausted', 'You have exhausted your daily quota on this model.'],
    ['ratelimit', 'transient', 'Resource has been exhausted (e.g. check quota). Please retry in 3.5s.\nSuggested retry after 3.5s.'],
    ['billing', 'billing', 'Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.'],
    ['e500', 'transient', '500 INTERNAL: An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'],
  ] as const)('%s: %s, "%s"', (name, kind, message) => {
    const v = recorded('gemini', name);
    expect(v.kind).toBe(kind);
    expect(v.kind !== 'ok' && v.message).toBe(message);
  });

  it('without the JSON, the stderr line loses its preamble and report path', () => {
    const stderr = 'Error when talking to Gemini API Full report available at: /tmp/x/gemini-client-error-Turn.run.json TerminalQuotaError: You have exhausted your daily quota on this model.';
    expect(run('gemini', 1, { stderr })).toMatchObject({ kind: 'exhausted', message: 'TerminalQuotaError: You have exhausted your daily quota on this model.' });
  });
});

describe('classifyAgentRun: messages', () => {
  it('gives the matched human text as the message', () => {
    const v = run('claude', 1, { stdout: JSON.stringify(claudeResult({ is_error: true, api_error_status: 429, result: "You've hit your session limit · resets 3:30am (America/New_York)" })) });
    expect(v).toEqual({
      kind: 'exhausted',
      signature: 'claude.result.api-429',
      resetAt: Date.parse('2026-06-16T07:30:00Z'),
      message: "You've hit your session limit · resets 3:30am (America/New_York)",
    });
  });

  it('joins the next line into the message when the reset time is there', () => {
    const v = run('gemini', 1, { stderr: 'noise\nUsage limit reached for gemini-3-flash-preview.\nAccess resets at 10:57 PM GMT-3.\n/stats model' });
    expect(v).toMatchObject({ message: 'Usage limit reached for gemini-3-flash-preview.\nAccess resets at 10:57 PM GMT-3.' });
  });

  it('describes a rejected rate_limit_event', () => {
    const v = run('claude', 1, { stdout: lines(rateLimitEvent({ status: 'rejected', resetsAt: 1781539200, rateLimitType: 'seven_day' })) });
    expect(v).toMatchObject({ message: 'rate_limit_event: seven_day limit rejected, resets at 2026-06-15T16:00:00.000Z' });
  });
});

describe('classifyAgentRun: Claude rate_limit_event', () => {
  const ok = claudeResult({ is_error: false, result: 'done' });

  it('is ok with overageStatus "rejected" alone (accounts without extra credit)', () => {
    const steady = rateLimitEvent({ status: 'allowed', resetsAt: 1781539200, overageStatus: 'rejected', overageDisabledReason: 'org_level_disabled', isUsingOverage: false });
    expect(run('claude', 0, { stdout: lines(steady, ok) })).toEqual({ kind: 'ok' });
    expect(run('claude', 0, { stdout: lines(rateLimitEvent({ status: 'allowed_warning', overageStatus: 'rejected' }), ok) })).toEqual({ kind: 'ok' });
  });

  it('is exhausted when extra usage in use is rejected, with the overage reset time', () => {
    const v = run('claude', 1, { stdout: lines(rateLimitEvent({ status: 'allowed', resetsAt: 1781539200, isUsingOverage: true, overageStatus: 'rejected', overageResetsAt: 1781542800 })) });
    expect(summary(v)).toEqual({ kind: 'exhausted', signature: 'claude.rate-limit-event.rejected', resetAt: '2026-06-15T17:00:00.000Z' });
  });

  it('is ok when the window is rejected but extra usage takes over and the turn succeeds', () => {
    expect(run('claude', 0, { stdout: lines(rateLimitEvent({ status: 'rejected', overageStatus: 'allowed', isUsingOverage: true }), ok) })).toEqual({ kind: 'ok' });
  });

  it('finds a rejected event spliced into an assistant line', () => {
    const event = JSON.stringify(rateLimitEvent({ status: 'rejected', resetsAt: 1781539200 }));
    const stdout = `{"type":"system","subtype":"init"}\n{"type":"assistant","message":{"content":[{"type":"text","text":"half a sentence${event}\n and the rest"}]}}\n`;
    expect(summary(run('claude', 1, { stdout }))).toEqual({ kind: 'exhausted', signature: 'claude.rate-limit-event.rejected', resetAt: '2026-06-15T16:00:00.000Z' });
  });

  it('tolerates unknown event types and lines that do not parse', () => {
    const stdout = lines('{"type":"brand_new_event","x":1}', '{oops', 'plain log line', { type: 'stream_event', event: {} }, ok);
    expect(run('claude', 0, { stdout })).toEqual({ kind: 'ok' });
  });
});

describe('classifyAgentRun: exit codes', () => {
  it('does not trust exit 0 from a built-in CLI that reports an error', () => {
    expect(summary(run('claude', 0, { stdout: JSON.stringify(claudeResult({ is_error: true, api_error_status: 429, result: "You've hit your limit" })) }))).toEqual({
      kind: 'exhausted',
      signature: 'claude.result.api-429',
      resetAt: null,
    });
    expect(run('claude', 0, { stdout: JSON.stringify(claudeResult({ subtype: 'error_during_execution', is_error: true, result: 'Tool crashed' })) })).toEqual({
      kind: 'failure',
      message: 'Tool crashed',
    });
    expect(run('codex', 0, { stdout: lines({ type: 'turn.failed', error: { message: 'stream disconnected before completion' } }) })).toEqual({
      kind: 'failure',
      message: 'stream disconnected before completion',
    });
  });

  it('is ok at exit 0 with no structured output at all (e.g. a text output format)', () => {
    expect(run('claude', 0, { stdout: 'I changed the learning rate.' })).toEqual({ kind: 'ok' });
  });

  it('never searches the model\'s own words', () => {
    const reply = "You've hit your limit · resets 3pm (UTC). Claude AI usage limit reached. 429 Too Many Requests, overloaded_error, TerminalQuotaError";
    const stdout = lines({ type: 'assistant', message: { model: 'claude-sonnet-4-5', content: [{ type: 'text', text: reply }] } }, claudeResult({ is_error: false, result: reply }));
    expect(run('claude', 0, { stdout })).toEqual({ kind: 'ok' });
    // even when the turn then crashes
    expect(run('claude', 1, { stdout: lines({ type: 'assistant', message: { model: 'claude-sonnet-4-5', content: [{ type: 'text', text: reply }] } }), stderr: 'Segmentation fault' })).toEqual({
      kind: 'failure',
      message: 'Segmentation fault',
    });
    const codexReply = lines({ type: 'item.completed', item: { type: 'agent_message', text: "You've hit your usage limit. Quota exceeded. Check your plan and billing details." } }, { type: 'turn.completed', usage: {} });
    expect(run('codex', 0, { stdout: codexReply })).toEqual({ kind: 'ok' });
  });

  it('trusts the pipe-and-epoch notice even inside a result that claims success', () => {
    const stdout = JSON.stringify(claudeResult({ is_error: false, result: 'Claude AI usage limit reached|1781539200' }));
    expect(summary(run('claude', 0, { stdout }))).toEqual({ kind: 'exhausted', signature: 'claude.usage-limit-epoch', resetAt: '2026-06-15T16:00:00.000Z' });
  });

  it('ignores transient errors a turn recovered from', () => {
    const stdout = JSON.stringify(claudeResult({ is_error: false, result: 'done' }));
    expect(run('claude', 0, { stdout, stderr: 'API Error: 529 Overloaded · retrying in 2 seconds' })).toEqual({ kind: 'ok' });
    expect(summary(run('claude', 1, { stdout, stderr: 'API Error: 529 Overloaded' }))).toMatchObject({ kind: 'transient' });
  });

  it('treats a command agent by its exit code: 0 is ok whatever it printed', () => {
    expect(run('command', 0, { stdout: "You've hit your usage limit. Try again later.", stderr: 'TerminalQuotaError' })).toEqual({ kind: 'ok' });
  });

  it('applies every CLI\'s signatures to a failing command agent, structured ones too', () => {
    expect(summary(run('command', 1, { stderr: "You've hit your usage limit. Try again at 3:28 PM." }))).toMatchObject({ kind: 'exhausted', resetAt: '2026-06-15T13:28:00.000Z' });
    expect(summary(run('command', 2, { stderr: 'TerminalQuotaError: You have exhausted your daily quota on this model.' }))).toEqual({
      kind: 'exhausted',
      signature: 'gemini.terminal-quota',
      resetAt: null,
    });
    const wrapped = JSON.stringify(claudeResult({ is_error: true, api_error_status: 429, result: 'You hit it' }));
    expect(summary(run('command', 1, { stdout: wrapped }))).toEqual({ kind: 'exhausted', signature: 'claude.result.api-429', resetAt: null });
  });

  it('classifies a process killed by a signal by what it printed, else as a failure', () => {
    expect(summary(run('gemini', null, { stderr: 'Please retry in 12s' }, 'SIGTERM'))).toEqual({ kind: 'transient', signature: 'gemini.retry-delay', retryAfterMs: 12_000 });
    expect(run('gemini', null, {}, 'SIGKILL')).toEqual({ kind: 'failure', message: 'killed by SIGKILL, no output' });
  });
});

describe('classifyAgentRun: precedence', () => {
  it('billing > exhausted > transient, whatever the order in the output', () => {
    const stderr = ['503 Service Unavailable', "You've hit your usage limit. Try again later.", 'Quota exceeded. Check your plan and billing details.'];
    expect(run('codex', 1, { stderr: stderr.join('\n') })).toMatchObject({ kind: 'billing' });
    expect(run('codex', 1, { stderr: stderr.slice(0, 2).join('\n') })).toMatchObject({ kind: 'exhausted' });
    expect(run('codex', 1, { stderr: stderr.slice(0, 1).join('\n') })).toMatchObject({ kind: 'transient' });
  });

  it('exhausted beats a transient row that comes earlier in the table', () => {
    const stdout = lines(
      claudeResult({ is_error: true, api_error_status: 529, result: 'API Error: 529 Overloaded' }),
      'Claude AI usage limit reached|1781539200',
    );
    expect(summary(run('claude', 1, { stdout }))).toEqual({ kind: 'exhausted', signature: 'claude.usage-limit-epoch', resetAt: '2026-06-15T16:00:00.000Z' });
  });

  it('prefers the evidence that says when, within a class, over table order', () => {
    const stdout = lines(
      rateLimitEvent({ status: 'rejected', rateLimitType: 'five_hour' }), // an earlier row, but no time
      claudeResult({ is_error: true, api_error_status: 429, result: "You've hit your session limit · resets 3:30am (America/New_York)" }),
    );
    expect(summary(run('claude', 1, { stdout }))).toEqual({ kind: 'exhausted', signature: 'claude.result.api-429', resetAt: '2026-06-16T07:30:00.000Z' });
  });

  it(`turns a suggested wait over ${LONG_WAIT_MS / 1000} s into exhaustion, and keeps one of exactly that as transient`, () => {
    expect(summary(run('gemini', 1, { stderr: 'Please retry in 300s' }))).toEqual({ kind: 'transient', signature: 'gemini.retry-delay', retryAfterMs: 300_000 });
    expect(summary(run('gemini', 1, { stderr: 'Please retry in 300.5s' }))).toEqual({ kind: 'exhausted', signature: 'gemini.retry-delay', resetAt: '2026-06-15T12:05:00.500Z' });
  });
});

describe('classifyAgentRun: unknown failures', () => {
  it('gives the last lines of stderr verbatim', () => {
    expect(run('claude', 1, { stderr: 'Error: ENOENT: no such file\n    at open (node:fs:1:1)\n' })).toEqual({
      kind: 'failure',
      message: 'Error: ENOENT: no such file\n    at open (node:fs:1:1)',
    });
  });

  it('falls back to stdout, then to the exit code', () => {
    expect(run('claude', 3, { stdout: 'something odd happened' })).toEqual({ kind: 'failure', message: 'something odd happened' });
    expect(run('claude', 3, {})).toEqual({ kind: 'failure', message: 'exited with code 3, no output' });
  });

  it('trims a long stderr to its last few hundred characters, starting at a line', () => {
    const stderr = Array.from({ length: 100 }, (_, i) => `line ${i} of a long stack trace`).join('\n');
    const v = run('gemini', 1, { stderr });
    expect(v.kind).toBe('failure');
    const message = v.kind === 'failure' ? v.message : '';
    expect(message.length).toBeLessThanOrEqual(400);
    expect(message.endsWith('line 99 of a long stack trace')).toBe(true);
    expect(stderr.includes(`\n${message}`)).toBe(true); // verbatim, from a line start
  });

  it('prefers the error a CLI reported in its structured output', () => {
    const stdout = lines({ type: 'thread.started', thread_id: 't' }, { type: 'turn.failed', error: { message: 'sandbox error: denied' } });
    expect(run('codex', 1, { stdout, stderr: 'WARN unrelated' })).toEqual({ kind: 'failure', message: 'sandbox error: denied' });
  });
});

describe('classifyAgentRun: large outputs', () => {
  it('classifies 256 KiB of stream-json with broken lines quickly and correctly', () => {
    const filler = JSON.stringify({ type: 'assistant', message: { model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'x'.repeat(400) }] } });
    const broken = `{"type":"assistant","message":{"content":[{"type":"text","text":"${'{"type":"text"'.repeat(60)}`;
    const parts: string[] = [];
    while (parts.join('\n').length < 256 * 1024) parts.push(filler, broken);
    parts.push(JSON.stringify(rateLimitEvent({ status: 'rejected', resetsAt: 1781539200 })));
    const stdout = parts.join('\n');
    const started = performance.now();
    const v = run('claude', 1, { stdout, stderr: 'y'.repeat(256 * 1024) });
    const elapsed = performance.now() - started;
    expect(summary(v)).toEqual({ kind: 'exhausted', signature: 'claude.rate-limit-event.rejected', resetAt: '2026-06-15T16:00:00.000Z' });
    expect(elapsed).toBeLessThan(2_000); // generous: it takes tens of ms; quadratic behaviour would take minutes
  });
});

describe('classifyAgentRun: refused tool calls and not logged in', () => {
  it('names the refused calls and says what to check', () => {
    const stdout = JSON.stringify(
      claudeResult({
        is_error: false,
        result: 'Done',
        permission_denials: [
          { tool_name: 'Edit', tool_use_id: 'a', tool_input: { file_path: '/p/.git/wt/value.txt' } },
          { tool_name: 'Bash', tool_use_id: 'b', tool_input: { command: "sed -i 's/1/2/' value.txt" } },
        ],
      }),
    );
    const v = run('claude', 0, { stdout });
    expect(v.kind).toBe('failure');
    expect(v.kind === 'failure' ? v.message : '').toMatch(/^claude refused 2 tool calls \(Edit \/p\/\.git\/wt\/value\.txt, Bash sed -i 's\/1\/2\/' value\.txt\): permission denied; .*\.git/);
  });

  it('is ok with an empty permission_denials', () => {
    expect(run('claude', 0, { stdout: JSON.stringify(claudeResult({ is_error: false, result: 'Done', permission_denials: [] })) })).toEqual({ kind: 'ok' });
  });

  it('a quota beats a refusal (the refusal is only the last word when nothing else went wrong)', () => {
    const stdout = lines(
      rateLimitEvent({ status: 'rejected', resetsAt: 1781539200 }),
      claudeResult({ is_error: false, result: '', permission_denials: [{ tool_name: 'Edit', tool_input: { file_path: 'x' } }] }),
    );
    expect(run('claude', 0, { stdout })).toMatchObject({ kind: 'exhausted' });
  });

  it('a codex command that merely failed is not a refusal', () => {
    const stdout = lines(
      { type: 'item.completed', item: { id: 'i', type: 'command_execution', command: 'pytest', aggregated_output: '1 failed', exit_code: 1, status: 'failed' } },
      { type: 'turn.completed', usage: {} },
    );
    expect(run('codex', 0, { stdout })).toEqual({ kind: 'ok' });
  });

  it('says in one line which variable to pass', () => {
    const v = run('codex', 1, { stderr: 'Error: Not logged in\n  run codex login' });
    expect(v).toEqual({
      kind: 'auth',
      signature: 'auth.not-logged-in',
      message: 'codex is not logged in: run `codex login`, or set OPENAI_API_KEY and add `agent_pass_env: OPENAI_API_KEY` to config.cfg (it said: Error: Not logged in)',
    });
    expect(run('claude', 1, { stdout: JSON.stringify(claudeResult({ is_error: true, result: 'Invalid API key · Please run /login' })) })).toMatchObject({
      kind: 'auth',
      message: expect.stringContaining('agent_pass_env: ANTHROPIC_API_KEY') as unknown,
    });
  });

  it('a finished turn is logged in whatever its stderr says', () => {
    expect(run('claude', 0, { stdout: JSON.stringify(claudeResult({ is_error: false, result: 'done' })), stderr: 'gh: Not logged in' })).toEqual({ kind: 'ok' });
  });

  it('gemini: a billing text beats exit 173, and exit codes never apply to a command agent', () => {
    expect(run('gemini', 173, { stderr: 'Your prepayment credits are depleted.' })).toMatchObject({ kind: 'billing' });
    expect(run('gemini', 173, { stderr: 'TerminalQuotaError: You have exhausted your daily quota on this model.' })).toMatchObject({ kind: 'exhausted' });
    expect(run('command', 244, { stderr: 'boom' })).toEqual({ kind: 'failure', message: 'boom' });
    expect(run('command', 55, {})).toEqual({ kind: 'failure', message: 'exited with code 55, no output' });
  });
});

describe('classifyAgentRun: error text, not paths', () => {
  it('does not read a keyword inside a path as an error', () => {
    const stderr = "Error: ENOENT: no such file or directory, open '/tmp/ar-runs/codex-overloaded-3fa/agent.log'";
    expect(run('codex', 1, { stderr })).toEqual({ kind: 'failure', message: stderr });
    expect(run('gemini', 1, { stderr: 'cannot read src/overloaded.ts' })).toMatchObject({ kind: 'failure' });
    expect(run('claude', 1, { stderr: 'wrote /work/logs/429 Too Many Requests/x' })).toMatchObject({ kind: 'failure' });
  });

  it('still matches the real messages', () => {
    for (const stderr of ['The model is overloaded. Please try again later.', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', '529 Overloaded.']) {
      expect(run('codex', 1, { stderr }), stderr).toMatchObject({ kind: 'transient', signature: 'http.overloaded' });
    }
    expect(run('claude', 1, { stderr: 'Not logged in · Please run /login' })).toMatchObject({ kind: 'auth' });
  });
});
