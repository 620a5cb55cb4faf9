/**
 * Human-readable progress of a foreground run: one line per phase and per decision, and a
 * summary at the end. Plain lines (they read the same in a terminal, a pipe or a log).
 */
import type { LoopEvent } from '../loop/events.js';
import type { LedgerRow } from '../ledger/types.js';
import { LiveProgress } from './live-progress.js';

export interface Printer {
  event(event: LoopEvent): void;
  line(text: string): void;
}

export interface PrinterOptions {
  metric: string;
  /** For the live progress of long steps (absent: no live progress). */
  limits?: { timeBudgetMs: number; evalTimeoutMs: number; agentTimeoutMs: number };
  tty?: boolean;
  now?: () => number;
}

export function createPrinter(write: (text: string) => void, options: PrinterOptions | string): Printer {
  const opts: PrinterOptions = typeof options === 'string' ? { metric: options } : options;
  const metricName = opts.metric;
  const now = opts.now ?? Date.now;
  const progress = opts.limits === undefined ? null : new LiveProgress(write, opts.tty ?? false, now);
  let phaseStarted = now();
  const line = (text: string) => {
    progress?.clear();
    write(text + '\n');
  };
  const stamp = () => new Date(now()).toISOString().slice(11, 19);
  return {
    line,
    event(event) {
      switch (event.kind) {
        case 'experiment-opened':
          line(`autoresearch ${event.id}: ${event.metric}, ${event.direction} is better; best so far ${fmt(event.best)}`);
          line(`  worktree ${event.worktree}${event.worktreeCreated ? ' (created)' : ''}`);
          line(`  branch   ${event.branch}; next iteration ${event.nextIteration}`);
          return;
        case 'setup':
          line(`${stamp()} setup ${event.status}: ${event.command}${event.detail ? ` (${event.detail})` : ''}`);
          return;
        case 'iteration-start':
          phaseStarted = now();
          line(`${stamp()} #${event.iteration} ${event.baseline ? 'baseline' : 'start'} (best ${fmt(event.best)})`);
          return;
        case 'phase': {
          const elapsed = secs(now() - phaseStarted);
          phaseStarted = now();
          if (event.phase === 'agent' || event.phase === 'eval') line(`${stamp()} #${event.iteration} ${event.phase}${event.detail ? ` (${event.detail})` : ''} … (${elapsed} since last step)`);
          if (opts.limits !== undefined) {
            if (event.phase === 'eval') progress?.start(`#${event.iteration} evaluation`, { budgetMs: opts.limits.timeBudgetMs, limitMs: opts.limits.evalTimeoutMs });
            else if (event.phase === 'agent') progress?.start(`#${event.iteration} agent`, { limitMs: opts.limits.agentTimeoutMs });
            else progress?.stop();
          }
          return;
        }
        case 'iteration-end':
          progress?.stop();
          line(`${stamp()} #${event.iteration} ${decisionLine(event.row, event.previousBest, metricName)} in ${secs(event.durationMs)}`);
          return;
        case 'iteration-interrupted':
          progress?.stop();
          line(`${stamp()} #${event.iteration} interrupted during ${event.phase}: rolled back, no row written`);
          return;
        case 'recovered':
          line(`${stamp()} recovered iteration ${event.iteration}: ${event.detail}`);
          return;
        case 'halted':
          progress?.stop();
          line(`${stamp()} ${event.state}: ${event.reason}`);
          return;
        case 'agent-exhausted':
          line(
            `${stamp()} #${event.iteration} ${event.agent} usage exhausted: ${event.message} — rolled back, no row; ` +
              (event.fallback === null ? `next try at ${event.until}` : `continuing with ${event.fallback} until ${event.until}`),
          );
          return;
        case 'waiting':
          line(`${stamp()} waiting until ${event.until} for ${event.agent} (${event.reason}); \`autoresearch resume\` cuts it short`);
          progress?.start(`waiting for ${event.agent}`, { untilMs: Date.parse(event.until) });
          return;
        case 'no-change-backoff':
          line(`${stamp()} ${event.reason} (until ${event.until})`);
          return;
        case 'wait-over':
          progress?.stop();
          line(`${stamp()} wait over (${event.how === 'resumed' ? 'resumed' : 'reset time reached'})`);
          return;
        default:
          return; // warnings go through the logger
      }
    },
  };
}

function decisionLine(row: LedgerRow, previousBest: number | null, metricName: string): string {
  const status = row.status.toUpperCase().padEnd(7);
  const why = row.reason ? ` ${row.reason}` : '';
  const value = row.metric === null ? '' : ` ${metricName} ${row.metric.toFixed(6)}${versus(row.metric, previousBest)}`;
  return `${status}${why}${value} [${row.commit}] ${row.description}`;
}

function versus(value: number, best: number | null): string {
  if (best === null) return '';
  const pct = best === 0 ? '' : ` ${(((value - best) / Math.abs(best)) * 100).toFixed(2)}%`;
  return ` vs best ${best.toFixed(6)}${pct}`;
}

export function fmt(value: number | null): string {
  return value === null ? 'none' : value.toFixed(6);
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
