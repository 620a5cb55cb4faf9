/** The pure part of usage exhaustion: when to try again, and which agent runs next. */
import { describe, expect, it } from 'vitest';
import type { AgentSpec, ExperimentConfig } from '../../src/config/types.js';
import { chooseAgent, RESET_MARGIN_MS, retryAt, waitUntil } from '../../src/loop/exhaustion.js';

const MIN = 60_000;
const now = Date.parse('2026-11-21T03:00:00Z');
const backoff = { backoffInitialMs: 5 * MIN, backoffMaxMs: 60 * MIN };
const claude: Exclude<AgentSpec, { kind: 'none' }> = { kind: 'builtin', name: 'claude', args: [] };
const codex: Exclude<AgentSpec, { kind: 'none' }> = { kind: 'builtin', name: 'codex', args: [] };
const at = (ms: number) => new Date(ms).toISOString();
const exhaustion = (until: number, attempt = 1) => ({ until: at(until), reason: 'limit', signature: 'x', attempt });

describe('retryAt', () => {
  it('is the reported reset plus a margin', () => {
    expect(retryAt(now + 90 * MIN, 1, backoff, now)).toBe(now + 90 * MIN + RESET_MARGIN_MS);
  });
  it('backs off exponentially from backoff_initial to backoff_max without a (future) reset time', () => {
    expect([1, 2, 3, 4, 5, 30].map((attempt) => (retryAt(null, attempt, backoff, now) - now) / MIN)).toEqual([5, 10, 20, 40, 60, 60]);
    expect(retryAt(now - MIN, 1, backoff, now)).toBe(now + 5 * MIN); // a reset already past says nothing
  });
});

describe('chooseAgent', () => {
  const config = (agentFallback: ExperimentConfig['agentFallback']) => ({ agent: claude, agentFallback });
  it('runs the main agent unless it is exhausted', () => {
    expect(chooseAgent(config(null), { exhausted: {} }, now)).toEqual({ kind: 'agent', agent: { role: 'primary', spec: claude } });
    expect(chooseAgent(config(null), { exhausted: { primary: exhaustion(now - 1) } }, now)).toMatchObject({ kind: 'agent' });
  });
  it('takes the fallback while the main agent is exhausted, and waits for the earliest reset when both are', () => {
    expect(chooseAgent(config(codex), { exhausted: { primary: exhaustion(now + MIN) } }, now)).toEqual({ kind: 'agent', agent: { role: 'fallback', spec: codex } });
    const both = { exhausted: { primary: exhaustion(now + 30 * MIN), fallback: exhaustion(now + 10 * MIN) } };
    expect(chooseAgent(config(codex), both, now)).toMatchObject({ kind: 'wait', until: now + 10 * MIN, role: 'fallback' });
    expect(waitUntil(config(codex), both, now)).toBe(now + 10 * MIN);
    expect(waitUntil(config(null), { exhausted: {} }, now)).toBeNull();
  });
  it('has nothing to choose with agent: none', () => {
    expect(chooseAgent({ agent: { kind: 'none' }, agentFallback: null }, { exhausted: {} }, now)).toEqual({ kind: 'none' });
  });
});
