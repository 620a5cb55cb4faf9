/**
 * The real claude / codex / gemini CLIs (pinned in test/real-agents/package.json), run with the
 * exact flags autoresearch uses, against the scripted model server: a real edit, and the exact
 * exit code and output of each error scenario (what the classifier has to recognise).
 * CLIs run one after another inside this file; see cli-env.ts for how each is pointed at the server.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, makeRepo, makeTempDir } from '../helpers/git-repo.js';
import { CLIS, PINNED, realCliAvailable, type CliName } from './cli-env.js';
import { startModelServer, type ModelServer } from './model-server.mjs';
import { claudeResult, jsonLines, runAgent, type AgentRun } from './run-agent.js';

const TIMEOUT = 180_000;
let server: ModelServer;
const summary: string[] = [];

// A reset 3 h ahead at hh:17, so the printed time is unambiguous (never on the hour).
const reset = new Date(Date.now() + 3 * 3600_000);
reset.setUTCMinutes(17, 0, 0);
const RESET_AT = Math.floor(reset.getTime() / 1000);
const hour12 = reset.getUTCHours() % 12 || 12;
const ampm = reset.getUTCHours() < 12 ? 'am' : 'pm';

beforeAll(async () => {
  server = await startModelServer({ resetAt: RESET_AT });
});
afterAll(async () => {
  await server?.close();
  if (summary.length) console.log(`\nreal CLI scenarios:\n${summary.join('\n')}\n`);
});

async function project(): Promise<{ repo: string; home: string }> {
  const repo = await makeRepo({ 'target.txt': 'value = 1\n' });
  const home = await makeTempDir('ar-home-');
  return { repo, home };
}

async function run(
  cli: CliName,
  scenario: string,
  opts: { cwd?: string; label?: string; home?: string; auth?: 'subscription' | 'api-key'; withoutKey?: boolean } = {},
): Promise<AgentRun & { target: string }> {
  const p = await project();
  const cwd = opts.cwd ?? p.repo;
  const { cwd: _c, home: _h, ...rest } = opts;
  const r = await runAgent(cli, { server, scenario, cwd, home: opts.home ?? p.home, ...rest });
  summary.push(`${cli} ${PINNED[cli]} ${(opts.label ?? scenario).padEnd(14)} exit ${String(r.exitCode).padEnd(4)} ${r.durationMs} ms`);
  return { ...r, target: await fs.readFile(path.join(cwd, 'target.txt'), 'utf8') };
}

function mustHaveTalked(r: AgentRun, api: string): void {
  expect(r.requests.filter((q) => q.api === api && q.method === 'POST').length, `${r.cli} sent no ${api} request:\n${r.stdout}\n${r.stderr}`).toBeGreaterThan(0);
}

/** The JSON object that ends `text` (gemini prints it after its log lines). */
function trailingJson(text: string): unknown {
  const start = text.lastIndexOf('\n{\n');
  return JSON.parse(start >= 0 ? text.slice(start + 1) : text);
}

const describeCli = (cli: CliName, body: () => void) => describe.skipIf(!realCliAvailable(cli))(`real ${cli} ${PINNED[cli]}`, body);

