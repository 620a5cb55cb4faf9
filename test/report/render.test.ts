/** Formatting details of the report that the CLI test does not pin down. */
import { describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../src/ledger/types.js';
import { analyze, type IterationInput } from '../../src/report/analyze.js';
import { parseRunRecord } from '../../src/report/build-report.js';
import { DIFF_LINES_PER_KEEP, DIFF_LINES_TOTAL, duration, iterationRanges, renderReport, rerunCommandLine, tailLines, wholePercents, type KeepDiff, type ReportContext } from '../../src/report/render.js';

const ctx: ReportContext = {
  id: 'test/exp',
  generatedAt: new Date('2026-03-08T14:12:00Z'),
  ledgerFile: '/p/.autoresearch/test/exp/results.tsv',
  metric: 'score',
  direction: 'lower',
  metricGrep: '^score:',
  evalTimeoutMs: 25_000,
  agentTimeoutMs: 1_800_000,
  allowedPaths: ['value.txt'],
  diffs: new Map(),
};

function input(over: Partial<LedgerRow>, extra: Partial<IterationInput> = {}): IterationInput {
  const row: LedgerRow = { commit: 'abc1234', metric: null, status: 'crash', description: 'x', iteration: 1, timestamp: null, durationS: 100, reason: 'eval_exit', agent: 'command', costUsd: null, ...over };
  return { row, run: { iteration: row.iteration, agentMs: 60_000, evalMs: 30_000, technicalDetail: 'exit code 1' }, logFile: 'runs/00001/eval.log', logTail: '', ...extra };
}

describe('report rendering', () => {
  it('iteration lists for `rerun --iterations`: runs of three or more become ranges', () => {
    expect(iterationRanges([13, 4, 5, 6, 7])).toBe('4-7,13');
    expect(iterationRanges([1, 2, 5])).toBe('1,2,5');
    expect(iterationRanges([3])).toBe('3');
    expect(rerunCommandLine('a/b', [1, 2, 3])).toBe('autoresearch rerun a/b --iterations 1-3');
    expect(rerunCommandLine('a/b', [4], '/srv/my project')).toBe("autoresearch --path '/srv/my project' rerun a/b --iterations 4");
  });

  it('log tails: the last lines as a terminal showed them, long lines clipped', () => {
    expect(tailLines('a\nb\nc\n\n', 2)).toBe('b\nc');
    expect(tailLines('10%\r50%\r100%\ndone', 5)).toBe('100%\ndone');
    expect(tailLines('x'.repeat(1000), 1)).toBe(`${'x'.repeat(400)}…`);
  });

  it('a log containing a code fence cannot break out of its block', () => {
    const tail = 'before\n```\nafter\n';
    const a = analyze([input({ iteration: 0, status: 'keep', reason: 'baseline', description: 'baseline', metric: 1, agent: null }), input({}, { logTail: tail })], 'lower');
    const { readme } = renderReport(a, ctx);
    expect(readme).toContain('````\nbefore\n```\nafter\n````');
  });

  it('table cells keep their columns; the cost and time lines add up', () => {
    const a = analyze(
      [
        input({ iteration: 0, status: 'keep', reason: 'baseline', description: 'baseline', metric: 10, agent: null, durationS: 30 }, { run: { iteration: 0, agentMs: null, evalMs: 30_000 } }),
        input({ iteration: 1, status: 'keep', reason: 'improved', metric: 8, costUsd: 0.5, durationS: 100 }),
        input({ iteration: 2, description: 'a | b', costUsd: 0.25 }, { logTail: 'ValueError: nope\n' }),
        input({ iteration: 3, status: 'discard', reason: 'no_improvement', metric: 9, durationS: 50 }, { run: null }),
      ],
      'lower',
    );
    const { readme } = renderReport(a, ctx);
    expect(readme).toContain('| 2 | `abc1234` | eval_exit | exit 1 | a \\| b |');
    expect(readme).toContain('| Agent cost | $0.7500 total, $0.7500 per keep (2 of 3 agent turns reported a cost) |');
    // 280 s in all: agent 120, evaluation 90 (30 + 60), no split 50, other 20.
    expect(readme).toContain('| Time | 4m 40s in all: agent 2m 00s (43%), evaluation 1m 30s (32%), other 20s (7%), not split (no result.json) 50s (18%) |');
    expect(readme).toContain('| Keep rate | 33.3% (1 of 3 experiments) |');
  });

  it('issue 11 reasons: noise, check and guard vetoes are discards by code; a failed revalidation has its own line and moves the best back', () => {
    const a = analyze(
      [
        input({ iteration: 0, status: 'keep', reason: 'baseline', description: 'baseline', metric: 10, agent: null, commit: 'a000000' }),
        input({ iteration: 1, status: 'keep', reason: 'improved', metric: 8, commit: 'a000001' }),
        input({ iteration: 2, status: 'discard', reason: 'within_noise', metric: 7.9 }),
        input({ iteration: 3, status: 'discard', reason: 'guard_failed: val_acc 0.71 < 0.85', metric: 7 }),
        input({ iteration: 4, status: 'discard', reason: 'check_failed', metric: 7.5 }),
        input({ iteration: 5, status: 'keep', reason: 'improved', metric: 6, commit: 'a000005' }),
        input({ iteration: 6, status: 'discard', reason: 'revalidation_failed', metric: 8.1, commit: 'a000005', agent: null }),
        input({ iteration: 7, status: 'keep', reason: 'improved', metric: 7, commit: 'a000007' }),
      ],
      'lower',
    );
    expect(a.failures).toEqual([]); // none of them is a failure of the change
    expect([...a.discards]).toEqual([
      ['within_noise', 1],
      ['guard_failed', 1],
      ['check_failed', 1],
    ]);
    expect(a.revalidations.map((r) => [r.row.iteration, r.undone, r.bestAfter?.iteration])).toEqual([[6, [5], 1]]);
    // Keep 7 is measured against keep 1 (the best again after the revalidation), not against the undone keep 5.
    expect(a.keeps.find((k) => k.row.iteration === 7)?.previous).toBe(8);
    expect(a.summary).toMatchObject({ best: 7, experiments: 6 });
    const { readme } = renderReport(a, ctx);
    expect(readme).toContain('| Discards | 3: 1 within noise, 1 guard failed, 1 check failed |');
    expect(readme).toContain('| Failed revalidations | 1: iteration 6: keep 5 did not reproduce; best back to iteration 1 |');
  });

  it('higher is better: gains and improvement keep their sign', () => {
    const a = analyze(
      [
        input({ iteration: 0, status: 'keep', reason: 'baseline', description: 'baseline', metric: 50, agent: null }),
        input({ iteration: 1, status: 'keep', reason: 'improved', metric: 60, description: 'small' }),
        input({ iteration: 2, status: 'keep', reason: 'improved', metric: 90, description: 'big' }),
      ],
      'higher',
    );
    expect(a.keeps.map((k) => [k.row.description, k.gain])).toEqual([
      ['big', 30],
      ['small', 10],
    ]);
    const { readme } = renderReport(a, { ...ctx, direction: 'higher' });
    expect(readme).toContain('| Improvement over baseline | +40.000000 (+80.0% better) |');
    expect(readme).toContain('1. **Iteration 2**, `abc1234`: big: 60.000000 → 90.000000 (+30.000000, +50.0% better)');
  });

  it('time shares are whole percents that add up to 100', () => {
    expect(wholePercents([1, 1, 1])).toEqual([34, 33, 33]);
    expect(wholePercents([120, 90, 20, 50])).toEqual([43, 32, 7, 18]);
    expect(wholePercents([0.2, 0.3, 99.5])).toEqual([0, 0, 100]);
    expect(wholePercents([0, 0])).toEqual([0, 0]);
    for (const values of [[5.9, 1.7, 2.5, 1.7], [1, 2, 3, 4, 5, 6, 7], [0.001, 1000]]) expect(wholePercents(values).reduce((a, b) => a + b)).toBe(100);
  });

  it("keeps' diffs: at most DIFF_LINES_PER_KEEP each and DIFF_LINES_TOTAL in all, then a pointer to git show", () => {
    const keeps = [input({ iteration: 0, status: 'keep', reason: 'baseline', description: 'baseline', metric: 100, agent: null })];
    const diffs = new Map<number, KeepDiff>();
    for (let i = 1; i <= 7; i++) {
      keeps.push(input({ iteration: i, status: 'keep', reason: 'improved', metric: 100 - i * i, commit: `c${i}` }));
      diffs.set(i, { stat: ' f | 100 +', patch: Array.from({ length: 100 }, (_, n) => `+line ${n}`).join('\n') });
    }
    const { readme } = renderReport(analyze(keeps, 'lower'), { ...ctx, diffs });
    const shown = readme.split('\n').filter((l) => l.startsWith('   +line')).length;
    expect(shown).toBe(DIFF_LINES_TOTAL);
    expect(DIFF_LINES_TOTAL % DIFF_LINES_PER_KEEP).toBe(0);
    const full = DIFF_LINES_TOTAL / DIFF_LINES_PER_KEEP;
    expect(readme.match(/ {3}… 40 more lines, see `git show c\d`/g)).toHaveLength(full);
    expect(readme.match(/\(diff not shown: the report shows at most \d+ diff lines in all; see `git show c\d`\)/g)).toHaveLength(7 - full);
  });

  it('an empty ledger still makes a report', () => {
    const { readme, failureFiles } = renderReport(analyze([], 'lower'), ctx);
    expect(readme).toContain('| Iterations | 0 |');
    expect(readme).toContain('## Failures\n\nNone.');
    expect(readme).toContain('No keeps after the baseline yet.');
    expect(failureFiles.size).toBe(0);
  });

  it('durations read at a glance', () => {
    expect([duration(0.42), duration(42), duration(125), duration(7322)]).toEqual(['0.4s', '42s', '2m 05s', '2h 02m']);
  });

  it('result.json: unreadable files count as missing; wrong types are dropped', () => {
    expect(parseRunRecord('')).toBeNull();
    expect(parseRunRecord('{"iteration": 3, "commi')).toBeNull();
    expect(parseRunRecord('[1]')).toBeNull();
    expect(parseRunRecord('{"iteration": 3, "agentMs": "soon", "evalMs": 1200, "detail": null, "agentReport": {"costUsd": 0.1}}')).toEqual({
      iteration: 3,
      evalMs: 1200,
      technicalDetail: null,
      agentReport: { costUsd: 0.1 },
    });
  });

  it('result.json: technicalDetail, or `detail` in a file written before the ledger had a detail column', () => {
    expect(parseRunRecord('{"iteration": 3, "detail": "exit code 1"}')).toEqual({ iteration: 3, technicalDetail: 'exit code 1', agentReport: null });
    expect(parseRunRecord('{"iteration": 3, "detail": "eval_exit 1: boom", "technicalDetail": "exit code 1"}')).toEqual({ iteration: 3, technicalDetail: 'exit code 1', agentReport: null });
  });
});
