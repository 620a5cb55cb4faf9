import { describe, expect, it } from 'vitest';
import { EMPTY_REPORT, parseAgentReport } from '../../src/agents/agent-report.js';

const lines = (...events: unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n');

describe('parseAgentReport: claude', () => {
  const init = { type: 'system', subtype: 'init', session_id: 's-init', model: 'claude-opus-4-5-20251101' };
  const result = {
    type: 'result',
    subtype: 'success',
    is_error: false,
    result: 'done',
    session_id: 's-result',
    total_cost_usd: 0.2629,
    usage: { input_tokens: 5, cache_creation_input_tokens: 30316, cache_read_input_tokens: 59073, output_tokens: 1587 },
    modelUsage: {
      'claude-haiku-4-5-20251001': { inputTokens: 2823, outputTokens: 270, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, costUSD: 0.0042 },
      'claude-opus-4-5-20251101': { inputTokens: 5, outputTokens: 1587, cacheReadInputTokens: 59073, cacheCreationInputTokens: 30316, costUSD: 0.2587 },
    },
  };

  it('reads stream-json: model from init, tokens summed over modelUsage with cache tokens as input', () => {
    expect(parseAgentReport('claude', lines(init, { type: 'assistant', message: { model: 'x' } }, result))).toEqual({
      costUsd: 0.2629,
      inputTokens: 5 + 59073 + 30316 + 2823,
      outputTokens: 1587 + 270,
      sessionId: 's-result',
      model: 'claude-opus-4-5-20251101',
      isError: false,
      resultText: 'done',
    });
  });

  it('reads the single result object of --output-format json: model from the costliest modelUsage key', () => {
    const report = parseAgentReport('claude', JSON.stringify(result));
    expect(report.model).toBe('claude-opus-4-5-20251101');
    expect(report.sessionId).toBe('s-result');
  });

  it('falls back to usage (cache tokens counted as input) when modelUsage has no token counts', () => {
    const report = parseAgentReport('claude', JSON.stringify({ ...result, modelUsage: { 'claude-opus-5[1m]': { costUSD: 0.42 } } }));
    expect(report.inputTokens).toBe(5 + 30316 + 59073);
    expect(report.outputTokens).toBe(1587);
    expect(report.model).toBe('claude-opus-5[1m]');
  });

  it('reads the older cost_usd field', () => {
    const report = parseAgentReport('claude', '{"type":"result","subtype":"success","cost_usd":0.003,"is_error":false,"result":"ok","session_id":"old"}');
    expect(report).toMatchObject({ costUsd: 0.003, sessionId: 'old', isError: false, inputTokens: null, outputTokens: null });
  });

  it('reads a JSON array of events (--output-format json --verbose)', () => {
    const report = parseAgentReport('claude', JSON.stringify([init, result]));
    expect(report.model).toBe('claude-opus-4-5-20251101');
    expect(report.costUsd).toBe(0.2629);
  });

  it('reports is_error, and takes the session from init when the result is missing', () => {
    expect(parseAgentReport('claude', lines(init)).sessionId).toBe('s-init');
    expect(parseAgentReport('claude', JSON.stringify({ type: 'result', is_error: true, result: 'boom' })).isError).toBe(true);
  });

  it('does not take <synthetic> (a CLI notice) for the model', () => {
    const notice = { type: 'assistant', message: { model: '<synthetic>', content: [{ type: 'text', text: 'limit' }] } };
    expect(parseAgentReport('claude', lines({ type: 'assistant', message: { model: 'claude-sonnet-4-5' } }, notice)).model).toBe(
      'claude-sonnet-4-5',
    );
  });
});

describe('parseAgentReport: codex', () => {
  it('reads exec --json: thread id, usage summed over turns, the last agent message; no cost', () => {
    const stdout = lines(
      { type: 'thread.started', thread_id: '0199a213' },
      { type: 'turn.started' },
      { type: 'item.completed', item: { id: 'i0', type: 'agent_message', text: 'first' } },
      { type: 'turn.completed', usage: { input_tokens: 100, cached_input_tokens: 50, output_tokens: 7 } },
      { type: 'item.completed', item: { id: 'i1', type: 'agent_message', text: 'second' } },
      { type: 'turn.completed', usage: { input_tokens: 10, output_tokens: 3 } },
    );
    expect(parseAgentReport('codex', `Reading prompt from stdin...\n${stdout}`)).toEqual({
      costUsd: null,
      inputTokens: 110,
      outputTokens: 10,
      sessionId: '0199a213',
      model: null,
      isError: false,
      resultText: 'second',
    });
  });

  it('reports turn.failed as an error', () => {
    const stdout = lines({ type: 'thread.started', thread_id: 't' }, { type: 'error', message: 'x' }, { type: 'turn.failed', error: { message: 'x' } });
    expect(parseAgentReport('codex', stdout).isError).toBe(true);
  });

  it('does not count a retried stream error once the turn completes', () => {
    const stdout = lines({ type: 'error', message: 'stream error: retrying 1/5' }, { type: 'turn.completed', usage: { input_tokens: 1, output_tokens: 1 } });
    expect(parseAgentReport('codex', stdout).isError).toBe(false);
  });

  it('reads the older msg-wrapped stream', () => {
    const stdout = lines(
      { id: '0', msg: { type: 'session_configured', session_id: 'sess-1', model: 'gpt-5-codex' } },
      { id: '1', msg: { type: 'token_count', info: { total_token_usage: { input_tokens: 900, output_tokens: 40 } } } },
      { id: '1', msg: { type: 'task_complete', last_agent_message: 'done' } },
    );
    expect(parseAgentReport('codex', stdout)).toEqual({
      costUsd: null,
      inputTokens: 900,
      outputTokens: 40,
      sessionId: 'sess-1',
      model: 'gpt-5-codex',
      isError: false,
      resultText: 'done',
    });
  });
});

describe('parseAgentReport: gemini', () => {
  const stats = {
    models: {
      'gemini-2.5-pro': { tokens: { input: 13745, prompt: 24401, candidates: 215, total: 24719, cached: 10656, thoughts: 103, tool: 0 } },
      'gemini-2.5-flash': { tokens: { input: 20803, prompt: 20803, candidates: 716, total: 21657, cached: 0, thoughts: 138, tool: 0 } },
    },
  };

  it('reads --output-format json (pretty): tokens over all models, the busiest model; no cost', () => {
    expect(parseAgentReport('gemini', JSON.stringify({ session_id: 'g1', response: 'ok', stats }, null, 2))).toEqual({
      costUsd: null,
      inputTokens: 24401 + 20803,
      outputTokens: 215 + 716,
      sessionId: 'g1',
      model: 'gemini-2.5-pro',
      isError: false,
      resultText: 'ok',
    });
  });

  it('reads stream-json: init, assistant deltas, result stats', () => {
    const stdout = lines(
      { type: 'init', session_id: 'g2', model: 'gemini-2.5-flash' },
      { type: 'message', role: 'user', content: 'prompt' },
      { type: 'message', role: 'assistant', content: 'Hel', delta: true },
      { type: 'message', role: 'assistant', content: 'lo', delta: true },
      { type: 'result', status: 'success', stats: { total_tokens: 30, input_tokens: 20, output_tokens: 10 } },
    );
    expect(parseAgentReport('gemini', stdout)).toEqual({
      costUsd: null,
      inputTokens: 20,
      outputTokens: 10,
      sessionId: 'g2',
      model: 'gemini-2.5-flash',
      isError: false,
      resultText: 'Hello',
    });
  });

  it('reports an error document and a failed stream result', () => {
    expect(parseAgentReport('gemini', JSON.stringify({ error: { type: 'TerminalQuotaError', message: 'm' } })).isError).toBe(true);
    expect(parseAgentReport('gemini', lines({ type: 'result', status: 'error', error: { type: 'X', message: 'm' } })).isError).toBe(true);
  });
});

describe('parseAgentReport: command and garbage', () => {
  it('recognises whichever CLI a command wraps', () => {
    expect(parseAgentReport('command', lines({ type: 'thread.started', thread_id: 'wrapped' })).sessionId).toBe('wrapped');
    expect(parseAgentReport('command', JSON.stringify({ type: 'result', total_cost_usd: 1.5, is_error: false })).costUsd).toBe(1.5);
    expect(parseAgentReport('command', 'just some text\n').costUsd).toBeNull();
  });

  it.each([
    ['claude', ''],
    ['claude', 'not json at all'],
    ['claude', '{"type":"result","total_cost_usd":"free","usage":{"input_tokens":"many"},"session_id":7,"is_error":"no"}'],
    ['codex', '{"type":"turn.completed","usage":null}\n{"type":"thread.started","thread_id":null}'],
    ['gemini', '{"response":null,"stats":{"models":{"m":null}}}'],
    ['gemini', '[1,2,3]'],
  ] as const)('%s %j → no numbers, no throw', (agent, stdout) => {
    const report = parseAgentReport(agent, stdout);
    expect(report.costUsd).toBeNull();
    expect(report.inputTokens).toBeNull();
    expect(report.outputTokens).toBeNull();
    expect(report.sessionId).toBeNull();
  });

  it('gives all nulls for output with no recognisable event', () => {
    expect(parseAgentReport('claude', 'hello\n{"type":"unknown"}')).toEqual(EMPTY_REPORT);
  });
});