describeCli('claude', () => {
  it('edit: the Bash tool call changes the file; exit 0, result success', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'edit');
    expect(r.exitCode).toBe(0);
    expect(r.target).toBe('value = 2\n');
    mustHaveTalked(r, 'anthropic');
    const result = claudeResult(r.stdout);
    expect(result).toMatchObject({ subtype: 'success', is_error: false, permission_denials: [] });
  });

  it('quota (subscription): rate_limit_event rejected with resetsAt, "You\'ve hit your session limit · resets", exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'quota');
    expect(r.exitCode).toBe(1);
    const event = jsonLines(r.stdout).find((l) => l.type === 'rate_limit_event');
    expect(event?.rate_limit_info).toMatchObject({ status: 'rejected', resetsAt: RESET_AT, rateLimitType: 'five_hour' });
    const result = claudeResult(r.stdout);
    expect(result).toMatchObject({ subtype: 'success', is_error: true, api_error_status: 429 });
    expect(String(result.result)).toContain(`You've hit your session limit · resets`);
    expect(String(result.result)).toContain(`${hour12}:17${ampm} (UTC)`);
  });

  it('rate limit (per minute, "try again in 3.5s"): "not your usage limit", api_error_status 429, exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'ratelimit');
    expect(r.exitCode).toBe(1);
    const result = claudeResult(r.stdout);
    expect(result).toMatchObject({ is_error: true, api_error_status: 429 });
    expect(String(result.result)).toMatch(/^API Error: Server is temporarily limiting requests \(not your usage limit\).*try again in 3\.5s/);
  });

  it('billing: "Credit balance is too low", api_error_status 400, exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'billing');
    expect(r.exitCode).toBe(1);
    expect(claudeResult(r.stdout)).toMatchObject({ is_error: true, api_error_status: 400, result: 'Credit balance is too low' });
  });

  it('overload: "API Error: 529 Overloaded", exit 1, quickly with CLAUDE_CODE_MAX_RETRIES=0', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'overload');
    expect(r.exitCode).toBe(1);
    const result = claudeResult(r.stdout);
    expect(result).toMatchObject({ is_error: true, api_error_status: 529 });
    expect(String(result.result)).toMatch(/^API Error: 529 Overloaded/);
    expect(r.durationMs).toBeLessThan(60_000);
  });

  it('500: "API Error: 500 Internal server error", exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'e500');
    expect(r.exitCode).toBe(1);
    const result = claudeResult(r.stdout);
    expect(result).toMatchObject({ is_error: true, api_error_status: 500 });
    expect(String(result.result)).toMatch(/^API Error: 500/);
  });

  it('refuses to edit inside <repo>/.git/…: exit 0, is_error false, permission_denials non-empty, file unchanged', { timeout: TIMEOUT }, async () => {
    const p = await project();
    const wt = path.join(p.repo, '.git', 'autoresearch', 'wt');
    await git(p.repo, 'worktree', 'add', '-q', '--detach', wt);
    const r = await run('claude', 'edit', { cwd: wt, home: p.home, label: 'edit-under-dot-git' });
    expect(r.exitCode).toBe(0);
    expect(r.target).toBe('value = 1\n');
    const result = claudeResult(r.stdout);
    expect(result.is_error).toBe(false);
    expect(Array.isArray(result.permission_denials) && result.permission_denials.length).toBeGreaterThan(0);
  });

  it('denied: a Bash edit of a .git/ path is refused the same way, outside any .git cwd too', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'denied');
    expect(r.exitCode).toBe(0);
    const result = claudeResult(r.stdout);
    expect(result.is_error).toBe(false);
    expect(JSON.stringify(result.permission_denials)).toContain('.git/description');
  });

  it('quota with an API key: a plain "API Error: Request rejected (429)"-style result, no session-limit text', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'quota', { auth: 'api-key', label: 'quota-api-key' });
    expect(r.exitCode).toBe(1);
    const result = claudeResult(r.stdout);
    expect(result).toMatchObject({ is_error: true, api_error_status: 429 });
    expect(String(result.result)).not.toContain('session limit');
  });

  it('no credentials: "Not logged in · Please run /login", exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('claude', 'edit', { withoutKey: true, label: 'no-key' });
    expect(r.exitCode).toBe(1);
    expect(claudeResult(r.stdout).result).toBe('Not logged in · Please run /login');
    expect(r.requests.filter((q) => q.method === 'POST')).toEqual([]);
  });
});

describeCli('codex', () => {
  it('edit: the shell tool call changes the file; exit 0, turn.completed', { timeout: TIMEOUT }, async () => {
    const r = await run('codex', 'edit');
    expect(r.exitCode).toBe(0);
    expect(r.target).toBe('value = 2\n');
    mustHaveTalked(r, 'openai');
    expect(jsonLines(r.stdout).some((l) => l.type === 'turn.completed')).toBe(true);
  });

  it('quota: "You’ve hit your usage limit … try again at <local time>", turn.failed, exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('codex', 'quota');
    expect(r.exitCode).toBe(1);
    const failed = jsonLines(r.stdout).find((l) => l.type === 'turn.failed') as { error?: { message?: string } } | undefined;
    expect(failed?.error?.message).toMatch(/You’ve hit your usage limit\..*try again at /);
    expect(failed?.error?.message).toContain(`${hour12}:17 ${ampm.toUpperCase()}`);
  });

  it('rate limit ("Please try again in 3.5s"): the delay is dropped, "exceeded retry limit, last status: 429", exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('codex', 'ratelimit');
    expect(r.exitCode).toBe(1);
    const failed = jsonLines(r.stdout).find((l) => l.type === 'turn.failed') as { error?: { message?: string } } | undefined;
    expect(failed?.error?.message).toBe('exceeded retry limit, last status: 429 Too Many Requests');
  });

  it('billing: "Quota exceeded. Check your plan and billing details.", exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('codex', 'billing');
    expect(r.exitCode).toBe(1);
    const failed = jsonLines(r.stdout).find((l) => l.type === 'turn.failed') as { error?: { message?: string } } | undefined;
    expect(failed?.error?.message).toBe('Quota exceeded. Check your plan and billing details.');
  });

  it('overload (503): "unexpected status 503 Service Unavailable", exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('codex', 'overload');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('unexpected status 503 Service Unavailable');
    expect(r.durationMs).toBeLessThan(20_000);
  });

  it('500: "We’re currently experiencing high demand", exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('codex', 'e500');
    expect(r.exitCode).toBe(1);
    const failed = jsonLines(r.stdout).find((l) => l.type === 'turn.failed') as { error?: { message?: string } } | undefined;
    expect(failed?.error?.message).toMatch(/experiencing high demand/);
  });

  it('no key (OPENAI_API_KEY stripped): "Missing environment variable: `OPENAI_API_KEY`.", exit 1', { timeout: TIMEOUT }, async () => {
    const r = await run('codex', 'edit', { withoutKey: true, label: 'no-key' });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('Missing environment variable: `OPENAI_API_KEY`.');
  });
});

