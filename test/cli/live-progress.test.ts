/** The live progress of long steps: a redrawn line on a terminal, a line a minute elsewhere. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveProgress, duration } from '../../src/cli/live-progress.js';
import { createPrinter } from '../../src/cli/progress-printer.js';

const zone = process.env.TZ;
beforeEach(() => {
  process.env.TZ = 'UTC'; // times are shown in the local zone: make it known
  vi.useFakeTimers({ now: Date.parse('2026-11-21T03:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

describe('live progress', () => {
  it('on a terminal, redraws one line with elapsed and remaining time, and erases it before normal output', () => {
    let out = '';
    const printer = createPrinter((t) => (out += t), { metric: 'score', tty: true, limits: { timeBudgetMs: 300_000, evalTimeoutMs: 750_000, agentTimeoutMs: 1_800_000 } });
    printer.event({ kind: 'phase', iteration: 4, phase: 'eval' });
    out = '';
    vi.advanceTimersByTime(42_000);
    expect(out.endsWith('\r\x1b[2K  #4 evaluation: 42s elapsed, 4m18s left of the 5m00s budget, killed in 11m48s')).toBe(true);
    out = '';
    printer.line('something else');
    expect(out).toBe('\r\x1b[2Ksomething else\n');
  });

  it('a job waiting in the queue shows elapsed time only; the evaluation counts its budget and limit from the job\'s start', () => {
    let out = '';
    const printer = createPrinter((t) => (out += t), { metric: 'score', tty: true, limits: { timeBudgetMs: 300_000, evalTimeoutMs: 750_000, agentTimeoutMs: 1_800_000 } });
    printer.event({ kind: 'phase', iteration: 4, phase: 'queued', detail: 'slurm job 12' });
    expect(out).toContain('#4 queued (slurm job 12) …\n');
    out = '';
    vi.advanceTimersByTime(90_000);
    expect(out.endsWith('\r\x1b[2K  #4 queued: 1m30s elapsed')).toBe(true);
    printer.event({ kind: 'phase', iteration: 4, phase: 'eval', detail: 'slurm job 12 on vm' });
    out = '';
    vi.advanceTimersByTime(42_000);
    expect(out.endsWith('\r\x1b[2K  #4 evaluation: 42s elapsed, 4m18s left of the 5m00s budget, killed in 11m48s')).toBe(true);
  });

  it('elsewhere, prints a plain line once a minute, and a quota wait counts down to its end', () => {
    let out = '';
    const progress = new LiveProgress((t) => (out += t), false, Date.now, 60_000);
    progress.start('waiting for claude', { untilMs: Date.now() + 3 * 3_600_000 });
    vi.advanceTimersByTime(59_000);
    expect(out).toBe('');
    vi.advanceTimersByTime(2_000);
    expect(out).toBe('  waiting for claude: 1m00s elapsed, 2h59m left (until 2026-11-21 06:00:00 UTC)\n');
    progress.stop();
    vi.advanceTimersByTime(600_000);
    expect(out.split('\n').filter(Boolean).length).toBe(1);
  });

  it('formats durations', () => {
    expect([5_000, 65_000, 3_600_000 + 120_000].map(duration)).toEqual(['5s', '1m05s', '1h02m']);
  });
});
