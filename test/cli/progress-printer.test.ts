/** The foreground printer's lines for events a scripted run does not easily produce: a row's detail, a quota hit. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPrinter } from '../../src/cli/progress-printer.js';
import type { LedgerRow } from '../../src/ledger/types.js';

const zone = process.env.TZ;
beforeEach(() => {
  process.env.TZ = 'America/New_York';
});
afterEach(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

const NOW = Date.parse('2026-01-15T12:00:00Z'); // 07:00:00 EST
const row = (fields: Partial<LedgerRow>): LedgerRow => ({
  commit: 'abc1234',
  metric: null,
  status: 'crash',
  description: 'try bf16',
  iteration: 3,
  timestamp: null,
  durationS: 1,
  reason: 'eval_exit',
  agent: 'command',
  ...fields,
});

function printed(events: Parameters<ReturnType<typeof createPrinter>['event']>[0][], direction: 'lower' | 'higher' = 'lower'): string[] {
  let out = '';
  let now = NOW;
  const printer = createPrinter((t) => (out += t), { metric: 'loss', direction, now: () => now });
  for (const event of events) {
    printer.event(event);
    now += 1000; // one second between events
  }
  return out.trimEnd().split('\n');
}

describe('progress printer', () => {
  it('crash and discard lines carry the row detail (which starts with the reason), else the reason code', () => {
    const lines = printed([
      { kind: 'iteration-end', iteration: 3, row: row({ detail: "eval_exit 1: SyntaxError: expected ':' (train.py:41)" }), previousBest: 1, best: 1, durationMs: 2000, runDir: '/r' },
      { kind: 'iteration-end', iteration: 4, row: row({ status: 'discard', reason: 'scope_violation', detail: 'scope_violation: eval.sh is outside scope (train.py)' }), previousBest: 1, best: 1, durationMs: 2000, runDir: '/r' },
      { kind: 'iteration-end', iteration: 5, row: row({ reason: 'agent_exit', detail: null }), previousBest: 1, best: 1, durationMs: 2000, runDir: '/r' },
      { kind: 'iteration-end', iteration: 6, row: row({ status: 'keep', reason: 'improved', metric: 0.5, detail: 'suspicious: improved by exactly 100%' }), previousBest: 1, best: 0.5, durationMs: 2000, runDir: '/r' },
    ]);
    expect(lines[0]).toBe("07:00:00 EST #3 CRASH   eval_exit 1: SyntaxError: expected ':' (train.py:41) [abc1234] try bf16 (2.0s)");
    expect(lines[1]).toBe('07:00:01 EST #4 DISCARD scope_violation: eval.sh is outside scope (train.py) [abc1234] try bf16 (2.0s)');
    expect(lines[2]).toBe('07:00:02 EST #5 CRASH   agent_exit [abc1234] try bf16 (2.0s)');
    expect(lines[3]).toBe('07:00:03 EST #6 KEEP    improved: suspicious: improved by exactly 100% loss 0.5 (+50.00% vs best 1) [abc1234] try bf16 (2.0s)');
  });

  it("a revalidation's row (no iteration-start, no agent turn) shows its own evaluation time, not the previous iteration's agent and eval", () => {
    const lines = printed([
      { kind: 'iteration-start', iteration: 2, baseline: false, best: 9 },
      { kind: 'phase', iteration: 2, phase: 'agent' },
      { kind: 'phase', iteration: 2, phase: 'eval' },
      { kind: 'iteration-end', iteration: 2, row: row({ status: 'keep', reason: 'improved', metric: 7, iteration: 2 }), previousBest: 9, best: 7, durationMs: 2000, runDir: '/r' },
      { kind: 'phase', iteration: 3, phase: 'eval', detail: 'revalidation of 1 keeps' },
      { kind: 'iteration-end', iteration: 3, row: row({ status: 'discard', reason: 'revalidation_failed', metric: 9, iteration: 3, agent: null }), previousBest: 7, best: 9, durationMs: 1000, runDir: '/r' },
    ]);
    expect(lines.at(-3)).toMatch(/#2 KEEP .*\(agent 1\.0s, eval 1\.0s\)$/);
    expect(lines.at(-1)).toMatch(/#3 DISCARD revalidation_failed .*\(eval 1\.0s\)$/);
  });

  it('+ means better whatever the direction', () => {
    const keep = (metric: number, previousBest: number) => ({ kind: 'iteration-end' as const, iteration: 1, row: row({ status: 'keep', reason: 'improved', metric }), previousBest, best: metric, durationMs: 1, runDir: '/r' });
    expect(printed([keep(0.9, 1)], 'lower')[0]).toContain('loss 0.9 (+10.00% vs best 1)');
    expect(printed([keep(1.1, 1)], 'higher')[0]).toContain('loss 1.1 (+10.00% vs best 1)');
    expect(printed([keep(1.1, 1)], 'lower')[0]).toContain('loss 1.1 (-10.00% vs best 1)');
  });

  it('folds the agent and evaluation times into the decision line, with no timing on the phase lines', () => {
    const lines = printed([
      { kind: 'iteration-start', iteration: 2, baseline: false, best: 1 },
      { kind: 'phase', iteration: 2, phase: 'agent' },
      { kind: 'phase', iteration: 2, phase: 'capture' },
      { kind: 'phase', iteration: 2, phase: 'eval' },
      { kind: 'phase', iteration: 2, phase: 'decide' },
      { kind: 'iteration-end', iteration: 2, row: row({ status: 'discard', reason: 'no_improvement', metric: 2 }), previousBest: 1, best: 1, durationMs: 5000, runDir: '/r' },
    ]);
    expect(lines).toEqual([
      '07:00:01 EST #2 agent …',
      '07:00:03 EST #2 eval …',
      '07:00:05 EST #2 DISCARD no_improvement loss 2 (-100.00% vs best 1) [abc1234] try bf16 (agent 1.0s, eval 1.0s)',
    ]);
  });

  it('a cluster job: the queued phase gets its own line and its own time in the decision line', () => {
    const lines = printed([
      { kind: 'iteration-start', iteration: 2, baseline: false, best: 1 },
      { kind: 'phase', iteration: 2, phase: 'agent' },
      { kind: 'phase', iteration: 2, phase: 'queued' },
      { kind: 'phase', iteration: 2, phase: 'queued', detail: 'slurm job 12' },
      { kind: 'phase', iteration: 2, phase: 'eval', detail: 'slurm job 12 on vm' },
      { kind: 'iteration-end', iteration: 2, row: row({ status: 'discard', reason: 'no_improvement', metric: 2 }), previousBest: 1, best: 1, durationMs: 5000, runDir: '/r' },
    ]);
    expect(lines).toEqual([
      '07:00:01 EST #2 agent …',
      '07:00:02 EST #2 queued …',
      '07:00:03 EST #2 queued (slurm job 12) …',
      '07:00:04 EST #2 eval (slurm job 12 on vm) …',
      '07:00:05 EST #2 DISCARD no_improvement loss 2 (-100.00% vs best 1) [abc1234] try bf16 (agent 1.0s, queued 2.0s, eval 1.0s)',
    ]);
  });

  it('says a quota hit once: the waiting that follows it prints no second line', () => {
    const until = '2026-01-15T13:30:00.000Z';
    const lines = printed([
      { kind: 'agent-exhausted', iteration: 4, agent: 'claude', message: 'usage limit reached', signature: null, until, fallback: null },
      { kind: 'waiting', until, agent: 'claude', reason: 'usage limit reached' },
      { kind: 'wait-over', how: 'resumed' },
      { kind: 'waiting', until, agent: 'claude', reason: 'usage limit reached' }, // a later wait, not announced: said
    ]);
    expect(lines).toEqual([
      '07:00:00 EST #4 claude usage exhausted: usage limit reached; rolled back, no row; waiting until 08:30:00 EST for claude (`autoresearch resume` cuts it short)',
      '07:00:02 EST wait over (resumed)',
      '07:00:03 EST waiting until 08:30:00 EST for claude (usage limit reached); `autoresearch resume` cuts it short',
    ]);
  });
});