describeCli('gemini', () => {
  it('edit: run_shell_command changes the file; exit 0, JSON response', { timeout: TIMEOUT }, async () => {
    const r = await run('gemini', 'edit');
    expect(r.exitCode).toBe(0);
    expect(r.target).toBe('value = 2\n');
    mustHaveTalked(r, 'gemini');
    expect(JSON.parse(r.stdout)).toHaveProperty('response');
  });

  it('untrusted folder (no GEMINI_CLI_TRUST_WORKSPACE): exit 55, nothing sent', { timeout: TIMEOUT }, async () => {
    const p = await project();
    const r = await runAgent('gemini', { server, scenario: 'edit', cwd: p.repo, home: p.home, trustWorkspace: false, label: 'untrusted' });
    summary.push(`gemini ${PINNED.gemini} untrusted      exit ${r.exitCode} ${r.durationMs} ms`);
    expect(r.exitCode).toBe(55);
    expect(r.stdout + r.stderr).toMatch(/trusted/i);
    expect(r.requests.filter((q) => q.method === 'POST')).toEqual([]);
  });

  it('quota (QuotaFailure PerDay): TerminalQuotaError "exhausted your daily quota", exit 173 (429 mod 256)', { timeout: TIMEOUT }, async () => {
    const r = await run('gemini', 'quota');
    expect(r.exitCode).toBe(173);
    // On an error, gemini's --output-format json object goes to stderr (stdout stays empty).
    expect(r.stdout).toBe('');
    expect(trailingJson(r.stderr)).toMatchObject({ error: { message: 'You have exhausted your daily quota on this model.', code: 429 } });
  });

  it('rate limit (PerMinute, RetryInfo 3.5s): "Please retry in 3.5s", exit 173 like a daily quota', { timeout: TIMEOUT }, async () => {
    const r = await run('gemini', 'ratelimit');
    expect(r.exitCode).toBe(173);
    expect(trailingJson(r.stderr)).toMatchObject({ error: { message: expect.stringMatching(/Please retry in 3\.5s\./), code: 429 } });
  });

  it('billing: "Your prepayment credits are depleted", exit 173', { timeout: TIMEOUT }, async () => {
    const r = await run('gemini', 'billing');
    expect(r.exitCode).toBe(173);
    expect(r.stdout + r.stderr).toContain('Your prepayment credits are depleted');
  });

  it('overload (503 UNAVAILABLE): exit 247', { timeout: TIMEOUT }, async () => {
    const r = await run('gemini', 'overload');
    expect(r.exitCode).toBe(247);
    expect(r.durationMs).toBeLessThan(60_000);
  });

  it('500 INTERNAL: exit 244', { timeout: TIMEOUT }, async () => {
    const r = await run('gemini', 'e500');
    expect(r.exitCode).toBe(244);
    expect(r.stdout + r.stderr).toContain('INTERNAL');
  });

  it('no key (GEMINI_API_KEY stripped): exit 41, "you must specify the GEMINI_API_KEY environment variable"', { timeout: TIMEOUT }, async () => {
    const r = await run('gemini', 'edit', { withoutKey: true, label: 'no-key' });
    expect(r.exitCode).toBe(41);
    expect(r.stdout + r.stderr).toContain('you must specify the GEMINI_API_KEY environment variable');
  });
});

describe.each(CLIS.filter((c) => realCliAvailable(c)))('worktree under ~/.local/state/autoresearch/worktrees', (cli) => {
  it(`${cli} edits there`, { timeout: TIMEOUT }, async () => {
    const p = await project();
    const wt = path.join(p.home, '.local', 'state', 'autoresearch', 'worktrees', 'proj-0123', 'exp');
    await git(p.repo, 'worktree', 'add', '-q', '--detach', wt);
    const r = await run(cli, 'edit', { cwd: wt, home: p.home, label: 'edit-in-state-dir' });
    expect(r.exitCode).toBe(0);
    expect(r.target).toBe('value = 2\n');
  });
});
