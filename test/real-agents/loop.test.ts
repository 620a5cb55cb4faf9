/**
 * The real claude / codex / gemini CLIs driven by autoresearch itself (`run <id> --single`)
 * against the scripted model server: an edit is kept; a quota window writes no row and leaves
 * the experiment `waiting` until the reset; billing leaves it `blocked`; a 5xx is never a
 * crash row. The CLIs are reached the way users set them up (cli-env.ts); autoresearch adds
 * nothing but what it must (gemini's workspace trust is left to autoresearch on purpose).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIS, PINNED, realCliAvailable, type CliName } from './cli-env.js';
import { startModelServer, type ModelServer } from './model-server.mjs';
import { iterationRows, realExperiment, type RealExperiment, type RealExperimentOptions } from './real-experiment.js';

const TIMEOUT = 180_000;
let server: ModelServer;

// A reset 3 h ahead at hh:17 (minute precision is all codex prints).
const reset = new Date(Date.now() + 3 * 3600_000);
reset.setUTCMinutes(17, 0, 0);
const RESET_AT = Math.floor(reset.getTime() / 1000);

beforeAll(async () => {
  server = await startModelServer({ resetAt: RESET_AT });
});
afterAll(async () => {
  await server?.close();
});

function experiment(cli: CliName, scenario: string, opts: RealExperimentOptions = {}): Promise<RealExperiment> {
  return realExperiment(server, cli, scenario, opts);
}

describe.each(CLIS.filter((c) => realCliAvailable(c)))('autoresearch with the real %s', (cli) => {
  it(`${cli} ${PINNED[cli]}: the edit is kept`, { timeout: TIMEOUT }, async () => {
    const e = await experiment(cli, 'edit');
    const r = await e.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await iterationRows(e)).map((row) => [row.status, row.metric, row.agent])).toEqual([['keep', '1.000000', cli]]);
  });

  it(`${cli}: a quota window writes no row and waits until the reset`, { timeout: TIMEOUT }, async () => {
    const e = await experiment(cli, 'quota');
    const r = await e.run();
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/usage exhausted/);
    expect(await iterationRows(e)).toEqual([]);
    const status = await e.status();
    expect(status.state).toBe('waiting');
    const waitUntil = Date.parse(String(status.wait_until));
    if (cli === 'gemini') {
      // gemini prints no reset time for a daily quota ("exhausted your daily quota"): a wait in the future.
      expect(waitUntil).toBeGreaterThan(Date.now());
    } else {
      // claude gives resetsAt (epoch), codex "try again at h:mm AM" (local time): the reset plus a small margin.
      expect(waitUntil).toBeGreaterThanOrEqual(RESET_AT * 1000);
      expect(waitUntil).toBeLessThanOrEqual(RESET_AT * 1000 + 10 * 60_000);
    }
  });

  it(`${cli}: billing blocks the experiment, no row`, { timeout: TIMEOUT }, async () => {
    const e = await experiment(cli, 'billing');
    const r = await e.run();
    expect(r.exitCode, r.stderr).toBe(3);
    expect(await iterationRows(e)).toEqual([]);
    expect((await e.status()).state).toBe('blocked');
  });

  it(`${cli}: a persistent 500 is never a crash row`, { timeout: TIMEOUT }, async () => {
    const e = await experiment(cli, 'e500');
    const r = await e.run();
    expect(r.exitCode, r.stderr).not.toBe(1);
    expect((await iterationRows(e)).filter((row) => row.status === 'crash')).toEqual([]);
    expect((await e.status()).consecutive_crashes ?? 0).toBe(0);
  });

  it(`${cli}: a per-minute rate limit is retried (after the delay the CLI states, 3.5 s), no crash row`, { timeout: TIMEOUT }, async () => {
    const e = await experiment(cli, 'ratelimit');
    const before = server.log.length;
    const r = await e.run();
    expect(r.exitCode, r.stderr).not.toBe(1);
    expect((await iterationRows(e)).filter((row) => row.status === 'crash')).toEqual([]);
    const posts = server.log.slice(before).filter((q) => q.method === 'POST' && q.scenario === 'ratelimit');
    // Transient first: retried (a limit that never lifts may then become a wait, as specified).
    // claude says it outright: "Server is temporarily limiting requests (not your usage limit)".
    expect(posts.length, `autoresearch retried the rate-limited turn:\n${r.stderr}`).toBeGreaterThan(1);
    // transient_backoff is 1 s: only the stated 3.5 s explains a longer gap between the CLI's
    // calls. codex drops the delay from what it prints ("exceeded retry limit, last status: 429").
    if (cli !== 'codex') expect((posts[posts.length - 1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(3_500);
  });

  it(`${cli}: with the CLI's own retry settings left at their defaults, autoresearch bounds them (a persistent 500 costs seconds, not minutes)`, { timeout: TIMEOUT }, async () => {
    // Unbounded, one call retries a 500 for ~183 s (claude), ~25 s (codex), ~200 s (gemini).
    const e = await experiment(cli, 'e500', { bounded: false, config: { transient_retries: '0', agent_timeout: '50s' } });
    const started = Date.now();
    const r = await e.run();
    const elapsed = Date.now() - started;
    expect((await iterationRows(e)).filter((row) => row.status === 'crash'), r.stderr).toEqual([]);
    expect(elapsed, `run --single took ${elapsed} ms:\n${r.stderr}`).toBeLessThan(40_000);
  });
});

describe.skipIf(!realCliAvailable('claude'))('autoresearch with the real claude: refusals', () => {
  it('a turn whose edits Claude Code refused (permission_denials) is a failed turn, never discard no_change', { timeout: TIMEOUT }, async () => {
    const e = await experiment('claude', 'denied');
    const r = await e.run();
    const rows = await iterationRows(e);
    expect(rows.map((row) => row.reason)).not.toContain('no_change');
    expect(rows.filter((row) => row.status === 'discard')).toEqual([]);
    expect(r.stdout + r.stderr).toMatch(/permission|denied|refused/i);
  });
});

describe.each(CLIS.filter((c) => realCliAvailable(c)))('autoresearch with the real %s, API key not passed', (cli) => {
  it(`${cli}: the stripped key is named in one line with agent_pass_env`, { timeout: TIMEOUT }, async () => {
    const e = await experiment(cli, 'edit', { auth: 'api-key', passEnv: false });
    const r = await e.run(false);
    const variable = e.keyVariable ?? '';
    expect(variable).not.toBe('');
    const said = r.stdout + r.stderr;
    expect(said.split('\n').some((line) => line.includes('agent_pass_env') && line.includes(variable)), said).toBe(true);
  });
});
