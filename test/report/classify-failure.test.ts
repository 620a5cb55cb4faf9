/** The failure classes of `report`: one row (+ result.json + log tail) at a time, then the cross-row rule. */
import { describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../src/ledger/types.js';
import { classifyFailure, errorSignature, promoteRepeatedErrors, type FailureInput, type RunRecord, type Triaged } from '../../src/report/classify-failure.js';

function row(over: Partial<LedgerRow> = {}): LedgerRow {
  return {
    commit: 'abc1234',
    metric: null,
    status: 'crash',
    description: 'try a thing',
    iteration: 3,
    timestamp: '2026-01-01T00:00:00.000Z',
    durationS: 120,
    reason: 'eval_exit',
    agent: 'command',
    costUsd: null,
    ...over,
  };
}

function run(over: RunRecord = {}): RunRecord {
  return { iteration: 3, commit: 'abc1234', commitFull: 'abc1234'.padEnd(40, '0'), base: 'def5678'.padEnd(40, '0'), technicalDetail: 'exit code 1', agentMs: 60_000, evalMs: 50_000, agentReport: null, ...over };
}

const classify = (input: Partial<FailureInput> = {}) => classifyFailure({ row: row(), run: run(), logTail: '', ...input });
const PY_ERROR = 'Traceback (most recent call last):\n  File "model.py", line 12, in forward\nValueError: shapes (3,4) and (5,) not aligned\n';

describe('classifyFailure', () => {
  it('ignores what is not a failure', () => {
    expect(classify({ row: row({ status: 'keep', reason: 'improved', metric: 1 }) })).toBeNull();
    expect(classify({ row: row({ status: 'discard', reason: 'no_improvement', metric: 9 }) })).toBeNull();
    expect(classify({ row: row({ status: 'discard', reason: 'no_change' }) })).toBeNull();
    // A seed discard (`no_improvement_…` description, no reason column).
    expect(classify({ row: row({ status: 'discard', reason: null, description: 'no_improvement_12.0000_vs_10.0000' }), run: null })).toBeNull();
  });

  it('an evaluation that fails with its own error is the candidate’s fault', () => {
    expect(classify({ logTail: PY_ERROR })).toMatchObject({ class: 'candidate', reason: 'eval_exit', side: 'eval', evidence: 'exit 1' });
    expect(classify({ row: row({ reason: 'eval_signal' }), run: run({ technicalDetail: 'killed by SIGSEGV' }) })).toMatchObject({ class: 'candidate', evidence: 'killed by SIGSEGV' });
  });

  it('infrastructure: spawn errors, exit 127/126, command not found, machine errors', () => {
    expect(classify({ row: row({ reason: 'eval_spawn' }), run: run({ technicalDetail: 'spawn /bin/sh ENOENT' }) })).toMatchObject({ class: 'infrastructure', evidence: 'could not start the evaluation' });
    expect(classify({ row: row({ reason: 'agent_spawn' }) })).toMatchObject({ class: 'infrastructure', side: 'agent', evidence: 'could not start the agent' });
    expect(classify({ row: row({ reason: 'setup_failed' }) })).toMatchObject({ class: 'infrastructure', side: 'setup' });
    expect(classify({ run: run({ technicalDetail: 'exit code 127' }) })).toMatchObject({ class: 'infrastructure', evidence: 'exit 127 (command not found)' });
    expect(classify({ run: run({ technicalDetail: 'exit code 126' }) })).toMatchObject({ class: 'infrastructure', evidence: 'exit 126 (command not executable)' });
    for (const tail of [
      'evaluate.sh: 3: python9: not found\n', // dash
      'plan-agent.sh: 9: eval: claude-9: not found\n', // dash, through eval
      'evaluate.sh: line 3: python9: command not found\n', // bash
      '/usr/bin/env: ‘python3’: No such file or directory\n',
      'OSError: [Errno 28] No space left on device\n',
      'RuntimeError: CUDA error: all CUDA-capable devices are busy or unavailable\n',
    ]) {
      expect(classify({ logTail: tail })?.class, tail).toBe('infrastructure');
    }
    // "not found" inside a program's own message is not a shell's.
    expect(classify({ logTail: "KeyError: 'weights' not found in checkpoint\n" })?.class).toBe('candidate');
    // A harmless warning long before the real failure is not its cause.
    const early = `run.sh: 1: nvidia-smi: not found\n${'step\n'.repeat(40)}${PY_ERROR}`;
    expect(classify({ logTail: early })?.class).toBe('candidate');
  });

  it('a failed baseline is infrastructure: the unmodified code cannot be evaluated', () => {
    const base = 'def5678'.padEnd(40, '0');
    expect(classify({ row: row({ iteration: 0, description: 'baseline', agent: null }), run: run({ commitFull: base, base }), logTail: PY_ERROR })).toMatchObject({
      class: 'infrastructure',
      evidence: expect.stringContaining('unmodified code'),
    });
    // Without result.json, a baseline row is one no agent produced.
    expect(classify({ row: row({ description: 'baseline', agent: null }), run: null, logTail: PY_ERROR })?.class).toBe('infrastructure');
    // A candidate whose description happens to start with "baseline" is still a candidate.
    expect(classify({ row: row({ description: 'baseline tweak' }), logTail: PY_ERROR })?.class).toBe('candidate');
  });

  it('agent failures: infrastructure when the agent failed within seconds or spent nothing, else its own class', () => {
    const agentExit = row({ reason: 'agent_exit' });
    expect(classify({ row: agentExit, run: run({ agentMs: 800, technicalDetail: 'Error: not logged in' }) })).toMatchObject({ class: 'infrastructure', side: 'agent', evidence: 'the agent failed after 0.8s' });
    expect(classify({ row: row({ reason: 'agent_exit', costUsd: 0 }), run: run({ agentMs: 90_000 }) })).toMatchObject({ class: 'infrastructure', evidence: 'the agent failed without spending anything' });
    expect(classify({ row: agentExit, run: run({ agentMs: 90_000, agentReport: { costUsd: 0 } }) })?.class).toBe('infrastructure');
    expect(classify({ row: agentExit, run: run({ agentMs: 90_000, technicalDetail: 'max turns reached' }), logTail: 'max turns reached\n' })).toMatchObject({ class: 'agent', side: 'agent' });
    // Unknown cost (null) is not zero cost.
    expect(classify({ row: agentExit, run: run({ agentMs: 90_000, agentReport: { costUsd: null } }) })?.class).toBe('agent');
    // Without result.json, the row's duration stands in for the agent's time.
    expect(classify({ row: row({ reason: 'agent_exit', durationS: 2 }), run: null })?.class).toBe('infrastructure');
  });

  it('timeouts and metric-parse failures', () => {
    expect(classify({ row: row({ reason: 'eval_timeout' }), run: run({ technicalDetail: 'killed after 25s (eval_timeout)' }) })).toMatchObject({ class: 'timeout', side: 'eval' });
    expect(classify({ row: row({ reason: 'agent_timeout' }) })).toMatchObject({ class: 'timeout', side: 'agent' });
    // An agent that hung without spending anything (an interactive login prompt) is the machine's problem.
    expect(classify({ row: row({ reason: 'agent_timeout', costUsd: 0 }) })?.class).toBe('infrastructure');
    expect(classify({ row: row({ reason: 'metric_missing' }) })).toMatchObject({ class: 'metric_parse', evidence: 'no metric line' });
    expect(classify({ row: row({ reason: 'metric_invalid' }) })).toMatchObject({ class: 'metric_parse', evidence: 'the metric is not a finite number' });
  });

  it('scope violations carry the out-of-scope paths from result.json', () => {
    const discard = row({ status: 'discard', reason: 'scope_violation' });
    expect(classify({ row: discard, run: run({ technicalDetail: 'changed outside scope: other.txt, src/a b.py' }) })).toMatchObject({
      class: 'scope_violation',
      paths: ['other.txt', 'src/a b.py'],
      evidence: 'changed other.txt, src/a b.py',
    });
    expect(classify({ row: discard, run: null })).toMatchObject({ class: 'scope_violation', paths: [] });
  });

  it('rows written by the Python skill: the class comes from the description', () => {
    const seed = (description: string) => classifyFailure({ row: row({ reason: null, description, durationS: null, agent: null, iteration: 4 }), run: null, logTail: '' });
    expect(seed('exit_1')).toMatchObject({ class: 'candidate', reason: 'eval_exit', evidence: 'exit 1', signature: null });
    expect(seed('exit_127')).toMatchObject({ class: 'infrastructure', evidence: 'exit 127 (command not found)' });
    expect(seed('timeout_900s')).toMatchObject({ class: 'timeout', reason: 'eval_timeout' });
    expect(seed('timeout_37.5s')).toMatchObject({ class: 'timeout' });
    expect(seed('metric_parse_failed')).toMatchObject({ class: 'metric_parse', reason: 'metric_parse_failed' });
    expect(seed('batch 131K (assert fail: not divisible by device batch)')).toMatchObject({ class: 'candidate', reason: 'crash' });
  });
});

describe('promoteRepeatedErrors', () => {
  const item = (iteration: number, commit: string, tail: string, reason = 'eval_exit'): Triaged => {
    const verdict = classifyFailure({ row: row({ iteration, commit, reason }), run: run({ iteration, commit, commitFull: commit, agentMs: 60_000 }), logTail: tail });
    if (verdict === null) throw new Error('expected a failure');
    return { iteration, commit, verdict };
  };
  const busy = 'loading model\nRuntimeError: device 0 is busy\n';

  it('the same error from different candidates is the machine', () => {
    const out = promoteRepeatedErrors([item(3, 'aaa1111', busy), item(5, 'bbb2222', PY_ERROR), item(7, 'ccc3333', busy)]);
    expect(out.map((t) => [t.iteration, t.verdict.class])).toEqual([
      [3, 'infrastructure'],
      [5, 'candidate'],
      [7, 'infrastructure'],
    ]);
    expect(out[0]?.verdict.evidence).toBe('the same error in 2 different candidates (iterations 3, 7)');
  });

  it('the same candidate failing twice the same way is still the candidate', () => {
    const out = promoteRepeatedErrors([item(3, 'aaa1111', busy), item(4, 'aaa1111', busy)]);
    expect(out.map((t) => t.verdict.class)).toEqual(['candidate', 'candidate']);
  });

  it('joins a known infrastructure error: a candidate with a baseline’s error text is promoted', () => {
    const infra = item(2, 'aaa1111', 'x.sh: 1: python9: not found\n');
    const sameText = item(6, 'bbb2222', 'x.sh: 1: python9: not found\n');
    expect(promoteRepeatedErrors([infra, sameText]).map((t) => t.verdict.class)).toEqual(['infrastructure', 'infrastructure']);
  });

  it('timestamps and durations do not make errors different; line numbers do', () => {
    const a = item(3, 'aaa1111', '2026-03-08 14:12:01 ERROR worker died after 12.5s (pid 4242)\n');
    const b = item(8, 'bbb2222', '2026-03-09 02:40:17 ERROR worker died after 3s (pid 977)\n');
    expect(promoteRepeatedErrors([a, b]).map((t) => t.verdict.class)).toEqual(['infrastructure', 'infrastructure']);
    const c = item(3, 'aaa1111', '  File "model.py", line 12\nSyntaxError: invalid syntax\n');
    const d = item(8, 'bbb2222', '  File "model.py", line 40\nSyntaxError: invalid syntax\n');
    expect(promoteRepeatedErrors([c, d]).map((t) => t.verdict.class)).toEqual(['candidate', 'candidate']);
  });

  it('agent errors repeat across iterations; rows without a log are never "the same error"', () => {
    const agent = (iteration: number) => item(iteration, 'base000', 'Error: invalid API key\n', 'agent_exit');
    expect(promoteRepeatedErrors([agent(3), agent(4)]).map((t) => t.verdict.class)).toEqual(['infrastructure', 'infrastructure']);
    // Seed rows (exit_1 everywhere, no logs) stay candidates.
    const seed = (iteration: number, commit: string): Triaged => ({
      iteration,
      commit,
      verdict: classifyFailure({ row: row({ reason: null, description: 'exit_1', iteration, commit }), run: null, logTail: '' }) ?? (undefined as never),
    });
    expect(promoteRepeatedErrors([seed(1, 'aaa1111'), seed(2, 'bbb2222')]).map((t) => t.verdict.class)).toEqual(['candidate', 'candidate']);
  });

  it('timeouts and metric-parse failures keep their class even when repeated', () => {
    const t = (iteration: number, commit: string) => item(iteration, commit, 'epoch 1\n', 'eval_timeout');
    expect(promoteRepeatedErrors([t(3, 'aaa1111'), t(4, 'bbb2222')]).map((x) => x.verdict.class)).toEqual(['timeout', 'timeout']);
  });
});

describe('errorSignature', () => {
  it('is the last lines as a terminal showed them, volatile tokens masked', () => {
    expect(errorSignature('')).toBeNull();
    expect(errorSignature('\n  \n')).toBeNull();
    expect(errorSignature('a\nb\nc\nd\ne\nf\ng\n')).toBe('c\nd\ne\nf\ng');
    expect(errorSignature('progress 10%\rprogress 100%\ndone at 0x7ffd12 commit 3f9a2c1\n')).toBe('progress 100%\ndone at <addr> commit <hash>');
    expect(errorSignature('wrote /tmp/tmp.Xy12/out.bin in 350ms\n')).toBe('wrote <tmp> in <duration>');
  });
});
